"""Rank metrics when the relevant item's score is tied with others.

If ``better`` items score strictly higher than the relevant item and ``tied`` items
(the relevant one included) score exactly the same, every order of the tied block is equally
justified, so the relevant item's rank is uniform on better+1 .. better+tied. We report the
expected value of the metric over that uniform rank: deterministic, and neither optimistic
(best rank) nor biased towards particular item ids.
"""

from __future__ import annotations

from collections.abc import Callable


def expected_over_ties(metric_at_rank: Callable[[int], float], better: int, tied: int,
                       zero_after: int | None = None) -> float:
    """Mean of ``metric_at_rank(r)`` for r in better+1 .. better+tied (``tied`` ≥ 1).

    ``zero_after``: the metric is known to be 0 for ranks above it (its cut-off k), so
    those ranks are not evaluated; the mean still divides by ``tied``.
    """
    if better < 0 or tied < 1:
        raise ValueError(f"need better >= 0 and tied >= 1; got {better}, {tied}")
    last = better + tied if zero_after is None else min(better + tied, zero_after)
    return sum(metric_at_rank(r) for r in range(better + 1, last + 1)) / tied
