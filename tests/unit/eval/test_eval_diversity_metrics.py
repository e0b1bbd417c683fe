"""Intra-list diversity and novelty against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from recstream.core.catalogue import Catalogue
from recstream.eval.lists import ItemVectors, ListStats
from recstream.eval.metrics import intra_list_diversity, novelty, self_information


def test_ild_by_hand() -> None:
    # pairs: (x, x) cos 1 -> 0; (x, y) cos 0 -> 1; (x, d) and (x, d) cos 1/√2 -> 1 − 0.7071
    v = np.array([[1.0, 0.0], [2.0, 0.0], [0.0, 3.0]])
    assert intra_list_diversity(v) == pytest.approx((0 + 1 + 1) / 3)
    d = np.array([[1.0, 0.0], [1.0, 1.0]])
    assert intra_list_diversity(d) == pytest.approx(1 - 1 / math.sqrt(2))
    opposite = np.array([[1.0, 0.0], [-1.0, 0.0]])
    assert intra_list_diversity(opposite) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="at least 2"):
        intra_list_diversity(np.array([[1.0, 0.0]]))


def test_novelty_by_hand() -> None:
    # 6 interactions over a 2-item catalogue: p(a) = (5 + 1) / 8, p(b) = (1 + 1) / 8
    counts = {"a": 5, "b": 1}
    assert self_information(5, 6, 2) == pytest.approx(-math.log2(6 / 8))
    assert novelty(["a", "b"], counts, 6, 2) == pytest.approx(
        (-math.log2(6 / 8) - math.log2(2 / 8)) / 2)
    # an item never seen is the most novel, finitely: p = 1 / 8
    assert novelty(["zz"], counts, 6, 2) == pytest.approx(3.0)
    with pytest.raises(ValueError):
        novelty([], counts, 6, 2)


def test_list_stats_use_catalogue_tfidf_cosines() -> None:
    cat = Catalogue()
    for i, title in (("a", "jazz piano"), ("b", "jazz guitar"), ("c", "alpine hiking"),
                     ("d", "alpine guitar")):
        cat.upsert({"item_id": i, "title": title})
    vec = ItemVectors(cat, ["a", "b", "c", "d"])
    # idf = log2(4/2) = 1 for jazz, guitar, alpine; piano and hiking log2(4) = 2 (own terms)
    # a = (jazz 0.5, piano 1.0) · tf 0.5 each -> weights (0.5, 1.0), norm √1.25
    # b = (jazz 0.5, guitar 0.5) -> norm √0.5; cos(a, b) = 0.25 / (√1.25 · √0.5)
    cos_ab = 0.25 / (math.sqrt(1.25) * math.sqrt(0.5))
    got = ListStats(vec, 4).describe(["a", "b"], {"a": 1}, 1)
    assert got["ild"] == pytest.approx(1 - cos_ab, rel=1e-6)
    assert got["novelty"] == pytest.approx((-math.log2(2 / 5) - math.log2(1 / 5)) / 2)
    # a and c share nothing: distance 1; a one-item list has no ILD
    assert ListStats(vec, 4).describe(["a", "c"], {}, 0)["ild"] == pytest.approx(1.0)
    assert "ild" not in ListStats(vec, 4).describe(["a"], {}, 0)
