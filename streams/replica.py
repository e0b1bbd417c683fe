"""Read-only replicas of compacted topics on every worker (the GlobalKTable pattern).

Global state — the item catalogue, the term index, the CF user sketches — is written by one
owner per key and read everywhere. Each worker runs one :class:`Replica` consumer that is
assigned *all* partitions of those topics (no consumer group), reads them from the beginning
and keeps the latest value per key in memory. Reads are eventually consistent: a write is
visible a few milliseconds after its owner produced it. :meth:`Replica.wait_caught_up` is a
barrier (read everything that was in the topics when it was called) used before processing
starts and before an item id is declared unknown.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from mode import Service

from recstream.settings import SecuritySettings
from streams.admin import partition_counts
from streams.security import aiokafka_kwargs

log = logging.getLogger(__name__)

Apply = Callable[[str, str, bytes | None], None]  # (topic, key, value or None for tombstone)


class Replica(Service):
    def __init__(self, bootstrap: str, topics: list[str], apply: Apply,
                 client_kwargs: dict[str, Any] | None = None,
                 security: SecuritySettings | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bootstrap = bootstrap
        self.topics = topics
        self._apply = apply
        self.security = security
        self._client_kwargs = {**aiokafka_kwargs(security), **(client_kwargs or {})}
        self._consumer: AIOKafkaConsumer | None = None
        self._parts: list[TopicPartition] = []
        self._positions: dict[TopicPartition, int] = {}
        self.ready = asyncio.Event()
        self.records = 0

    async def on_start(self) -> None:
        self._consumer = AIOKafkaConsumer(**{
            "bootstrap_servers": self.bootstrap, "group_id": None,
            "enable_auto_commit": False, "auto_offset_reset": "earliest",
            "fetch_max_wait_ms": 10, "isolation_level": "read_committed",
            **self._client_kwargs})
        await self._consumer.start()
        loop = asyncio.get_running_loop()
        deadline = time.monotonic() + 60  # Faust creates table changelogs as it starts
        while True:
            counts = await loop.run_in_executor(
                None, lambda: partition_counts(self.bootstrap, self.topics,
                                               security=self.security))
            if set(counts) == set(self.topics) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        missing = set(self.topics) - set(counts)
        if missing:
            raise RuntimeError(f"replica topics do not exist: {sorted(missing)}")
        self._parts = [TopicPartition(t, p) for t in self.topics for p in range(counts[t])]
        self._consumer.assign(self._parts)
        await self._consumer.seek_to_beginning(*self._parts)
        self._positions = {tp: 0 for tp in self._parts}
        self.add_future(self._run())

    async def on_stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()

    async def _run(self) -> None:
        assert self._consumer is not None
        targets = await self._consumer.end_offsets(self._parts)
        started = time.monotonic()
        while not self.should_stop:
            batches = await self._consumer.getmany(timeout_ms=50, max_records=10_000)
            for tp, msgs in batches.items():
                for m in msgs:
                    key = m.key.decode("utf-8") if m.key is not None else ""
                    self._apply(tp.topic, key, m.value)
                self.records += len(msgs)
                self._positions[tp] = msgs[-1].offset + 1
            if not self.ready.is_set() and await self._reached(targets):
                self.ready.set()
                log.info("replica ready topics=%s records=%d seconds=%.2f", self.topics,
                         self.records, time.monotonic() - started)

    async def _reached(self, targets: dict[TopicPartition, int]) -> bool:
        assert self._consumer is not None
        for tp, end in targets.items():
            if end > 0 and await self._consumer.position(tp) < end:
                return False
        return True

    async def wait_caught_up(self, timeout_s: float) -> bool:
        """Wait until everything in the topics now has been applied; False on timeout."""
        await asyncio.wait_for(self.ready.wait(), timeout=None)
        assert self._consumer is not None
        targets = await self._consumer.end_offsets(self._parts)
        deadline = time.monotonic() + timeout_s
        while not await self._reached(targets):
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.005)
        return True
