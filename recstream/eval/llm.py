"""The LLM signal in the in-process harness, computed as the production scorer does.

Item side: :class:`recstream.llm.scoring.ItemEmbeddings` over the catalogue's item texts
(``item_text`` of each ``items`` record), encoded by :class:`recstream.llm.model.Encoder`
through :class:`CachedEncoder`, which keeps every vector on disk keyed by model name and text
hash (``.recstream/cache/embeddings-<model>.npz``) so a rerun encodes nothing.
User side: the scorer's default ``mean`` side, :func:`recstream.llm.scoring.mean_user_vector`
of the user's latest ``scorer.history_items`` items weighted by their interaction values,
exactly the history ``agents/score.py`` sends. Score: cos(user, item) clipped at 0 and
rounded to 6 decimals like ``score_batch``; items without a vector score 0.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from recstream.core.tfidf import Profile
from recstream.llm.scoring import ItemEmbeddings, TextEncoder, mean_user_vector
from recstream.settings import ROOT

log = logging.getLogger(__name__)

CACHE_DIR = ROOT / ".recstream" / "cache"


def text_key(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


class CachedEncoder:
    """A :class:`TextEncoder` that answers from an on-disk cache and loads the real encoder
    (``load()``) only when some text is missing. ``name`` must identify the model (and its
    quantisation): it names the cache file."""

    def __init__(self, name: str, load: Callable[[], TextEncoder],
                 cache_dir: Path | None = CACHE_DIR) -> None:
        self.name = name
        self._load = load
        self._inner: TextEncoder | None = None
        self.path = (cache_dir / f"embeddings-{re.sub(r'[^A-Za-z0-9._-]', '_', name)}.npz"
                     if cache_dir else None)
        self._cache: dict[str, np.ndarray] = {}
        self.hits = self.misses = 0
        if self.path and self.path.is_file():
            with np.load(self.path) as data:
                self._cache = dict(zip(data["keys"].tolist(), data["vecs"], strict=True))
        self.dim = next(iter(self._cache.values())).shape[0] if self._cache else 0

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        keys = [text_key(t) for t in texts]
        missing = list(dict.fromkeys(k for k in keys if k not in self._cache))
        self.hits += len(keys) - len(missing)
        self.misses += len(missing)
        if missing:
            if self._inner is None:
                self._inner = self._load()
                self.dim = self._inner.dim
            by_key = dict(zip(keys, texts, strict=True))
            vecs = self._inner.encode([by_key[k] for k in missing], batch_size)
            self._cache.update(zip(missing, vecs, strict=True))
            self._save()
        if not keys:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._cache[k] for k in keys]).astype(np.float32)

    def _save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp.npz")  # concurrent runs: last wins
        np.savez(tmp, keys=np.array(list(self._cache)), vecs=np.stack(list(self._cache.values())))
        tmp.replace(self.path)


def item_embeddings(records: Sequence[Mapping[str, Any]], encoder: TextEncoder,
                    batch_size: int = 64) -> ItemEmbeddings:
    """Every catalogue record embedded (the scorer's own cache type, flushed)."""
    items = ItemEmbeddings(encoder, batch_size)
    for r in records:
        items.upsert(r)
    items.flush()
    return items


def history(profile: Profile, n: int) -> list[tuple[str, float]]:
    """The user's latest ``n`` items with their values, oldest first (agents/score.py)."""
    return list(profile.items.items())[-n:]


class DenseScores(Mapping[str, float]):
    """A score per item position of an ItemSpace, read as a mapping item id -> score."""

    def __init__(self, values: np.ndarray, pos: Mapping[str, int]) -> None:
        self.values = values
        self.pos = pos

    def __getitem__(self, item_id: str) -> float:
        return float(self.values[self.pos[item_id]])

    def __iter__(self) -> Iterator[str]:
        return iter(self.pos)

    def __len__(self) -> int:
        return len(self.pos)


class LLMSignal:
    """LLM scores of every catalogue item (positions of ``ids``) for a user's history."""

    def __init__(self, items: ItemEmbeddings, ids: Sequence[str], history_items: int) -> None:
        self.items = items
        self.history_items = history_items
        self.pos = {i: n for n, i in enumerate(ids)}
        dim = next((v.shape[0] for v in map(items.get, ids) if v is not None), 1)
        self.matrix = np.zeros((len(ids), dim), dtype=np.float32)
        for n, i in enumerate(ids):
            v = items.get(i)
            if v is not None:
                self.matrix[n] = v

    def scores(self, profile: Profile) -> DenseScores | None:
        """clip(cos(user, item), 0) per item, rounded as score_batch does; None when the
        user has no embedded history (the scorer then returns no scores: all 0)."""
        u = mean_user_vector(history(profile, self.history_items), self.items)
        if u is None:
            return None
        return DenseScores(np.round(np.maximum(self.matrix @ u, 0.0).astype(np.float64), 6),
                           self.pos)
