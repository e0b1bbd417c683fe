"""Root mean squared error: RMSE = sqrt(mean (r − r̂)²) (DESIGN.md)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from recstream.eval.metrics._checks import check_pairs


def rmse(actual: Sequence[float], predicted: Sequence[float]) -> float:
    """RMSE of paired ratings, on the ratings' scale. Raises ValueError if the lengths differ
    or there is nothing to compare."""
    check_pairs(actual, predicted, "RMSE")
    sq = sum((a - p) ** 2 for a, p in zip(actual, predicted, strict=True))
    return math.sqrt(sq / len(actual))
