"""index: own the global term index (df, postings, user count, item popularity, trending).

In: index-updates (batches of [index key, update], partitioned by index key; an update with
``forget`` erases a forgotten user, recstream.core.privacy). Out: the term_index table's
changelog, which every worker replicates (streams/replica.py); forget-replies (what was
erased, per request). Table: term_index (index key -> entry; postings name users by
pseudonym).
"""

from __future__ import annotations

from recstream.core.privacy import FORGET_COUNTS, apply_forget
from recstream.core.process import apply_index_update
from streams.app import Pipeline
from streams.erasure import purge_partition


def register(p: Pipeline) -> None:
    rc = p.settings.recommend

    @p.app.agent(p.index_updates, name="index")
    async def update_index(stream):  # type: ignore[no-untyped-def]
        async for ev in stream.events():
            p.metrics.event("index")
            part = ev.message.partition
            forgotten: dict[str, dict[str, int]] = {}  # request id -> what was removed
            for key, upd in ev.value:  # every key here is owned by this partition
                if upd.get("forget"):
                    updated, removed = apply_forget(p.term_index.get, key, upd)
                    total = forgotten.setdefault(upd["forget"], dict.fromkeys(FORGET_COUNTS, 0))
                    for name, n in removed.items():
                        total[name] += n
                else:
                    updated = apply_index_update(p.term_index.get, key, upd, part, rc)
                for k, entry in updated:
                    if entry is None:
                        p.term_index.pop(k, None)
                    else:
                        p.term_index[k] = entry
            if forgotten:
                await purge_partition(p.term_index, part)
            for rid, removed in forgotten.items():
                await p.forget_replies.send(key=rid, value={
                    "request_id": rid, "stage": "index", "partition": part, "removed": removed})
