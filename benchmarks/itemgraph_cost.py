"""Per-event CPU cost of the item graph alone (recstream/core/itemgraph.py), on a dataset.

Replays the stream through ``observe`` + ``apply`` (the profile stage's deltas and the index
stage's merges) and, every ``--read-every``-th event, the candidate stage's read of the
user's recent items both ways: ``scores`` (a full read of ``graph_window`` items) and
``read`` as the worker does it (a full read at a search, every ``refresh_events``-th event of
the user here, extended from it by the items added since in between), timing each with
``time.process_time``; prints µs per event and the largest entry. Default settings.

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
    ap.add_argument("--events", type=int, default=0, help="the first N events (0: all)")
    args = ap.parse_args()
    cfg = itemgraph.GraphConfig.of(RecommendSettings())
    stream = load_dataset(args.dataset).interactions
    stream = stream[:args.events] if args.events else stream
    entries: dict[str, dict] = {}
    history: dict[str, dict[str, None]] = {}
    rc = RecommendSettings()
    bases: dict[str, tuple[itemgraph.CoocBase | None, int]] = {}  # user -> (base, events)
    write = read = policy = 0.0
    reads = 0
    clock = time.process_time
    for n, x in enumerate(stream):
        h = history.setdefault(x.user_id, {})
        if n % args.read_every == 0 and h:
            t0 = clock()
            itemgraph.scores(entries.get, h, cfg)
            t1 = clock()
            base, since = bases.get(x.user_id, (None, 0))
            if since >= rc.refresh_events:
                base = None  # a search: read in full
            _, _, got = itemgraph.read(entries.get, h, cfg, base)
            policy += clock() - t1
            read += t1 - t0
            reads += 1
            bases[x.user_id] = (got, 0 if got is not base else since)
        t0 = clock()
        for key, d in itemgraph.observe(h, x.item_id, x.ts, cfg):
            entries[key] = itemgraph.apply(entries.get(key), d, cfg)
        write += clock() - t0
        h[x.item_id] = None
        if x.user_id in bases:
            bases[x.user_id] = (bases[x.user_id][0], bases[x.user_id][1] + 1)
    biggest = max(itemgraph.entry_size(e) for e in entries.values())
    print(f"{len(stream)} events: update (observe + apply) {write * 1e6 / len(stream):.1f} "
          f"µs/event; full read (scores) {read * 1e6 / max(reads, 1):.1f} µs/read, "
          f"as the worker reads (read, extended between searches) "
          f"{policy * 1e6 / max(reads, 1):.1f} µs/read, over {reads} reads; "
          f"largest entry {biggest[0]} neighbours, {biggest[1]} transitions "
          f"(bound {cfg.cap})")


if __name__ == "__main__":
    main()
