"""profile: apply each event to its user's TF-IDF profile.

In: events (key user id). Out: profiled (key user id) for the candidate stage;
index-updates (one batch per owning partition of the term / user-count / item keys) for the
global index; user-sketches (key user id). Table: profiles (user -> profile, RocksDB +
changelog).
"""

from __future__ import annotations

from recstream.core.process import (
    batch_by_partition,
    event_weight,
    index_updates,
    update_profile,
)
from recstream.core.tfidf import Profile
from recstream.core.view import make_sketch, user_vector
from streams.app import Pipeline
from streams.metrics import carry


def register(p: Pipeline) -> None:
    pc, rc = p.settings.profile, p.settings.recommend

    @p.app.agent(p.events, name="profile")
    async def update_profiles(stream):  # type: ignore[no-untyped-def]
        await p.replica.ready.wait()  # global view caught up before the first event
        async for event in stream:
            user = event["user_id"]
            profile = Profile.from_dict(p.profiles.get(user))
            change = update_profile(profile, event, p.view.catalogue.get(event["item_id"]), pc)
            p.profiles[user] = profile.to_dict()
            weight, _ = event_weight(event, pc)
            updates = index_updates(user, profile, change, event, weight)
            for part, batch in batch_by_partition(updates, p.names.partitions).items():
                await p.index_updates.send(key=batch[0][0], partition=part, value=batch)
            sketch = make_sketch(profile, user_vector(profile, p.view)[0], rc.sketch_terms,
                                 rc.sketch_items)
            await p.sketches.send(key=user, value=sketch)
            p.metrics.event("profile")
            await p.profiled.send(key=user, value={
                "user_id": user, "event_id": event["event_id"], "ts": event["ts"],
                **carry(event)})
