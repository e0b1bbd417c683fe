"""Transactional publication: a batch's recommendations and its input offsets, atomically.

The user agent publishes a batch's records for ``events`` partition P, and commits the
consumer group's offset of (events, P) past the batch, in one Kafka transaction of P's own
producer (``transactional.id`` = ``<group>-publish-<P>``). A read-committed consumer of
``recommendations`` therefore sees a batch's records exactly when the input offsets moved
past its events: a worker killed before the commit leaves an open transaction, which the
partition's next owner aborts, and re-reads the events; one killed after it leaves nothing
to re-read. No (trigger, variant) pair appears twice, also across crashes.

Fencing (the classic per-input-partition scheme): when a worker is assigned P it starts a
fresh producer for P (:meth:`Publisher.fence`) *before* it reads P's committed offset.
``init_transactions`` bumps the producer epoch of P's transactional id: it aborts an open
transaction of the previous owner (a killed worker's, or one revoked mid-batch) or waits for
one that was committing, and any later commit by the previous owner fails. A batch that
began before its partition was (re)assigned is refused by the epoch check under the
partition's lock, so it cannot publish with the new producer either.

Profiles are not part of the transaction: they are written (and acked) before it, and a
re-read event is recognised by its input offset (agents/profile.py). ``latest_recommendations``
is written after the commit (best effort: a kill in between leaves it one record behind).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from recstream.settings import Settings
from streams.security import aiokafka_kwargs

log = logging.getLogger(__name__)

FENCE_WAIT_S = 30.0  # longest a (re)assignment waits for a batch still committing on P
# A transaction begun right after the partition's previous commit often meets the broker still
# writing that commit's markers (CONCURRENT_TRANSACTIONS, KAFKA-5477); aiokafka then sleeps the
# producer's retry backoff (100 ms by default) before AddOffsetsToTxn is tried again. The Java
# client retries these after 20 ms; so do we (every other retriable error too: loopback or LAN).
TXN_RETRY_BACKOFF_MS = 20


class Publisher:
    """One transactional producer per assigned ``events`` partition."""

    def __init__(self, settings: Settings, events_topic: str, out_topic: str) -> None:
        self.settings = settings
        self.group_id = settings.group_id  # Faust's consumer group: the app id
        self.events_topic, self.out_topic = events_topic, out_topic
        self._boot = settings.bootstrap.split(",")
        self._producers: dict[int, AIOKafkaProducer] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self.epochs: dict[int, int] = {}  # partition -> fences so far (a batch's token)
        self._high: dict[int, int] = {}  # partition -> offset committed in this epoch
        self.on_commit: list[Any] = []  # callbacks (TopicPartition, next offset)
        self.owns: Callable[[int], bool] = lambda partition: False  # still assigned here?
        self.transactions = 0

    def _lock(self, partition: int) -> asyncio.Lock:
        return self._locks.setdefault(partition, asyncio.Lock())

    def epoch(self, partition: int) -> int:
        return self.epochs.get(partition, 0)

    async def fence(self, partitions: Iterable[int]) -> None:
        """Start a fresh producer for each partition in ``partitions`` (this worker was just
        assigned them), waiting for a batch of ours still committing on it; stop the
        producers of partitions no longer listed."""
        wanted = set(partitions)
        for part in [q for q in self._producers if q not in wanted]:
            await self._stop(part)
        await asyncio.gather(*(self._restart(q) for q in sorted(wanted)))

    async def _restart(self, partition: int) -> None:
        lock = self._lock(partition)
        try:
            await asyncio.wait_for(lock.acquire(), FENCE_WAIT_S)
        except TimeoutError:
            log.warning("publish: a batch on partition %d still holds it after %.0f s; "
                        "fencing it", partition, FENCE_WAIT_S)
            lock = None  # type: ignore[assignment]
        try:
            await self._start(partition)
        finally:
            if lock is not None:
                lock.release()

    async def _start(self, partition: int) -> None:
        """A new epoch and producer for ``partition`` (the caller holds its lock)."""
        self.epochs[partition] = self.epoch(partition) + 1
        self._high.pop(partition, None)  # the consumer reads it from the broker next
        await self._stop(partition)
        producer = AIOKafkaProducer(
            bootstrap_servers=self._boot, linger_ms=1, acks="all",
            retry_backoff_ms=TXN_RETRY_BACKOFF_MS,
            transactional_id=f"{self.group_id}-publish-{partition}",
            **aiokafka_kwargs(self.settings.security))
        await producer.start()  # init_transactions: fences the previous owner
        self._producers[partition] = producer

    async def _stop(self, partition: int) -> None:
        producer = self._producers.pop(partition, None)
        if producer is not None:
            try:
                await asyncio.wait_for(producer.stop(), 10)
            except Exception:  # a fenced or broken producer: nothing of it is kept
                log.debug("publish: stopping partition %d's producer failed", partition,
                          exc_info=True)

    async def publish(self, partition: int, records: list[tuple[bytes, bytes]],
                      next_offset: int, epoch: int) -> bool:
        """Send ``records`` (key, value) to ``out_topic`` partition ``partition`` and commit
        the group's offset of (events, ``partition``) to ``next_offset``, in one
        transaction. False: nothing of it is visible to read-committed readers and the
        offset did not move (the partition was fenced since ``epoch``, or the transaction
        failed); the caller leaves the batch's events to be read again."""
        async with self._lock(partition):
            producer = self._producers.get(partition)
            if producer is None or self.epoch(partition) != epoch:
                return False
            tp = TopicPartition(self.events_topic, partition)
            # re-delivered events (a seek back) must not move the group's offset back
            next_offset = max(next_offset, self._high.get(partition, -1))
            try:
                await producer.begin_transaction()
                sent = [await producer.send(self.out_topic, key=k, value=v,
                                            partition=partition) for k, v in records]
                await producer.send_offsets_to_transaction({tp: next_offset}, self.group_id)
                await asyncio.gather(*sent)
                await producer.commit_transaction()
            except Exception as exc:
                log.warning("publish: the transaction of %d records on partition %d failed "
                            "(%s: %s); its events are read again", len(records), partition,
                            type(exc).__name__, exc)
                await self._stop(partition)
                if self.owns(partition):  # still ours: a fresh producer resolves the
                    try:  # transaction (init_transactions) and serves the next batches
                        await self._start(partition)
                    except Exception:
                        log.warning("publish: restarting partition %d's producer failed",
                                    partition, exc_info=True)
                return await self._committed(tp) >= next_offset  # committed after all?
            self.transactions += 1
            self._high[partition] = next_offset
        for callback in self.on_commit:
            callback(tp, next_offset)
        return True

    async def _committed(self, tp: TopicPartition) -> int:
        """The group's committed offset of ``tp`` as the broker has it (-1: none/unknown).
        After a failed commit the outcome is read here: the producer was stopped, and an
        unfinished transaction is resolved when the partition is fenced next."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self._boot,
                                    **aiokafka_kwargs(self.settings.security))
        try:
            await admin.start()
            got: Mapping[Any, Any] = await admin.list_consumer_group_offsets(
                self.group_id, partitions=[tp])
            meta = got.get(tp)
            return int(meta.offset) if meta is not None else -1
        except Exception:
            log.warning("publish: could not read the committed offset of %s", tp,
                        exc_info=True)
            return -1
        finally:
            await admin.close()

    async def close(self) -> None:
        for part in list(self._producers):
            await self._stop(part)
