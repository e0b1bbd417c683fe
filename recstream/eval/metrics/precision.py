"""Precision@k = |top k ∩ relevant| / k."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from recstream.eval.metrics._checks import check_k
from recstream.eval.metrics.hit import hit_at_rank


def precision(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Share of the k slots holding a relevant item; a list shorter than k still counts k
    slots (an empty slot is a miss)."""
    check_k(k)
    rel = set(relevant)
    return sum(1 for i in dict.fromkeys(ranked[:k]) if i in rel) / k


def precision_at_rank(rank: int | None, k: int) -> float:
    """Precision@k when exactly one item is relevant: 1/k on a hit, else 0."""
    return hit_at_rank(rank, k) / k
