"""recstream.ops.stats: percentiles and counter rates."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from recstream.ops.stats import counter_rate, percentile, percentiles


def test_percentiles_by_hand() -> None:
    vals = [1.0, 2.0, 3.0, 4.0, 5.0]
    assert percentile(vals, 0.5) == 3.0
    assert percentile(vals, 0.0) == 1.0 and percentile(vals, 1.0) == 5.0
    assert percentile(vals, 0.9) == pytest.approx(4.6)
    assert percentiles([]) == {"p50": None, "p95": None, "p99": None}
    with pytest.raises(ValueError):
        percentile(vals, 1.5)


@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=50), st.floats(0, 1))
def test_percentile_matches_numpy(values: list[float], q: float) -> None:
    assert percentile(sorted(values), q) == pytest.approx(float(np.quantile(values, q)),
                                                          abs=1e-6)


def test_counter_rate() -> None:
    pts = [(0.0, 0.0), (1.0, 10.0), (2.0, 30.0), (3.0, 60.0)]
    assert counter_rate(pts, span_s=10) == pytest.approx(20.0)
    assert counter_rate(pts, span_s=1) == pytest.approx(30.0)  # last second only
    assert counter_rate(pts[:1], span_s=5) == 0.0
    # a reset (process restart) counts from zero
    assert counter_rate([(0.0, 50.0), (1.0, 5.0)], span_s=5) == pytest.approx(5.0)
