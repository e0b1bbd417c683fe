"""Diversity re-ranking: maximal marginal relevance (Carbonell & Goldstein, 1998).

Given candidates with relevance scores and item vectors, MMR builds the list greedily: the
next item is the one maximising

    λ · rel(i) − (1 − λ) · max_{j already chosen} cos(v_i, v_j)

(the max is 0 for the first pick). λ = 1 is pure relevance (the input order: off), λ = 0 picks
the item least similar to the list so far. Relevance is used as given: the blend's scores lie
in [0, Σ weights], so λ trades them against cosines in [−1, 1]. Ties break by the input order
(the blend's, i.e. score then item id). An item without a vector is similar to nothing.
Vectors are normalised first unless ``normalize=False`` says their dot products already are
the cosines (e.g. unit vectors with the coordinates no other item shares left out).
Pure: numpy only, no Kafka.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np


def mmr(ranked: Sequence[tuple[str, float]], vector: Callable[[str], np.ndarray | None],
        k: int, lam: float, normalize: bool = True) -> list[str]:
    """The top ``k`` item ids of ``ranked`` ((item id, relevance), best first) re-ordered by
    maximal marginal relevance with trade-off ``lam`` in [0, 1]."""
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"mmr lambda must be in [0, 1]; got {lam}")
    if k < 1:
        raise ValueError(f"k must be >= 1; got {k}")
    if lam >= 1.0 or len(ranked) <= 1:
        return [i for i, _ in ranked[:k]]
    ids = [i for i, _ in ranked]
    rel = np.array([r for _, r in ranked], dtype=np.float64)
    vecs = [vector(i) for i in ids]
    dim = next((len(v) for v in vecs if v is not None), 0)
    mat = np.zeros((len(ids), max(dim, 1)))
    for n, v in enumerate(vecs):
        if v is not None:
            norm = float(np.linalg.norm(v)) if normalize else 1.0
            if norm > 0:
                mat[n, :dim] = np.asarray(v, dtype=np.float64) / norm
    max_sim = np.zeros(len(ids))
    chosen = np.zeros(len(ids), dtype=bool)
    out: list[str] = []
    for _ in range(min(k, len(ids))):
        gain = lam * rel - (1.0 - lam) * max_sim
        gain[chosen] = -np.inf
        best = int(np.argmax(gain))  # first maximum: input order breaks ties
        chosen[best] = True
        out.append(ids[best])
        max_sim = np.maximum(max_sim, mat @ mat[best])
    return out
