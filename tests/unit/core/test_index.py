"""The global term index (recstream/core/index.py): df, capped postings, popularity, trending."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recstream.core.index import (
    add_popularity,
    add_posting,
    add_user,
    merge_trending,
    trend_key,
    update_trending,
)

# --- postings and document frequency ---------------------------------------------------------


def test_add_posting_counts_df_only_for_new_users() -> None:
    e = add_posting(None, "u1", 0.5, True, 10)
    assert e == {"df": 1, "p": {"u1": 0.5}}
    e = add_posting(e, "u1", 0.25, False, 10)  # u1's tf changed, no new user
    assert e == {"df": 1, "p": {"u1": 0.25}}
    e = add_posting(e, "u2", 0.1, True, 10)
    assert e == {"df": 2, "p": {"u1": 0.25, "u2": 0.1}}


def test_add_posting_does_not_mutate_its_input() -> None:
    before = {"df": 1, "p": {"u1": 0.5}}
    add_posting(before, "u2", 0.3, True, 10)
    assert before == {"df": 1, "p": {"u1": 0.5}}


def test_cap_evicts_the_lowest_tf_but_df_counts_everyone() -> None:
    e = None
    for user, tf in [("u1", 0.5), ("u2", 0.2), ("u3", 0.3)]:
        e = add_posting(e, user, tf, True, 2)
    # u2 has the lowest tf (0.2 < 0.3 < 0.5): evicted; df still counts all three users
    assert e == {"df": 3, "p": {"u1": 0.5, "u3": 0.3}}


@pytest.mark.parametrize("order", [("a", "b"), ("b", "a")])
def test_cap_ties_evict_the_larger_user_id(order: tuple[str, str]) -> None:
    e = add_posting(None, "top", 0.9, True, 2)
    for user in order:
        e = add_posting(e, user, 0.2, True, 2)
    assert e["p"] == {"top": 0.9, "a": 0.2}  # "b" > "a": b goes, whatever the order


def test_cap_ties_evict_the_larger_user_id_when_one_id_prefixes_the_other() -> None:
    # BUG: index._neg maps "a" -> (-97,) and "ab" -> (-97, -98); (-97,) < (-97, -98), so min()
    # picks "a" and evicts the *smaller* id, contradicting "ties: lower user id kept".
    for pair in [("a", "ab"), ("ab", "a"), ("1", "10"), ("10", "1")]:
        e = None
        for user in pair:
            e = add_posting(e, user, 0.2, True, 1)
        kept = min(pair)  # "a" < "ab", "1" < "10"
        assert e["p"] == {kept: 0.2}, pair


# same-length ids: the general eviction rule (prefix ids are the bug case above)
_user = st.integers(0, 15).map(lambda i: f"u{i:02d}")


@settings(deadline=None)
@given(st.lists(st.tuples(_user, st.sampled_from([0.1, 0.2, 0.3])), max_size=12,
                unique_by=lambda ut: ut[0]),
       st.integers(1, 4))
def test_capped_postings_keep_highest_tf_then_lowest_id(rows, cap: int) -> None:
    e = None
    for user, tf in rows:
        e = add_posting(e, user, tf, True, cap)
    expected = dict(sorted(rows, key=lambda ut: (-ut[1], ut[0]))[:cap])
    assert (e["p"] if e else {}) == expected
    assert (e["df"] if e else 0) == len(rows)


def test_add_user_counts_users() -> None:
    assert add_user(None) == {"df": 1}
    assert add_user({"df": 3}) == {"df": 4}


# --- popularity ------------------------------------------------------------------------------

H = 100.0  # half-life (s)


def test_add_popularity_starts_at_the_weight() -> None:
    assert add_popularity(None, 3.0, 1000.0, H) == {"s": 3.0, "ts": 1000.0}


def test_add_popularity_decays_older_score() -> None:
    # 4 · 2^(-100/100) + 1 = 3, reference moves to the new event
    assert add_popularity({"s": 4.0, "ts": 1000.0}, 1.0, 1100.0, H) == pytest.approx(
        {"s": 3.0, "ts": 1100.0})


def test_add_popularity_late_event_is_decayed_to_the_reference() -> None:
    # 4 + 2 · 2^(-100/100) = 5, reference stays at 1100
    assert add_popularity({"s": 4.0, "ts": 1100.0}, 2.0, 1000.0, H) == pytest.approx(
        {"s": 5.0, "ts": 1100.0})


def test_add_popularity_is_order_independent() -> None:
    a = add_popularity(add_popularity(None, 1.0, 1000.0, H), 3.0, 1250.0, H)
    b = add_popularity(add_popularity(None, 3.0, 1250.0, H), 1.0, 1000.0, H)
    # 1 · 2^(-2.5) + 3 ≈ 3.1768 either way
    assert a == pytest.approx(b)
    assert a["s"] == pytest.approx(3 + 2**-2.5)


# --- trending --------------------------------------------------------------------------------


def test_trend_key_is_log2_score_plus_time_in_half_lives() -> None:
    assert trend_key(8.0, 200.0, H) == pytest.approx(5.0)  # log2 8 + 200/100
    assert trend_key(0.0, 200.0, H) == -math.inf


def test_update_trending_orders_by_decayed_score_and_caps() -> None:
    t = update_trending(None, "A", {"s": 4.0, "ts": 1000.0}, 2, H)
    assert t == {"top": [["A", 4.0, 1000.0]]}
    # keys: A log2 4 + 10 = 12;  B log2 3 + 11 ≈ 12.585 -> B first
    t = update_trending(t, "B", {"s": 3.0, "ts": 1100.0}, 2, H)
    assert [r[0] for r in t["top"]] == ["B", "A"]
    # C: log2 1 + 10 = 10, lowest: dropped by size 2
    t = update_trending(t, "C", {"s": 1.0, "ts": 1000.0}, 2, H)
    assert [r[0] for r in t["top"]] == ["B", "A"]


def test_update_trending_replaces_an_items_row() -> None:
    t = {"top": [["B", 3.0, 1100.0], ["A", 4.0, 1000.0]]}
    # A: log2 8 + 11 = 14 > B's 12.585: moves up, no duplicate row
    t = update_trending(t, "A", {"s": 8.0, "ts": 1100.0}, 5, H)
    assert t == {"top": [["A", 8.0, 1100.0], ["B", 3.0, 1100.0]]}


def test_update_trending_ties_by_item_id() -> None:
    t = update_trending(None, "Z", {"s": 2.0, "ts": 1000.0}, 5, H)
    t = update_trending(t, "M", {"s": 2.0, "ts": 1000.0}, 5, H)
    assert [r[0] for r in t["top"]] == ["M", "Z"]


def test_merge_trending_decays_to_the_newest_timestamp() -> None:
    lists = [[["A", 4.0, 1000.0], ["B", 1.0, 1100.0]], [["C", 2.0, 1100.0]]]
    # now = 1100: A 4 · 0.5 = 2, B 1, C 2; A and C tie -> by id
    merged = merge_trending(lists, H, 10)
    assert [i for i, _ in merged] == ["A", "C", "B"]
    assert [s for _, s in merged] == pytest.approx([2.0, 2.0, 1.0])
    assert [i for i, _ in merge_trending(lists, H, 2)] == ["A", "C"]


def test_merge_trending_of_nothing_is_empty() -> None:
    assert merge_trending([], H, 10) == []
    assert merge_trending([[], []], H, 10) == []
