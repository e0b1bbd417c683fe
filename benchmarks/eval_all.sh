#!/usr/bin/env bash
# Reproduce every table of EVALUATION.md: runs `recstream eval` on MovieLens 100K and Amazon
# Magazine Subscriptions (5-core) with all variants (hybrid_llm and default with the LLM
# signal) and the peers, plus the drift reports, writes the JSON documents (and drift charts)
# to ${OUT:-/tmp/recstream-eval}/ and prints the markdown tables. About 30 minutes on 2 idle
# cores. Needs the peers extra: .venv/bin/pip install -e '.[peers]'
# Pass run names to run only those, e.g. `benchmarks/eval_all.sh amazon-loo amazon-drift`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
DATA="${DATA:-../shared/datasets}"
OUT="${OUT:-${TMPDIR:-/tmp}/recstream-eval}"
ML="$DATA/ml-100k"
AMZ="$DATA/amazon2018-magazine-subscriptions-5core"
mkdir -p "$OUT"
ONLY=" $* "
run() {  # name, then eval arguments
    local name="$1"; shift
    [[ "$ONLY" == "  " || "$ONLY" == *" $name "* ]] || return 0
    echo "eval: $name" >&2
    /usr/bin/time -f "$name: %e s wall, %M KiB max RSS" \
        .venv/bin/recstream eval "$@" --json --quiet > "$OUT/$name.json"
}
run ml100k-split       --dataset "$ML"  --protocol split --peers
run ml100k-loo         --dataset "$ML"  --protocol loo --peers
run amazon-loo         --dataset "$AMZ" --protocol loo --peers
run amazon-prequential --dataset "$AMZ" --protocol prequential --peers
run ml100k-prequential --dataset "$ML"  --protocol prequential --sample-every 20 --peers
run amazon-prequential-tail --dataset "$AMZ" --protocol prequential --judge-from 0.8 \
    --variants cooc,fixed,no_graph,default --peers
run ml100k-prequential-tail --dataset "$ML" --protocol prequential --judge-from 0.8 \
    --sample-every 20 --variants cooc,no_graph,default --peers
run amazon-drift       --dataset "$AMZ" --protocol prequential --variants default --drift \
    --plot "$OUT/amazon-drift.png"
run ml100k-drift       --dataset "$ML"  --protocol prequential --variants default --drift \
    --sample-every 10 --max-events 20000 --plot "$OUT/ml100k-drift.png"
for f in "$OUT"/ml100k-{split,loo,prequential,prequential-tail}.json \
         "$OUT"/amazon-{loo,prequential,prequential-tail}.json \
         "$OUT"/{amazon,ml100k}-drift.json; do
    [[ -s "$f" ]] && .venv/bin/python benchmarks/eval_tables.py "$f"
done
