"""Intra-list diversity: the mean pairwise cosine distance 1 − cos(v_i, v_j) over a list's
item vectors (0: all alike; 1: pairwise orthogonal; up to 2 for opposite vectors)."""

from __future__ import annotations

import numpy as np


def intra_list_diversity(vectors: np.ndarray, normalize: bool = True) -> float:
    """ILD of the items whose vectors are the rows of ``vectors`` (any norm; a zero vector is
    at distance 1 from everything). ``normalize=False``: the rows' dot products already are
    the cosines (unit vectors, possibly with coordinates no other item shares left out).
    ValueError with fewer than two items: no pairs."""
    v = np.asarray(vectors, dtype=np.float64)
    if v.ndim != 2 or len(v) < 2:
        raise ValueError(f"intra-list diversity needs at least 2 items; got {len(v)}")
    unit = v
    if normalize:
        norms = np.linalg.norm(v, axis=1)
        unit = np.divide(v, norms[:, None], out=np.zeros_like(v), where=norms[:, None] > 0)
    cos = unit @ unit.T
    n = len(v)
    pairs = cos[np.triu_indices(n, k=1)]
    return float(np.mean(1.0 - pairs))
