"""feedback: join impressions with the same user's later events; per-window metrics.

In: recommendations (impressions) and events (validated clicks/purchases/ratings), both keyed
by user id and co-partitioned, read by one stream so a user's join runs on one worker. Out:
metrics (key variant): one record per closed (tumbling window, variant, partition), with the
impressions' intra-list diversity and novelty beside CTR, precision etc. Table:
feedback (``<partition>/u/<user>`` pending impressions and recent events, ``<partition>/meta``
watermark and window accumulators; see recstream.core.feedback). Users are joined by
pseudonym: the impression's producer ids are pseudonymised like the clean stage does. Also
in: forget (erasure requests), which delete the user's pending state here. With learn.enabled, the
training examples of impressions made final go to ``<app id>-learn-examples`` (agents/learn.py).
Records are taken in batches (``worker.stage_batch`` within ``worker.stage_batch_wait_ms``) and
the table is written once per touched key per batch (:class:`streams.writeback.WriteBack`,
which also keeps recently used entries decoded between batches).
"""

from __future__ import annotations

import logging
from typing import Any

from recstream.core.feedback import FeedbackJoin
from recstream.core.learn import MODEL_KEY
from recstream.core.privacy import event_pseudonym, pseudonym
from streams.app import Pipeline, batches, scope_to
from streams.erasure import purge_partition
from streams.writeback import WriteBack

log = logging.getLogger(__name__)


def register(p: Pipeline) -> None:
    cfg, wc = p.settings.feedback, p.settings.worker
    store = WriteBack(p.feedback, p.app)
    joins: dict[int, FeedbackJoin] = {}
    source = p.app.topic(p.names.events, p.names.recommendations, p.names.forget,
                         key_type=str, key_serializer="raw", value_serializer="json")
    key = p.privacy_key

    async def join_one(ev: Any) -> None:
        msg = ev.message
        scope_to(ev)
        join = joins.setdefault(msg.partition, FeedbackJoin(cfg, store, msg.partition))
        if msg.topic != p.names.recommendations:
            join.event(ev.value)
            return
        late, early = join.late, join.early
        imp = {**ev.value, "user_id": pseudonym(key, str(ev.value["user_id"])),
               "trigger_event_id": event_pseudonym(key, str(ev.value["trigger_event_id"]))}
        for record in join.impression(imp, len(p.view.catalogue), p.view.catalogue):
            log.info("event=feedback_window variant=%s partition=%s start=%s "
                     "impressions=%s ctr=%s", record["variant"], record["partition"],
                     record["window_start"], record["impressions"], record["ctr"])
            await p.metrics_out.send(key=record["variant"], value=record)
            p.metrics.feedback(record)
        if join.examples and p.learn_examples is not None:
            await p.learn_examples.send(key=MODEL_KEY, value={
                "examples": join.examples, "ts": ev.value.get("event_ts")})
        join.examples = []
        if join.late > late:
            p.metrics.feedback_late(str(ev.value.get("variant", "default")))
        if join.early > early:
            p.metrics.feedback_early(join.early - early)

    @p.app.agent(source, name="feedback")
    async def join_feedback(stream):  # type: ignore[no-untyped-def]
        async for batch in batches(stream, wc):
            for ev in batch:
                if ev.message.topic == p.names.forget:
                    store.flush()  # erasure works on the table itself
                    store.forget_decoded()
                    scope_to(ev)
                    part = ev.message.partition
                    join = joins.setdefault(part, FeedbackJoin(cfg, store, part))
                    await forget_feedback(p, join, ev.value)
                    continue
                await join_one(ev)
            store.flush()


async def forget_feedback(p: Pipeline, join: FeedbackJoin, req: dict[str, Any]) -> None:
    """Delete a forgotten user's pending impressions and events (``<p>/u/<user>``) and their
    deadline in ``<p>/meta``; the window sums they already fed stay (no user in them)."""
    user, rid = req["user"], req["request_id"]
    removed = {"feedback_state": 0}
    ukey, mkey = f"{join.partition}/u/{user}", f"{join.partition}/meta"
    if p.feedback.get(ukey) is not None:
        del p.feedback[ukey]
        removed["feedback_state"] = 1
    meta = p.feedback.get(mkey)
    if meta and user in meta.get("due", {}):
        p.feedback[mkey] = {**meta, "due": {u: d for u, d in meta["due"].items() if u != user}}
    await purge_partition(p.feedback, join.partition)
    await p.forget_replies.send(key=rid, value={
        "request_id": rid, "stage": "feedback", "partition": join.partition,
        "removed": removed})
