"""NDCG@k with binary relevance: DCG = Σ_{i ≤ k, item_i relevant} 1 / log2(i + 1),
divided by the DCG of an ideal list (all relevant items first)."""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence

from recstream.eval.metrics._checks import check_k, check_rank


def _gain(position: int) -> float:
    return 1.0 / math.log2(position + 1)


def ndcg(ranked: Sequence[str], relevant: Collection[str], k: int) -> float:
    """NDCG@k in [0, 1] (ValueError if no item is relevant). A repeated item gains once."""
    check_k(k)
    rel = set(relevant)
    if not rel:
        raise ValueError("NDCG needs at least one relevant item")
    dcg = sum(_gain(i) for i, item in enumerate(dict.fromkeys(ranked[:k]), 1) if item in rel)
    ideal = sum(_gain(i) for i in range(1, min(k, len(rel)) + 1))
    return dcg / ideal


def ndcg_at_rank(rank: int | None, k: int) -> float:
    """NDCG@k of a single relevant item at 1-based ``rank``: 1 / log2(rank + 1) if rank ≤ k."""
    check_k(k)
    check_rank(rank)
    return _gain(rank) if rank is not None and rank <= k else 0.0
