"""The worker's per-event pure work, timed in process (no Kafka): µs of CPU per event.

Replays ``recstream bench``'s default workload (1,000 users, 1,000 items, Zipf; events
stamped 10 ms apart, as at ~100 events/s) through the functions the worker's agents call,
batch by batch as agents/user.py runs them (``worker.stage_batch`` events; the global view
changes only between batches, as the replica applies index updates and sketches between
awaits), and times each step with ``time.process_time`` over the events after a warm-up:

- ``profile``: apply_once + index_updates (agents/profile.py apply)
- ``graph``: process.graph_updates, the item graph's deltas of the event (computed from the
  profile before apply_once; applied by ``index`` with the term index's updates; the graph's
  read is part of ``candidates``)
- ``candidates``: candidates.generate with the batch's ViewCache and the users' reused
  searches (SourceCache; agents/candidates.py find); ``searches`` counts the events that
  searched anew
- ``rank``: diversity.ranked_list as agents/rank.py Ranker.rank calls it by default
  (learned variant, ε 0, λ 1, features on)
- ``feedback``: FeedbackJoin.event and .impression on a dict store (agents/feedback.py)
- ``sketch``: make_sketch(user_vector) per batch for each touched user whose sketch is due
  (view.sketch_due; agents/profile.py flush)
- ``index``: apply_index_update of the batch's updates into the view (agents/index.py and
  the replica)

Each run also prints a SHA-256 digest of everything produced (candidate sets with exact
floats, ranked lists, metrics records, the final feedback store, sketches and index
entries), so two code trees are checked to give identical outputs on identical inputs.

    python benchmarks/hotpath.py                      # this tree, 5 runs, median
    python benchmarks/hotpath.py --ref /path/to/other # ABAB against another checkout
    python benchmarks/hotpath.py --ref X --same       # ... and fail unless outputs agree

Each run is a fresh subprocess with the tree first on ``sys.path``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

STEPS = ("profile", "graph", "candidates", "rank", "feedback", "sketch", "index")
TS0 = 1_700_000_000.0
KEY = b"k" * 32


def run_tree(warmup: int, events: int, batch: int, seed: int) -> dict[str, Any]:
    """One timed replay with whatever ``recstream`` is first on sys.path."""
    import recstream
    from recstream.bench.synthetic import make_workload
    from recstream.core.candidates import generate

    try:  # older trees search on every event and sketch every touched user
        from recstream.core.candidates import SourceCache
        from recstream.core.view import sketch_due
    except ImportError:
        SourceCache = sketch_due = None  # noqa: N806
    from recstream.core.diversity import ranked_list
    from recstream.core.feedback import FeedbackJoin
    from recstream.core.learn import prior_weights
    from recstream.core.privacy import event_pseudonym, pseudonym
    from recstream.core.process import (
        apply_index_update,
        apply_once,
        event_weight,
        index_partition,
        index_updates,
    )
    try:
        from recstream.core.process import graph_updates
    except ImportError:  # a --ref tree from before the item graph
        def graph_updates(*_: Any) -> list[tuple[str, dict[str, Any]]]:
            return []
    from recstream.core.tfidf import Profile
    from recstream.core.view import MemoryView, ViewCache, make_sketch, user_vector
    from recstream.settings import FeedbackSettings, ProfileSettings, RecommendSettings

    pc, rc, fc = ProfileSettings(), RecommendSettings(), FeedbackSettings()
    partitions = 8
    work = make_workload(warmup + events, 1000, 1000, seed)
    view = MemoryView()
    for r in work.items:
        view.catalogue.upsert(r)
    profiles: dict[str, Profile] = {}
    join = FeedbackJoin(fc, {}, 0)
    weights = prior_weights(rc)
    sources = SourceCache(rc) if SourceCache is not None else None
    digest = hashlib.sha256()
    spent = dict.fromkeys(STEPS, 0.0)
    clock = time.process_time
    stream = []
    for n, (kind, ev) in enumerate(work.events):
        stream.append({**ev, "kind": kind, "ts": TS0 + n * 0.01,
                       "user_id": pseudonym(KEY, ev["user_id"]),
                       "event_id": event_pseudonym(KEY, ev["event_id"])})

    for start in range(0, len(stream), batch):
        timed = start >= warmup
        t = [0.0] * len(STEPS)
        cache = ViewCache(view)
        updates: list[tuple[str, dict[str, Any]]] = []
        touched: dict[str, Profile] = {}
        for offset, ev in enumerate(stream[start:start + batch], start=start):
            user = ev["user_id"]
            tg = clock()
            prof = profiles.setdefault(user, Profile())
            graph = graph_updates(prof.items, ev, rc)
            t0 = clock()
            change = apply_once(prof, ev, view.catalogue.get(ev["item_id"]), pc, offset)
            if change is not None:
                updates += index_updates(user, prof, change, ev, event_weight(ev, pc)[0])
                updates += graph
            if sketch_due is None or sketch_due(prof, rc.sketch_every):
                touched[user] = prof
            t1 = clock()
            cands = (generate(user, prof, view, rc, cache) if sources is None
                     else generate(user, prof, view, rc, cache, sources))
            t2 = clock()
            for c in cands.items:
                c.llm = 0.0
            items = ranked_list(cands.items, weights, rc.top_n, prof.items,
                                catalogue=view.catalogue, mmr_lambda=1.0, features=True)
            t3 = clock()
            record = {"user_id": user, "items": items, "variant": "default",
                      "trigger_event_id": ev["event_id"], "event_ts": ev["ts"]}
            join.event(ev)
            closed = join.impression(record, len(view.catalogue), view.catalogue)
            t4 = clock()
            t[0] += t1 - t0
            t[1] += t0 - tg
            t[2] += t2 - t1
            t[3] += t3 - t2
            t[4] += t4 - t3
            digest.update(repr([(c.item_id, c.cf, c.content, c.trending, c.users, c.terms,
                                 getattr(c, "cooc", 0.0), getattr(c, "seq", 0.0))
                                for c in cands.items]).encode())
            digest.update(repr((cands.neighbours, items, closed)).encode())
        t0 = clock()
        sketches = {u: make_sketch(p, user_vector(p, view)[0], rc.sketch_terms,
                                   rc.sketch_items) for u, p in touched.items()}
        t1 = clock()
        for key, upd in updates:
            part = index_partition(key, partitions)
            for k, entry in apply_index_update(view.get_entry, key, upd, part, rc):
                view.set_entry(k, entry)
        view.sketches.update(sketches)
        t2 = clock()
        t[5] += t1 - t0
        t[6] += t2 - t1
        digest.update(repr(sorted(sketches.items())).encode())
        if timed:
            for name, x in zip(STEPS, t, strict=True):
                spent[name] += x
    digest.update(repr(sorted(join.store.items())).encode())
    digest.update(repr(sorted(view.entries.items())).encode())
    digest.update(repr(sorted(view.trending.items())).encode())
    us = {k: v * 1e6 / events for k, v in spent.items()}
    us["total"] = sum(us.values())
    return {"tree": str(Path(recstream.__file__).parents[1]), "us": us,
            "digest": digest.hexdigest(),
            "searches": sources.searches if sources is not None else warmup + events}


def spawn(tree: Path, args: argparse.Namespace) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(tree),
           "--warmup", str(args.warmup), "--events", str(args.events),
           "--batch", str(args.batch), "--seed", str(args.seed)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=tree)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ref", type=Path, help="another checkout to compare against (ABAB)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2000, help="events before timing starts")
    ap.add_argument("--events", type=int, default=1000, help="timed events")
    ap.add_argument("--batch", type=int, default=64, help="worker.stage_batch")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--json", action="store_true", help="print the summary as JSON")
    ap.add_argument("--same", action="store_true", help="fail unless both trees give "
                    "identical outputs (a pure speed-up; a policy change moves them)")
    args = ap.parse_args()
    if args.child is not None:
        sys.path.insert(0, str(args.child.resolve()))
        print(json.dumps(run_tree(args.warmup, args.events, args.batch, args.seed)))
        return
    trees = {"new": Path(__file__).resolve().parents[1]}
    if args.ref is not None:
        trees = {"ref": args.ref.resolve(), **trees}
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in trees}
    for _ in range(args.repeats):
        for name, tree in trees.items():  # alternating: the machine's noise hits both
            runs[name].append(spawn(tree, args))
    summary: dict[str, Any] = {}
    for name, rs in runs.items():
        digests = {r["digest"] for r in rs}
        if len(digests) != 1:
            raise SystemExit(f"{name}: runs disagree with themselves: {digests}")
        summary[name] = {"tree": str(trees[name]), "digest": digests.pop(),
                         "median_us": {k: round(statistics.median(r["us"][k] for r in rs), 1)
                                       for k in (*STEPS, "total")},
                         "searches": rs[0]["searches"]}
    same = len({s["digest"] for s in summary.values()}) == 1
    summary["identical_outputs"] = same
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        names = list(trees)
        print(f"{args.events} timed events after {args.warmup}, batch {args.batch}, "
              f"median of {args.repeats} runs, µs CPU/event")
        print(f"{'step':<12}" + "".join(f"{n:>12}" for n in names))
        for k in (*STEPS, "total"):
            print(f"{k:<12}" + "".join(f"{summary[n]['median_us'][k]:>12.1f}" for n in names))
        for n in names:
            print(f"{n}: {summary[n]['tree']} digest {summary[n]['digest'][:16]}, "
                  f"{summary[n]['searches']} neighbour searches in "
                  f"{args.warmup + args.events} events")
        if len(names) > 1:
            print("identical outputs:", same)
    if args.same and not same:
        raise SystemExit("outputs differ between trees")


if __name__ == "__main__":
    main()
