"""Replay a dataset through a running pipeline and collect what it publishes.

Used by ``recstream eval --protocol prequential --through-kafka``; the scoring itself is pure
(recstream/eval/through_kafka.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson
from kafka import KafkaConsumer

from recstream.settings import Settings
from streams.producer import EventProducer
from streams.security import kafka_python_kwargs
from streams.topics import topic_names


def replay_and_collect(settings: Settings, items: Sequence[Mapping[str, Any]],
                       events: Sequence[Mapping[str, Any]], idle_timeout_s: float = 30.0,
                       progress: Callable[[int], None] | None = None
                       ) -> dict[str, dict[str, Any]]:
    """Produce the catalogue, then the events (as ``ratings``), and read ``recommendations``
    until every event's record arrived or none came for ``idle_timeout_s``. Returns the
    records by trigger event id (the last one wins)."""
    names = topic_names(settings)
    wanted = {str(e["event_id"]) for e in events}
    # from the beginning: a pipeline that already processed these event ids drops them as
    # duplicates, and its earlier records for them are the ones to score
    consumer = KafkaConsumer(names.recommendations,
                             bootstrap_servers=settings.bootstrap.split(","), group_id=None,
                             auto_offset_reset="earliest", enable_auto_commit=False,
                             isolation_level="read_committed",
                             **kafka_python_kwargs(settings.security))
    with EventProducer(settings.bootstrap, settings.security) as producer:
        for item in items:
            producer.send(names.items, str(item["item_id"]), item)
        producer.flush()
        for ev in events:
            producer.send(names.ratings, str(ev["user_id"]), ev)
    records: dict[str, dict[str, Any]] = {}
    last = time.monotonic()
    try:
        while wanted - records.keys() and time.monotonic() - last < idle_timeout_s:
            for batch in consumer.poll(timeout_ms=500).values():
                for m in batch:
                    rec = orjson.loads(m.value)
                    if rec.get("trigger_event_id") in wanted:
                        records[rec["trigger_event_id"]] = rec
                        last = time.monotonic()
                if progress:
                    progress(len(records))
    finally:
        consumer.close()
    return records
