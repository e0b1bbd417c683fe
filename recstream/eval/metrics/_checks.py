"""Argument checks shared by the metric modules."""

from __future__ import annotations


def check_k(k: int) -> None:
    if k < 1:
        raise ValueError(f"cut-off k must be >= 1; got {k}")


def check_rank(rank: int | None) -> None:
    if rank is not None and rank < 1:
        raise ValueError(f"ranks are 1-based; got {rank}")
