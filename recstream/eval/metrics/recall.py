"""Recall@k = |top k ∩ relevant| / |relevant|."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from recstream.eval.metrics._checks import check_k
from recstream.eval.metrics.hit import hit_at_rank


def recall(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """Share of ``relevant`` found in the first ``k`` of ``ranked`` (ValueError if none is
    relevant: recall is undefined then)."""
    check_k(k)
    if not relevant:
        raise ValueError("recall needs at least one relevant item")
    return len(set(ranked[:k]) & set(relevant)) / len(set(relevant))


def recall_at_rank(rank: int | None, k: int) -> float:
    """Recall@k of a single relevant item at 1-based ``rank``: the same as HR@k."""
    return hit_at_rank(rank, k)
