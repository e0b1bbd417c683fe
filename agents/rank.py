"""rank: blend signals, drop seen items, explain, publish.

A step of the user agent (agents/user.py). Out: recommendations (key: the producer's user
id). Table: latest_recommendations (user -> latest record, served over HTTP). Each user's A/B
variant (recstream.core.ab) picks the blend weights and is written in ``variant``; a learned
variant (learn.enabled) blends with the latest learned weights (``p.blend_model``,
agents/learn.py), explores ε-greedily (items and record carry ``explore: true``) and writes
``blend_version``. A variant whose ``mmr_lambda`` (or ``recommend.mmr_lambda``) is below 1
re-ranks the blended candidates by maximal marginal relevance over the catalogue's TF-IDF item
vectors (recstream.core.diversity.ranked_list) before exploration.
The stored record also keeps the user's last published (trigger event, variant) pairs, so a
re-delivered trigger is not published again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from recstream.core import ab
from recstream.core.candidates import Candidate
from recstream.core.diversity import ranked_list, variant_lambda
from recstream.core.explain import describe
from recstream.core.learn import exploration_rng, is_learned, prior_weights, weights_of
from recstream.core.privacy import SEALED, raw_ids
from recstream.core.process import PUBLISHED, published_before, remember_published
from streams.app import Pipeline, owns, scope_to, write_through


@dataclass
class Ranked:
    """One trigger's record ready to publish, with what the table keeps of it."""

    ev: Any  # the trigger's Faust event (its partition is the user's)
    user: str  # pseudonym
    record: dict[str, Any]  # as published: the producer's ids
    trigger: Mapping[str, Any]  # the event (pseudonyms, sealed ids, trace fields)
    variant: str


class Ranker:
    """The rank step's settings, resolved once per worker."""

    def __init__(self, p: Pipeline) -> None:
        rc, variants = p.settings.recommend, p.settings.ab.variants
        self.p, self.variants = p, variants
        self.weights = {v.name: ab.weights(rc, v) for v in variants}  # per A/B variant
        self.mmr = {v.name: variant_lambda(rc, v) for v in variants}  # 1: no MMR re-rank
        self.learned = {v.name for v in variants if is_learned(v, p.settings.learn)}
        self.prior = prior_weights(rc)

    def rank(self, ev: Any, seen: Mapping[str, float], cands: list[Candidate],
             llm: Mapping[str, Any], published: list[list[str]]) -> Ranked | None:
        """The recommendation for trigger ``ev`` (None: this (trigger, variant) was
        published before, a re-delivery)."""
        p, rc, lc = self.p, self.p.settings.recommend, self.p.settings.learn
        msg = ev.value
        raw_user, raw_event = raw_ids(p.privacy_key, msg)
        variant = ab.assign(raw_user, self.variants).name  # the bucket before privacy
        if published_before(published, msg["event_id"], variant):
            p.metrics.event("rank", "duplicate")
            return None
        scores = llm.get("llm_scores")  # None: no scorer configured, or it did not answer
        for c in cands:
            c.llm = scores.get(c.item_id, 0.0) if scores else 0.0
        w, extra, explore = self.weights[variant], {}, {}
        if variant in self.learned:
            w, version = weights_of(p.blend_model, self.prior)
            extra = {"blend_version": version}
            explore = {"epsilon": lc.epsilon, "rng": exploration_rng(lc.seed, msg["event_id"])}
        items = ranked_list(cands, w, rc.top_n, seen, catalogue=p.view.catalogue,
                            mmr_lambda=self.mmr[variant], features=p.learner is not None,
                            **explore)
        describe(items, cands, seen, p.view.catalogue)  # titles; reasons name the source
        record = {
            "user_id": raw_user, "items": items, "variant": variant, **extra,
            "explore": any(i.get("explore") for i in items),
            "model_version": f"{p.model_version}+{llm['llm_model']}" if scores
            else p.model_version,
            "trigger_event_id": raw_event, "event_ts": msg["ts"],
            "published_ts": time.time(), "degraded": bool(llm.get("degraded")),
        }
        return Ranked(ev, msg["user_id"], record, msg, variant)


def note(published: dict[str, list[list[str]]], r: Ranked, keep: int) -> None:
    """Add ``r`` to its user's published pairs in this batch (``published``: pseudonym ->
    pairs, filled from the table by the caller), so a second copy in the batch is skipped."""
    published[r.user] = remember_published(published[r.user], r.trigger["event_id"],
                                           r.variant, keep)


async def publish(p: Pipeline, ranked: list[Ranked], published: dict[str, list[list[str]]],
                  events: list[Any], epochs: dict[int, int]) -> set[int]:
    """Publish the batch's records, then note them in the latest_recommendations table (one
    write per user). Returns the ``events`` partitions whose records were not published:
    the caller leaves those events to be read again.

    With a publisher (worker.transactional_publish) each partition's records and its input
    offset past the batch go in one transaction (streams/publish.py), so a crash repeats
    nothing a read-committed reader sees; ``epochs``: each partition's publisher epoch when
    the batch began. Without one, the records go through Faust's producer and the batch
    waits for the broker to have all of them: a crash before the table write repeats a
    record on replay instead of losing it."""
    failed: set[int] = set()
    if p.publisher is not None:
        failed = await _publish_transactions(p, ranked, events, epochs)
    else:
        # keyed by the producer's id, on the pseudonym's partition: co-partitioned with
        # events for the feedback join
        sent = [await p.recommendations.send(key=r.record["user_id"], value=r.record,
                                             partition=r.ev.message.partition)
                for r in ranked]
        await asyncio.gather(*sent)
    latest: dict[str, Ranked] = {}
    for r in ranked:
        if r.ev.message.partition in failed:
            continue
        latest[r.user] = r
        p.metrics.published(r.record, r.trigger)
    written = []
    for user, r in latest.items():
        if not owns(p.app, r.ev):  # revoked while the acks came: the new owner's to write
            continue
        scope_to(r.ev)  # the write goes to the user's partition
        # stored form: pseudonyms + sealed ids (streams/web.py restores the producer's)
        written.append(await write_through(p.latest, user, {
            **r.record, "user_id": user, "trigger_event_id": r.trigger["event_id"],
            SEALED: r.trigger.get(SEALED), PUBLISHED: published[user]}))
    await asyncio.gather(*written)  # in the changelog before the batch is acknowledged
    return failed


async def _publish_transactions(p: Pipeline, ranked: list[Ranked], events: list[Any],
                                epochs: dict[int, int]) -> set[int]:
    """One transaction per ``events`` partition of the batch, concurrently: its records and
    the offset after its last event (the batch holds each partition's events from the
    in-order gate's frontier on, so every offset below is applied)."""
    assert p.publisher is not None
    nxt: dict[int, int] = {}
    for ev in events:
        msg = ev.message
        if msg.topic == p.names.events:
            nxt[msg.partition] = max(nxt.get(msg.partition, 0), msg.offset + 1)
    records: dict[int, list[tuple[bytes, bytes]]] = {part: [] for part in nxt}
    for r in ranked:
        records.setdefault(r.ev.message.partition, []).append(
            (str(r.record["user_id"]).encode(),
             orjson.dumps(r.record, option=orjson.OPT_SERIALIZE_NUMPY)))
    parts = sorted(nxt)
    done = await asyncio.gather(*(p.publisher.publish(part, records[part], nxt[part],
                                                      epochs.get(part, -1))
                                  for part in parts))
    return {part for part, ok in zip(parts, done, strict=True) if not ok}
