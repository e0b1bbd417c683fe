"""index: own the global term index (df, postings, user count, item popularity, trending).

In: index-updates (batches of [index key, update], partitioned by index key; an update with
``forget`` erases a forgotten user, recstream.core.privacy). Out: the term_index table's
changelog, which every worker replicates (streams/replica.py); forget-replies (what was
erased, per request). Table: term_index (index key -> entry; postings name users by
pseudonym).

Messages are taken in batches (``worker.stage_batch`` within ``worker.stage_batch_wait_ms``)
and applied in order to an in-memory copy of the entries they touch; each touched key is
written once per batch (a popular term or the trending list is updated by most events).
"""

from __future__ import annotations

from typing import Any

from recstream.core.privacy import FORGET_COUNTS, apply_forget
from recstream.core.process import apply_index_update
from streams.app import Pipeline, scope_to
from streams.erasure import purge_partition

_DELETED = object()


def register(p: Pipeline) -> None:
    rc, wc = p.settings.recommend, p.settings.worker

    async def apply_batch(events: list[Any]) -> None:
        # partition -> (its last event, key -> entry or _DELETED); keys are owned by one
        # partition, so a key appears under one partition only
        touched: dict[int, tuple[Any, dict[str, Any]]] = {}
        # (request id, partition) -> what was removed there
        forgotten: dict[tuple[str, int], dict[str, int]] = {}
        purge: set[int] = set()
        for ev in events:
            p.metrics.event("index")
            part = ev.message.partition
            scope_to(ev)
            _, entries = touched.get(part, (ev, {}))
            touched[part] = (ev, entries)

            def get(k: str, entries: dict[str, Any] = entries) -> Any:
                if k in entries:
                    v = entries[k]
                    return None if v is _DELETED else v
                return p.term_index.get(k)

            for key, upd in ev.value:  # every key here is owned by this partition
                if upd.get("forget"):
                    updated, removed = apply_forget(get, key, upd)
                    total = forgotten.setdefault((upd["forget"], part),
                                                 dict.fromkeys(FORGET_COUNTS, 0))
                    for name, n in removed.items():
                        total[name] += n
                    purge.add(part)
                else:
                    updated = apply_index_update(get, key, upd, part, rc)
                for k, entry in updated:
                    entries[k] = _DELETED if entry is None else entry
        for ev, entries in touched.values():
            scope_to(ev)  # the writes go to this partition
            for k, entry in entries.items():
                if entry is _DELETED:
                    p.term_index.pop(k, None)
                else:
                    p.term_index[k] = entry
        for part in purge:
            await purge_partition(p.term_index, part)
        for (rid, part), removed in forgotten.items():
            await p.forget_replies.send(key=rid, value={
                "request_id": rid, "stage": "index", "partition": part, "removed": removed})

    @p.app.agent(p.index_updates, name="index")
    async def update_index(stream):  # type: ignore[no-untyped-def]
        async for events in stream.take_events(wc.stage_batch,
                                               within=wc.stage_batch_wait_ms / 1e3):
            await apply_batch(events)
