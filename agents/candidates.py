"""candidates: CF neighbours, content matches and trending items for the user.

In: profiled (key user id). Out: candidates (key user id), with the LLM scorer's scores when
one is configured (agents/score.py). Reads: the profiles table (same partition) and the
replicated global view.
"""

from __future__ import annotations

from agents.score import llm_fields
from recstream.core.candidates import generate
from recstream.core.tfidf import Profile
from streams.app import Pipeline

REPLICA_WAIT_S = 1.0


def register(p: Pipeline) -> None:
    rc = p.settings.recommend

    @p.app.agent(p.profiled, name="candidates")
    async def find_candidates(stream):  # type: ignore[no-untyped-def]
        await p.replica.ready.wait()  # global view caught up before the first event
        async for trigger in stream:
            user = trigger["user_id"]
            profile = Profile.from_dict(p.profiles.get(user))
            cands = generate(user, profile, p.view, rc)
            if not cands.items and await p.replica.wait_caught_up(REPLICA_WAIT_S):
                # in a burst the global view lags; an empty list is worth one wait
                cands = generate(user, profile, p.view, rc)
            p.metrics.event("candidates", "ok" if cands.items else "empty")
            llm = await llm_fields(p, user, profile, cands.items)
            await p.candidates.send(key=user, value={
                **trigger, "neighbours": cands.neighbours,
                "items": [c.to_dict() for c in cands.items], **llm})
