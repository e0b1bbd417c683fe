"""Cosine similarity of sparse vectors (recstream/core/similarity.py)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recstream.core.similarity import cosine, dot, norm


def test_dot_uses_shared_keys_only() -> None:
    # shared key b: 2 * 3 = 6
    assert dot({"a": 1.0, "b": 2.0}, {"b": 3.0, "c": 4.0}) == 6.0
    assert dot({"a": 1.0}, {}) == 0.0


def test_norm_is_euclidean() -> None:
    assert norm({"a": 3.0, "b": 4.0}) == 5.0  # sqrt(9 + 16)
    assert norm({}) == 0.0


def test_cosine_two_dims() -> None:
    # (1, 1) vs (1, 0): 1 / (sqrt(2) * 1)
    assert cosine({"x": 1.0, "y": 1.0}, {"x": 1.0}) == pytest.approx(1 / math.sqrt(2))


def test_cosine_three_dims() -> None:
    # a = (1, 2, 2), b = (2, 0, 1): a·b = 2 + 0 + 2 = 4, |a| = 3, |b| = sqrt(5)
    a = {"x": 1.0, "y": 2.0, "z": 2.0}
    b = {"x": 2.0, "z": 1.0}
    assert cosine(a, b) == pytest.approx(4 / (3 * math.sqrt(5)))  # ≈ 0.5963


def test_cosine_orthogonal_is_zero() -> None:
    assert cosine({"x": 1.0, "y": 2.0}, {"z": 5.0}) == 0.0
    assert cosine({"x": 1.0, "y": 1.0}, {"x": 1.0, "y": -1.0}) == 0.0  # 1 - 1 = 0


def test_cosine_identical_and_parallel_is_one() -> None:
    a = {"x": 0.3, "y": 0.7}
    assert cosine(a, a) == pytest.approx(1.0)
    assert cosine(a, {"x": 3.0, "y": 7.0}) == pytest.approx(1.0)


def test_cosine_opposite_is_minus_one() -> None:
    assert cosine({"x": 1.0, "y": 2.0}, {"x": -2.0, "y": -4.0}) == pytest.approx(-1.0)


def test_cosine_empty_or_zero_vector_is_zero() -> None:
    assert cosine({}, {"x": 1.0}) == 0.0
    assert cosine({"x": 1.0}, {}) == 0.0
    assert cosine({}, {}) == 0.0
    assert cosine({"x": 0.0}, {"x": 1.0}) == 0.0


def test_cosine_of_a_vector_with_itself_does_not_exceed_one() -> None:
    # BUG (low): the docstring promises [-1, 1], but (1, 5)·(1, 5) = 26 while
    # sqrt(26) * sqrt(26) = 26.000000000000004 in floats, so cosine = 1.0000000000000002.
    a = {"a": 1.0, "b": 5.0}
    assert cosine(a, a) <= 1.0


_value = st.integers(-100, 100).map(float)
_vector = st.dictionaries(st.sampled_from("abcdef"), _value, max_size=6)


@settings(deadline=None)
@given(a=_vector, b=_vector)
def test_cosine_is_symmetric(a: dict[str, float], b: dict[str, float]) -> None:
    assert cosine(a, b) == pytest.approx(cosine(b, a), rel=1e-12, abs=1e-12)


@settings(deadline=None)
@given(a=_vector, b=_vector)
def test_cosine_is_within_minus_one_and_one(a: dict[str, float], b: dict[str, float]) -> None:
    # a few ulps of float slack; the strict bound is checked above
    assert -1.0 - 1e-12 <= cosine(a, b) <= 1.0 + 1e-12


@settings(deadline=None)
@given(a=_vector, b=_vector, c=st.floats(0.01, 100.0))
def test_cosine_is_scale_invariant(a: dict[str, float], b: dict[str, float], c: float) -> None:
    scaled = {k: c * v for k, v in a.items()}
    flipped = {k: -c * v for k, v in a.items()}
    assert cosine(scaled, b) == pytest.approx(cosine(a, b), rel=1e-9, abs=1e-12)
    assert cosine(flipped, b) == pytest.approx(-cosine(a, b), rel=1e-9, abs=1e-12)
