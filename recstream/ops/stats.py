"""Small windowed statistics for the dashboard: percentiles and rates from counter samples."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """The ``q``-quantile (0 ≤ q ≤ 1) of ascending values, linearly interpolated.

    Matches numpy's default (``linear``) method; None for an empty sequence.
    """
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"quantile {q} outside [0, 1]")
    n = len(sorted_values)
    if n == 0:
        return None
    pos = q * (n - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def percentiles(values: Iterable[float], qs: Iterable[float] = (0.5, 0.95, 0.99)
                ) -> dict[str, float | None]:
    """``{"p50": …, "p95": …, "p99": …}`` of ``values`` (None where there are none)."""
    ordered = sorted(values)
    return {f"p{round(q * 100):d}": percentile(ordered, q) for q in qs}


def counter_rate(points: Sequence[tuple[float, float]], span_s: float) -> float:
    """Per-second increase of a monotonic counter over the last ``span_s`` seconds.

    ``points`` are (time s, counter value) in time order; a counter reset (the value drops)
    counts from zero, as Prometheus' ``rate()`` does. 0.0 with fewer than two points.
    """
    if len(points) < 2:
        return 0.0
    t_end = points[-1][0]
    recent = [p for p in points if p[0] >= t_end - span_s] or list(points[-2:])
    if len(recent) < 2:
        recent = list(points[-2:])
    increase = 0.0
    for (_, a), (_, b) in zip(recent, recent[1:], strict=False):
        increase += b - a if b >= a else b
    dt = recent[-1][0] - recent[0][0]
    return increase / dt if dt > 0 else 0.0
