"""Argument checks shared by the metric modules."""

from __future__ import annotations

from collections.abc import Sequence


def check_k(k: int) -> None:
    if k < 1:
        raise ValueError(f"cut-off k must be >= 1; got {k}")


def check_rank(rank: int | None) -> None:
    if rank is not None and rank < 1:
        raise ValueError(f"ranks are 1-based; got {rank}")


def check_pairs(actual: Sequence[float], predicted: Sequence[float], metric: str) -> None:
    """Ratings and predictions pair up one to one, and there is at least one pair."""
    if len(actual) != len(predicted):
        raise ValueError(f"{len(actual)} ratings but {len(predicted)} predictions")
    if not actual:
        raise ValueError(f"{metric} of no predictions is undefined")
