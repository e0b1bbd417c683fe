"""Ask the workers to forget a user and collect their report (``recstream forget``, and
``POST /forget/{user_id}`` on a worker).

The request goes to ``<app id>-forget`` keyed by the user's pseudonym, so it lands on the
partition of the user's events and profile. There the profile stage (agents/profile.py)
erases the profile, sketch and latest recommendation and forwards the removal of the user's
postings to the index partitions that own them (agents/index.py); the feedback stage
(agents/feedback.py) erases the user's pending join state. Each stage answers on
``<app id>-forget-replies`` keyed by the request id; the report is complete with the profile
stage's answer, the feedback stage's and one per index partition the profile stage named.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from recstream.core.privacy import pseudonym
from recstream.settings import Settings
from streams.admin import partition_counts
from streams.topics import topic_names

#: every count a report can hold, so a structure with nothing to erase still shows 0
REMOVED = ("profile", "sketch", "latest_recommendations", "postings", "term_df",
           "user_count", "feedback_state")


class ForgetError(Exception):
    """The request could not be sent or not every stage answered in time."""


def report(user_id: str, pseud: str, rid: str, replies: list[dict[str, Any]]
           ) -> dict[str, Any]:
    """The user-facing report: counts per structure summed over the stages' replies."""
    removed = dict.fromkeys(REMOVED, 0)
    for r in replies:
        for k, v in r["removed"].items():
            removed[k] = removed.get(k, 0) + int(v)
    return {"user_id": user_id, "pseudonym": pseud, "request_id": rid, "removed": removed,
            "stages": sorted(({"stage": r["stage"], "partition": r["partition"],
                               "removed": r["removed"]} for r in replies),
                             key=lambda r: (r["stage"], r["partition"]))}


def _complete(replies: list[dict[str, Any]]) -> bool:
    stages = {r["stage"] for r in replies}
    if not {"profile", "feedback"} <= stages:
        return False
    want = set(next(r for r in replies if r["stage"] == "profile")["index_partitions"])
    return want <= {r["partition"] for r in replies if r["stage"] == "index"}


async def request_forget(settings: Settings, key: bytes, user_id: str,
                         timeout_s: float) -> dict[str, Any]:
    """Send one erasure request for ``user_id`` and wait for every stage's answer."""
    names = topic_names(settings)
    pseud, rid = pseudonym(key, user_id), uuid.uuid4().hex
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap, group_id=None,
                                enable_auto_commit=False, isolation_level="read_committed")
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap, acks="all")
    await consumer.start()
    try:
        await producer.start()
        counts = await asyncio.get_running_loop().run_in_executor(
            None, partition_counts, settings.bootstrap, [names.forget, names.forget_replies])
        missing = [t for t in (names.forget, names.forget_replies) if t not in counts]
        if missing:
            raise ForgetError(f"topic {missing[0]} does not exist: no recstream worker of app "
                              f"{settings.group_id!r} has run on {settings.bootstrap}")
        parts = [TopicPartition(names.forget_replies, p)
                 for p in range(counts[names.forget_replies])]
        consumer.assign(parts)
        await consumer.seek_to_end(*parts)
        for tp in parts:  # resolve the end offsets now: replies come after them
            await consumer.position(tp)
        await producer.send_and_wait(names.forget, key=pseud.encode(), value=orjson.dumps(
            {"request_id": rid, "user": pseud, "ts": time.time()}))
        replies: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout_s
        while not _complete(replies):
            left = deadline - time.monotonic()
            if left <= 0:
                got = sorted({r["stage"] for r in replies})
                raise ForgetError(f"not every stage answered within {timeout_s:g}s (got: "
                                  f"{', '.join(got) or 'none'}); are the workers running? "
                                  "The request stays queued and is applied when they run")
            batches = await consumer.getmany(timeout_ms=int(min(left, 0.5) * 1000))
            for msgs in batches.values():
                for m in msgs:
                    value = orjson.loads(m.value) if m.value else None
                    if isinstance(value, dict) and value.get("request_id") == rid:
                        replies.append(value)
        return report(user_id, pseud, rid, replies)
    finally:
        await producer.stop()
        await consumer.stop()


def forget_sync(settings: Settings, key: bytes, user_id: str, timeout_s: float
                ) -> dict[str, Any]:
    return asyncio.run(request_forget(settings, key, user_id, timeout_s))
