"""User-user CF (recstream/core/cf.py): neighbour selection and both prediction forms."""

from __future__ import annotations

import pytest

from recstream.core.cf import (
    Neighbour,
    predict_seed,
    predict_weighted,
    rank_scores,
    select_neighbours,
)

# Three neighbours, hand-made:  sim   items
#   v1                         0.9   i1 → 4, i2 → 2
#   v2                         0.5   i1 → 2
#   v3                         0.2   i1 → 5, i3 → 1
NEIGHBOURS = [
    Neighbour("v1", 0.9, {"i1": 4.0, "i2": 2.0}),
    Neighbour("v2", 0.5, {"i1": 2.0}),
    Neighbour("v3", 0.2, {"i1": 5.0, "i3": 1.0}),
]


def test_predict_seed_is_the_plain_neighbour_sum() -> None:
    assert predict_seed(NEIGHBOURS, "i1") == 11.0  # 4 + 2 + 5
    assert predict_seed(NEIGHBOURS, "i2") == 2.0
    assert predict_seed(NEIGHBOURS, "i3") == 1.0


def test_predict_weighted_is_the_similarity_weighted_mean() -> None:
    # i1: (0.9·4 + 0.5·2 + 0.2·5) / (0.9 + 0.5 + 0.2) = (3.6 + 1 + 1) / 1.6 = 3.5
    assert predict_weighted(NEIGHBOURS, "i1") == pytest.approx(3.5)
    # i2: only v1 supports it: 0.9·2 / 0.9 = 2
    assert predict_weighted(NEIGHBOURS, "i2") == pytest.approx(2.0)
    # i3: only v3: 0.2·1 / 0.2 = 1
    assert predict_weighted(NEIGHBOURS, "i3") == pytest.approx(1.0)


def test_predict_weighted_divides_by_absolute_similarity() -> None:
    ns = [Neighbour("a", 0.5, {"i": 4.0}), Neighbour("b", -0.5, {"i": 2.0})]
    # (0.5·4 − 0.5·2) / (|0.5| + |−0.5|) = (2 − 1) / 1 = 1
    assert predict_weighted(ns, "i") == pytest.approx(1.0)


def test_predictions_are_none_without_support() -> None:
    assert predict_seed(NEIGHBOURS, "i4") is None
    assert predict_weighted(NEIGHBOURS, "i4") is None
    assert predict_seed([], "i1") is None
    assert predict_weighted([], "i1") is None


def test_rank_scores_weighted_divides_by_all_neighbours_mass() -> None:
    scores, support = rank_scores(NEIGHBOURS, "weighted")
    # mass = 0.9 + 0.5 + 0.2 = 1.6
    # i1: 5.6 / 1.6 = 3.5;  i2: 0.9·2 / 1.6 = 1.125;  i3: 0.2·1 / 1.6 = 0.125
    assert scores == pytest.approx({"i1": 3.5, "i2": 1.125, "i3": 0.125})
    assert support == {"i1": 3, "i2": 1, "i3": 1}


def test_rank_scores_seed_is_the_plain_sum() -> None:
    scores, support = rank_scores(NEIGHBOURS, "seed")
    assert scores == pytest.approx({"i1": 11.0, "i2": 2.0, "i3": 1.0})
    assert support == {"i1": 3, "i2": 1, "i3": 1}


def test_rank_scores_default_form_is_weighted() -> None:
    assert rank_scores(NEIGHBOURS) == rank_scores(NEIGHBOURS, "weighted")


def test_rank_scores_of_no_neighbours_is_empty() -> None:
    assert rank_scores([], "weighted") == ({}, {})
    assert rank_scores([], "seed") == ({}, {})


SCORED = {"a": 0.3, "b": 0.1, "c": 0.5, "d": 0.3, "e": 0.05, "f": -0.4}


def test_select_neighbours_needs_sim_strictly_above_theta() -> None:
    # b has sim == θ = 0.1 exactly: excluded; e and f are below
    assert select_neighbours(SCORED, 0.1, 10) == [("c", 0.5), ("a", 0.3), ("d", 0.3)]
    assert select_neighbours(SCORED, 0.3, 10) == [("c", 0.5)]


def test_select_neighbours_orders_by_similarity_then_id_and_keeps_k() -> None:
    assert select_neighbours(SCORED, 0.0, 2) == [("c", 0.5), ("a", 0.3)]
    assert select_neighbours(SCORED, 0.0, 10) == [
        ("c", 0.5), ("a", 0.3), ("d", 0.3), ("b", 0.1), ("e", 0.05)]


def test_select_neighbours_theta_zero_drops_zero_and_negative() -> None:
    assert select_neighbours({"z": 0.0, "n": -0.2}, 0.0, 5) == []
    assert select_neighbours({}, 0.1, 5) == []
