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
4. acknowledge the batch (Faust's take_events acks it when the next batch is taken); a
   batch given up on because a rebalance began is left unacknowledged
   (streams.offsets.leave_unacked) and read again, and so are the events fetched before the
   rebalance that were already waiting in the next batch (streams.offsets.current_generation):
   a user's events are applied in input order, never a later one before an earlier one.

A forget request in a batch splits it: the events before it are finished first, then the
user is erased, then the rest go on, so erasure keeps its place in the user's order.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from agents import candidates, feedback, profile, rank
from agents.score import llm_fields, user_side
from recstream.core.process import PUBLISHED
from recstream.core.view import ViewCache
from streams.app import Pipeline, batches, owns, scope_to
from streams.offsets import applied, current_generation, in_order, leave_unacked

log = logging.getLogger(__name__)


def register(p: Pipeline) -> None:
    wc = p.settings.worker
    keep = p.settings.profile.applied_ids  # (trigger, variant) pairs remembered per user
    ranker = rank.Ranker(p)
    joined = feedback.Feedback(p)
    source = p.app.topic(p.names.events, p.names.forget, key_type=str, key_serializer="raw",
                         value_serializer="json")

    async def run(events: list[Any]) -> None:
        """Steps 1–3 for ``events`` (no forget request among them)."""
        events = current_generation(p.app, events)  # a rebalance may have ended since
        if not events:
            return
        generation = p.app.rebalancing_count
        pub = p.publisher  # its epochs now: a fence after this refuses the batch's publish
        epochs = {part: pub.epoch(part) for part in {ev.message.partition for ev in events}
                  } if pub is not None else {}
        if p.app.rebalancing:
            log.warning("batch of %d events taken during a rebalance: left to be read again",
                        len(events))
            leave_unacked(p.app, events)
            return
        dirty, cache = profile.Dirty(), ViewCache(p.view)
        found = []
        for ev in events:
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
        if p.app.rebalancing or p.app.rebalancing_count != generation:
            # a rebalance began during the batch (eager: every partition was revoked, and
            # one assigned again may have been read before its table recovered): write
            # nothing; after the rebalance each partition is read again from its committed
            # offset, so these events come back to whoever owns them now
            log.warning("rebalance during a batch: %d events left to be read again",
                        len(events))
            leave_unacked(p.app, events)
            return
        lost = {ev.message.partition for ev in events if not owns(p.app, ev)}
        if lost:  # revoked while we waited: its new owner replays them; redo the rest
            log.warning("partitions %s revoked during a batch: %d of its events left to "
                        "their new owner", sorted(lost), sum(
                            ev.message.partition in lost for ev in events))
            leave_unacked(p.app, [ev for ev in events if ev.message.partition in lost])
            kept = [ev for ev in events if ev.message.partition not in lost]
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
        failed = await rank.publish(p, ranked, published, events, epochs)
        await asyncio.gather(*sent)  # index updates and sketches reached the broker too
        if failed:  # fenced or aborted: read again (the profile knows them as applied)
            log.warning("partitions %s: publication failed, %d events left to be read "
                        "again", sorted(failed), sum(ev.message.partition in failed
                                                     for ev in events))
            leave_unacked(p.app, [ev for ev in events if ev.message.partition in failed])
        applied(p.app, [ev for ev in events if ev.message.partition not in failed])

    @p.app.agent(source, name="user")
    async def process_users(stream):  # type: ignore[no-untyped-def]
        await p.replica.ready.wait()  # global view caught up before the first event
        async for taken in batches(stream, wc):
            # in each partition's offset order, also after a rebalance or a skipped record
            batch = in_order(p.app, current_generation(p.app, taken))
            run_start = 0
            for i, ev in enumerate(batch):
                if ev.message.topic == p.names.forget:
                    if i > run_start:
                        await run(batch[run_start:i])
                    scope_to(ev)
                    await profile.forget_user(p, ev.value, ev.message.partition)
                    await joined.forget(ev)
                    applied(p.app, [ev])
                    run_start = i + 1
            if run_start < len(batch):
                await run(batch[run_start:])
