"""index: own the global term index (df, postings, user count, item popularity, trending).

In: index-updates (batches of [index key, update], partitioned by index key). Out: the
term_index table's changelog, which every worker replicates (streams/replica.py).
Table: term_index (index key -> entry).
"""

from __future__ import annotations

from recstream.core.process import apply_index_update
from streams.app import Pipeline


def register(p: Pipeline) -> None:
    rc = p.settings.recommend

    @p.app.agent(p.index_updates, name="index")
    async def update_index(stream):  # type: ignore[no-untyped-def]
        async for ev in stream.events():
            p.metrics.event("index")
            for key, upd in ev.value:  # every key here is owned by this partition
                for k, entry in apply_index_update(p.term_index.get, key, upd,
                                                   ev.message.partition, rc):
                    if entry is None:
                        p.term_index.pop(k, None)
                    else:
                        p.term_index[k] = entry
