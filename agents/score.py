"""score: one user event's LLM scores (helper of the user agent).

In: ``<app id>-item-embeddings`` (the scorer's item vectors, replicated by a worker task
without a group); with the default ``mean`` user side the scores are computed here from
them. Otherwise, or while a needed vector has not arrived: out ``<app id>-score-requests``
(key user), in ``<app id>-score-replies``, followed by a worker task (no consumer group).
Writes no table. See streams/scoring.py for the timeout and circuit that keep events
flowing when the scorer is slow or down.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Any

from recstream.core.candidates import Candidate
from recstream.core.tfidf import Profile
from streams.app import Pipeline

USER_TERMS = 10


def register(p: Pipeline) -> None:
    if p.scoring is None:
        return
    client = p.scoring

    @p.app.task
    async def follow_score_replies() -> None:
        await client.follow_replies()

    replica = client.replicate_embeddings(p.names.item_embeddings)
    if replica is not None:
        @p.app.task
        async def follow_item_embeddings() -> None:
            await p.app.add_runtime_dependency(replica)


@dataclass(frozen=True)
class UserSide:
    """What the scorer needs of the user, taken when the event is applied (a later event of
    the same batch must not change it): recent items (oldest first) and strongest terms."""

    history: list[tuple[str, float]]
    terms: list[str]


def user_side(p: Pipeline, profile: Profile) -> UserSide:
    n = p.settings.scorer.history_items
    history = list(profile.items.items())[-n:]  # insertion order: oldest first
    terms = [t for t, _ in heapq.nlargest(USER_TERMS, profile.counts.items(),
                                          key=lambda kv: kv[1])]
    return UserSide(history, terms)


async def llm_fields(p: Pipeline, user: str, side: UserSide,
                     items: list[Candidate]) -> dict[str, Any]:
    """Fields the rank step reads: ``llm_scores`` ({item: score} or None), ``llm_model`` and
    ``degraded`` (a scorer is configured but gave no answer)."""
    if p.scoring is None or not items:
        return {"llm_scores": None, "llm_model": None, "degraded": False}
    ids = [c.item_id for c in items]
    scores = p.scoring.local_scores(ids, side.history)
    if scores is not None:
        p.metrics.llm_scored("worker")
        return {"llm_scores": scores, "llm_model": p.scoring.embeddings.model,
                "degraded": False}
    scores = await p.scoring.score(user, ids, side.history, side.terms)
    p.metrics.llm_scored("none" if scores is None else "scorer")
    return {"llm_scores": scores, "llm_model": p.scoring.model if scores is not None else None,
            "degraded": scores is None}
