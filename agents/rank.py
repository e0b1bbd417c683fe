"""rank: blend signals, drop seen items, explain, publish.

In: candidates (key user id). Out: recommendations (key user id). Table:
latest_recommendations (user -> latest record, served over HTTP). Reads: profiles.
"""

from __future__ import annotations

import time

from recstream.core.candidates import Candidate
from recstream.core.rank import blend
from streams.app import Pipeline


def register(p: Pipeline) -> None:
    rc = p.settings.recommend
    weights = {"cf": rc.weight_cf, "content": rc.weight_content, "trending": rc.weight_trending}

    @p.app.agent(p.candidates, name="rank")
    async def rank_and_publish(stream):  # type: ignore[no-untyped-def]
        async for msg in stream:
            user = msg["user_id"]
            seen = (p.profiles.get(user) or {}).get("items", {})
            cands = [Candidate(**c) for c in msg["items"]]
            record = {
                "user_id": user, "items": blend(cands, weights, rc.top_n, seen),
                "variant": p.variant, "model_version": p.model_version,
                "trigger_event_id": msg["event_id"], "event_ts": msg["ts"],
                "published_ts": time.time(), "degraded": False,
            }
            p.latest[user] = record
            await p.recommendations.send(key=user, value=record)
