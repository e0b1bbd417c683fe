"""Blending and explaining recommendations (recstream/core/rank.py)."""

from __future__ import annotations

import pytest

from recstream.core.candidates import Candidate
from recstream.core.rank import CATALOGUE_REASON, blend, reasons

W = {"cf": 0.5, "content": 0.3, "trending": 0.2}


def three() -> list[Candidate]:
    return [Candidate("X", cf=2.0, content=0.5, trending=0.0),
            Candidate("Y", cf=1.0, content=1.0, trending=4.0),
            Candidate("Z", cf=0.0, content=0.25, trending=2.0)]


def test_blend_normalises_each_signal_by_its_peak() -> None:
    # peaks: cf 2, content 1, trending 4
    # X: 0.5·2/2 + 0.3·0.5/1 + 0.2·0/4   = 0.5 + 0.15       = 0.65
    # Y: 0.5·1/2 + 0.3·1/1   + 0.2·4/4   = 0.25 + 0.3 + 0.2 = 0.75
    # Z: 0       + 0.3·0.25/1 + 0.2·2/4  = 0.075 + 0.1      = 0.175
    out = blend(three(), W, 10)
    assert [r["item_id"] for r in out] == ["Y", "X", "Z"]
    assert [r["score"] for r in out] == pytest.approx([0.75, 0.65, 0.175])
    assert out[0]["signals"] == {"cf": 1.0, "content": 1.0, "trending": 4.0}


def test_blend_keeps_top_n() -> None:
    assert [r["item_id"] for r in blend(three(), W, 2)] == ["Y", "X"]


def test_seen_items_are_dropped_and_do_not_set_the_peak() -> None:
    cands = [*three(), Candidate("W", cf=10.0)]
    out = blend(cands, W, 10, seen={"W"})
    assert [r["item_id"] for r in out] == ["Y", "X", "Z"]
    assert out[1]["score"] == pytest.approx(0.65)  # cf peak is still X's 2, not W's 10


def test_ties_break_by_item_id() -> None:
    cands = [Candidate("b", trending=1.0), Candidate("c", trending=1.0),
             Candidate("a", trending=1.0)]
    out = blend(cands, W, 10)
    assert [r["item_id"] for r in out] == ["a", "b", "c"]
    assert [r["score"] for r in out] == pytest.approx([0.2, 0.2, 0.2])  # 0.2 · 1/1


def test_missing_weight_counts_zero_and_all_zero_signals_score_zero() -> None:
    # only cf weighted: X 1·2/2 = 1, Y 1·1/2 = 0.5, Z 0
    out = blend(three(), {"cf": 1.0}, 10)
    assert [(r["item_id"], r["score"]) for r in out] == [("X", 1.0), ("Y", 0.5), ("Z", 0.0)]
    assert blend([Candidate("q")], W, 10)[0]["score"] == 0.0
    assert blend([], W, 10) == []


def test_reasons() -> None:
    assert reasons(Candidate("i", users=1)) == ["1 similar user liked it"]
    assert reasons(Candidate("i", users=3)) == ["3 similar users liked it"]
    assert reasons(Candidate("i", content=0.4, terms=["jazz", "vinyl"])) == [
        "matches your interest in jazz, vinyl"]
    assert reasons(Candidate("i", trending=2.0)) == ["trending now"]
    assert reasons(Candidate("i", users=2, trending=2.0)) == [
        "2 similar users liked it", "also trending"]
    assert reasons(Candidate("i")) == [CATALOGUE_REASON]


# --- end to end on conftest's hand-made world --------------------------------------------------


def test_recommendations_for_a_content_user(world) -> None:
    recs = world(weight_cf=0.5, weight_content=0.35, weight_trending=0.15).recommend("u1")
    # candidates (see test_candidates): B content 1/sqrt(2); C trending 2; D, E trending 1
    # peaks: content 0.7071, trending 2
    # B: 0.35 · 1 = 0.35;  C: 0.15 · 2/2 = 0.15;  D = E: 0.15 · 1/2 = 0.075 (D before E by id)
    assert [r["item_id"] for r in recs] == ["B", "C", "D", "E"]
    assert [r["score"] for r in recs] == pytest.approx([0.35, 0.15, 0.075, 0.075])
    assert recs[0]["reasons"] == ["matches your interest in hiking"]
    assert recs[0]["signals"]["content"] == pytest.approx(0.707107)
    assert recs[1]["reasons"] == ["trending now"]


def test_recommendations_for_a_cf_user(world) -> None:
    recs = world(weight_cf=0.5, weight_content=0.35, weight_trending=0.15).recommend("u2")
    # D: cf 1 (u3, see test_candidates), trending 1; A, E: trending 1; C seen (popularity 2
    # does not count: it is not a candidate). peaks: cf 1, trending 1, content none
    # D: 0.5 · 1 + 0.15 · 1 = 0.65;  A = E = 0.15
    assert [r["item_id"] for r in recs] == ["D", "A", "E"]
    assert [r["score"] for r in recs] == pytest.approx([0.65, 0.15, 0.15])
    assert recs[0]["reasons"] == ["1 similar user liked it", "also trending"]


def test_top_n_from_settings(world) -> None:
    assert [r["item_id"] for r in world(top_n=2).recommend("u1")] == ["B", "C"]


def test_no_recommendation_repeats_an_interaction(world) -> None:
    pipe = world()
    for user, profile in pipe.profiles.items():
        assert not {r["item_id"] for r in pipe.recommend(user)} & profile.items.keys()
