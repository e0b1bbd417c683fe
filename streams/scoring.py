"""The workers' side of LLM scoring: ask the scorer, wait briefly, never stall.

:meth:`ScoreClient.score` sends one request per user event (key user, candidate ids + user
side) to ``<app id>-score-requests`` and waits up to ``scorer.timeout_ms`` for the answer,
which :meth:`ScoreClient.follow_replies` (one group-less consumer per worker over every
partition of ``<app id>-score-replies``) resolves by ``request_id``. A timeout opens a
circuit: while it is open requests are still sent but nobody waits for them, so a scorer that
is down costs one timeout, not one per event; the first reply that arrives closes it again
(scoring resumes by itself). ``None`` means "publish without the LLM signal, degraded".

With ``scorer.mode = "bi"``, ``user_side = "mean"`` and ``local_mean`` (the defaults) a worker
needs no request for most events: :meth:`ScoreClient.replicate_embeddings` follows the
scorer's ``<app id>-item-embeddings`` into :attr:`ScoreClient.embeddings`, and
:meth:`ScoreClient.local_scores` computes the scorer's numbers from them; only an event
whose items' vectors have not all arrived yet is sent to the scorer.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from recstream.llm.embeddings import EmbeddingIndex, mean_scores
from recstream.settings import ScorerSettings, SecuritySettings
from streams.admin import partition_counts
from streams.replica import Replica
from streams.security import aiokafka_kwargs

log = logging.getLogger(__name__)


class ScoreClient:
    def __init__(self, cfg: ScorerSettings, bootstrap: str, requests_topic: Any,
                 replies_topic: str, security: SecuritySettings | None = None) -> None:
        self.cfg = cfg
        self.bootstrap = bootstrap
        self.security = security  # requests go through the Faust app's (secured) producer
        self.requests = requests_topic  # a faust topic (JSON values, str keys)
        self.replies_topic = replies_topic
        self.up = True  # circuit closed: wait for answers
        self.model = ""
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.following = asyncio.Event()
        self.embeddings = EmbeddingIndex()
        self.local = cfg.local_mean and cfg.mode == "bi" and cfg.user_side == "mean"

    def replicate_embeddings(self, topic: str) -> Replica | None:
        """A replica of ``topic`` (the scorer's item vectors) into :attr:`embeddings`; None
        when this worker does not score locally. A new item's vector may arrive a moment
        after the item (its events ask the scorer meanwhile), so polling is relaxed."""
        if not self.local:
            return None
        return Replica(self.bootstrap, [topic], lambda _topic, key, value:
                       self.embeddings.apply(key, value),
                       client_kwargs={"fetch_max_wait_ms": 200}, security=self.security)

    def local_scores(self, items: list[str], history: list[tuple[str, float]]
                     ) -> dict[str, float] | None:
        """The scorer's ``mean`` scores computed here, or None (not enabled, or a vector
        that the scorer would use has not arrived: ask the scorer)."""
        if not self.local or not len(self.embeddings):
            return None
        return mean_scores(self.embeddings, history, items)

    async def score(self, user_id: str, items: list[str], history: list[tuple[str, float]],
                    terms: list[str]) -> dict[str, float] | None:
        """{item id: LLM score} or None (timed out / circuit open / nothing to score)."""
        if not items:
            return None
        rid = uuid.uuid4().hex
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        if self.up:
            self._pending[rid] = fut
        await self.requests.send(key=user_id, value={
            "request_id": rid, "user_id": user_id, "items": items, "history": history,
            "terms": terms, "ts": time.time()})
        if not self.up:
            return None
        try:
            reply = await asyncio.wait_for(fut, self.cfg.timeout_ms / 1000.0)
        except TimeoutError:
            if self.up:
                log.warning("scorer did not answer within %.0f ms: publishing degraded until "
                            "it answers again", self.cfg.timeout_ms)
            self.up = False
            return None
        finally:
            self._pending.pop(rid, None)
        return reply["scores"]

    def resolve(self, reply: dict[str, Any]) -> None:
        if not self.up:
            log.info("scorer answers again: LLM scoring resumed")
        self.up = True
        self.model = str(reply.get("model") or self.model)
        fut = self._pending.pop(str(reply.get("request_id")), None)
        if fut is not None and not fut.done():
            fut.set_result(reply)

    async def follow_replies(self) -> None:
        """Read every reply partition from its end (no group) and resolve waiting requests."""
        counts = partition_counts(self.bootstrap, [self.replies_topic],
                                  security=self.security)
        parts = [TopicPartition(self.replies_topic, i)
                 for i in range(counts.get(self.replies_topic, 0))]
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap.split(","), group_id=None,
                                    enable_auto_commit=False, **aiokafka_kwargs(self.security))
        await consumer.start()
        try:
            consumer.assign(parts)
            await consumer.seek_to_end(*parts)
            for tp in parts:
                await consumer.position(tp)  # pin the start before anyone waits
            self.following.set()
            while True:
                batches = await consumer.getmany(timeout_ms=500, max_records=1000)
                for msgs in batches.values():
                    for m in msgs:
                        self.resolve(orjson.loads(m.value))
        finally:
            await consumer.stop()
