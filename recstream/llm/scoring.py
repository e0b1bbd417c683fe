"""Score candidates for a user with the encoder: cached item embeddings, a cheap user side.

Item embeddings are computed when an item is first seen or its text changes
(:class:`ItemEmbeddings`), never per request. The user side is either

* ``mean`` (default, measured better; see BENCHMARKS.md): the weight-averaged embedding of the
  user's recent items; no forward pass per request, or
* ``text``: one embedding of a text of the user's strongest terms and recent titles; one
  forward pass per *batch* of requests.

An LLM score is cosine(user, item) clipped to [0, 1]; unknown items score 0.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from recstream.llm.texts import item_text, user_text

USER_SIDES = ("mean", "text")


class TextEncoder(Protocol):
    name: str
    dim: int

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray: ...


@dataclass
class ScoreRequest:
    """One user event's candidates. ``history``: recent (item id, weight), oldest first;
    ``terms``: the user's strongest TF-IDF terms."""

    request_id: str
    user_id: str
    items: list[str]
    history: list[tuple[str, float]] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ScoreRequest:
        return cls(str(d["request_id"]), str(d["user_id"]), [str(i) for i in d["items"]],
                   [(str(i), float(w)) for i, w in d.get("history") or ()],
                   [str(t) for t in d.get("terms") or ()])


class ItemEmbeddings:
    """item id → (text hash, text, unit vector); re-embeds only new or changed texts.
    Without an encoder (the ``pairwise`` mode) it keeps the texts only."""

    def __init__(self, encoder: TextEncoder | None, batch_size: int = 64) -> None:
        self.encoder = encoder
        self.batch_size = batch_size
        self.titles: dict[str, str] = {}
        self._texts: dict[str, str] = {}
        self._vecs: dict[str, np.ndarray] = {}
        self._hash: dict[str, str] = {}
        self._pending: dict[str, str] = {}  # item id -> text awaiting embedding
        self._fresh: list[str] = []  # embedded since the last take_fresh()
        self._known: dict[str, tuple[str, np.ndarray]] = {}  # preloaded: id -> (digest, vec)

    def __len__(self) -> int:
        return len(self._texts) - len(self._pending)

    def upsert(self, record: Mapping[str, Any]) -> bool:
        """Queue ``record`` for embedding if its text changed; True when queued."""
        item_id, text = str(record["item_id"]), item_text(record)
        digest = hashlib.blake2b(text.encode(), digest_size=8).hexdigest()
        self.titles[item_id] = str(record.get("title") or item_id)
        if self._hash.get(item_id) == digest:
            return False
        self._hash[item_id] = digest
        self._texts[item_id] = text
        known = self._known.pop(item_id, None)
        if known is not None and known[0] == digest:  # embedded before, by this model
            self._vecs[item_id] = known[1]
            self._pending.pop(item_id, None)
            return False
        self._pending[item_id] = text
        return True

    def preload(self, item_id: str, digest: str, vector: np.ndarray) -> None:
        """A vector this model produced earlier for the item's text with ``digest`` (hex):
        the next :meth:`upsert` of that same text uses it instead of embedding it again
        (a restarted scorer reads back what it published)."""
        self._known[item_id] = (digest, vector)

    def unclaimed(self) -> list[str]:
        """Preloaded items no upsert has claimed (gone from the catalogue); forgets them."""
        out = [i for i in self._known if i not in self._texts]
        self._known.clear()
        return out

    def remove(self, item_id: str) -> None:
        for d in (self._vecs, self._hash, self._pending, self.titles, self._texts,
                  self._known):
            d.pop(item_id, None)

    @property
    def pending(self) -> int:
        return len(self._pending)

    def flush(self) -> int:
        """Embed every queued text (``batch_size`` per forward pass); returns how many."""
        if not self._pending:
            return 0
        ids, texts = list(self._pending), list(self._pending.values())
        self._pending.clear()
        if self.encoder is None:
            return len(ids)
        vecs = self.encoder.encode(texts, self.batch_size)
        for i, v in zip(ids, vecs, strict=True):
            self._vecs[i] = v
        self._fresh.extend(ids)
        return len(ids)

    def take_fresh(self) -> list[tuple[str, np.ndarray, str]]:
        """(item id, vector, text digest) of the items embedded since the last call and
        still in the catalogue, each once: what the scorer publishes to the workers."""
        fresh, self._fresh = self._fresh, []  # a flush in another thread appends to one
        out = []
        for i in dict.fromkeys(fresh):
            v, digest = self._vecs.get(i), self._hash.get(i)
            if v is not None and digest is not None and i not in self._pending:
                out.append((i, v, digest))
        return out

    def ids(self) -> list[str]:
        """Items ready to score (flushed)."""
        return [i for i in self._texts if i not in self._pending]

    def text(self, item_id: str) -> str | None:
        """The item's text once flushed (None when unknown or pending)."""
        return None if item_id in self._pending else self._texts.get(item_id)

    def get(self, item_id: str) -> np.ndarray | None:
        return self._vecs.get(item_id)


def mean_user_vector(history: Sequence[tuple[str, float]], items: ItemEmbeddings
                     ) -> np.ndarray | None:
    """Weighted mean of the known history items' vectors, renormalised (None if none)."""
    acc, total = None, 0.0
    for item_id, w in history:
        v = items.get(item_id)
        if v is None or w <= 0:
            continue
        acc = v * w if acc is None else acc + v * w
        total += w
    if acc is None:
        return None
    n = float(np.linalg.norm(acc))
    return acc / n if n > 0 else None


def score_batch(requests: Sequence[ScoreRequest], items: ItemEmbeddings,
                user_side: str = "mean") -> list[dict[str, float]]:
    """{item id: score in [0, 1]} per request, in order. ``text`` mode encodes all the
    batch's user texts in one forward pass (per ``items.batch_size`` texts)."""
    if user_side not in USER_SIDES:
        raise ValueError(f"user_side must be one of {USER_SIDES}, not {user_side!r}")
    items.flush()
    if user_side == "text":
        texts = [user_text(r.terms, [items.titles.get(i, i) for i, _ in r.history[-10:]])
                 for r in requests]
        nonempty = [i for i, t in enumerate(texts) if t]
        if items.encoder is None:
            raise ValueError("user_side='text' needs an encoder")
        vecs = items.encoder.encode([texts[i] for i in nonempty], items.batch_size) \
            if nonempty else []
        users: list[np.ndarray | None] = [None] * len(requests)
        for i, v in zip(nonempty, vecs, strict=True):
            users[i] = v
    else:
        users = [mean_user_vector(r.history, items) for r in requests]
    out = []
    for r, u in zip(requests, users, strict=True):
        scores: dict[str, float] = {}
        if u is not None:
            for item_id in r.items:
                v = items.get(item_id)
                scores[item_id] = round(max(0.0, float(v @ u)), 6) if v is not None else 0.0
        out.append(scores)
    return out
