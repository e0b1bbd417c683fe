"""Cosine similarity of sparse vectors: sim(i, j) = u_i · u_j / (‖u_i‖ ‖u_j‖)."""

from __future__ import annotations

import math
from collections.abc import Mapping


def dot(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b[k] for k, v in a.items() if k in b)


def norm(a: Mapping[str, float]) -> float:
    return math.sqrt(sum(v * v for v in a.values()))


def cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """Cosine similarity in [-1, 1]; 0 when either vector is empty or all zero."""
    na, nb = norm(a), norm(b)
    if na == 0 or nb == 0:
        return 0.0
    return max(-1.0, min(1.0, dot(a, b) / (na * nb)))  # rounding may step past ±1
