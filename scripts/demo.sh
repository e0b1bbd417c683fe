#!/usr/bin/env bash
# The demo command: set up, start the local broker + worker (`recstream up`), replay MovieLens
# 100K events, and show recommendations as they are published. Stops everything at the end.
#   bash scripts/demo.sh [DATASET] [LIMIT]      (defaults: ../shared/datasets/ml-100k 3000)
# It starts from empty local broker data (`up --fresh`). RATE=events/s paces the replay
# (default 300); KEEP=1 leaves everything running afterwards (Ctrl-C stops).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DATASET="${1:-$ROOT/../shared/datasets/ml-100k}"
LIMIT="${2:-3000}"
RATE="${RATE:-300}"
PORT="${RECSTREAM_BROKER__PORT:-9092}"
WEB=6066
B="127.0.0.1:$PORT"

bash scripts/setup.sh
RS=.venv/bin/recstream
OUT="$(mktemp -d)"
$RS broker stop --port "$PORT" > /dev/null || true
$RS up --fresh --port "$PORT" --web-port "$WEB" > "$OUT/up.log" 2>&1 &
UP=$!
stop() { kill -TERM "$UP" 2>/dev/null && wait "$UP" 2>/dev/null; rm -rf "$OUT"; }
trap stop EXIT
echo "demo: starting broker and worker (logs: $OUT/up.log)"
.venv/bin/python - "$WEB" "$UP" <<'PY'
import json, os, sys, time, urllib.request
port, up = sys.argv[1], int(sys.argv[2])
for _ in range(120):
    try:
        if json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1))["ready"]:
            sys.exit(0)
    except Exception:
        pass
    try:
        os.kill(up, 0)
    except OSError:
        sys.exit("demo: recstream up exited; see its log")
    time.sleep(1)
sys.exit("demo: the worker did not become ready in 120 s")
PY
echo "demo: worker ready; replaying $LIMIT events from $DATASET at $RATE events/s"
$RS produce --dataset "$DATASET" --limit "$LIMIT" --rate "$RATE" -b "$B" &
PRODUCER=$!
$RS consume recommendations -b "$B" --timeout 8 --max-messages 40
wait "$PRODUCER"
echo "demo: summary of everything published (coverage, seen-item check, records/s)"
.venv/bin/python benchmarks/check_replay.py --dataset "$DATASET" --limit "$LIMIT" \
    --bootstrap-server "$B"
if [[ "${KEEP:-}" == 1 ]]; then
    echo "demo: still running (HTTP: http://127.0.0.1:$WEB/recommendations/USER_ID); Ctrl-C stops"
    wait "$UP"
fi
