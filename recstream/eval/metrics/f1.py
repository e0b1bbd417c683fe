"""F1@k: the harmonic mean of Precision@k and Recall@k."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from recstream.eval.metrics.precision import precision, precision_at_rank
from recstream.eval.metrics.recall import recall, recall_at_rank


def f1(p: float, r: float) -> float:
    """2pr / (p + r); 0 when both are 0."""
    return 2 * p * r / (p + r) if p + r > 0 else 0.0


def f1_at_k(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    return f1(precision(ranked, relevant, k), recall(ranked, relevant, k))


def f1_at_rank(rank: int | None, k: int) -> float:
    """F1@k of a single relevant item: 2 / (k + 1) on a hit, else 0."""
    return f1(precision_at_rank(rank, k), recall_at_rank(rank, k))
