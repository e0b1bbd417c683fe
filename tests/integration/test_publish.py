"""streams/publish.py on the real broker: a batch's recommendations and its input offset are
one transaction per events partition, and a partition's next owner fences the previous one.

What a read-committed reader of ``recommendations`` and the group's committed offsets show:
- a committed batch: its records, and the group's offset past its events;
- a worker killed in the middle of a transaction (records sent, no commit): once the next
  owner fences the partition, none of those records is ever visible and the offset did not
  move, so the next owner re-reads the events and publishes them once;
- a fenced worker (its partition moved): its publish is refused, nothing of it is visible.
"""

from __future__ import annotations

import asyncio
import time

import orjson
import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from kafka import KafkaConsumer
from kafka import TopicPartition as KafkaTP

from recstream.settings import Settings, TopicSettings
from streams.admin import ensure_topics
from streams.publish import Publisher

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def committed_records(bootstrap: str, topic: str) -> list[tuple[int, dict[str, object]]]:
    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                      auto_offset_reset="earliest", isolation_level="read_committed",
                      consumer_timeout_ms=3000)
    try:
        tps = [KafkaTP(topic, p) for p in sorted(c.partitions_for_topic(topic) or ())]
        c.assign(tps)
        c.seek_to_beginning(*tps)
        return [(m.partition, orjson.loads(m.value)) for m in c]
    finally:
        c.close()


def group_offset(bootstrap: str, group: str, tp: TopicPartition, want: int | None = None
                 ) -> int | None:
    """The group's committed offset of ``tp``; with ``want``, waits up to 10 s for it (a
    transaction's offset shows once its markers are written, just after the commit)."""
    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    try:
        deadline = time.monotonic() + 10
        while True:
            got = c.committed(KafkaTP(tp.topic, tp.partition))
            if want is None or got == want or time.monotonic() > deadline:
                return got
            time.sleep(0.2)
    finally:
        c.close()


def test_transactions_publish_once_and_fence_the_previous_owner(
        kafka_broker: str, topic_prefix: str) -> None:
    settings = Settings(bootstrap=kafka_broker, topics=TopicSettings(prefix=topic_prefix))
    events, recs = f"{topic_prefix}events", f"{topic_prefix}recommendations"
    ensure_topics(kafka_broker, [(events, 2, {}), (recs, 2, {})])
    group = settings.group_id
    tp0 = TopicPartition(events, 0)

    def rec(trigger: str) -> tuple[bytes, bytes]:
        return b"u1", orjson.dumps({"user_id": "u1", "trigger_event_id": trigger})

    async def scenario() -> dict[str, object]:
        first, second = Publisher(settings, events, recs), Publisher(settings, events, recs)
        first.owns = second.owns = lambda part: True
        out: dict[str, object] = {}
        try:
            await first.fence([0, 1])
            ok = await first.publish(0, [rec("e0"), rec("e1")], 2, first.epoch(0))
            out["first_ok"] = ok
            out["offset_after_first"] = group_offset(kafka_broker, group, tp0, want=2)
            # the worker is killed mid-transaction: records sent, no commit
            producer: AIOKafkaProducer = first._producers[0]
            await producer.begin_transaction()
            await (await producer.send(recs, key=b"u1", value=orjson.dumps(
                {"user_id": "u1", "trigger_event_id": "e2"}), partition=0))
            # ... and partition 0 moves to another worker, which fences it first
            first.owns = lambda part: part != 0
            await second.fence([0])
            out["offset_after_crash"] = group_offset(kafka_broker, group, tp0)
            # the fenced worker's next batch is refused (its producer is fenced)
            out["fenced_ok"] = await first.publish(0, [rec("e3")], 4, first.epoch(0))
            # the new owner re-reads e2, e3 and publishes them once
            out["second_ok"] = await second.publish(0, [rec("e2"), rec("e3")], 4,
                                                    second.epoch(0))
            # a batch of re-delivered events (a seek back) does not move the offset back
            out["redelivered_ok"] = await second.publish(0, [], 3, second.epoch(0))
            # an epoch from before a fence is refused without touching the broker
            stale = second.epoch(1)
            await second.fence([0, 1])
            out["stale_ok"] = await second.publish(1, [rec("x")], 1, stale)
            out["transactions"] = first.transactions, second.transactions
        finally:
            await first.close()
            await second.close()
        return out

    out = asyncio.run(scenario())
    assert out["first_ok"] is True
    assert out["offset_after_first"] == 2
    assert out["offset_after_crash"] == 2  # the open transaction moved nothing
    assert out["fenced_ok"] is False
    assert out["second_ok"] is True and out["stale_ok"] is False
    assert out["redelivered_ok"] is True
    assert out["transactions"] == (1, 2)
    seen = [r["trigger_event_id"] for part, r in committed_records(kafka_broker, recs)]
    assert seen == ["e0", "e1", "e2", "e3"]  # e2 once: the killed transaction's copy aborted
    assert group_offset(kafka_broker, group, tp0, want=4) == 4
