"""user: one agent per user partition for profile → candidates → score → rank → feedback.

In: events (key: user pseudonym) and forget (erasure requests, same key and partitioning).
Out: recommendations, index-updates, user-sketches, metrics, learn-examples, forget-replies.
Tables: profiles, latest_recommendations, feedback (all keyed by pseudonym, on the events
partition).

The five steps used to be five agents joined by internal topics; every event then paid
more produce/fetch round trips, a JSON round trip of its candidate set (~8 KB), a table read
per step, and the feedback join read every event and every record back from the broker.
Here they run in one pass over a batch of events (``worker.stage_batch`` within
``worker.stage_batch_wait_ms``; under a backlog batches fill, at a trickle each event is its
own batch):

1. apply every event to its user's profile in memory (agents/profile.py), and right after each,
   find that event's candidates on the profile as the event left it (agents/candidates.py);
2. ask the scorer for the whole batch's LLM scores at once (agents/score.py);
3. write each touched profile once and send the batch's index updates and sketches
   (profile.flush), rank every event's record and join the events and records with the
   users' pending impressions (agents/feedback.py, its state written once per key), then
   publish the records, wait for the broker's acks, and write each user's latest record once
   (agents/rank.py);
4. acknowledge the batch; a batch given up on because a rebalance began, or the events of a
   partition revoked or fenced meanwhile, are left to be read again (streams/stage.py
   ``Batch`` holds those checks and ``take`` the in-order gate): a user's events are
   applied in input order, never a later one before an earlier one.

A forget request in a batch splits it: the events before it are finished first, then the
user is erased, then the rest go on, so erasure keeps its place in the user's order.
"""

from __future__ import annotations

import asyncio
from typing import Any

from agents import candidates, feedback, profile, rank
from agents.score import llm_fields, user_side
from recstream.core.process import PUBLISHED
from recstream.core.view import ViewCache
from streams.app import Pipeline, scope_to
from streams.stage import Batch, take


def register(p: Pipeline) -> None:
    keep = p.settings.profile.applied_ids  # (trigger, variant) pairs remembered per user
    ranker = rank.Ranker(p)
    joined = feedback.Feedback(p)
    source = p.app.topic(p.names.events, p.names.forget, key_type=str, key_serializer="raw",
                         value_serializer="json")

    async def run(events: list[Any]) -> None:
        """Steps 1–3 for ``events`` (no forget request among them)."""
        b = Batch(p, events)
        if b.given_up():
            return
        dirty, cache = profile.Dirty(), ViewCache(p.view)
        found = []
        for ev in b.events:
            scope_to(ev)  # table reads go to this user's partition
            prof, _ = profile.apply(p, dirty, ev)
            cands = candidates.find(p, ev.value["user_id"], prof, cache)
            found.append([ev, prof, cands, user_side(p, prof)])
        if any(not f[2].items for f in found) and await p.replica.wait_caught_up(
                candidates.REPLICA_WAIT_S):
            # in a burst the global view lags; an empty list is worth one wait (the retry sees
            # the profile as the whole batch left it)
            cache = ViewCache(p.view)
            for f in found:
                if not f[2].items:
                    p.sources.forget(f[0].value["user_id"])  # search again
                    f[2] = candidates.find(p, f[0].value["user_id"], f[1], cache)
        llms = await asyncio.gather(*(llm_fields(p, ev.value["user_id"], side, c.items)
                                      for ev, _, c, side in found))
        if b.given_up():
            return
        kept = b.owned()
        if kept is not b.events:  # revoked while we waited: redo the rest
            if kept:
                await run(kept)
            return
        sent = await profile.flush(p, dirty)  # no await between the check and the writes
        published: dict[str, list[list[str]]] = {}
        ranked: list[rank.Ranked] = []
        for (ev, prof, cands, _), llm in zip(found, llms, strict=True):
            candidates.count(p, cands)
            user = ev.value["user_id"]
            if user not in published:
                scope_to(ev)
                published[user] = list((p.latest.get(user) or {}).get(PUBLISHED, []))
            joined.event(ev)
            r = ranker.rank(ev, prof.items, cands.items, llm, published[user])
            if r is not None:
                rank.note(published, r, keep)
                ranked.append(r)
                await joined.impression(r)
        sent += await joined.flush()  # the join's state, like the profiles, before publishing
        failed = await rank.publish(p, ranked, published, b.events, b.epochs)
        await asyncio.gather(*sent)  # index updates and sketches reached the broker too
        b.finish(failed)  # fenced or aborted: read again (the profile knows them as applied)

    @p.app.agent(source, name="user")
    async def process_users(stream):  # type: ignore[no-untyped-def]
        await p.replica.ready.wait()  # global view caught up before the first event
        async for events, forget in take(p, stream, p.names.forget):
            if forget is None:
                await run(events)
                continue
            scope_to(forget)
            await profile.forget_user(p, forget.value, forget.message.partition)
            await joined.forget(forget)
