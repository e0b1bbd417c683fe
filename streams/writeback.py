"""A table seen through a batch of records, with decoded copies kept between batches
(the feedback step of the user agent and the index agent; agents/feedback.py,
agents/index.py)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from faust.streams import current_event

from streams.app import scope_to, write_through

_DELETED = object()


class WriteBack:
    """A table seen through a batch: reads see the batch's own writes, and each key is
    written to the table once, at :meth:`flush`, in the partition of the event current when
    it was set (:func:`streams.app.scope_to`). A key every record rewrites (the feedback
    join's ``meta``, a popular term's index entry, the trending list) goes to the changelog
    once per batch, not once per record.

    The last ``keep`` keys read or written stay decoded between batches: the feedback join
    reads a user's pending state (impressions with per-item features) back on each of the
    user's records, and decoding it from RocksDB was a fifth of the worker's CPU
    (BENCHMARKS.md). The copies are dropped whenever a rebalance has begun since
    (``app.rebalancing_count``), since a partition that left and came back may have been
    written by another worker, and by :meth:`forget_decoded` after writing the table
    directly (an erasure)."""

    def __init__(self, table: Any, app: Any = None, keep: int = 4096) -> None:
        self.table, self.app, self.keep = table, app, keep
        self.dirty: dict[str, Any] = {}
        self.scope: dict[str, Any] = {}  # key -> an event of the key's partition
        self.decoded: OrderedDict[str, Any] = OrderedDict()
        self.generation = self._generation()

    def _generation(self) -> Any:
        return None if self.app is None else (self.app.rebalancing_count,
                                              self.app.rebalancing)

    def get(self, key: str) -> Any:
        if key in self.dirty:
            v = self.dirty[key]
            return None if v is _DELETED else v
        if self._generation() != self.generation:
            self.forget_decoded()
        if key in self.decoded:
            self.decoded.move_to_end(key)
            return self.decoded[key]
        value = self.table.get(key)
        if value is not None:
            self._remember(key, value)
        return value

    def __setitem__(self, key: str, value: Any) -> None:
        self.dirty[key] = value
        self.scope[key] = current_event()

    def __delitem__(self, key: str) -> None:
        self.dirty[key] = _DELETED
        self.scope[key] = current_event()

    def _drain(self) -> Iterator[tuple[str, Any]]:
        """Each dirty key with its value (None: deleted), scoped to the key's partition and
        its decoded copy updated, then the batch's changes cleared."""
        for key, value in self.dirty.items():
            scope_to(self.scope[key])  # the write goes to the key's partition
            if value is _DELETED:
                self.decoded.pop(key, None)
                yield key, None
            else:
                self._remember(key, value)
                yield key, value
        self.dirty.clear()
        self.scope.clear()

    def flush(self) -> None:
        for key, value in self._drain():
            if value is None:
                self.table.pop(key, None)
            else:
                self.table[key] = value

    async def flush_through(self) -> list[Any]:
        """:meth:`flush` with each record sent straight to the producer
        (:func:`streams.app.write_through`); returns the sends' futures, for the caller to
        await before its input offsets are committed."""
        return [await write_through(self.table, key, value) for key, value in self._drain()]

    def forget_decoded(self) -> None:
        """Drop every decoded copy (the table was changed behind this view)."""
        self.decoded.clear()
        self.generation = self._generation()

    def _remember(self, key: str, value: Any) -> None:
        self.decoded[key] = value
        self.decoded.move_to_end(key)
        while len(self.decoded) > self.keep:
            self.decoded.popitem(last=False)


_DELETED = object()
