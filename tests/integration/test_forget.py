"""Privacy through the real broker: pseudonymised storage, `recstream forget`, the bearer
token on POST /forget, and physical erasure after compaction.

One worker processes a MovieLens slice plus six events of a user with a distinctive raw id.
Before erasure the raw id is in no changelog topic and no RocksDB file while its pseudonym is
(the positive control that makes the final scan meaningful). `recstream forget` reports what
each structure lost; then the test rolls the compacted topics' segments until Kafka's log
cleaner has dropped the old records and the tombstones, and finds neither the raw id nor the
pseudonym in any changelog topic, the user-sketches topic or the worker's RocksDB files.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType

from recstream.core.privacy import pseudonym

REPO_ROOT = Path(__file__).resolve().parents[2]
KEY = "forget-test-privacy-key-0123456789"
RAW = "zz-forget-me-7Q3X"
TOKEN = "admin-token-for-test-forget"
#: compacted topics roll a segment every 0.5 s and drop tombstones 0.5 s after cleaning
FAST_COMPACTION = {"segment.ms": "500", "min.cleanable.dirty.ratio": "0.01",
                   "delete.retention.ms": "500", "max.compaction.lag.ms": "500"}
COMPACTION_TIMEOUT_S = 150.0
_HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def post(url: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    req = urllib.request.Request(url, method="POST", headers=headers or {}, data=b"")
    try:
        with _HTTP.open(req, timeout=60) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def listen_addresses(port: int) -> set[str]:
    """Local IPv4 addresses (dotted) with a socket listening on ``port`` (/proc/net/tcp)."""
    out = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        addr, hexport = local.split(":")
        if state == "0A" and int(hexport, 16) == port:
            out.add(".".join(str(int(addr[i:i + 2], 16)) for i in (6, 4, 2, 0)))
    return out


def compacted_topics(bootstrap: str, prefix: str) -> list[str]:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        names = admin.list_topics()
    finally:
        admin.close()
    return sorted(t for t in names if t.startswith(prefix)
                  and (t.endswith("-changelog") or t.endswith("-user-sketches")))


def topic_hits(bootstrap: str, topics: list[str], needles: dict[str, bytes]) -> list[str]:
    """'topic[p]@offset (key, value): name' for every record whose key or value contains a
    needle."""
    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    hits: list[str] = []
    try:
        tps = [TopicPartition(t, p) for t in topics for p in sorted(c.partitions_for_topic(t))]
        c.assign(tps)
        c.seek_to_beginning(*tps)
        end = c.end_offsets(tps)
        deadline = time.monotonic() + 30
        while any(c.position(tp) < end[tp] for tp in tps) and time.monotonic() < deadline:
            for tp, msgs in c.poll(timeout_ms=300, max_records=50_000).items():
                for m in msgs:
                    blob = (m.key or b"") + b"\x00" + (m.value or b"")
                    where = (f"{tp.topic}[{tp.partition}]@{m.offset} (key "
                             f"{(m.key or b'')[:48]!r}, value {(m.value or b'')[:160]!r})")
                    hits += [f"{where}: {name}" for name, n in needles.items() if n in blob]
    finally:
        c.close()
    return hits


def file_hits(root: Path, needles: dict[str, bytes]) -> list[str]:
    hits = []
    for f in sorted(p for p in root.rglob("*") if p.is_file()):
        data = f.read_bytes()
        hits += [f"{f.relative_to(root)}: {name}" for name, n in needles.items() if n in data]
    return hits


def roll_segments(producer: KafkaProducer, bootstrap: str, topics: list[str], n: int) -> None:
    """A tombstone for a key nobody uses in every partition: appended after segment.ms, it
    rolls the active segment, so the records before it become cleanable."""
    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    try:
        for t in topics:
            for part in c.partitions_for_topic(t) or ():
                producer.send(t, key=f"roll-{n}".encode(), value=None, partition=part)
    finally:
        c.close()
    producer.flush()


def speed_up_log_cleaner(bootstrap: str) -> None:
    """Dynamic broker config: the log cleaner looks for work every 0.5 s instead of every
    15 s (harmless for the other tests sharing this broker)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        node = admin.describe_cluster()["brokers"][0]["broker_id"]
        admin.alter_configs([ConfigResource(ConfigResourceType.BROKER, str(node),
                                            configs={"log.cleaner.backoff.ms": "500"})])
    finally:
        admin.close()


