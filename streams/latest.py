"""A user's latest record on a keyed topic, read straight from Kafka (no worker needed).

Used by ``recstream recommend --bootstrap-server``. The ``recommendations`` topic is keyed by
the producer's user id, so the newest record with that key is the user's current list. The
read goes backwards from each partition's end in windows of ``window`` offsets and stops at a
partition's first match, so a recently active user costs one window per partition; an
unknown user costs at most ``max_scan`` records per partition.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from recstream.settings import SecuritySettings


class NoTopic(Exception):
    """The topic does not exist (nothing has been published yet)."""


def latest_for_key(bootstrap: str, topic: str, key: str,
                   security: SecuritySettings | None = None, window: int = 2000,
                   max_scan: int = 200_000, timeout_s: float = 30.0) -> dict[str, Any] | None:
    """The newest committed JSON value with ``key`` in ``topic`` (by ``published_ts``, else
    the last one found), or None when the last ``max_scan`` records of every partition
    hold none."""
    from kafka import KafkaConsumer, TopicPartition

    from streams.security import kafka_python_kwargs

    want = key.encode()
    c = KafkaConsumer(bootstrap_servers=bootstrap.split(","), group_id=None,
                      enable_auto_commit=False, isolation_level="read_committed",
                      **kafka_python_kwargs(security))
    try:
        parts = c.partitions_for_topic(topic)
        if not parts:
            raise NoTopic(topic)
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        begin, end = c.beginning_offsets(tps), c.end_offsets(tps)
        found: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout_s
        for tp in tps:
            hi, floor = end[tp], max(begin[tp], end[tp] - max_scan)
            while hi > floor:
                lo = max(floor, hi - window)
                got = _read_range(c, tp, lo, hi, want, deadline)
                if got is not None:
                    found.append(got)
                    break
                hi = lo
        return max(found, key=lambda r: float(r.get("published_ts") or 0.0), default=None)
    finally:
        c.close()


def _read_range(c: Any, tp: Any, lo: int, hi: int, want: bytes, deadline: float
                ) -> dict[str, Any] | None:
    """The last value with key ``want`` in offsets [lo, hi) of ``tp``."""
    c.assign([tp])
    c.seek(tp, lo)
    last = None
    while c.position(tp) < hi:
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out reading {tp.topic}")
        for msgs in c.poll(timeout_ms=500).values():
            for m in msgs:
                if m.offset >= hi:
                    return last
                if m.key == want:
                    try:
                        last = orjson.loads(m.value)
                    except orjson.JSONDecodeError:
                        continue
    return last
