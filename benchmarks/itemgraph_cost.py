"""Per-event CPU cost of the item graph alone (recstream/core/itemgraph.py), on a dataset.

Replays the stream through ``observe`` + ``apply`` (the profile stage's deltas and the index
stage's merges) and, every ``--read-every``-th event, ``scores`` (the candidate stage's read
of the user's recent items), timing each with ``time.process_time``; prints µs per event and
the largest entry. Default settings unless given.

    PYTHONPATH=. .venv/bin/python benchmarks/itemgraph_cost.py ../shared/datasets/ml-100k
"""

from __future__ import annotations

import argparse
import time

from recstream.core import itemgraph
from recstream.datasets import load_dataset
from recstream.settings import RecommendSettings


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset")
    ap.add_argument("--read-every", type=int, default=10)
    args = ap.parse_args()
    cfg = itemgraph.GraphConfig.of(RecommendSettings())
    stream = load_dataset(args.dataset).interactions
    entries: dict[str, dict] = {}
    history: dict[str, dict[str, None]] = {}
    write = read = 0.0
    reads = 0
    clock = time.process_time
    for n, x in enumerate(stream):
        h = history.setdefault(x.user_id, {})
        if n % args.read_every == 0 and h:
            t0 = clock()
            itemgraph.scores(entries.get, h, cfg)
            read += clock() - t0
            reads += 1
        t0 = clock()
        for key, d in itemgraph.observe(h, x.item_id, x.ts, cfg):
            entries[key] = itemgraph.apply(entries.get(key), d, cfg)
        write += clock() - t0
        h[x.item_id] = None
    biggest = max(itemgraph.entry_size(e) for e in entries.values())
    print(f"{len(stream)} events: update (observe + apply) {write * 1e6 / len(stream):.1f} "
          f"µs/event; read (scores) {read * 1e6 / max(reads, 1):.1f} µs/read over {reads} "
          f"reads; largest entry {biggest[0]} neighbours, {biggest[1]} transitions "
          f"(bound {cfg.cap})")


if __name__ == "__main__":
    main()
