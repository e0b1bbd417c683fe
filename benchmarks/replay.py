"""Replay throughput of the streaming core, through the real broker, with its in-process twin.

    .venv/bin/python benchmarks/replay.py [--events 3000] [--dataset PATH]

Starts a local broker on a free port and one worker, produces the first N MovieLens 100K
ratings as fast as possible, and reports how long the pipeline took from the first event
produced to the last of the N events answered (distinct ``trigger_event_id``s in committed
recommendation records; events/s sustained). In the same run it times the
same events through recstream.core.process.MemoryPipeline (the pure per-event work, no
Kafka), so the Kafka/Faust overhead is visible. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from kafka import KafkaConsumer

from recstream.core.process import MemoryPipeline
from recstream.datasets import interaction_event, item_record, load_dataset
from recstream.settings import ROOT, Settings
from streams.admin import ensure_topics
from streams.broker import LocalBroker
from streams.producer import EventProducer
from streams.topics import topic_names


def free_port(pair: bool = False) -> int:
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if not pair:
            return port
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 1))
                return port
            except OSError:
                continue


def topic_bytes(bootstrap: str) -> dict[str, int]:
    """Total value bytes in every non-internal topic."""
    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest",
                      consumer_timeout_ms=3000)
    topics = sorted(t for t in c.topics() if not t.startswith("__"))
    c.subscribe(topics)
    out: dict[str, int] = {}
    for m in c:
        out[m.topic] = out.get(m.topic, 0) + len(m.value or b"")
    c.close()
    return out


def in_process(events: list[dict], items: list[dict], s: Settings) -> float:
    p = MemoryPipeline(s.profile, s.recommend, s.topics.partitions)
    p.add_items(items)
    t0 = time.perf_counter()
    for ev in events:
        p.ingest({**ev, "kind": "ratings"})
        p.recommend(ev["user_id"])
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=3000)
    ap.add_argument("--sizes", action="store_true", help="also report bytes written per "
                    "event to each topic")
    ap.add_argument("--dataset", default=str(ROOT.parent / "shared" / "datasets" / "ml-100k"))
    args = ap.parse_args()
    ds = load_dataset(args.dataset, limit=args.events)
    items = [item_record(i) for i in ds.items]
    events = [interaction_event(x, "ratings", ds.format) for x in ds.interactions]

    port, web = free_port(pair=True), free_port()
    s = Settings(bootstrap=f"127.0.0.1:{port}")
    broker = LocalBroker(s.broker.on_port(port))
    tmp = Path(tempfile.mkdtemp())
    broker.start()
    worker = None
    try:
        names = topic_names(s)
        ensure_topics(s.bootstrap, names.all())
        env = {"RECSTREAM_PRIVACY__KEY": os.urandom(16).hex(),  # workers need one
               **os.environ, "RECSTREAM_WORKER__DATA_DIR": str(tmp)}
        # BENCH_LOG=FILE keeps the worker's log (BENCH_LOGLEVEL, default error)
        log = open(os.environ["BENCH_LOG"], "wb") if "BENCH_LOG" in os.environ else None  # noqa: SIM115
        worker = subprocess.Popen(
            [sys.executable, "-m", "recstream", "worker", "-b", s.bootstrap, "--web-port",
             str(web), "--loglevel", os.environ.get("BENCH_LOGLEVEL", "error")], env=env,
            stdout=subprocess.DEVNULL, stderr=log or subprocess.DEVNULL)
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{web}/health", timeout=1) as r:
                    if json.load(r)["ready"]:
                        break
            except OSError:
                time.sleep(0.5)
        # committed records only, as a user's consumer reads them (streams/publish.py)
        consumer = KafkaConsumer(names.recommendations, bootstrap_servers=s.bootstrap,
                                 group_id=None, auto_offset_reset="earliest",
                                 isolation_level="read_committed")
        with EventProducer(s.bootstrap) as producer:
            for item in items:
                producer.send(names.items, item["item_id"], item)
            producer.flush()
            time.sleep(1.0)  # let the worker's replica read the catalogue
            t0 = time.time()
            for ev in events:
                producer.send(names.ratings, ev["user_id"], ev)
        t_produced = time.time() - t0
        # an event counts once, by its first record: a replayed batch or a second variant's
        # record for the same trigger is not another event answered
        answered: set[str] = set()
        last, deadline = t0, time.time() + 600
        want = {ev["event_id"] for ev in events}
        while len(answered) < len(want) and time.time() < deadline:
            for batch in consumer.poll(timeout_ms=1000).values():
                for m in batch:
                    trigger = json.loads(m.value).get("trigger_event_id")
                    if trigger in want and trigger not in answered:
                        answered.add(trigger)
                        last = time.time()
        got = len(answered)
        consumer.close()
        pipeline_s = last - t0
        sizes = topic_bytes(s.bootstrap) if args.sizes else None
        pure_s = in_process(events, items, s)
        print(json.dumps({
            "events": len(events), "recommendations": got, "produce_s": round(t_produced, 2),
            "pipeline_s": round(pipeline_s, 2),
            "pipeline_eps": round(got / pipeline_s, 1),
            "in_process_eps": round(len(events) / pure_s, 1),
            "in_process_ms_per_event": round(pure_s / len(events) * 1000, 3),
            **({"bytes_per_event": {t: round(b / len(events)) for t, b in sizes.items()}}
               if sizes else {}),
        }))
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(30)
        broker.stop()
        shutil.rmtree(broker.data_dir, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
