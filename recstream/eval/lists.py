"""Per-list statistics beside accuracy: intra-list diversity and novelty.

Item vectors for diversity (and for the MMR re-rank) are the items' TF-IDF vectors under the
*catalogue's* idf, log2(|catalogue| / items containing the term): fixed for a dataset, free of
the replay's state and of the optional LLM, so every variant, peer and setting is measured on
the same scale. Rows are unit vectors restricted to the terms shared by two or more items
(their dot products are the exact cosines: a term of one item only adds nothing to any dot
product, but it is counted in the norm). Novelty uses the interaction counts of the training
data (loo) or of the stream so far (prequential).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from recstream.core.diversity import mmr
from recstream.eval.metrics import intra_list_diversity, novelty


class ItemVectors:
    """Unit TF-IDF vectors of catalogue items (rows in ``ids`` order)."""

    def __init__(self, catalogue: Any, ids: Sequence[str]) -> None:
        items = [catalogue.get(i) for i in ids]
        df: dict[str, int] = {}
        for it in items:
            for t in it.tf if it else ():
                df[t] = df.get(t, 0) + 1
        n = max(len(ids), 1)
        idf = {t: math.log2(n / d) for t, d in df.items()}
        shared = sorted(t for t, d in df.items() if d > 1 and idf[t] > 0)
        col = {t: c for c, t in enumerate(shared)}
        self.pos = {i: n for n, i in enumerate(ids)}
        self.matrix = np.zeros((len(ids), max(len(shared), 1)), dtype=np.float32)
        for r, it in enumerate(items):
            if not it:
                continue
            w = {t: f * idf[t] for t, f in it.tf.items() if idf[t] > 0}
            norm = math.sqrt(sum(x * x for x in w.values()))
            for t, x in w.items():
                if t in col and norm > 0:
                    self.matrix[r, col[t]] = x / norm

    def mmr(self, ranked: Sequence[tuple[str, float]], k: int, lam: float) -> list[str]:
        """:func:`recstream.core.diversity.mmr` over these vectors (already cosine-ready)."""
        return mmr(ranked, self.get, k, lam, normalize=False)

    def get(self, item_id: str) -> np.ndarray | None:
        p = self.pos.get(item_id)
        return self.matrix[p] if p is not None else None

    def rows(self, item_ids: Sequence[str]) -> np.ndarray:
        return self.matrix[[self.pos[i] for i in item_ids if i in self.pos]]


class ListStats:
    """``ild`` and ``novelty`` of a top-k list; novelty against ``counts`` (item ->
    interactions) out of ``total`` at the time the list is judged."""

    def __init__(self, vectors: ItemVectors, catalogue_size: int) -> None:
        self.vectors = vectors
        self.catalogue_size = catalogue_size

    def describe(self, ranked: Sequence[str], counts: Mapping[str, float],
                 total: float) -> dict[str, float]:
        out: dict[str, float] = {}
        rows = self.vectors.rows(ranked)
        if len(rows) >= 2:
            out["ild"] = intra_list_diversity(rows, normalize=False)
        if ranked:
            out["novelty"] = novelty(ranked, counts, total, self.catalogue_size)
        return out
