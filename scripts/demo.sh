#!/usr/bin/env bash
# The demo command: set up, start the local broker + worker + scorer (`recstream up`), replay
# MovieLens 100K events while following a few users' lists (benchmarks/demo_story.py), then a
# summary of everything published. Stops everything at the end.
#   bash scripts/demo.sh [DATASET] [LIMIT]      (defaults: ../shared/datasets/ml-100k 1000)
# It starts from empty local broker data (`up --fresh`). RATE=events/s paces the replay
# (default 10: what today's pipeline sustains on the 2-core development machine, measured;
# README.md); KEEP=1 leaves everything running afterwards (Ctrl-C stops). WEB_PORT and
# RECSTREAM_BROKER__PORT / RECSTREAM_SCORER__WEB_PORT move it off the default ports.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DATASET="${1:-$ROOT/../shared/datasets/ml-100k}"
LIMIT="${2:-1000}"
RATE="${RATE:-10}"
PORT="${RECSTREAM_BROKER__PORT:-9092}"
WEB="${WEB_PORT:-6066}"
SCORER="${RECSTREAM_SCORER__WEB_PORT:-6070}"
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
echo "demo: worker ready"
# the story: catalogue first (the scorer embeds it), then the replay at $RATE events/s while
# following a few users' lists, then a summary of everything published
.venv/bin/python benchmarks/demo_story.py --dataset "$DATASET" --limit "$LIMIT" --rate "$RATE" \
    --bootstrap-server "$B" --web-port "$WEB" --scorer-port "$SCORER"
if [[ "${KEEP:-}" == 1 ]]; then
    echo "demo: still running (HTTP: http://127.0.0.1:$WEB/recommendations/USER_ID); Ctrl-C stops"
    wait "$UP"
fi
