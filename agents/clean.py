"""clean: validate raw events, drop duplicates, dead-letter the rest.

In: clicks, purchases, ratings (raw bytes, key user id). Out: events (key user id),
dead-letters. Table: event_ids (event_id -> ts, de-duplication).
"""

from __future__ import annotations

import base64
import logging
import time

from recstream.core.events import Invalid, Limits, parse
from streams.app import Pipeline
from streams.metrics import trace

log = logging.getLogger(__name__)
UNKNOWN_ITEM_WAIT_S = 2.0  # how long an unknown item may take to reach this worker's replica


def register(p: Pipeline) -> None:
    kinds = dict(zip(p.names.inputs, ("clicks", "purchases", "ratings"), strict=True))
    w = p.settings.worker

    @p.app.agent(p.raw_events, name="clean")
    async def clean_events(stream):  # type: ignore[no-untyped-def]
        await p.replica.ready.wait()
        async for ev in stream.events():
            msg, received = ev.message, time.time()
            try:
                event = parse(ev.value, kinds[msg.topic],
                              Limits(time.time(), w.max_future_s, w.max_event_age_s))
                if event["item_id"] not in p.view.catalogue:
                    await p.replica.wait_caught_up(UNKNOWN_ITEM_WAIT_S)
                    if event["item_id"] not in p.view.catalogue:
                        raise Invalid("unknown_item", event["item_id"])
            except Invalid as bad:
                p.metrics.dead_letter(bad.reason)
                await p.dead_letters.send(key=msg.key, value={
                    "reason": bad.reason, "detail": bad.detail, "topic": msg.topic,
                    "partition": msg.partition, "offset": msg.offset,
                    "raw": base64.b64encode(ev.value or b"").decode(), "ts": time.time()})
                continue
            if p.event_ids.get(event["event_id"]) is not None:
                p.metrics.event("clean", "duplicate")
                log.debug("duplicate event_id=%s", event["event_id"])
                continue
            p.event_ids[event["event_id"]] = event["ts"]
            p.metrics.event("clean")
            await p.events.send(key=event["user_id"], value={**event, **trace(msg, received)})
