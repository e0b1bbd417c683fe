"""candidates: CF neighbours, content matches and trending items for the user.

In: profiled (key user id). Out: candidates (key user id), with the LLM scorer's scores when
one is configured (agents/score.py). Reads: the profiles table (same partition) and the
replicated global view.

Events are taken in small batches (``worker.stage_batch`` within
``worker.stage_batch_wait_ms``): the batch's scorer requests are sent together and awaited
together, so the scorer's round trip (and its timeout when it is down) is paid once per
batch instead of once per event; the batch is acknowledged after its candidates are sent,
in order.
"""

from __future__ import annotations

import asyncio

from agents.score import llm_fields
from recstream.core.candidates import CandidateSet, generate
from recstream.core.tfidf import Profile
from streams.app import Pipeline

REPLICA_WAIT_S = 1.0


def register(p: Pipeline) -> None:
    rc = p.settings.recommend
    wc = p.settings.worker

    def find(user: str) -> tuple[Profile, CandidateSet]:
        profile = Profile.from_dict(p.profiles.get(user))
        return profile, generate(user, profile, p.view, rc)

    @p.app.agent(p.profiled, name="candidates")
    async def find_candidates(stream):  # type: ignore[no-untyped-def]
        await p.replica.ready.wait()  # global view caught up before the first event
        async for triggers in stream.take(wc.stage_batch, within=wc.stage_batch_wait_ms / 1e3):
            found = [find(t["user_id"]) for t in triggers]
            if any(not c.items for _, c in found) and await p.replica.wait_caught_up(
                    REPLICA_WAIT_S):
                # in a burst the global view lags; an empty list is worth one wait
                found = [(pr, c) if c.items else find(t["user_id"])
                         for t, (pr, c) in zip(triggers, found, strict=True)]
            llms = await asyncio.gather(*(llm_fields(p, t["user_id"], pr, c.items)
                                          for t, (pr, c) in zip(triggers, found, strict=True)))
            for trigger, (_, cands), llm in zip(triggers, found, llms, strict=True):
                p.metrics.event("candidates", "ok" if cands.items else "empty")
                await p.candidates.send(key=trigger["user_id"], value={
                    **trigger, "neighbours": cands.neighbours,
                    "items": [c.to_dict() for c in cands.items], **llm})