def test_forget_erases_a_user_everywhere_it_was_stored(cluster, producer, reader,
                                                       ml_sample, kafka_broker: str,
                                                       topic_prefix: str) -> None:
    speed_up_log_cleaner(kafka_broker)
    worker = cluster.worker()
    worker.env_extra = {"RECSTREAM_PRIVACY__KEY": KEY, "RECSTREAM_WORKER__ADMIN_TOKEN": TOKEN,
                        "RECSTREAM_PRIVACY__COMPACTION_CONFIGS": json.dumps(FAST_COMPACTION)}
    worker.start().wait_healthy()
    assert listen_addresses(worker.web_port) == {"127.0.0.1"}  # loopback unless told

    producer.items(ml_sample.items)
    producer.events(ml_sample.events)
    donor = ml_sample.events[:6]
    last_ts = max(e["ts"] for e in ml_sample.events)
    mine = [{**e, "user_id": RAW, "event_id": f"test:{RAW}:{e['item_id']}:{i}",
             "ts": last_ts + 60.0 * (i + 1)} for i, e in enumerate(donor)]
    producer.events(mine)
    recs = reader("recommendations")
    recs.wait_for(lambda rs: sum(r.key == RAW for r in rs) == len(mine), 120,
                  "the raw user's recommendations")
    published = [r for r in recs.records if r.key == RAW]
    assert all(r.value["user_id"] == RAW for r in published)  # the contract keeps raw ids
    assert {r.value["trigger_event_id"] for r in published} == {e["event_id"] for e in mine}

    # GET: no token needed; the latest table is written right after the broker acks the
    # record, so a reader of the topic can be a moment ahead of it
    deadline = time.monotonic() + 10
    status, body = worker.get(f"/recommendations/{RAW}")
    while status != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
        status, body = worker.get(f"/recommendations/{RAW}")
    assert status == 200 and body["user_id"] == RAW
    assert body["trigger_event_id"] in {e["event_id"] for e in mine}

    pseud = pseudonym(KEY.encode(), RAW)
    needles = {"raw id": RAW.encode(), "pseudonym": pseud.encode()}
    data_dir = worker.data_dir
    topics = compacted_topics(kafka_broker, topic_prefix)
    assert any(t.endswith("-profiles-changelog") for t in topics), topics
    before = topic_hits(kafka_broker, topics, needles)
    assert not [h for h in before if h.endswith("raw id")], before  # pseudonymised storage
    assert any(h.endswith("pseudonym") for h in before)  # positive control for the scan
    files_before = file_hits(data_dir, needles)
    assert not [h for h in files_before if h.endswith("raw id")], files_before
    assert any(h.endswith("pseudonym") for h in files_before)  # positive control

    # state-changing endpoint: 401 without the bearer token or with a wrong one
    url = f"{worker.url}/forget/{RAW}"
    assert post(url)[0] == 401
    assert post(url, {"Authorization": "Bearer wrong"})[0] == 401
    assert worker.get(f"/recommendations/{RAW}")[0] == 200  # nothing was erased

    env = {**os.environ, "RECSTREAM_TOPICS__PREFIX": topic_prefix,
           "RECSTREAM_PRIVACY__KEY": KEY, "PYTHONPATH": str(REPO_ROOT)}
    env.pop("RECSTREAM_CONFIG", None)
    out = subprocess.run([sys.executable, "-m", "recstream", "forget", RAW, "--json", "-b",
                          kafka_broker], env=env, cwd=REPO_ROOT, capture_output=True,
                         text=True, timeout=90)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    removed = report["removed"]
    assert report["pseudonym"] == pseud
    assert (removed["profile"], removed["sketch"], removed["latest_recommendations"],
            removed["user_count"], removed["feedback_state"]) == (1, 1, 1, 1, 1), report
    assert removed["postings"] > 0 and removed["term_df"] >= removed["postings"], report

    assert worker.get(f"/recommendations/{RAW}")[0] == 404
    status, again = post(url, {"Authorization": f"Bearer {TOKEN}"})  # idempotent
    assert status == 200, again
    assert not any(again["removed"].values()), again

    producer_ = KafkaProducer(bootstrap_servers=kafka_broker)
    deadline, n = time.monotonic() + COMPACTION_TIMEOUT_S, 0
    try:
        while True:
            time.sleep(0.8)  # > segment.ms: the next append rolls the segment
            roll_segments(producer_, kafka_broker, topics, n)
            n += 1
            hits = topic_hits(kafka_broker, topics, needles)
            if not hits:
                break
            if time.monotonic() > deadline:
                pytest.fail(f"still in the compacted topics after {COMPACTION_TIMEOUT_S:.0f}"
                            f"s: {hits[:20]}")
    finally:
        producer_.close()
    print(f"compacted topics clean after {n} segment rolls; report: {report['removed']}")
    assert worker.stop() == 0
    assert file_hits(data_dir, needles) == []
