"""The LLM scoring service (``recstream scorer``): its own process, consumer group and topics.

In: ``<app id>-score-requests`` (key user; one request per user event with its candidate ids
and user side), read by the consumer group ``<app id>-scorer`` so scorers scale separately
from workers. Out: ``<app id>-score-replies`` (key user) ``{request_id, user_id, scores,
model}``. Also reads the ``items`` topic (all partitions, no group) into the item-embedding
cache, embedding each item once per text change, and publishes each new or changed vector
to the compacted ``<app id>-item-embeddings`` (key item id; ``recstream/llm/embeddings.py``;
a tombstone when the item leaves the catalogue): workers replicate it and compute the
default ``mean`` signal themselves, so they send requests only for what needs a model.

Requests are micro-batched (``scorer.max_batch`` / ``scorer.max_wait_ms``): one handler call,
hence at most one forward pass per ``max_batch`` texts, serves the whole batch. Requests older
than ``scorer.max_request_age_s`` are dropped (their worker already published degraded).
``GET /health`` reports readiness and the counters (forward passes, batches, requests).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import orjson
from aiohttp import web
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from recstream.llm import embeddings
from recstream.llm.batching import MicroBatcher
from recstream.llm.model import Encoder
from recstream.llm.pairwise import PairScorer, score_pairwise
from recstream.llm.scoring import ItemEmbeddings, ScoreRequest, score_batch
from recstream.settings import ScorerSettings, Settings
from streams.admin import ensure_topics, partition_counts
from streams.security import aiokafka_kwargs
from streams.topics import topic_names

log = logging.getLogger(__name__)
MAX_IN_FLIGHT = 1024


class ScorerService:
    """``encoder``: an :class:`Encoder` for ``scorer.mode = "bi"``, a :class:`PairScorer` for
    ``"pairwise"`` (see :func:`load_scoring_model`)."""

    def __init__(self, settings: Settings, encoder: Encoder | PairScorer) -> None:
        self.s = settings
        self.cfg = settings.scorer
        self.names = topic_names(settings)
        want = PairScorer if self.cfg.mode == "pairwise" else Encoder
        if not isinstance(encoder, want):
            raise TypeError(f"scorer.mode={self.cfg.mode!r} needs a {want.__name__}")
        self.encoder = encoder
        self.items = ItemEmbeddings(encoder if isinstance(encoder, Encoder) else None,
                                    batch_size=self.cfg.max_batch)
        self.registry = CollectorRegistry()
        self.batch_size = Histogram("recstream_scorer_batch_size", "Requests per micro-batch.",
                                    buckets=BATCH_BUCKETS, registry=self.registry)
        self.batch_seconds = Histogram("recstream_scorer_batch_seconds", "Scoring time of one "
                                       "micro-batch (s).", registry=self.registry)
        self.request_seconds = Histogram("recstream_scorer_request_seconds", "From a request "
                                         "leaving Kafka to its reply being sent (s).",
                                         registry=self.registry)
        self.registry.register(_CountersCollector(self))
        self.batcher: MicroBatcher[ScoreRequest, dict[str, float]] = MicroBatcher(
            self._score, self.cfg.max_batch, self.cfg.max_wait_ms, on_batch=self._observe)
        self.ready = asyncio.Event()
        self.replies = 0
        self.dropped_stale = 0
        self.embeddings_published = 0
        self._slots = asyncio.Semaphore(MAX_IN_FLIGHT)
        self._producer: AIOKafkaProducer | None = None

    def _observe(self, size: int, seconds: float) -> None:
        self.batch_size.observe(size)
        self.batch_seconds.observe(seconds)

    def _score(self, reqs: list[ScoreRequest]) -> list[dict[str, float]]:
        if isinstance(self.encoder, PairScorer):
            return score_pairwise(reqs, self.items, self.encoder)
        return score_batch(reqs, self.items, self.cfg.user_side)

    def health(self) -> dict[str, Any]:
        return {"ready": self.ready.is_set(), "model": self.encoder.name,
                "device": self.encoder.device, "mode": self.cfg.mode,
                "user_side": self.cfg.user_side,
                "items": len(self.items), "forward_passes": self.encoder.forward_passes,
                "texts_encoded": self.encoder.texts_encoded, "batches": self.batcher.batches,
                "requests": self.batcher.requests, "replies": self.replies,
                "dropped_stale": self.dropped_stale,
                "embeddings_published": self.embeddings_published,
                "last_batch_sizes": self.batcher.batch_sizes[-10:]}

    async def run(self) -> None:
        ensure_topics(self.s.bootstrap, self.names.all(), security=self.s.security)
        boot = self.s.bootstrap.split(",")
        self._producer = AIOKafkaProducer(bootstrap_servers=boot, linger_ms=1,
                                          **aiokafka_kwargs(self.s.security))
        await self._producer.start()
        runner = await self._serve_http()
        try:
            catalogue = asyncio.create_task(self._follow_items(boot))
            ready = asyncio.create_task(self.ready.wait())
            await asyncio.wait([catalogue, ready], return_when=asyncio.FIRST_COMPLETED)
            if catalogue.done():  # failed before the catalogue was read: say why
                ready.cancel()
                catalogue.result()
            await asyncio.gather(catalogue, self._serve_requests(boot))
        finally:
            await self.batcher.close()
            await self._producer.stop()
            await runner.cleanup()

    async def _publish_embeddings(self, removed: set[str]) -> None:
        """Send the tombstones of ``removed`` items, then every vector embedded since the
        last call (also those a request's batch embedded), and wait for the broker."""
        assert self._producer is not None
        topic = self.names.item_embeddings
        sends = [await self._producer.send(topic, key=i.encode(), value=None)
                 for i in sorted(removed)]
        now = time.time()
        for item_id, vec, digest in self.items.take_fresh():
            sends.append(await self._producer.send(topic, key=item_id.encode(),
                                                   value=embeddings.encode(
                                                       vec, self.encoder.name, now,
                                                       bytes.fromhex(digest))))
            self.embeddings_published += 1
        if sends:
            await asyncio.gather(*sends)

    async def _read_published(self, consumer: AIOKafkaConsumer) -> int:
        """Preload the vectors this model published before (to their end now), so a restart
        embeds and republishes only items whose text changed meanwhile; returns how many."""
        topic = self.names.item_embeddings
        n = partition_counts(self.s.bootstrap, [topic], security=self.s.security).get(topic, 0)
        parts = [TopicPartition(topic, i) for i in range(n)]
        if not parts:
            return 0
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        known: dict[str, embeddings.EmbeddingRecord | None] = {}
        while any([await consumer.position(tp) < ends[tp] for tp in parts]):
            for msgs in (await consumer.getmany(timeout_ms=200, max_records=5000)).values():
                for m in msgs:
                    try:
                        known[m.key.decode()] = None if m.value is None \
                            else embeddings.decode(m.value)
                    except ValueError:
                        continue
        name, dim = self.encoder.name, getattr(self.encoder, "dim", 0)
        mine = {i: r for i, r in known.items()
                if r is not None and r.model == name and r.vector.size == dim}
        for item_id, rec in mine.items():
            self.items.preload(item_id, rec.digest.hex(), rec.vector)
        return len(mine)

    async def _follow_items(self, boot: list[str]) -> None:
        """Keep the embedding cache equal to the catalogue and publish its vectors; ready
        once caught up (the vectors of everything read so far have reached the broker)."""
        consumer = AIOKafkaConsumer(bootstrap_servers=boot, group_id=None,
                                    enable_auto_commit=False,
                                    **aiokafka_kwargs(self.s.security))
        await consumer.start()
        try:
            if isinstance(self.encoder, Encoder):
                reused = await self._read_published(consumer)
                log.info("item embeddings read back published=%d", reused)
            n = partition_counts(self.s.bootstrap, [self.names.items],
                                 security=self.s.security)[self.names.items]
            parts = [TopicPartition(self.names.items, i) for i in range(n)]
            consumer.assign(parts)
            await consumer.seek_to_beginning(*parts)
            ends = await consumer.end_offsets(parts)
            while True:
                batches = await consumer.getmany(timeout_ms=200, max_records=5000)
                removed: set[str] = set()
                for msgs in batches.values():
                    for m in msgs:
                        if m.value is None:
                            self.items.remove(m.key.decode())
                            removed.add(m.key.decode())
                        else:
                            record = orjson.loads(m.value)
                            self.items.upsert(record)
                            removed.discard(str(record["item_id"]))
                if self.items.pending:
                    t0 = time.monotonic()
                    n_new = await asyncio.to_thread(self.items.flush)
                    log.info("embedded items=%d seconds=%.2f cached=%d", n_new,
                             time.monotonic() - t0, len(self.items))
                if isinstance(self.encoder, Encoder):  # pairwise keeps texts, no vectors
                    await self._publish_embeddings(removed)
                if not self.ready.is_set() and all(
                        [await consumer.position(tp) >= ends[tp] for tp in parts]):
                    if isinstance(self.encoder, Encoder):  # published, item since deleted
                        await self._publish_embeddings(set(self.items.unclaimed()))
                    self.ready.set()
                    log.info("scorer ready items=%d model=%s", len(self.items),
                             self.encoder.name)
        finally:
            await consumer.stop()

    async def _serve_requests(self, boot: list[str]) -> None:
        consumer = AIOKafkaConsumer(self.names.score_requests, bootstrap_servers=boot,
                                    group_id=f"{self.s.group_id}-scorer",
                                    auto_offset_reset="latest", enable_auto_commit=True,
                                    **aiokafka_kwargs(self.s.security))
        await consumer.start()
        try:
            async for m in consumer:
                if time.time() - m.timestamp / 1000.0 > self.cfg.max_request_age_s:
                    self.dropped_stale += 1
                    continue
                await self._slots.acquire()
                asyncio.create_task(self._answer(orjson.loads(m.value)))
        finally:
            await consumer.stop()

    async def _answer(self, req: dict[str, Any]) -> None:
        started = time.perf_counter()
        try:
            scores = await self.batcher.submit(ScoreRequest.from_dict(req))
            assert self._producer is not None
            await self._producer.send(
                self.names.score_replies, key=str(req["user_id"]).encode(),
                value=orjson.dumps({"request_id": req["request_id"], "user_id": req["user_id"],
                                    "scores": scores, "model": self.encoder.name}))
            self.replies += 1
            self.request_seconds.observe(time.perf_counter() - started)
        except Exception:
            log.exception("score request failed request_id=%s", req.get("request_id"))
        finally:
            self._slots.release()

    async def _serve_http(self) -> web.AppRunner:
        async def health(_: web.Request) -> web.Response:
            return web.json_response(self.health(), status=200 if self.ready.is_set() else 503)

        async def metrics(_: web.Request) -> web.Response:
            # the scorer group's lag is exported by every worker's /metrics (all groups)
            return web.Response(body=generate_latest(self.registry),
                                headers={"Content-Type": CONTENT_TYPE_LATEST})

        app = web.Application()
        app.router.add_get("/health", health)
        app.router.add_get("/metrics", metrics)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.cfg.web_port).start()
        return runner


BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


def load_scoring_model(cfg: ScorerSettings) -> Encoder | PairScorer:
    """The model ``cfg.mode`` asks for (raises ModelLoadError with the fix)."""
    if cfg.mode == "pairwise":
        return PairScorer(cfg.pairwise_model or None, cfg.device, cfg.pairwise_batch)
    return Encoder(cfg.model or None, cfg.device, cfg.quantize)


class _CountersCollector:
    """The scorer's running totals (forward passes, batches, requests, ...) as Prometheus
    series, read from the same numbers ``/health`` reports."""

    def __init__(self, scorer: ScorerService) -> None:
        self.scorer = scorer

    def collect(self):  # type: ignore[no-untyped-def]
        h = self.scorer.health()
        for key in ("forward_passes", "texts_encoded", "batches", "requests", "replies",
                    "dropped_stale", "embeddings_published"):
            yield CounterMetricFamily(f"recstream_scorer_{key}", f"Scorer {key}.",
                                      value=h[key])
        yield GaugeMetricFamily("recstream_scorer_items", "Catalogue items embedded.",
                                value=h["items"])
