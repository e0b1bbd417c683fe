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

    def find(stream, event) -> tuple[Profile, CandidateSet]:  # type: ignore[no-untyped-def]
        # A table read is scoped to the partition of the stream's *current* event, which a
        # batch does not set per item: set it, so each user is read from its own partition.
        stream._set_current_event(event)
        user = event.value["user_id"]
        profile = Profile.from_dict(p.profiles.get(user))
        return profile, generate(user, profile, p.view, rc)

    @p.app.agent(p.profiled, name="candidates")
    async def find_candidates(stream):  # type: ignore[no-untyped-def]
        await p.replica.ready.wait()  # global view caught up before the first event
        async for events in stream.take_events(wc.stage_batch,
                                               within=wc.stage_batch_wait_ms / 1e3):
            triggers = [e.value for e in events]
            found = [find(stream, e) for e in events]
            if any(not c.items for _, c in found) and await p.replica.wait_caught_up(
                    REPLICA_WAIT_S):
                # in a burst the global view lags; an empty list is worth one wait
                found = [(pr, c) if c.items else find(stream, e)
                         for e, (pr, c) in zip(events, found, strict=True)]
            llms = await asyncio.gather(*(llm_fields(p, t["user_id"], pr, c.items)
                                          for t, (pr, c) in zip(triggers, found, strict=True)))
            for trigger, (_, cands), llm in zip(triggers, found, llms, strict=True):
                p.metrics.event("candidates", "ok" if cands.items else "empty")
                await p.candidates.send(key=trigger["user_id"], value={
                    **trigger, "neighbours": cands.neighbours,
                    "items": [c.to_dict() for c in cands.items], **llm})
