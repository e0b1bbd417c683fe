"""The Kafka side of ``recstream bench``: drive events at a rate, time their recommendations,
and measure the bare-client ceiling (an aiokafka consume → produce loop, no processing).

Pure parts (workload, percentiles, /proc parsing) live in recstream.bench.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import time
from collections.abc import Sequence
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from recstream.bench.summary import Delivery
from recstream.bench.synthetic import send_offsets
from streams.admin import ensure_topics

Events = Sequence[tuple[str, dict[str, Any]]]  # (topic, event without ts)


def _producer(bootstrap: str) -> AIOKafkaProducer:
    # linger 1 ms: at a fixed rate a record should leave at once; at max rate batches fill
    return AIOKafkaProducer(bootstrap_servers=bootstrap.split(","), linger_ms=1, acks=1,
                            max_batch_size=256 * 1024)


async def _assigned_consumer(bootstrap: str, topic: str, partitions: int) -> AIOKafkaConsumer:
    c = AIOKafkaConsumer(bootstrap_servers=bootstrap.split(","), group_id=None,
                         enable_auto_commit=False, auto_offset_reset="earliest",
                         fetch_max_wait_ms=100,
                         # recommendations count once committed (streams/publish.py)
                         isolation_level="read_committed")
    await c.start()
    c.assign([TopicPartition(topic, i) for i in range(partitions)])
    return c


def produce_items(bootstrap: str, topic: str, items: Sequence[dict[str, Any]]) -> None:
    """Send the catalogue (key item id) and wait until the broker has every record."""
    async def run() -> None:
        p = _producer(bootstrap)
        await p.start()
        try:
            for it in items:
                await p.send(topic, key=it["item_id"].encode(), value=orjson.dumps(it))
            await p.flush()
        finally:
            await p.stop()
    asyncio.run(run())


async def _send_at_rate(p: AIOKafkaProducer, events: Events, topics: dict[str, str],
                        rate: float | None, produced: dict[str, float],
                        scheduled: dict[str, float]) -> None:
    due = send_offsets(len(events), rate)
    t0 = time.time()
    for k, (kind, ev) in enumerate(events):
        wait = t0 + due[k] - time.time()
        if wait > 0.0005:
            await asyncio.sleep(wait)
        now = time.time()
        produced[ev["event_id"]] = now
        if rate is not None:
            scheduled[ev["event_id"]] = t0 + float(due[k])
        await p.send(topics[kind], key=ev["user_id"].encode(),
                     value=orjson.dumps({**ev, "ts": now}))
    await p.flush()


async def _collect(c: AIOKafkaConsumer, arrived: dict[str, float], degraded: set[str],
                   id_field: str, done: asyncio.Event) -> None:
    while not done.is_set():
        batches = await c.getmany(timeout_ms=100, max_records=10_000)
        now = time.time()
        for msgs in batches.values():
            for m in msgs:
                value = orjson.loads(m.value)
                key = value.get(id_field)
                if key is not None and key not in arrived:  # the first record counts
                    arrived[key] = now
                    if value.get("degraded"):
                        degraded.add(key)


async def drive(bootstrap: str, events: Events, topics: dict[str, str], out_topic: str,
                partitions: int, rate: float | None, id_field: str = "trigger_event_id",
                idle_s: float = 20.0, max_wait_s: float = 120.0) -> Delivery:
    """Produce ``events`` (``ts`` stamped at send) to ``topics[kind]`` at ``rate`` events/s
    (None: as fast as possible) while reading ``out_topic``; an output record answers the
    event named by its ``id_field``.

    Returns once every event is answered, or no answer came for ``idle_s`` seconds, or
    ``max_wait_s`` passed after the last send: a pipeline that cannot keep up still ends.
    Each event counts once, by its first record (read committed); the Delivery also holds
    each event's scheduled send at ``rate``, which events were answered degraded, and when
    the wait ended (where the unanswered ones are censored).
    """
    produced: dict[str, float] = {}
    scheduled: dict[str, float] = {}
    arrived: dict[str, float] = {}
    degraded: set[str] = set()
    c = await _assigned_consumer(bootstrap, out_topic, partitions)
    p = _producer(bootstrap)
    await p.start()
    done = asyncio.Event()
    reader = asyncio.create_task(_collect(c, arrived, degraded, id_field, done))
    try:
        await _send_at_rate(p, events, topics, rate, produced, scheduled)
        sent_at, seen, seen_at = time.time(), -1, time.time()
        while len(arrived) < len(produced):
            now = time.time()
            if len(arrived) != seen:
                seen, seen_at = len(arrived), now
            if now - seen_at > idle_s or now - sent_at > max_wait_s:
                break
            await asyncio.sleep(0.05)
        ended = time.time()
    finally:
        done.set()
        await reader
        await p.stop()
        await c.stop()
    return Delivery(produced, arrived, scheduled, frozenset(degraded), ended)


def _bare_loop(bootstrap: str, src: str, dst: str, partitions: int, n: int,
               ready: Any) -> None:
    """Child process: forward ``n`` records ``src`` → ``dst`` unchanged (key and value)."""
    async def run() -> None:
        c = await _assigned_consumer(bootstrap, src, partitions)
        p = _producer(bootstrap)
        await p.start()
        ready.set()
        moved = 0
        try:
            while moved < n:
                for tp, msgs in (await c.getmany(timeout_ms=100, max_records=10_000)).items():
                    for m in msgs:
                        await p.send(dst, key=m.key, value=m.value, partition=tp.partition)
                    moved += len(msgs)
            await p.flush()
        finally:
            await p.stop()
            await c.stop()
    asyncio.run(run())


def ceiling(bootstrap: str, prefix: str, partitions: int, events: Events,
            idle_s: float = 20.0) -> Delivery:
    """The bare aiokafka ceiling: the same events, as fast as possible, through one
    consume → produce loop in its own process, on fresh topics with ``partitions``
    partitions. Throughput is measured exactly as for the pipeline."""
    src, dst = f"{prefix}bench-ceiling-in", f"{prefix}bench-ceiling-out"
    ensure_topics(bootstrap, [(src, partitions, {}), (dst, partitions, {})])
    ctx = mp.get_context("spawn")
    ready = ctx.Event()
    loop = ctx.Process(target=_bare_loop, args=(bootstrap, src, dst, partitions, len(events),
                                                ready), daemon=True)
    loop.start()
    try:
        if not ready.wait(60):
            raise RuntimeError("the bare consume→produce loop did not start in 60 s")
        # the same records and keys (user ids) as the pipeline run; the output is the
        # input unchanged, so it names its event by ``event_id``
        return asyncio.run(drive(bootstrap, events, {k: src for k, _ in events}, dst,
                                 partitions, None, id_field="event_id", idle_s=idle_s))
    finally:
        loop.join(30)
        if loop.is_alive():
            loop.kill()
            loop.join()
