"""Reciprocal rank of the first relevant item (MRR is its mean over users or events)."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from recstream.eval.metrics._checks import check_k, check_rank


def reciprocal_rank(ranked: Sequence[str], relevant: Collection[str],
                    k: int | None = None) -> float:
    """1 / (1-based position of the first relevant item within the first ``k``), 0 if none
    (``k`` None: the whole list)."""
    if k is not None:
        check_k(k)
    for pos, item in enumerate(ranked[:k] if k is not None else ranked, 1):
        if item in relevant:
            return 1.0 / pos
    return 0.0


def reciprocal_rank_at_rank(rank: int | None, k: int | None = None) -> float:
    """1 / rank for a single relevant item (0 if unranked or below the cut-off ``k``)."""
    check_rank(rank)
    if k is not None:
        check_k(k)
    if rank is None or (k is not None and rank > k):
        return 0.0
    return 1.0 / rank
