#!/usr/bin/env bash
# The project's test command: set up (idempotent), lint, then run pytest with any extra args.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/setup.sh
echo "test: ruff check ."
.venv/bin/ruff check .
echo "test: pytest -q $*"
rc=0
.venv/bin/pytest -q "$@" || rc=$?
if [[ $rc -eq 5 ]]; then
    echo "test: ERROR: pytest collected no tests (exit 5); treating as a failure" >&2
    exit 1
fi
exit "$rc"
