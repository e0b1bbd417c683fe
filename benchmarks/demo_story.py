"""The demo's replay and story (run by scripts/demo.sh once `recstream up` is ready).

    .venv/bin/python benchmarks/demo_story.py --dataset DIR --limit N --rate EPS \
        --bootstrap-server HOST:PORT --web-port 6066 --scorer-port 6070

1. sends the catalogue and waits until the worker and the scorer hold all of it (a record
   published before the scorer has embedded the catalogue would be degraded);
2. replays the first N interactions as ``ratings`` at EPS events/s, noting each event's
   produce time, while reading ``recommendations`` (read committed);
3. follows a few users with long histories (recstream/ops/replay.py): for each, the list
   before and after one of their events, with titles, reasons and the event's freshness
   (its record's published_ts − its produce time);
4. prints a summary of everything published for the replay and the dashboard URL.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.request
from typing import Any

import orjson
from kafka import KafkaConsumer, TopicPartition

from recstream.datasets import interaction_event, item_record, load_dataset
from recstream.ops.replay import Followed, pick_followed, seen_before, summarise
from recstream.ops.stats import percentiles
from recstream.settings import Settings
from streams.producer import EventProducer

TOP = 5


def health(port: int) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:  # the scorer answers 503 until it is ready
        return json.loads(e.read() or b"{}")
    except Exception:  # noqa: BLE001 - not up (yet)
        return None


def wait_for_catalogue(items: int, web_port: int, scorer_port: int, timeout_s: float) -> None:
    """Until the worker holds ``items`` items and the scorer (unless ``scorer_port`` is 0)
    is ready with all of them embedded."""
    deadline, scorer = time.monotonic() + timeout_s, None
    while time.monotonic() < deadline:
        worker = health(web_port)
        scorer = health(scorer_port) if scorer_port else None
        if (worker and worker.get("items", 0) >= items
                and (not scorer_port or (scorer and scorer.get("ready")
                                         and scorer.get("items", 0) >= items))):
            where = f", scorer embedded {scorer['items']} items" if scorer else ", no scorer"
            print(f"demo: catalogue ready (worker {worker['items']} items{where})", flush=True)
            return
        time.sleep(1)
    sys.exit(f"demo: the catalogue did not reach the worker / scorer in {timeout_s:.0f} s "
             f"(scorer health: {scorer}); see the up log")


def show_list(label: str, record: dict[str, Any] | None) -> list[str]:
    if record is None:
        return [f"  {label}: (no record)"]
    flag = "  DEGRADED (no LLM score: scorer slow or down)" if record.get("degraded") else ""
    out = [f"  {label}:{flag}"]
    for n, it in enumerate(record["items"][:TOP], 1):
        reasons = "; ".join(it.get("reasons") or [])
        out.append(f"    {n}. {it.get('title') or it['item_id']}  ({it['score']:.2f})  {reasons}")
    return out


def story(f: Followed, before: dict[str, Any] | None, after: dict[str, Any], event: dict,
          title: str, fresh_ms: float) -> str:
    rating = f" {event['rating']:g}/5" if "rating" in event else ""
    old = {i["item_id"] for i in (before or {}).get("items", [])[:TOP]}
    new = [i.get("title") or i["item_id"] for i in after["items"][:TOP] if i["item_id"] not in old]
    lines = [f"── user {f.user_id} ({f.history} events so far) rates {title}{rating}: new "
             f"list {fresh_ms:.0f} ms after the event was produced",
             *show_list("before", before), *show_list("after", after),
             f"  new in the top {TOP}: {', '.join(new) if new else 'none'}"]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", required=True)
    ap.add_argument("--limit", type=int, required=True)
    ap.add_argument("--rate", type=float, required=True)
    ap.add_argument("--bootstrap-server", required=True)
    ap.add_argument("--web-port", type=int, default=6066)
    ap.add_argument("--scorer-port", type=int, default=6070, help="0: no scorer to wait for")
    ap.add_argument("--follow", type=int, default=3)
    ap.add_argument("--slo-ms", type=float, default=250.0)
    args = ap.parse_args()
    s = Settings(bootstrap=args.bootstrap_server)
    ds = load_dataset(args.dataset, limit=args.limit)
    items = [item_record(i) for i in ds.items]
    titles = {i["item_id"]: i["title"] for i in items}
    events = [interaction_event(x, "ratings", ds.format) for x in ds.interactions]
    follow = {f.event: f for f in pick_followed(events, args.follow)}
    wanted = {f.before_event for f in follow.values()} | set(follow)
    by_id = {e["event_id"]: e for e in events}

    consumer = KafkaConsumer(bootstrap_servers=s.bootstrap.split(","), group_id=None,
                             enable_auto_commit=False, isolation_level="read_committed")
    topic = s.topics.name(s.topics.recommendations)
    while not consumer.partitions_for_topic(topic):
        time.sleep(0.5)
    tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))]
    consumer.assign(tps)
    consumer.seek_to_end(*tps)
    for tp in tps:
        consumer.position(tp)  # resolve the end offsets now, before anything is produced

    producer = EventProducer(s.bootstrap)
    for item in items:
        producer.send(s.topics.name(s.topics.items), item["item_id"], item)
    producer.flush()
    wait_for_catalogue(len(items), args.web_port, args.scorer_port, timeout_s=180)
    names = ", ".join(f"{f.user_id} ({f.history} events)" for f in follow.values())
    print(f"demo: replaying {len(events)} events at {args.rate:g} events/s; following users "
          f"{names}", flush=True)

    records: list[dict[str, Any]] = []
    kept: dict[str, dict[str, Any]] = {}
    produced: dict[str, float] = {}
    ratings = s.topics.name(s.topics.ratings)
    start, sent, last_note, last_record = time.monotonic(), 0, time.monotonic(), time.monotonic()

    def take(timeout_ms: int) -> None:
        nonlocal last_record
        for msgs in consumer.poll(timeout_ms=timeout_ms).values():
            for m in msgs:
                r = orjson.loads(m.value)
                records.append(r)
                last_record = time.monotonic()
                trig = r.get("trigger_event_id")
                if trig in wanted:
                    kept[trig] = r
                if trig in follow:
                    f = follow[trig]
                    fresh = (r["published_ts"] - produced[trig]) * 1000
                    print(story(f, kept.get(f.before_event), r, by_id[trig],
                                titles.get(f.item_id, f.item_id), fresh), flush=True)

    while sent < len(events) or (len({r["trigger_event_id"] for r in records} & produced.keys())
                                 < len(events) and time.monotonic() - last_record < 20):
        now = time.monotonic()
        due = min(len(events), int((now - start) * args.rate) + 1)
        while sent < due:
            ev = events[sent]
            produced[ev["event_id"]] = time.time()
            producer.send(ratings, str(ev["user_id"]), ev)
            sent += 1
        take(timeout_ms=50 if sent < len(events) else 500)
        if time.monotonic() - last_note >= 10:
            last_note = time.monotonic()
            fresh = [(r["published_ts"] - produced[r["trigger_event_id"]]) * 1000
                     for r in records[-500:] if r.get("trigger_event_id") in produced]
            p = percentiles(fresh, (0.5, 0.99))
            print(f"demo: {sent}/{len(events)} events sent, {len(records)} records; freshness "
                  f"of the latest p50 {p['p50'] or 0:.0f} ms, p99 {p['p99'] or 0:.0f} ms",
                  flush=True)
    producer.close()
    consumer.close()
    out = summarise(records, produced, seen_before(events), args.slo_ms)
    f = out["freshness_ms"]
    print(f"demo: published {out['records']} records for {out['events']} events (coverage "
          f"{out['coverage']:.1%}, {out['empty_records']} empty), seen-item violations "
          f"{out['seen_item_violations']}, degraded {out['degraded_share']:.1%}, freshness "
          f"p50 {f['p50']} ms / p99 {f['p99']} ms ({out['within_slo']:.1%} within "
          f"{args.slo_ms:g} ms), replayed at {args.rate:g} events/s")
    print(f"demo: dashboard http://127.0.0.1:{args.web_port}/dashboard/ ; a user's list: "
          f"recstream recommend {next(iter(follow.values())).user_id if follow else 'USER'}")
    print("demo: summary " + json.dumps(out))
    sys.exit(1 if out["seen_item_violations"] or out["coverage"] < 0.95 else 0)


if __name__ == "__main__":
    main()
