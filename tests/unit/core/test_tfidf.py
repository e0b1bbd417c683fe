"""TF-IDF profiles (recstream/core/tfidf.py), checked against hand-worked values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recstream.core.similarity import cosine
from recstream.core.tfidf import (
    Profile,
    apply_event,
    decay_factor,
    idf,
    idf_array,
    tf,
    top_terms,
    weights,
)

# --- tf, idf, decay_factor -------------------------------------------------------------------


def test_tf_is_count_over_length() -> None:
    assert tf(3.0, 4.0) == 0.75  # 3 / 4
    assert tf(1.0, 8.0) == 0.125  # 1 / 8


def test_tf_of_empty_text_is_zero() -> None:
    assert tf(0.0, 0.0) == 0.0
    assert tf(1.0, 0.0) == 0.0


@pytest.mark.parametrize(
    ("n", "df", "expected"),
    [
        (4, 1, math.log2(5)),  # log2((4+1)/1) ≈ 2.3219
        (4, 2, math.log2(2.5)),  # log2(5/2) ≈ 1.3219
        (8, 1, math.log2(9)),  # log2(9/1) ≈ 3.1699
        (3, 1, 2.0),  # log2(4/1) = 2
        (4, 4, math.log2(1.25)),  # log2(5/4) ≈ 0.3219: a term every user has still weighs
        (1, 1, 1.0),  # the first user: log2(2/1) = 1, so their profile has a vector
        (943, 943, math.log2(944 / 943)),  # ≈ 0.0015: many users, close to the seed's 0
    ],
)
def test_idf_is_log2_of_n_plus_one_over_df(n: int, df: int, expected: float) -> None:
    assert idf(n, df) == pytest.approx(expected)


def test_idf_tends_to_the_seed_formula_for_many_users() -> None:
    # log2((N+1)/df) − log2(N/df) = log2(1 + 1/N): 0.0015 at N = 943, 1.4e-6 at N = 10^6
    assert idf(10**6, 10) - math.log2(10**6 / 10) == pytest.approx(math.log2(1 + 1e-6))


@pytest.mark.parametrize(("n", "df"), [(4, 0), (0, 0), (0, 1)])
def test_idf_is_zero_for_unseen_terms_and_no_users(n: int, df: int) -> None:
    assert idf(n, df) == 0.0


def test_transient_df_above_n_counts_as_n() -> None:
    assert idf(3, 5) == idf(3, 3) == pytest.approx(math.log2(4 / 3))


@given(st.integers(0, 10**6), st.lists(st.integers(0, 10**6), max_size=20))
def test_idf_array_is_idf_of_each(n: int, dfs: list[int]) -> None:
    got = idf_array(n, np.array(dfs, dtype=np.float64))
    assert got.tolist() == pytest.approx([idf(n, d) for d in dfs], rel=1e-12)


def test_decay_factor_halves_after_one_half_life() -> None:
    assert decay_factor(3600.0, 3600.0) == 0.5  # 2^(-1)
    assert decay_factor(7200.0, 3600.0) == 0.25  # 2^(-2)
    assert decay_factor(1800.0, 3600.0) == pytest.approx(2**-0.5)  # ≈ 0.7071


@pytest.mark.parametrize(("dt", "half_life"), [(1e6, 0.0), (0.0, 10.0), (-5.0, 10.0)])
def test_decay_factor_is_one_when_off_or_no_time_passed(dt: float, half_life: float) -> None:
    assert decay_factor(dt, half_life) == 1.0


# --- Profile ---------------------------------------------------------------------------------


def test_profile_tfs() -> None:
    p = Profile(counts={"a": 1.0, "b": 3.0}, length=4.0)
    assert p.tfs() == {"a": 0.25, "b": 0.75}  # 1/4, 3/4
    assert p.tf("b") == 0.75
    assert p.tf("missing") == 0.0
    assert Profile().tfs() == {}


def test_profile_dict_round_trip() -> None:
    p = Profile(counts={"a": 1.5}, length=1.5, ts=10.0, items={"i1": 4.0}, events=2)
    assert Profile.from_dict(p.to_dict()) == p
    assert Profile.from_dict(None) == Profile()
    assert Profile.from_dict({}) == Profile()


# --- weights and top_terms -------------------------------------------------------------------


def test_tfidf_weights_of_a_toy_corpus() -> None:
    # Four users' texts (weight 1 per event):
    #   A: apple apple banana   -> c = {apple 2, banana 1}, |s| = 3
    #   B: banana cherry        -> c = {banana 1, cherry 1}, |s| = 2
    #   C: date
    #   D: date apple
    # N = 4; df(apple)=2, df(banana)=2, df(cherry)=1, df(date)=2
    # idf = log2((N+1)/df): b = log2(5/2) ≈ 1.3219 for apple, banana, date; a = log2 5 for cherry
    texts = {"A": {"apple": 2, "banana": 1}, "B": {"banana": 1, "cherry": 1},
             "C": {"date": 1}, "D": {"date": 1, "apple": 1}}
    profiles = {}
    for user, terms in texts.items():
        profiles[user] = Profile()
        apply_event(profiles[user], terms, 1.0, 100.0, "item-" + user, 1.0)
    df = {t: sum(t in p.counts for p in profiles.values()) for t in
          ("apple", "banana", "cherry", "date")}
    assert df == {"apple": 2, "banana": 2, "cherry": 1, "date": 2}
    a, b = math.log2(5), math.log2(2.5)
    idf_of = {t: idf(4, d) for t, d in df.items()}
    assert idf_of == pytest.approx({"apple": b, "banana": b, "cherry": a, "date": b})

    u_a = weights(profiles["A"].tfs(), idf_of)
    u_b = weights(profiles["B"].tfs(), idf_of)
    # A: apple 2/3 · b, banana 1/3 · b;  B: banana 1/2 · b, cherry 1/2 · a
    assert u_a == pytest.approx({"apple": 2 * b / 3, "banana": b / 3})
    assert u_b == pytest.approx({"banana": b / 2, "cherry": a / 2})
    # sim(A, B) = (b/3 · b/2) / (sqrt(5)/3 · b · sqrt(a² + b²)/2) = b / (sqrt(5) · sqrt(a² + b²))
    #           = 1.3219 / (2.2361 · 2.6719) ≈ 0.2213
    assert cosine(u_a, u_b) == pytest.approx(b / (math.sqrt(5) * math.sqrt(a * a + b * b)))
    assert cosine(u_a, u_b) == pytest.approx(0.2213, abs=1e-4)


def test_weights_drop_zero_idf_and_unknown_terms() -> None:
    # tf 0.5 * idf 0 = 0 (dropped), tf 0.25 with no idf entry = 0 (dropped), 0.25 * 2 = 0.5
    assert weights({"common": 0.5, "unknown": 0.25, "rare": 0.25},
                   {"common": 0.0, "rare": 2.0}) == {"rare": 0.5}


def test_top_terms_orders_by_weight_then_term() -> None:
    v = {"b": 2.0, "a": 2.0, "c": 3.0, "d": 1.0}
    assert top_terms(v, 3) == [("c", 3.0), ("a", 2.0), ("b", 2.0)]
    assert top_terms(v, 10) == [("c", 3.0), ("a", 2.0), ("b", 2.0), ("d", 1.0)]
    assert top_terms(v, 0) == []
    assert top_terms({}, 3) == []


# --- apply_event: weights, items, change report ----------------------------------------------


def test_event_weight_multiplies_counts() -> None:
    p = Profile()
    apply_event(p, {"x": 2.0, "y": 1.0}, 3.0, 100.0, "i1", 3.0)
    # x: 2 * 3 = 6, y: 1 * 3 = 3, |s| = 9
    assert p.counts == {"x": 6.0, "y": 3.0}
    assert p.length == 9.0
    assert p.tf("x") == pytest.approx(6 / 9)
    assert p.events == 1
    assert p.ts == 100.0


def test_item_value_keeps_the_strongest_interaction() -> None:
    p = Profile()
    apply_event(p, {}, 1.0, 100.0, "i1", 4.0)
    apply_event(p, {}, 1.0, 101.0, "i1", 2.0)  # weaker: 4 stays
    assert p.items == {"i1": 4.0}
    apply_event(p, {}, 1.0, 102.0, "i1", 5.0)  # stronger: 5 replaces 4
    apply_event(p, {}, 1.0, 103.0, "i2", 1.0)
    assert p.items == {"i1": 5.0, "i2": 1.0}
    assert p.events == 4


def test_change_reports_touched_and_new_terms_and_new_user() -> None:
    p = Profile()
    first = apply_event(p, {"x": 1.0, "y": 1.0}, 1.0, 100.0, "i1", 1.0)
    assert first.new_user is True
    assert first.touched == ("x", "y")
    assert first.new_terms == ("x", "y")
    second = apply_event(p, {"y": 1.0, "z": 1.0}, 1.0, 101.0, "i2", 1.0)
    assert second.new_user is False
    assert second.touched == ("y", "z")
    assert second.new_terms == ("z",)


# --- apply_event: time decay -----------------------------------------------------------------

H = 100.0  # half-life (s) used by the decay tests


def test_events_one_half_life_apart_halve_the_first() -> None:
    p = Profile()
    apply_event(p, {"x": 1.0}, 1.0, 1000.0, "i1", 1.0, half_life_s=H)
    apply_event(p, {"y": 1.0}, 1.0, 1000.0 + H, "i2", 1.0, half_life_s=H)
    # x decayed by 2^(-100/100) = 0.5; y fresh; |s| = 0.5 + 1 = 1.5; reference ts moves on
    assert p.counts == pytest.approx({"x": 0.5, "y": 1.0})
    assert p.length == pytest.approx(1.5)
    assert p.ts == 1100.0
    assert p.tf("x") == pytest.approx(1 / 3)  # 0.5 / 1.5


def test_out_of_order_event_is_decayed_to_the_reference_time() -> None:
    p = Profile()
    apply_event(p, {"y": 1.0}, 1.0, 1100.0, "i2", 1.0, half_life_s=H)
    apply_event(p, {"x": 1.0}, 1.0, 1000.0, "i1", 1.0, half_life_s=H)  # late by one half-life
    # same state as in order: x = 1 * 0.5, y = 1, |s| = 1.5, reference stays at 1100
    assert p.counts == pytest.approx({"x": 0.5, "y": 1.0})
    assert p.length == pytest.approx(1.5)
    assert p.ts == 1100.0


def test_decay_off_when_half_life_is_zero() -> None:
    p = Profile()
    apply_event(p, {"x": 1.0}, 1.0, 1000.0, "i1", 1.0, half_life_s=0.0)
    apply_event(p, {"x": 1.0}, 2.0, 1e9, "i2", 1.0, half_life_s=0.0)
    # 1 + 1 * 2 = 3, no decay however far apart
    assert p.counts == {"x": 3.0}
    assert p.length == 3.0
    assert p.ts == 1e9


_events = st.lists(
    st.tuples(
        st.integers(0, 1000).map(float),  # event time (s)
        st.dictionaries(st.sampled_from("abcd"), st.integers(1, 5).map(float), max_size=3),
        st.sampled_from([0.5, 1.0, 3.0]),  # weight
    ),
    min_size=1,
    max_size=6,
)


@settings(deadline=None)
@given(events=_events, data=st.data(), half_life=st.sampled_from([0.0, 50.0, 300.0]))
def test_profile_does_not_depend_on_arrival_order(events, data, half_life: float) -> None:
    order = data.draw(st.permutations(range(len(events))))
    in_order, shuffled = Profile(), Profile()
    for i, (ts, terms, w) in enumerate(sorted(events, key=lambda e: e[0])):
        apply_event(in_order, terms, w, ts, f"i{i}", w, half_life_s=half_life)
    for i in order:
        ts, terms, w = events[i]
        apply_event(shuffled, terms, w, ts, f"j{i}", w, half_life_s=half_life)
    assert shuffled.ts == in_order.ts == max(e[0] for e in events)
    assert shuffled.counts.keys() == in_order.counts.keys()
    for t, c in in_order.counts.items():
        assert shuffled.counts[t] == pytest.approx(c, rel=1e-9, abs=1e-12)
    assert shuffled.length == pytest.approx(in_order.length, rel=1e-9, abs=1e-12)


# --- apply_event: pruning --------------------------------------------------------------------


def test_pruning_keeps_the_largest_counts() -> None:
    p = Profile()
    change = apply_event(p, {"a": 1.0, "b": 5.0, "c": 3.0}, 1.0, 100.0, "i1", 1.0, max_terms=2)
    assert p.counts == {"b": 5.0, "c": 3.0}
    assert p.length == 8.0  # 5 + 3: the pruned a's count leaves |s| too
    assert change.new_terms == ("b", "c")  # a never made it into the profile
    assert change.touched == ("b", "c")  # only terms still in the profile get index updates


def test_pruning_ties_keep_the_smaller_term() -> None:
    p = Profile()
    apply_event(p, {"c": 2.0, "b": 2.0, "a": 2.0}, 1.0, 100.0, "i1", 1.0, max_terms=2)
    assert p.counts == {"a": 2.0, "b": 2.0}
    assert p.length == 4.0


def test_pruning_across_events_keeps_length_the_sum_of_counts() -> None:
    p = Profile()
    apply_event(p, {"a": 1.0, "b": 5.0}, 1.0, 100.0, "i1", 1.0, max_terms=2)
    apply_event(p, {"c": 3.0}, 1.0, 101.0, "i2", 1.0, max_terms=2)
    # {a 1, b 5, c 3} -> keep b, c; |s| = 9 - 1 = 8
    assert p.counts == {"b": 5.0, "c": 3.0}
    assert p.length == 8.0


@settings(deadline=None)
@given(events=_events, max_terms=st.integers(1, 3), half_life=st.sampled_from([0.0, 50.0]))
def test_pruned_profile_stays_consistent(events, max_terms: int, half_life: float) -> None:
    p = Profile()
    for i, (ts, terms, w) in enumerate(events):
        apply_event(p, terms, w, ts, f"i{i}", w, half_life_s=half_life, max_terms=max_terms)
        assert len(p.counts) <= max_terms
        assert p.length == pytest.approx(sum(p.counts.values()), rel=1e-9, abs=1e-9)
        assert all(c > 0 for c in p.counts.values())
