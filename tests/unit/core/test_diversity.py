"""MMR re-ranking against hand-computed picks."""

from __future__ import annotations

import numpy as np
import pytest

from recstream.core.diversity import mmr

VECS = {"a": np.array([1.0, 0.0]), "b": np.array([1.0, 0.0]), "c": np.array([0.0, 2.0]),
        "d": np.array([1.0, 1.0])}
RANKED = [("a", 1.0), ("b", 0.9), ("c", 0.5), ("d", 0.45)]


def test_lambda_one_is_pure_relevance() -> None:
    assert mmr(RANKED, VECS.get, 3, 1.0) == ["a", "b", "c"]


def test_half_trade_off_by_hand() -> None:
    # λ = 0.5. Pick 1: a (0.5). Pick 2: b 0.45 − 0.5·1 = −0.05; c 0.25 − 0 = 0.25;
    # d 0.225 − 0.5·0.7071 = −0.129 → c. Pick 3: b still −0.05; d 0.225 − 0.5·0.7071 → b.
    assert mmr(RANKED, VECS.get, 3, 0.5) == ["a", "c", "b"]


def test_strong_diversity_by_hand() -> None:
    # λ = 0.2. Pick 1: a (0.2). Pick 2: b 0.18 − 0.8 = −0.62; c 0.1; d 0.09 − 0.566 → c.
    # Pick 3: b 0.18 − 0.8·max(1, 0) = −0.62; d 0.09 − 0.8·0.7071 = −0.476 → d.
    assert mmr(RANKED, VECS.get, 4, 0.2) == ["a", "c", "d", "b"]


def test_items_without_vectors_are_similar_to_nothing() -> None:
    ranked = [("a", 1.0), ("b", 0.9), ("x", 0.2)]
    # λ = 0.5: b 0.45 − 0.5 = −0.05; x (no vector) 0.1 − 0 → x second
    assert mmr(ranked, VECS.get, 3, 0.5) == ["a", "x", "b"]


def test_bad_lambda_is_rejected() -> None:
    with pytest.raises(ValueError, match="lambda"):
        mmr(RANKED, VECS.get, 3, 1.5)
