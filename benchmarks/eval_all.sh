#!/usr/bin/env bash
# Reproduce every table of EVALUATION.md: runs `recstream eval` on MovieLens 100K and Amazon
# Magazine Subscriptions (5-core) with all variants and the peers, writes the JSON documents
# to ${OUT:-/tmp/recstream-eval}/ and prints the markdown tables. About 20 minutes on 2 cores.
# Needs the peers extra: .venv/bin/pip install -e '.[peers]'
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DATA="${DATA:-../shared/datasets}"
OUT="${OUT:-${TMPDIR:-/tmp}/recstream-eval}"
ML="$DATA/ml-100k"
AMZ="$DATA/amazon2018-magazine-subscriptions-5core"
mkdir -p "$OUT"
run() {  # name, then eval arguments
    local name="$1"; shift
    echo "eval: $name" >&2
    /usr/bin/time -f "$name: %e s wall, %M KiB max RSS" \
        .venv/bin/recstream eval "$@" --peers --json --quiet > "$OUT/$name.json"
}
run ml100k-split       --dataset "$ML"  --protocol split
run ml100k-loo         --dataset "$ML"  --protocol loo
run ml100k-prequential --dataset "$ML"  --protocol prequential --sample-every 10
run amazon-loo         --dataset "$AMZ" --protocol loo
run amazon-prequential --dataset "$AMZ" --protocol prequential
.venv/bin/python benchmarks/eval_tables.py "$OUT"/ml100k-{split,loo,prequential}.json \
    "$OUT"/amazon-{loo,prequential}.json
