"""profile: apply each event to its user's TF-IDF profile; erase users who are forgotten.

In: events (key: user pseudonym) and forget (erasure requests, same key and partitioning).
Each profile keeps the ids (and the input offset) of the events applied to it, so a
re-delivered event is a no-op in the same stored value (recstream.core.process.apply_once).
Out: profiled (key pseudonym) for the candidate stage; index-updates (one batch per owning
partition of the term / user-count / item keys) for the global index; user-sketches (key
pseudonym); forget-replies (what this stage erased). Tables: profiles (pseudonym -> profile,
RocksDB + changelog); on erasure also latest_recommendations.
"""

from __future__ import annotations

from typing import Any

from recstream.core.privacy import SEALED, forget_updates
from recstream.core.process import (
    apply_once,
    batch_by_partition,
    event_weight,
    index_updates,
)
from recstream.core.tfidf import Profile
from recstream.core.view import make_sketch, user_vector
from streams.app import Pipeline
from streams.erasure import purge_partition
from streams.metrics import carry


def register(p: Pipeline) -> None:
    pc, rc = p.settings.profile, p.settings.recommend
    source = p.app.topic(p.names.events, p.names.forget, key_type=str, key_serializer="raw",
                         value_serializer="json")

    @p.app.agent(source, name="profile")
    async def update_profiles(stream):  # type: ignore[no-untyped-def]
        await p.replica.ready.wait()  # global view caught up before the first event
        async for ev in stream.events():
            if ev.message.topic == p.names.forget:
                await forget_user(p, ev.value, ev.message.partition)
                continue
            event = ev.value
            user = event["user_id"]  # the pseudonym (agents/clean.py)
            profile = Profile.from_dict(p.profiles.get(user))
            # a re-delivered event (same id, or an offset already applied) changes nothing
            change = apply_once(profile, event, p.view.catalogue.get(event["item_id"]), pc,
                                ev.message.offset)
            # written on a re-delivery too: RocksDB may hold a value whose changelog record
            # the crash lost, and the rewrite puts it back in the changelog
            p.profiles[user] = profile.to_dict()
            if change is None:  # index updates are not idempotent: not sent again
                p.metrics.event("profile", "duplicate")
            else:
                weight, _ = event_weight(event, pc)
                updates = index_updates(user, profile, change, event, weight)
                for part, batch in batch_by_partition(updates, p.names.partitions).items():
                    await p.index_updates.send(key=batch[0][0], partition=part, value=batch)
            sketch = make_sketch(profile, user_vector(profile, p.view)[0], rc.sketch_terms,
                                 rc.sketch_items)
            await p.sketches.send(key=user, value=sketch)
            if change is not None:
                p.metrics.event("profile")
            # also on a re-delivery: its recommendation may not have been published (the
            # rank stage skips a trigger it already published)
            await p.profiled.send(key=user, value={
                "user_id": user, "event_id": event["event_id"], "ts": event["ts"],
                SEALED: event.get(SEALED), **carry(event)})


async def forget_user(p: Pipeline, req: dict[str, Any], partition: int) -> None:
    """Erase one user's profile, sketch and latest recommendation; send the removal of their
    postings to the index partitions that own them; reply with what was removed."""
    user, rid = req["user"], req["request_id"]
    stored = p.profiles.get(user)
    removed = {"profile": int(stored is not None), "latest_recommendations": 0,
               "sketch": int(user in p.view.sketches)}
    if stored is not None:
        del p.profiles[user]  # tombstone in the changelog
    if p.latest.get(user) is not None:
        del p.latest[user]
        removed["latest_recommendations"] = 1
    await p.sketches.send(key=user, value=None, value_serializer="raw")  # tombstone
    terms = list(Profile.from_dict(stored).counts) if stored is not None else []
    updates = [(k, {**u, "forget": rid})
               for k, u in forget_updates(user, terms, stored is not None)]
    batches = batch_by_partition(updates, p.names.partitions)
    for part, batch in batches.items():  # after this user's earlier updates: same order
        await p.index_updates.send(key=batch[0][0], partition=part, value=batch)
    for table in (p.profiles, p.latest):
        await purge_partition(table, partition)
    p.metrics.event("profile", "forgotten")
    await p.forget_replies.send(key=rid, value={
        "request_id": rid, "stage": "profile", "partition": partition, "removed": removed,
        "index_partitions": sorted(batches)})
