"""Check a replay's recommendations against the dataset it came from.

    recstream up --fresh &            # then, in another shell:
    recstream produce --dataset ../shared/datasets/ml-100k --limit 3000
    .venv/bin/python benchmarks/check_replay.py --dataset ../shared/datasets/ml-100k --limit 3000

Reads `recommendations` from the beginning and reports: the share of users with two or more of
the replayed events who received a non-empty recommendation list, how many recommended items
the user had already interacted with at or before the triggering event (must be 0), and the
records/s over the span of published_ts. Prints one JSON object; exits 1 if a seen item was
recommended or coverage is below 95 %.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys

import orjson
from kafka import KafkaConsumer

from recstream.datasets import interaction_event, load_dataset
from recstream.settings import Settings


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--limit", type=int, required=True)
    ap.add_argument("--bootstrap-server", default=None)
    args = ap.parse_args()
    s = Settings(**({"bootstrap": args.bootstrap_server} if args.bootstrap_server else {}))
    ds = load_dataset(args.dataset, limit=args.limit)
    seen_at: dict[str, set[str]] = {}
    history: dict[str, set[str]] = collections.defaultdict(set)
    events_per_user: collections.Counter[str] = collections.Counter()
    for x in ds.interactions:
        history[x.user_id].add(x.item_id)
        events_per_user[x.user_id] += 1
        seen_at[interaction_event(x, "ratings", ds.format)["event_id"]] = set(history[x.user_id])
    consumer = KafkaConsumer(s.topics.name(s.topics.recommendations),
                             bootstrap_servers=s.bootstrap.split(","), group_id=None,
                             auto_offset_reset="earliest", consumer_timeout_ms=15_000)
    recs = []
    for m in consumer:  # until one record per event, or 15 s without a new record
        recs.append(orjson.loads(m.value))
        if len(recs) >= len(seen_at):
            break
    consumer.close()
    served = {r["user_id"] for r in recs if r["items"]}
    active = [u for u, n in events_per_user.items() if n >= 2]
    violations = sum(i["item_id"] in seen_at.get(r["trigger_event_id"], ())
                     for r in recs for i in r["items"])
    ts = sorted(r["published_ts"] for r in recs) or [0.0]
    out = {"records": len(recs), "empty_records": sum(not r["items"] for r in recs),
           "users_with_2plus_events": len(active),
           "coverage": round(sum(u in served for u in active) / max(len(active), 1), 4),
           "seen_item_violations": violations,
           "records_per_s": round(len(recs) / max(ts[-1] - ts[0], 1e-9), 1)}
    print(json.dumps(out))
    sys.exit(1 if violations or out["coverage"] < 0.95 else 0)


if __name__ == "__main__":
    main()
