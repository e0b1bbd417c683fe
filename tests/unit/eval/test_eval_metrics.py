"""Every metric against hand-computed values, plus a few Hypothesis properties."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from recstream.eval.metrics import (
    coverage,
    expected_over_ties,
    f1,
    f1_at_k,
    f1_at_rank,
    hit,
    hit_at_rank,
    mae,
    ndcg,
    ndcg_at_rank,
    precision,
    precision_at_rank,
    recall,
    recall_at_rank,
    reciprocal_rank,
    reciprocal_rank_at_rank,
    rmse,
)

RANKED = ["a", "b", "c", "d", "e"]


def test_mae_and_rmse_by_hand() -> None:
    # errors 1, -2, 0.5 -> MAE = 3.5/3; RMSE = sqrt((1 + 4 + 0.25)/3) = sqrt(1.75)
    assert mae([4, 3, 5], [3, 5, 4.5]) == pytest.approx(3.5 / 3)
    assert rmse([4, 3, 5], [3, 5, 4.5]) == pytest.approx(math.sqrt(1.75))
    assert mae([2.0], [2.0]) == rmse([2.0], [2.0]) == 0.0


@pytest.mark.parametrize("f", [mae, rmse])
def test_error_metrics_reject_bad_input(f: Callable[..., float]) -> None:
    with pytest.raises(ValueError):
        f([], [])
    with pytest.raises(ValueError):
        f([1.0], [1.0, 2.0])


def test_hit_by_hand() -> None:
    assert hit(RANKED, {"c"}, 3) == 1.0
    assert hit(RANKED, {"d"}, 3) == 0.0
    assert hit(RANKED, {"z"}, 5) == 0.0
    assert hit_at_rank(3, 3) == 1.0 and hit_at_rank(4, 3) == 0.0 and hit_at_rank(None, 3) == 0.0


def test_precision_recall_f1_by_hand() -> None:
    rel = {"b", "d", "z"}
    # top 4 = a b c d: 2 relevant -> P@4 = 2/4, R@4 = 2/3, F1 = 2·(1/2)(2/3)/(1/2 + 2/3) = 4/7
    assert precision(RANKED, rel, 4) == pytest.approx(0.5)
    assert recall(RANKED, rel, 4) == pytest.approx(2 / 3)
    assert f1_at_k(RANKED, rel, 4) == pytest.approx(4 / 7)
    assert f1(0.0, 0.0) == 0.0
    # a short list still has k slots
    assert precision(["b"], rel, 10) == pytest.approx(0.1)
    # one relevant item at rank 2 with k = 10: P = 1/10, R = 1, F1 = 2/11
    assert precision_at_rank(2, 10) == pytest.approx(0.1)
    assert recall_at_rank(2, 10) == 1.0
    assert f1_at_rank(2, 10) == pytest.approx(2 / 11)
    assert f1_at_rank(11, 10) == 0.0


def test_ndcg_by_hand() -> None:
    # relevant b (pos 2) and d (pos 4): DCG = 1/log2(3) + 1/log2(5); IDCG = 1 + 1/log2(3)
    want = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert ndcg(RANKED, {"b", "d"}, 5) == pytest.approx(want)
    assert ndcg(RANKED, {"a"}, 1) == 1.0
    assert ndcg(RANKED, {"e"}, 4) == 0.0
    assert ndcg_at_rank(3, 10) == pytest.approx(0.5)  # 1/log2(4)
    assert ndcg_at_rank(11, 10) == 0.0
    with pytest.raises(ValueError):
        ndcg(RANKED, set(), 3)


def test_reciprocal_rank_by_hand() -> None:
    assert reciprocal_rank(RANKED, {"c", "e"}) == pytest.approx(1 / 3)
    assert reciprocal_rank(RANKED, {"e"}, k=4) == 0.0
    assert reciprocal_rank_at_rank(4) == 0.25
    assert reciprocal_rank_at_rank(4, k=3) == 0.0
    assert reciprocal_rank_at_rank(None) == 0.0


def test_coverage_by_hand() -> None:
    assert coverage([["a", "b"], ["b", "c"]], 6) == pytest.approx(0.5)
    assert coverage([], 3) == 0.0
    with pytest.raises(ValueError):
        coverage([["a"]], 0)


def test_bad_cutoffs_and_ranks_are_rejected() -> None:
    with pytest.raises(ValueError):
        hit(RANKED, {"a"}, 0)
    with pytest.raises(ValueError):
        ndcg_at_rank(0, 10)


def test_expected_over_ties_by_hand() -> None:
    # 1 better item, 4 tied: rank uniform on 2..5; HR@3 hits at ranks 2, 3 -> 2/4
    assert expected_over_ties(lambda r: hit_at_rank(r, 3), 1, 4) == pytest.approx(0.5)
    # MRR: (1/2 + 1/3 + 1/4 + 1/5) / 4
    assert expected_over_ties(reciprocal_rank_at_rank, 1, 4) == pytest.approx(
        (1 / 2 + 1 / 3 + 1 / 4 + 1 / 5) / 4)
    # no tie: the plain value
    assert expected_over_ties(lambda r: ndcg_at_rank(r, 10), 0, 1) == 1.0
    with pytest.raises(ValueError):
        expected_over_ties(reciprocal_rank_at_rank, 0, 0)


lists = st.lists(st.sampled_from("abcdefghij"), min_size=1, max_size=10, unique=True)
relevant = st.sets(st.sampled_from("abcdefghijkl"), min_size=1, max_size=5)
ks = st.integers(min_value=1, max_value=12)


@given(lists, relevant, ks)
def test_ranking_metrics_are_probabilities(ranked: list[str], rel: set[str], k: int) -> None:
    for v in (hit(ranked, rel, k), precision(ranked, rel, k), recall(ranked, rel, k),
              ndcg(ranked, rel, k), reciprocal_rank(ranked, rel, k), f1_at_k(ranked, rel, k)):
        assert 0.0 <= v <= 1.0 + 1e-12


@given(lists, relevant, ks)
def test_recall_and_hit_grow_with_k(ranked: list[str], rel: set[str], k: int) -> None:
    assert recall(ranked, rel, k) <= recall(ranked, rel, k + 1)
    assert hit(ranked, rel, k) <= hit(ranked, rel, k + 1)
    assert (hit(ranked, rel, k) > 0) == (recall(ranked, rel, k) > 0)


@given(st.lists(st.tuples(st.floats(-5, 5), st.floats(-5, 5)), min_size=1, max_size=30))
def test_rmse_is_at_least_mae(pairs: list[tuple[float, float]]) -> None:
    a, p = [x for x, _ in pairs], [y for _, y in pairs]
    assert rmse(a, p) >= mae(a, p) - 1e-9


@given(st.integers(0, 6), st.integers(1, 6), st.integers(1, 8))
def test_expected_over_ties_is_the_mean_over_every_order(better: int, tied: int, k: int
                                                        ) -> None:
    # brute force: every order of the tied block, the relevant item is t0
    block = [f"t{i}" for i in range(tied)]
    head = [f"b{i}" for i in range(better)]
    orders = list(itertools.permutations(block))
    want = sum(ndcg(head + list(o), {"t0"}, k) for o in orders) / len(orders)
    got = expected_over_ties(lambda r: ndcg_at_rank(r, k), better, tied, zero_after=k)
    assert got == pytest.approx(want)


@given(lists, st.sampled_from("abcdefghij"), ks)
def test_rank_forms_agree_with_list_forms(ranked: list[str], item: str, k: int) -> None:
    rank = ranked.index(item) + 1 if item in ranked else None
    assert hit_at_rank(rank, k) == hit(ranked, {item}, k)
    assert ndcg_at_rank(rank, k) == pytest.approx(ndcg(ranked, {item}, k))
    assert precision_at_rank(rank, k) == pytest.approx(precision(ranked, {item}, k))
    assert reciprocal_rank_at_rank(rank, k) == pytest.approx(reciprocal_rank(ranked, {item}, k))
