"""The candidate stage's global view on a worker, filled by a :class:`~streams.replica.Replica`."""

from __future__ import annotations

import orjson

from recstream.core.view import MemoryView
from streams.topics import TopicNames


class ReplicatedView(MemoryView):
    """Item catalogue, term index and user sketches, replicated from their topics."""

    def __init__(self, names: TopicNames, index_changelog: str) -> None:
        super().__init__()
        self._items, self._sketches, self._index = names.items, names.sketches, index_changelog
        self.topics = [names.items, names.sketches, index_changelog]

    def apply(self, topic: str, key: str, value: bytes | None) -> None:
        """Apply one replicated record (None: a tombstone)."""
        data = orjson.loads(value) if value else None
        if topic == self._index:
            self.set_entry(key, data)
        elif topic == self._sketches:
            self.set_sketch(key, data)
        elif topic == self._items:
            if data is None:
                self.catalogue.remove(key)
            elif isinstance(data, dict) and data.get("item_id") is not None:
                self.catalogue.upsert(data)
