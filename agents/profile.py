"""profile: apply events to their users' TF-IDF profiles; erase users who are forgotten.

A step of the user agent (agents/user.py), not an agent of its own. Each profile keeps the ids
(and the input offset) of the events applied to it, so a re-delivered event is a no-op in the
same stored value (recstream.core.process.apply_once). A batch of events is applied in memory
(:class:`Dirty`) and written once per key at its end (:func:`flush`): a heavy user's profile
goes to RocksDB and its changelog once per batch instead of once per event, its index updates
travel as one message per owning index partition (with the item graph's deltas of its
events, recstream.core.itemgraph), its CF sketch once.
Out: index-updates (key: first index key of the message), user-sketches (key pseudonym),
forget-replies (what this step erased). Tables: profiles (pseudonym -> profile, RocksDB +
changelog); on erasure also latest_recommendations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from recstream.core.privacy import forget_updates
from recstream.core.process import (
    apply_once,
    batch_by_partition,
    event_weight,
    graph_updates,
    index_updates,
)
from recstream.core.tfidf import Profile, ProfileChange
from recstream.core.view import make_sketch, sketch_due, user_vector
from streams.app import Pipeline, scope_to, write_through
from streams.erasure import purge_partition

#: most index updates in one index-updates record (~60 bytes each)
INDEX_MESSAGE_UPDATES = 4000


@dataclass
class Dirty:
    """A batch's changes not yet written: profiles (with an event of the user's, whose
    partition the write goes to), index updates in arrival order, users whose sketch moved."""

    profiles: dict[str, tuple[Any, Profile]] = field(default_factory=dict)
    index: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    sketches: set[str] = field(default_factory=set)


def load(p: Pipeline, dirty: Dirty, user: str) -> Profile:
    """The user's profile: this batch's copy, else the stored one (read from the partition
    of the stream's current event, which the caller set to one of the user's events)."""
    if user in dirty.profiles:
        return dirty.profiles[user][1]
    return Profile.from_dict(p.profiles.get(user))


def apply(p: Pipeline, dirty: Dirty, ev: Any) -> tuple[Profile, ProfileChange | None]:
    """Apply one event (a Faust event on ``events``) to its user's profile in ``dirty``;
    None for the change when the profile already held it (a re-delivery)."""
    event = ev.value
    user = event["user_id"]  # the pseudonym (agents/clean.py)
    profile = load(p, dirty, user)
    pc = p.settings.profile
    # the item graph's deltas come from the user's items before the event
    graph = graph_updates(profile.items, event, p.settings.recommend)
    change = apply_once(profile, event, p.view.catalogue.get(event["item_id"]), pc,
                        ev.message.offset)
    # kept (and written) on a re-delivery too: RocksDB may hold a value whose changelog
    # record the crash lost, and the rewrite puts it back in the changelog
    dirty.profiles[user] = (ev, profile)
    if change is None:  # index updates are not idempotent: not sent again
        p.metrics.event("profile", "duplicate")
    else:
        weight, _ = event_weight(event, pc)
        dirty.index += index_updates(user, profile, change, event, weight) + graph
        p.metrics.event("profile")
    if sketch_due(profile, p.settings.recommend.sketch_every):  # on a re-delivery too: the
        dirty.sketches.add(user)  # crash may have lost the one sent then
    return profile, change


async def flush(p: Pipeline, dirty: Dirty) -> list[Any]:
    """Write the batch's profiles (one table write per user) and send its index updates and
    sketches; returns the send futures (the profiles' changelog records included), for the
    caller to await before acknowledging."""
    rc = p.settings.recommend
    sent = []
    for user, (ev, profile) in dirty.profiles.items():
        scope_to(ev)  # the write goes to the user's partition
        sent.append(await write_through(p.profiles, user, profile.to_dict()))
    for part, batch in batch_by_partition(dirty.index, p.names.partitions).items():
        for i in range(0, len(batch), INDEX_MESSAGE_UPDATES):  # records stay well under 1 MB
            chunk = batch[i:i + INDEX_MESSAGE_UPDATES]
            sent.append(await p.index_updates.send(key=chunk[0][0], partition=part,
                                                   value=chunk))
    for user in dirty.sketches:
        profile = dirty.profiles[user][1]
        sketch = make_sketch(profile, user_vector(profile, p.view)[0], rc.sketch_terms,
                             rc.sketch_items)
        sent.append(await p.sketches.send(key=user, value=sketch))
    dirty.profiles.clear()
    dirty.index.clear()
    dirty.sketches.clear()
    return sent


async def forget_user(p: Pipeline, req: dict[str, Any], partition: int) -> None:
    """Erase one user's profile, sketch and latest recommendation; send the removal of their
    postings to the index partitions that own them; reply with what was removed."""
    user, rid = req["user"], req["request_id"]
    p.sources.forget(user)
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
