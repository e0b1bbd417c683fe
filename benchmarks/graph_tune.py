"""Choose the item graph's settings on a validation slice: the first 80 % of each shared
dataset's stream (issue 19 item 6). Prequential HR@10 of the graph signals alone (plus
all-time popularity as the tie-break the blend has), every ``--sample-every``-th eligible
event, over a small grid; prints one row per grid point and the mean over the datasets.

    PYTHONPATH=. .venv/bin/python benchmarks/graph_tune.py --share 0.8 --sample-every 5

The judged figures are ``recstream eval`` on the whole streams (EVALUATION.md).

``--refresh N`` reads co-occurrence as the workers do between searches (itemgraph.read: a
full read once the user has N events more than at the last one, extended by the items added
since in between) instead of in full at every event, and ``--point W,D,S`` measures one grid
point only: what the extension costs in quality, e.g.

    PYTHONPATH=. .venv/bin/python benchmarks/graph_tune.py --share 1 --sample-every 1 \
        --point 20,0.9,0.5 --refresh 8
"""

from __future__ import annotations

import argparse
import itertools
import math

from recstream.core import itemgraph
from recstream.datasets import load_dataset

DATA = "../shared/datasets"
SETS = ("ml-100k", "amazon2018-magazine-subscriptions-5core")


def hr(stream, cfg: itemgraph.GraphConfig, w_seq: float, every: int, k: int = 10,
       refresh: int = 0) -> float:
    entries: dict[str, dict] = {}
    bases: dict[str, tuple[itemgraph.CoocBase | None, int]] = {}  # user -> (base, events)
    history: dict[str, dict[str, None]] = {}
    pop: dict[str, int] = {}
    hits = n = eligible = 0
    for x in stream:
        h = history.setdefault(x.user_id, {})
        if h:
            if eligible % every == 0:
                if refresh:
                    base, since = bases.get(x.user_id, (None, 0))
                    cooc, s, got = itemgraph.read(entries.get, h, cfg,
                                                  None if since >= refresh else base)
                    bases[x.user_id] = (got, 0 if got is not base else since)
                    s.cooc = cooc.as_dict()
                else:
                    s = itemgraph.scores(entries.get, h, cfg)
                pc = max(s.cooc.values(), default=0.0) or 1.0
                ps = max(s.seq.values(), default=0.0) or 1.0
                pp = max(pop.values())
                score = {i: 1e-3 * v / pp for i, v in pop.items()}
                for i, v in s.cooc.items():
                    score[i] = score.get(i, 0.0) + v / pc
                for i, v in s.seq.items():
                    score[i] = score.get(i, 0.0) + w_seq * v / ps
                top = sorted((i for i in score if i not in h),
                             key=lambda i: (-score[i], i))[:k]
                hits += x.item_id in top
                n += 1
            eligible += 1
        for key, d in itemgraph.observe(h, x.item_id, x.ts, cfg):
            entries[key] = itemgraph.apply(entries.get(key), d, cfg)
        h[x.item_id] = None
        if x.user_id in bases:
            bases[x.user_id] = (bases[x.user_id][0], bases[x.user_id][1] + 1)
        pop[x.item_id] = pop.get(x.item_id, 0) + 1
    return hits / max(n, 1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--share", type=float, default=0.8)
    ap.add_argument("--sample-every", type=int, default=5)
    ap.add_argument("--refresh", type=int, default=0, help="extend co-occurrence between "
                    "full reads every N events of the user (0: a full read every event)")
    ap.add_argument("--point", help="window,decay,w_seq: this grid point only")
    args = ap.parse_args()
    streams = {}
    for name in SETS:
        xs = load_dataset(f"{DATA}/{name}").interactions
        streams[name] = xs[:math.floor(args.share * len(xs))]
    grid = itertools.product((10, 20, 40), (0.8, 0.9, 1.0), (0.0, 0.5, 1.0), (3,))
    if args.point:
        w, d, q = args.point.split(",")
        grid = iter([(int(w), float(d), float(q), 3)])
    print("window decay w_seq seq_window | " + " | ".join(SETS) + " | mean")
    for window, decay, w_seq, seq_window in grid:
        cfg = itemgraph.GraphConfig(window, decay, seq_window, 0.5, 100)
        got = [hr(streams[name], cfg, w_seq, args.sample_every, refresh=args.refresh)
               for name in SETS]
        print(f"{window} {decay} {w_seq} {seq_window} | "
              + " | ".join(f"{v:.4f}" for v in got) + f" | {sum(got) / len(got):.4f}",
              flush=True)


if __name__ == "__main__":
    main()
