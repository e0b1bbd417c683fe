"""A stage's batches, with the Faust-facing checks kept out of the agents.

An agent that works on a batch of events across awaits (the scorer, the broker) must not
write state for events it no longer owns, must apply each partition's events in offset
order, and must leave unacknowledged whatever it gives up on, so that it is read again from
the committed offset (streams/offsets.py has the failures each rule prevents). :func:`take`
and :class:`Batch` hold those rules; a stage reads as its dataflow:

    async for events, control in take(p, stream, control_topic):
        if control is not None: ...handle the control record (an erasure request)...
        else: await run(events)

    async def run(events):
        b = Batch(p, events)
        if b.given_up(): return        # a rebalance is under way
        ...apply, await the scorer...
        if b.given_up(): return        # one began meanwhile
        kept = b.owned()               # partitions revoked meanwhile: left to their owner
        if kept is not b.events: ...run(kept); return
        ...write state, publish...
        b.finish(failed)               # failed partitions read again, the rest applied
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

from streams.app import Pipeline, batches, owns
from streams.offsets import applied, current_generation, in_order, leave_unacked

log = logging.getLogger(__name__)


async def take(p: Pipeline, stream: Any, control: str
               ) -> AsyncIterator[tuple[list[Any], Any]]:
    """The stream's batches (``worker.stage_batch`` within ``worker.stage_batch_wait_ms``)
    in each partition's offset order, split at records of the ``control`` topic: yields
    ``(events, None)`` for a run of events and ``([], record)`` for a control record, which
    is reported applied once the caller comes back for the next item."""
    async for taken in batches(stream, p.settings.worker):
        # in each partition's offset order, also after a rebalance or a skipped record
        batch = in_order(p.app, current_generation(p.app, taken))
        start = 0
        for i, ev in enumerate(batch):
            if ev.message.topic == control:
                if i > start:
                    yield batch[start:i], None
                yield [], ev
                applied(p.app, [ev])
                start = i + 1
        if start < len(batch):
            yield batch[start:], None


class Batch:
    """A run of events while a stage works on it: the consumer generation and the
    transactional publisher's epochs when it began (a fence after this refuses its publish)."""

    def __init__(self, p: Pipeline, events: list[Any]) -> None:
        self.app = p.app
        self.events = current_generation(p.app, events)  # a rebalance may have ended since
        self.generation = p.app.rebalancing_count
        pub = p.publisher
        self.epochs = {part: pub.epoch(part) for part in
                       {ev.message.partition for ev in self.events}} if pub else {}

    def given_up(self) -> bool:
        """True, with every event left to be read again, when a rebalance is under way or
        began since the batch was taken (eager: every partition was revoked, and one
        assigned again may have been read before its table recovered); after the rebalance
        each partition is read again from its committed offset by whoever owns it."""
        app = self.app
        if not self.events:
            return True
        if app.rebalancing or app.rebalancing_count != self.generation:
            log.warning("rebalance during a batch: %d events left to be read again",
                        len(self.events))
            leave_unacked(app, self.events)
            return True
        return False

    def owned(self) -> list[Any]:
        """The events whose partition this worker still holds (``self.events`` itself when
        all are); the others are left to their partition's new owner, which replays them."""
        lost = {ev.message.partition for ev in self.events if not owns(self.app, ev)}
        if not lost:
            return self.events
        left = [ev for ev in self.events if ev.message.partition in lost]
        log.warning("partitions %s revoked during a batch: %d of its events left to their "
                    "new owner", sorted(lost), len(left))
        leave_unacked(self.app, left)
        return [ev for ev in self.events if ev.message.partition not in lost]

    def finish(self, failed: set[int]) -> None:
        """Report the batch applied, but for the events of ``failed`` partitions (their
        publication was fenced or aborted), which are read again."""
        if failed:
            left = [ev for ev in self.events if ev.message.partition in failed]
            log.warning("partitions %s: publication failed, %d events left to be read again",
                        sorted(failed), len(left))
            leave_unacked(self.app, left)
        applied(self.app, [ev for ev in self.events if ev.message.partition not in failed])
