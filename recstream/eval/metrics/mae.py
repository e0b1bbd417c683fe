"""Mean absolute error: MAE = mean |r − r̂| (DESIGN.md)."""

from __future__ import annotations

from collections.abc import Sequence

from recstream.eval.metrics._checks import check_pairs


def mae(actual: Sequence[float], predicted: Sequence[float]) -> float:
    """MAE of paired ratings, on the ratings' scale. Raises ValueError if the lengths differ
    or there is nothing to compare."""
    check_pairs(actual, predicted, "MAE")
    return sum(abs(a - p) for a, p in zip(actual, predicted, strict=True)) / len(actual)
