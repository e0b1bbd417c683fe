"""index: own the global term index (df, postings, user count, item popularity, trending).

In: index-updates (batches of [index key, update], partitioned by index key; an update with
``forget`` erases a forgotten user, recstream.core.privacy). Out: the term_index table's
changelog, which every worker replicates (streams/replica.py); forget-replies (what was
erased, per request). Table: term_index (index key -> entry; postings name users by
pseudonym).

Messages are taken in batches (``worker.stage_batch`` within ``worker.stage_batch_wait_ms``)
and applied in order through a :class:`streams.writeback.WriteBack`: each touched key is
written once per batch (a popular term or the trending list is updated by most events), and
recently used entries stay decoded between batches.
"""

from __future__ import annotations

from typing import Any

from recstream.core.privacy import FORGET_COUNTS, apply_forget
from recstream.core.process import apply_index_update
from streams.app import Pipeline, batches, scope_to
from streams.erasure import purge_partition
from streams.writeback import WriteBack


def register(p: Pipeline) -> None:
    rc, wc = p.settings.recommend, p.settings.worker
    store = WriteBack(p.term_index, p.app)  # keys are owned by one partition each

    async def apply_batch(events: list[Any]) -> None:
        # (request id, partition) -> what was removed there
        forgotten: dict[tuple[str, int], dict[str, int]] = {}
        purge: set[int] = set()
        for ev in events:
            p.metrics.event("index")
            part = ev.message.partition
            scope_to(ev)  # reads and writes of this message's keys: its partition
            for key, upd in ev.value:  # every key here is owned by this partition
                if upd.get("forget"):
                    updated, removed = apply_forget(store.get, key, upd)
                    total = forgotten.setdefault((upd["forget"], part),
                                                 dict.fromkeys(FORGET_COUNTS, 0))
                    for name, n in removed.items():
                        total[name] += n
                    purge.add(part)
                else:
                    updated = apply_index_update(store.get, key, upd, part, rc)
                for k, entry in updated:
                    if entry is None:
                        del store[k]
                    else:
                        store[k] = entry
        store.flush()
        for part in purge:
            await purge_partition(p.term_index, part)
        for (rid, part), removed in forgotten.items():
            await p.forget_replies.send(key=rid, value={
                "request_id": rid, "stage": "index", "partition": part, "removed": removed})

    @p.app.agent(p.index_updates, name="index")
    async def update_index(stream):  # type: ignore[no-untyped-def]
        async for events in batches(stream, wc):
            await apply_batch(events)
