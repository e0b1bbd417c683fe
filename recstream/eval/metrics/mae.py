"""Mean absolute error: MAE = mean |r − r̂| (DESIGN.md)."""

from __future__ import annotations

from collections.abc import Sequence


def mae(actual: Sequence[float], predicted: Sequence[float]) -> float:
    """MAE of paired ratings, on the ratings' scale. Raises ValueError if the lengths differ
    or there is nothing to compare."""
    if len(actual) != len(predicted):
        raise ValueError(f"{len(actual)} ratings but {len(predicted)} predictions")
    if not actual:
        raise ValueError("MAE of no predictions is undefined")
    return sum(abs(a - p) for a, p in zip(actual, predicted, strict=True)) / len(actual)
