"""learn: update the online-learned blend from the feedback join's training examples.

In: ``<app id>-learn-examples`` (key "blend", so one partition and one writer; sent by the
feedback stage, one batch per finalising impression). Table: learner ("blend" → the model
state of recstream.core.learn, changelog-backed, so a restarted worker resumes). Every
worker follows the table's changelog (a replica over all partitions) into
``p.blend_model``, which the rank stage reads (``weights_of``: the guard's served arm).
HTTP: ``GET /model`` (the state: served arm, its weights, the learner's own, each arm's
running reward). Registered only with ``learn.enabled``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson

from recstream.core.learn import MODEL_KEY, Learner, prior_weights
from streams.admin import ensure_topics
from streams.app import Pipeline
from streams.replica import Replica
from streams.topics import COMPACT

log = logging.getLogger(__name__)


def register(p: Pipeline) -> None:
    if p.learner is None:
        return
    cfg, prior = p.settings.learn, prior_weights(p.settings.recommend)
    changelog = p.learner.changelog_topic.get_topic_name()

    def follow(topic: str, key: str, value: bytes | None) -> None:
        # the table's keys are JSON-serialised by Faust: '"blend"'
        if key in (MODEL_KEY, f'"{MODEL_KEY}"') and value:
            state = orjson.loads(value)
            if int(state.get("version", 0)) >= int(p.blend_model.get("version", -1)):
                p.blend_model.clear()
                p.blend_model.update(state)

    replica = Replica(p.settings.bootstrap, [changelog], follow, security=p.settings.security)

    @p.app.task
    async def follow_model() -> None:
        # Faust creates a changelog on the table's first write, which may come long after
        # start; the replica needs the topic now, so create it (compacted) as Faust would
        await asyncio.get_running_loop().run_in_executor(None, lambda: ensure_topics(
            p.settings.bootstrap, [(changelog, p.names.partitions, COMPACT)],
            security=p.settings.security))
        await p.app.add_runtime_dependency(replica)

    @p.app.agent(p.learn_examples, name="learn")
    async def learn_blend(stream):  # type: ignore[no-untyped-def]
        learner: Learner | None = None
        async for batch in stream:
            stored = p.learner.get(MODEL_KEY)
            if learner is None or learner.version != int((stored or {}).get("version", 0)):
                learner = Learner(cfg, prior, stored)  # first batch, restart or rebalance
            version = learner.update([(x, int(y)) for x, y in batch["examples"]],
                                     ts=batch.get("ts"))
            state = learner.state()
            p.learner[MODEL_KEY] = state
            log.debug("event=blend_update version=%d examples=%d served=%s weights=%s",
                      version, state["examples"], state["served"], state["weights"])

    @p.app.page("/model")
    async def model(web: Any, request: Any) -> Any:
        state = dict(p.blend_model)
        return web.json({"key": MODEL_KEY, "prior": prior, "learned": bool(state),
                         **state})
