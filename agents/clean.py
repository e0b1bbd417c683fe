"""clean: validate raw events, drop duplicates, dead-letter the rest.

In: clicks, purchases, ratings (raw bytes, key user id). Out: events (key: the user's
pseudonym; user and event ids pseudonymised, the raw pair sealed, recstream.core.privacy),
dead-letters (key: the input record's key). Table: event_ids (event_id -> {ts, src}: src is a
keyed digest of the input record that first carried the id; any later record with a stored
id, another one or the same one replayed, is a duplicate and dropped).
Values arrive as raw bytes (no Faust deserialiser), so invalid UTF-8 or JSON reaches
:func:`parse` and is dead-lettered instead of failing inside the consumer. Records are taken
in batches (``worker.stage_batch`` within ``worker.stage_batch_wait_ms``); a batch is
acknowledged only after the broker has every event and dead letter it produced, and an event
id is stored only after its event is on ``events`` (recstream.core.process.input_duplicate).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from typing import Any

from recstream.core.events import Invalid, parse, worker_limits
from recstream.core.privacy import pseudonym, pseudonymise_event
from recstream.core.process import input_duplicate
from streams.app import Pipeline, batches, scope_to
from streams.metrics import trace

log = logging.getLogger(__name__)
UNKNOWN_ITEM_WAIT_S = 2.0  # how long an unknown item may take to reach this worker's replica
# A barrier that started this long after an event was produced saw every item appended before
# it (the margin covers producer clock skew): later unknown items of such events skip the wait.
BARRIER_MARGIN_S = 1.0
YIELD_EVERY = 8  # records cleaned between turns given to the other agents


def dead_letter(bad: Invalid, msg: Any, raw: bytes | None, keep_bytes: int) -> dict[str, Any]:
    """The dead-letter record: reason, where the input was, and its bytes (base64, at most
    ``keep_bytes`` of them so an oversized input still fits in a Kafka record)."""
    data = raw or b""
    return {"reason": bad.reason, "detail": bad.detail, "topic": msg.topic,
            "partition": msg.partition, "offset": msg.offset,
            "raw": base64.b64encode(data[:keep_bytes]).decode(), "raw_size": len(data),
            "truncated": len(data) > keep_bytes, "ts": time.time()}


def register(p: Pipeline) -> None:
    kinds = dict(zip(p.names.inputs, ("clicks", "purchases", "ratings"), strict=True))
    w = p.settings.worker
    barrier = {"started": 0.0}  # wall clock (s) of the last completed replica barrier's start

    async def known_item(item_id: str, produced_s: float | None) -> bool:
        """Whether ``item_id`` is in the catalogue, waiting for the replica to read what the
        items topic holds now unless a barrier begun after the event was produced has
        already done so (a burst of unknown items then costs one barrier, not one each)."""
        if item_id in p.view.catalogue:
            return True
        if produced_s is None or produced_s + BARRIER_MARGIN_S > barrier["started"]:
            started = time.time()
            if await p.replica.wait_caught_up(UNKNOWN_ITEM_WAIT_S):
                barrier["started"] = started
        return item_id in p.view.catalogue

    async def clean_one(ev: Any, forwarded: set[str]
                        ) -> tuple[Any, tuple[Any, str, dict[str, Any]] | None]:
        """Validate one input record: the send future of its output (an event or a dead
        letter; None for a dropped duplicate) and, for a forwarded event, the ``event_ids``
        entry to store once the broker has it. ``forwarded``: event ids this batch already
        forwarded (not stored yet)."""
        msg, received = ev.message, time.time()
        try:
            try:
                event = parse(ev.value, kinds[msg.topic], worker_limits(w, received))
            except Invalid:
                raise
            except Exception as e:  # a parser bug must not stop the stream either
                log.exception("unprocessable topic=%s partition=%s offset=%s", msg.topic,
                              msg.partition, msg.offset)
                raise Invalid("unprocessable", type(e).__name__) from None
            if not await known_item(event["item_id"], msg.timestamp or None):
                raise Invalid("unknown_item", event["item_id"])
        except Invalid as bad:
            p.metrics.dead_letter(bad.reason)
            return await p.dead_letters.send(key=msg.key, value=dead_letter(
                bad, msg, ev.value, w.max_event_bytes)), None
        # privacy: from here on (tables, topics, logs) only pseudonyms; raw ids sealed
        event = pseudonymise_event(p.privacy_key, event)
        src = pseudonym(p.privacy_key, f"{msg.topic}/{msg.partition}/{msg.offset}", "input")
        scope_to(ev)  # the event_ids table is read in this record's partition
        if event["event_id"] in forwarded or input_duplicate(p.event_ids.get(event["event_id"]),
                                                               src):
            p.metrics.event("clean", "duplicate")
            log.debug("duplicate event_id=%s", event["event_id"])
            return None, None
        p.metrics.event("clean")
        forwarded.add(event["event_id"])
        sent = await p.events.send(key=event["user_id"], value={**event, **trace(msg, received)})
        return sent, (ev, event["event_id"], {"ts": event["ts"], "src": src})

    @p.app.agent(p.raw_events, name="clean")
    async def clean_events(stream):  # type: ignore[no-untyped-def]
        await p.replica.ready.wait()
        async for batch in batches(stream, w):
            forwarded: set[str] = set()
            done = []
            for i, ev in enumerate(batch):
                if i % YIELD_EVERY == YIELD_EVERY - 1:
                    # let the stages downstream run (their broker replies are waiting): a
                    # burst of bad input must not hold the loop for a whole batch
                    await asyncio.sleep(0)
                done.append(await clean_one(ev, forwarded))
            # the batch is acknowledged (when the next one is taken) only once the broker has
            # every output: a send that fails raises here instead of being committed past
            await asyncio.gather(*(f for f, _ in done if f is not None))
            # an id is stored only for an event the broker has: a crash before this line
            # forwards the batch again on replay (the profile's applied ids absorb a copy
            # that close), a replay after it is dropped
            for _, entry in done:
                if entry is not None:
                    ev, event_id, value = entry
                    scope_to(ev)
                    if p.event_ids.get(event_id) is None:
                        p.event_ids[event_id] = value
