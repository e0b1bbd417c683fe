"""Candidate generation (recstream/core/candidates.py) on the hand-made world in conftest.py.

Hand-worked vectors (u = tf · idf, idf a = log2 5, b = log2 2.5 from conftest's docstring):
    u1 = {hiking: a/2, boots: a/2}
    u2 = {camping: b/2, tent: b/2}
    u3 = {camping: b/4, tent: b/4, gas: a/4, cooker: a/4}
    sim(u2, u3) = (2 · b/2 · b/4) / (sqrt(2) · b/2 · sqrt(2b²/16 + 2a²/16))
                = (b²/4) / (b/4 · sqrt(a² + b²)) = b / sqrt(a² + b²)
                = 1.3219 / sqrt(5.3913 + 1.7475) ≈ 0.4948
Item B "hiking poles": v = {hiking: a/2, poles: 1/2 · 0 = 0} -> cosine(u1, B) = 1/sqrt(2).
Popularity (all events at one time, click weight 1): A 1, C 2, D 1, E 1.
"""

from __future__ import annotations

import math

import pytest

from recstream.core import index
from recstream.core.candidates import Candidate, generate, shared_terms
from recstream.core.rank import CATALOGUE_REASON
from recstream.core.tfidf import Profile


def by_id(cands: list[Candidate]) -> dict[str, Candidate]:
    return {c.item_id: c for c in cands}


def test_global_state_matches_the_hand_counts(world) -> None:
    view = world().view
    assert view.index_entry(index.USERS_KEY) == {"df": 4}
    assert view.index_entry("hiking") == {"df": 1, "p": {"u1": 0.5}}
    assert view.index_entry("camping")["df"] == 2
    # a posting carries the tf at the user's last event that touched the term:
    # u3's gas posting is tf after "gas cooker" = 1/4
    assert view.index_entry("gas") == {"df": 1, "p": {"u3": 0.25}}
    assert view.index_entry("poles") is None


def test_content_candidate_names_the_shared_term(world) -> None:
    pipe = world()
    cands = generate("u1", pipe.profiles["u1"], pipe.view, pipe.rec_cfg)
    got = by_id(cands.items)
    assert got["B"].content == pytest.approx(1 / math.sqrt(2))  # 1 / (sqrt(2) · 1)
    assert got["B"].terms == ["hiking"]
    assert got["B"].cf == 0.0 and got["B"].users == 0
    assert cands.neighbours == 0  # nobody else has hiking or boots


def test_user_never_gets_an_item_already_interacted_with(world) -> None:
    pipe = world()
    for user, profile in pipe.profiles.items():
        cands = generate(user, profile, pipe.view, pipe.rec_cfg)
        assert not {c.item_id for c in cands.items} & profile.items.keys(), user


def test_candidates_are_exactly_the_unseen_items_with_a_signal(world) -> None:
    pipe = world()
    ids = {u: {c.item_id for c in generate(u, p, pipe.view, pipe.rec_cfg).items}
           for u, p in pipe.profiles.items()}
    # trending covers A, C, D, E; B only through content (u1); F has no signal at all
    assert ids == {"u1": {"B", "C", "D", "E"}, "u2": {"A", "D", "E"},
                   "u3": {"A", "E"}, "u4": {"A", "C", "D"}}


def test_cf_candidate_from_a_similar_user(world) -> None:
    pipe = world()
    cands = generate("u2", pipe.profiles["u2"], pipe.view, pipe.rec_cfg)
    d = by_id(cands.items)["D"]
    assert cands.neighbours == 1  # u3, sim ≈ 0.4948 > θ = 0.1
    # weighted: sim · value / mass = (0.4948 · 1) / 0.4948 = 1 (click value 1)
    assert d.cf == pytest.approx(1.0)
    assert d.users == 1
    assert d.content == 0.0 and d.terms == []  # gas cooker shares no term with u2
    assert d.trending == pytest.approx(1.0)


def test_neighbour_needs_similarity_strictly_above_theta(world) -> None:
    # sim(u2, u3) = b / sqrt(a² + b²) ≈ 0.4948 (module docstring)
    below = world(theta=0.49)
    assert by_id(generate("u2", below.profiles["u2"], below.view,
                          below.rec_cfg).items)["D"].users == 1
    above = world(theta=0.50)
    cands = generate("u2", above.profiles["u2"], above.view, above.rec_cfg)
    assert cands.neighbours == 0
    assert by_id(cands.items)["D"].cf == 0.0


def test_seen_items_of_neighbours_are_not_candidates(world) -> None:
    pipe = world()
    # u3's only neighbour is u2, whose only item C u3 has seen: no CF candidate
    cands = generate("u3", pipe.profiles["u3"], pipe.view, pipe.rec_cfg)
    assert cands.neighbours == 1
    assert all(c.cf == 0.0 for c in cands.items)


