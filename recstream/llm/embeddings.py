"""Item embeddings as records, and the workers' in-memory replica of them.

The scorer embeds every catalogue item once per text change (:class:`ItemEmbeddings`) and
publishes the vector to the compacted ``<app id>-item-embeddings`` topic (key: item id). A
worker keeps the latest vector per item in one float32 matrix (:class:`EmbeddingIndex`), so
the default ``mean`` LLM signal is a few dot products in the worker instead of a Kafka round
trip to the scorer (:func:`mean_scores`: the same numbers as ``score_batch``).

Record value (little-endian): ``b"RSE1"``, published wall-clock time (float64, s), dimension
(uint32), the item text's 8-byte digest, model name length (uint16), the model name (UTF-8),
then ``dim`` float32 components. A tombstone (no value) removes the item. Vectors of two models
are never mixed: the index serves one model, the one of the newest record, and drops the
other's vectors when it switches (a new scorer model republishes the whole catalogue).
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)

MAGIC = b"RSE1"
_HEAD = struct.Struct("<4sdI8sH")


@dataclass(frozen=True)
class EmbeddingRecord:
    model: str
    vector: np.ndarray  # float32, shape (dim,)
    ts: float  # published wall-clock time (s)
    digest: bytes = b""  # the item text's digest (8 bytes; see ItemEmbeddings)


def encode(vector: np.ndarray, model: str, ts: float, digest: bytes = b"") -> bytes:
    """One item's embedding as a record value (float32, so the worker sees the scorer's
    numbers exactly)."""
    v = np.ascontiguousarray(vector, dtype="<f4").reshape(-1)
    name = model.encode()
    return _HEAD.pack(MAGIC, ts, v.size, digest[:8].ljust(8, b"\0"), len(name)) + name \
        + v.tobytes()


def decode(value: bytes) -> EmbeddingRecord:
    """The record in ``value``; raises ValueError when it is not one (wrong magic or size)."""
    if len(value) < _HEAD.size:
        raise ValueError("embedding record too short")
    magic, ts, dim, digest, n = _HEAD.unpack_from(value)
    if magic != MAGIC:
        raise ValueError(f"not an embedding record (magic {magic!r})")
    start = _HEAD.size + n
    if len(value) != start + 4 * dim or dim == 0:
        raise ValueError(f"embedding record of {len(value)} bytes does not hold {dim} floats")
    model = value[_HEAD.size:start].decode()
    vec = np.frombuffer(value, dtype="<f4", count=dim, offset=start).astype(np.float32)
    return EmbeddingRecord(model, vec, ts, digest)


class EmbeddingIndex:
    """item id → row of one float32 matrix, for one model; updated record by record.

    Rows of removed items are reused; the matrix doubles when full, so an update costs one
    row copy. Not thread-safe: apply and read from the same event loop."""

    def __init__(self, capacity: int = 1024) -> None:
        self.model = ""
        self.dim = 0
        self.newest_ts = float("-inf")  # of the current model's records
        self.ignored = 0  # records of an older model, or malformed
        self._rows: dict[str, int] = {}
        self._free: list[int] = []
        self._capacity = capacity
        self._m = np.zeros((0, 0), dtype=np.float32)

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._rows

    @property
    def matrix(self) -> np.ndarray:
        """Rows in use and unused ones alike; index it with :meth:`rows`."""
        return self._m

    def apply(self, item_id: str, value: bytes | None) -> None:
        """Apply one record of the topic (``None``: tombstone)."""
        if value is None:
            self.remove(item_id)
            return
        try:
            rec = decode(value)
        except ValueError as e:
            self.ignored += 1
            log.warning("skipped embedding record item=%s reason=%s", item_id, e)
            return
        self.put(item_id, rec)

    def put(self, item_id: str, rec: EmbeddingRecord) -> None:
        if rec.model != self.model or rec.vector.size != self.dim:
            if rec.ts < self.newest_ts:  # left over from the model the scorer replaced
                self.ignored += 1
                return
            if self._rows:
                log.info("item embeddings switch model from=%s to=%s dropped=%d",
                         self.model, rec.model, len(self._rows))
            self._reset(rec.model, rec.vector.size)
        self.newest_ts = max(self.newest_ts, rec.ts)
        row = self._rows.get(item_id)
        if row is None:
            row = self._alloc()
            self._rows[item_id] = row
        self._m[row] = rec.vector

    def remove(self, item_id: str) -> None:
        row = self._rows.pop(item_id, None)
        if row is not None:
            self._free.append(row)

    def vector(self, item_id: str) -> np.ndarray | None:
        row = self._rows.get(item_id)
        return None if row is None else self._m[row]

    def rows(self, item_ids: Sequence[str]) -> list[int] | None:
        """The rows of ``item_ids`` in order, or None when any has no vector (yet)."""
        get = self._rows.get
        out = [get(i) for i in item_ids]
        return None if None in out else out  # type: ignore[return-value]

    def _reset(self, model: str, dim: int) -> None:
        self.model, self.dim = model, dim
        self.newest_ts = float("-inf")
        self._rows.clear()
        self._free.clear()
        self._m = np.zeros((self._capacity, dim), dtype=np.float32)

    def _alloc(self) -> int:
        if self._free:
            return self._free.pop()
        used = len(self._rows)
        if used >= self._m.shape[0]:
            grown = np.zeros((max(self._capacity, 2 * self._m.shape[0]), self.dim),
                             dtype=np.float32)
            grown[:used] = self._m[:used]
            self._m = grown
        return used


def mean_scores(index: EmbeddingIndex, history: Sequence[tuple[str, float]],
                items: Sequence[str]) -> dict[str, float] | None:
    """The scorer's ``mean`` user side (``scoring.score_batch``) from replicated vectors:
    cosine of each item with the weighted mean of the positive-weight history items'
    vectors, clipped to [0, 1] and rounded to 6 decimals; ``{}`` when no history item has a
    positive weight (as the scorer answers). None when a vector it needs has not arrived:
    guessing without it would give a different number than the scorer, so the caller asks
    the scorer instead."""
    hist = [(i, float(w)) for i, w in history if w > 0]
    hrows = index.rows([i for i, _ in hist])
    crows = index.rows(items)
    if hrows is None or crows is None:
        return None
    if not hist or not items:
        return {}
    m = index.matrix
    weights = np.array([w for _, w in hist], dtype=np.float32)
    acc = weights @ m[hrows]
    norm = float(np.linalg.norm(acc))
    if norm <= 0:
        return {}
    sims = (m[crows] @ (acc / norm)).astype(np.float64)
    # numpy's rounding (half the cost of round() per item) differs from the scorer's
    # round(x, 6) by at most 1e-6, and only on exact ties
    return dict(zip(items, np.round(np.maximum(sims, 0.0), 6).tolist(), strict=True))
