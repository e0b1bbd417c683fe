"""rank: blend signals, drop seen items, explain, publish.

In: candidates (key user id; ``llm_scores``/``llm_model``/``degraded`` from the scorer). Out:
recommendations (key user id). Table: latest_recommendations (user -> latest record, served
over HTTP). Reads: profiles. Each user's A/B variant (recstream.core.ab) picks the blend
weights and is written in ``variant``; a learned variant (learn.enabled) blends with the
latest learned weights (``p.blend_model``, agents/learn.py), explores ε-greedily (items and
record carry ``explore: true``) and writes ``blend_version``. A variant whose ``mmr_lambda``
(or ``recommend.mmr_lambda``) is below 1 re-ranks the blended candidates by maximal marginal
relevance over the catalogue's TF-IDF item vectors (recstream.core.diversity.ranked_list)
before exploration.
The stored record also keeps the user's last published (trigger event, variant) pairs, so a
re-delivered trigger is not published again.
"""

from __future__ import annotations

import time

from recstream.core import ab
from recstream.core.candidates import Candidate
from recstream.core.diversity import ranked_list, variant_lambda
from recstream.core.learn import exploration_rng, is_learned, prior_weights, weights_of
from recstream.core.privacy import SEALED, raw_ids
from recstream.core.process import PUBLISHED, published_before, remember_published
from streams.app import Pipeline, current_partition


def register(p: Pipeline) -> None:
    rc, variants = p.settings.recommend, p.settings.ab.variants
    weights = {v.name: ab.weights(rc, v) for v in variants}  # per A/B variant
    mmr = {v.name: variant_lambda(rc, v) for v in variants}  # 1: no MMR re-rank
    lc = p.settings.learn
    learned = {v.name for v in variants if is_learned(v, lc)}
    prior = prior_weights(rc)
    keep = p.settings.profile.applied_ids  # (trigger, variant) pairs remembered per user

    @p.app.agent(p.candidates, name="rank")
    async def rank_and_publish(stream):  # type: ignore[no-untyped-def]
        async for msg in stream:
            user = msg["user_id"]  # the pseudonym; the producer's ids are sealed in the msg
            raw_user, raw_event = raw_ids(p.privacy_key, msg)
            variant = ab.assign(raw_user, variants).name  # the same bucket as before privacy
            profile = p.profiles.get(user)
            if profile is None:  # forgotten (agents/profile.py) while this event was in flight
                continue
            published = (p.latest.get(user) or {}).get(PUBLISHED, [])
            if published_before(published, msg["event_id"], variant):  # a re-delivery
                p.metrics.event("rank", "duplicate")
                continue
            seen = profile.get("items", {})
            cands = [Candidate(**c) for c in msg["items"]]
            llm = msg.get("llm_scores")  # None: no scorer configured, or it did not answer
            for c in cands:
                c.llm = llm.get(c.item_id, 0.0) if llm else 0.0
            w, extra, explore = weights[variant], {}, {}
            if variant in learned:
                w, version = weights_of(p.blend_model, prior)
                extra = {"blend_version": version}
                explore = {"epsilon": lc.epsilon,
                           "rng": exploration_rng(lc.seed, msg["event_id"])}
            items = ranked_list(cands, w, rc.top_n, seen, catalogue=p.view.catalogue,
                                mmr_lambda=mmr[variant], features=p.learner is not None,
                                **explore)
            record = {
                "user_id": raw_user, "items": items,
                "variant": variant, **extra,
                "explore": any(i.get("explore") for i in items),
                "model_version": f"{p.model_version}+{msg['llm_model']}" if llm
                else p.model_version,
                "trigger_event_id": raw_event, "event_ts": msg["ts"],
                "published_ts": time.time(), "degraded": bool(msg.get("degraded")),
            }
            # keyed by the producer's id, on the pseudonym's partition: co-partitioned with
            # events for the feedback join
            sent = await p.recommendations.send(key=raw_user, value=record,
                                                partition=current_partition())
            # the table says "published" only once the broker has the record: a crash in
            # between repeats the record on replay instead of losing it
            await sent
            if p.profiles.get(user) is None:  # forgotten while the record was in flight
                continue
            # stored form: pseudonyms + sealed ids (streams/web.py restores the producer's)
            p.latest[user] = {**record, "user_id": user, "trigger_event_id": msg["event_id"],
                              SEALED: msg.get(SEALED), PUBLISHED: remember_published(
                                  published, msg["event_id"], variant, keep)}
            p.metrics.published(record, msg)