def test_new_user_gets_trending_only(world) -> None:
    pipe = world()
    cands = generate("nobody", Profile(), pipe.view, pipe.rec_cfg)
    assert cands.neighbours == 0
    got = by_id(cands.items)
    assert got.keys() == {"A", "C", "D", "E"}
    assert got["C"].trending == pytest.approx(2.0)
    assert all(c.cf == 0.0 and c.content == 0.0 for c in got.values())


def test_shared_terms_strongest_first() -> None:
    u = {"a": 0.1, "b": 0.5, "c": 0.3, "d": 0.9}
    assert shared_terms(u, {"a": 1, "b": 1, "c": 1}) == ["b", "c", "a"]
    assert shared_terms(u, {"a": 1, "b": 1, "c": 1}, k=2) == ["b", "c"]
    assert shared_terms(u, {"z": 1}) == []


def test_the_first_user_of_a_system_gets_content_matches() -> None:
    # one user, one event: N = 1 and every df is 1, so the seed's idf log2(N / df) would be 0
    # for every term (no vector, no content match); the smoothed log2((N+1)/df) = 1 keeps the
    # profile's vector, so items sharing the clicked item's terms come first, explained
    from recstream.core.process import MemoryPipeline
    from recstream.settings import ProfileSettings, RecommendSettings

    p = MemoryPipeline(ProfileSettings(), RecommendSettings(top_n=3))
    p.add_items([{"item_id": "a", "title": "Alien", "tags": ["scifi", "horror"]},
                 {"item_id": "b", "title": "Aliens", "tags": ["scifi", "horror"]},
                 {"item_id": "c", "title": "Dumbo", "tags": ["animation"]},
                 {"item_id": "d", "title": "Solaris", "tags": ["scifi"]}])
    p.ingest({"event_id": "e1", "user_id": "u", "item_id": "a", "ts": 1e9, "kind": "clicks"})
    recs = p.recommend("u")
    # u = {alien, scifi, horror: 1/3 · 1}; b shares scifi + horror, d scifi, c nothing
    assert [r["item_id"] for r in recs] == ["b", "d"]
    assert recs[0]["reasons"] == ["matches your interest in horror, scifi"]
    assert recs[1]["reasons"] == ["matches your interest in scifi"]
    assert recs[0]["signals"]["content"] > recs[1]["signals"]["content"] > 0


def test_an_empty_system_still_offers_unseen_catalogue_items() -> None:
    # items with no term in common with the user's and no popularity yet: the rest of the
    # catalogue, labelled as such (never "no signal yet": the user has events)
    from recstream.core.process import MemoryPipeline
    from recstream.settings import ProfileSettings, RecommendSettings

    p = MemoryPipeline(ProfileSettings(), RecommendSettings(top_n=3))
    p.add_items({"item_id": i, "title": f"title{i}"} for i in ("a", "b", "c", "d"))
    p.ingest({"event_id": "e1", "user_id": "u", "item_id": "b", "ts": 1e9, "kind": "clicks"})
    recs = p.recommend("u")
    assert [r["item_id"] for r in recs] == ["a", "c", "d"]
    assert all(r["reasons"] == [CATALOGUE_REASON] for r in recs)
    assert "no signal" not in CATALOGUE_REASON


def test_a_users_own_terms_count_before_the_replicated_index_has_them() -> None:
    # a worker's first event: its profile holds the item's terms, but the replicated term
    # index has not received this event's update yet (N = 0, every df 0); the user's terms
    # still count with N = df = 1, idf log2(2/1) = 1, so the content match works at once
    from recstream.core.process import update_profile
    from recstream.core.view import MemoryView
    from recstream.settings import ProfileSettings, RecommendSettings

    view = MemoryView()
    for r in ({"item_id": "a", "title": "Alien", "tags": ["scifi", "horror"]},
              {"item_id": "b", "title": "Aliens", "tags": ["scifi", "horror"]},
              {"item_id": "c", "title": "Dumbo", "tags": ["animation"]}):
        view.catalogue.upsert(r)
    profile = Profile()
    update_profile(profile, {"kind": "clicks", "ts": 1e9, "item_id": "a", "user_id": "u"},
                   view.catalogue.get("a"), ProfileSettings())
    assert view.index_entry(index.USERS_KEY) is None  # nothing replicated yet
    got = by_id(generate("u", profile, view, RecommendSettings()).items)
    assert got.keys() == {"b"}
    assert got["b"].content > 0 and got["b"].terms == ["horror", "scifi"]
