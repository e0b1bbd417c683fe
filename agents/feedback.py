"""feedback: join impressions with the same user's later events; per-window metrics.

In: recommendations (impressions) and events (validated clicks/purchases/ratings), both keyed
by user id and co-partitioned, read by one stream so a user's join runs on one worker. Out:
metrics (key variant): one record per closed (tumbling window, variant, partition). Table:
feedback (``<partition>/u/<user>`` pending impressions and recent events, ``<partition>/meta``
watermark and window accumulators; see recstream.core.feedback). With learn.enabled, the
training examples of impressions made final go to ``<app id>-learn-examples`` (agents/learn.py).
"""

from __future__ import annotations

import logging

from recstream.core.feedback import FeedbackJoin
from recstream.core.learn import MODEL_KEY
from streams.app import Pipeline

log = logging.getLogger(__name__)


def register(p: Pipeline) -> None:
    cfg = p.settings.feedback
    joins: dict[int, FeedbackJoin] = {}
    source = p.app.topic(p.names.events, p.names.recommendations, key_type=str,
                         key_serializer="raw", value_serializer="json")

    @p.app.agent(source, name="feedback")
    async def join_feedback(stream):  # type: ignore[no-untyped-def]
        async for ev in stream.events():
            msg = ev.message
            join = joins.setdefault(msg.partition, FeedbackJoin(cfg, p.feedback, msg.partition))
            if msg.topic != p.names.recommendations:
                join.event(ev.value)
                continue
            late = join.late
            for record in join.impression(ev.value, len(p.view.catalogue)):
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
