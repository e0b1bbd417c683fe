"""HR@k: whether any relevant item is in the top k (Recall@k when one item is relevant)."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from recstream.eval.metrics._checks import check_k, check_rank


def hit(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """1.0 if any of ``relevant`` is among the first ``k`` of ``ranked``, else 0.0."""
    check_k(k)
    return 1.0 if any(i in relevant for i in ranked[:k]) else 0.0


def hit_at_rank(rank: int | None, k: int) -> float:
    """HR@k of a single relevant item found at 1-based ``rank`` (None: not ranked)."""
    check_k(k)
    check_rank(rank)
    return 1.0 if rank is not None and rank <= k else 0.0
