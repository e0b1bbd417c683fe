"""feedback: join impressions with the same user's later events; per-window metrics.

A step of the user agent (agents/user.py), not an agent of its own: the user agent has each
event and the record it publishes for it in memory, so the join is two dictionary updates
per event instead of a second agent reading ``events`` and ``recommendations`` back from the
broker. Out: metrics (key variant): one record per closed (tumbling window, variant,
partition), with the impressions' intra-list diversity and novelty beside CTR, precision
etc.; with learn.enabled, the training examples of impressions made final go to
``<app id>-learn-examples`` (agents/learn.py). Table: feedback (``<partition>/u/<user>``
pending impressions and recent events, ``<partition>/meta`` watermark and window
accumulators; see recstream.core.feedback), on the user's events partition, written once
per touched key per batch (:class:`streams.writeback.WriteBack`) with the batch's profiles,
before its records are published: a batch read again (a crash, a failed publication) finds
its events and triggers already joined, and the join skips them (same event id, same
trigger id).
"""

from __future__ import annotations

import logging
from typing import Any

from agents.rank import Ranked
from recstream.core.feedback import FeedbackJoin
from recstream.core.learn import MODEL_KEY
from streams.app import Pipeline, scope_to
from streams.erasure import purge_partition
from streams.writeback import WriteBack

log = logging.getLogger(__name__)


class Feedback:
    """The join of every partition this worker reads, over one write-back view of the
    feedback table."""

    def __init__(self, p: Pipeline) -> None:
        self.p = p
        self.store = WriteBack(p.feedback, p.app)
        self.joins: dict[int, FeedbackJoin] = {}

    def _join(self, ev: Any) -> FeedbackJoin:
        part = ev.message.partition
        scope_to(ev)  # the join's writes go to the user's partition
        join = self.joins.get(part)
        if join is None:
            join = self.joins[part] = FeedbackJoin(self.p.settings.feedback, self.store, part)
        return join

    def event(self, ev: Any) -> None:
        """A validated event of the user (a Faust event on ``events``)."""
        self._join(ev).event(ev.value)

    async def impression(self, r: Ranked) -> None:
        """The record published for ``r``'s trigger; sends the metrics records of the
        windows it closes and the training examples of impressions it made final."""
        p = self.p
        join = self._join(r.ev)
        late, early = join.late, join.early
        imp = {**r.record, "user_id": r.user, "trigger_event_id": r.trigger["event_id"]}
        for record in join.impression(imp, len(p.view.catalogue), p.view.catalogue):
            log.info("event=feedback_window variant=%s partition=%s start=%s "
                     "impressions=%s ctr=%s", record["variant"], record["partition"],
                     record["window_start"], record["impressions"], record["ctr"])
            await p.metrics_out.send(key=record["variant"], value=record)
            p.metrics.feedback(record)
        if join.examples and p.learn_examples is not None:
            await p.learn_examples.send(key=MODEL_KEY, value={
                "examples": join.examples, "ts": r.record.get("event_ts")})
        join.examples = []
        if join.late > late:
            p.metrics.feedback_late(r.variant)
        if join.early > early:
            p.metrics.feedback_early(join.early - early)

    async def flush(self) -> list[Any]:
        """Write the batch's touched keys; returns their changelog sends' futures."""
        return await self.store.flush_through()

    async def forget(self, ev: Any) -> None:
        """Delete a forgotten user's pending impressions and events (``<p>/u/<user>``) and
        their deadline in ``<p>/meta``; the window sums they already fed stay (no user in
        them)."""
        p, req = self.p, ev.value
        await self.store.flush_through()  # erasure works on the table itself
        self.store.forget_decoded()
        join = self._join(ev)
        user, rid = req["user"], req["request_id"]
        removed = {"feedback_state": 0}
        ukey, mkey = f"{join.partition}/u/{user}", f"{join.partition}/meta"
        if p.feedback.get(ukey) is not None:
            del p.feedback[ukey]
            removed["feedback_state"] = 1
        meta = p.feedback.get(mkey)
        if meta and user in meta.get("due", {}):
            p.feedback[mkey] = {**meta, "due": {u: d for u, d in meta["due"].items()
                                                if u != user}}
        await purge_partition(p.feedback, join.partition)
        await p.forget_replies.send(key=rid, value={
            "request_id": rid, "stage": "feedback", "partition": join.partition,
            "removed": removed})
