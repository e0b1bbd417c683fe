"""One event's effect on state (recstream/core/process.py) and the index it maintains."""

from __future__ import annotations

import pytest

from recstream.core import index
from recstream.core.catalogue import item_from_record
from recstream.core.process import (
    MemoryPipeline,
    event_terms,
    event_weight,
    index_updates,
    update_profile,
)
from recstream.core.tfidf import Profile
from recstream.settings import ProfileSettings, RecommendSettings

CFG = ProfileSettings(weight_click=1.0, weight_purchase=3.0, weight_per_star=0.5,
                      decay_half_life_s=0.0, max_terms=2000)
TS = 1_700_000_000.0


def test_event_weight_per_kind() -> None:
    assert event_weight({"kind": "clicks"}, CFG) == (1.0, 1.0)
    assert event_weight({"kind": "purchases"}, CFG) == (3.0, 3.0)
    # 4 stars · 0.5 per star = 2 as term multiplier; 4 remembered as the value
    assert event_weight({"kind": "ratings", "rating": 4.0}, CFG) == (2.0, 4.0)


def test_event_terms_adds_review_to_item_text() -> None:
    item = item_from_record({"item_id": "i", "title": "jazz vinyl"})
    assert event_terms(item, "Warm jazz, great vinyl pressing") == {
        "jazz": 2.0, "vinyl": 2.0, "warm": 1.0, "great": 1.0, "pressing": 1.0}
    assert event_terms(None, "warm sound") == {"warm": 1.0, "sound": 1.0}
    assert event_terms(item, None) == {"jazz": 1.0, "vinyl": 1.0}


def test_rating_event_updates_profile_by_stars() -> None:
    item = item_from_record({"item_id": "i", "title": "jazz vinyl"})
    p = Profile()
    update_profile(p, {"kind": "ratings", "rating": 4.0, "ts": TS, "item_id": "i"}, item, CFG)
    # each term 1 · (4 · 0.5) = 2; |s| = 4; item value 4
    assert p.counts == {"jazz": 2.0, "vinyl": 2.0}
    assert p.length == 4.0
    assert p.items == {"i": 4.0}


def test_index_updates_for_a_first_event() -> None:
    item = item_from_record({"item_id": "i", "title": "jazz vinyl"})
    p = Profile()
    event = {"kind": "clicks", "ts": TS, "item_id": "i", "user_id": "u"}
    change = update_profile(p, event, item, CFG)
    assert index_updates("u", p, change, event, 1.0) == [
        ("jazz", {"u": "u", "tf": 0.5, "new": True}),  # 1 / 2
        ("vinyl", {"u": "u", "tf": 0.5, "new": True}),
        (index.USERS_KEY, {"u": "u", "new": True}),
        (index.ITEM_PREFIX + "i", {"w": 1.0, "ts": TS}),
    ]


def test_df_counts_users_not_readditions_after_pruning() -> None:
    # BUG: a term pruned from a profile (max_terms) keeps its df and posting; when the user
    # gains it again apply_event reports it as new, so add_posting counts the same user twice.
    # Here df(alpha) would end at 2 with N = 1 user (a df above N counts as N in the idf).
    pipe = MemoryPipeline(ProfileSettings(max_terms=1), RecommendSettings())
    pipe.add_items([{"item_id": "A", "title": "alpha"}, {"item_id": "B", "title": "beta beta"}])
    for i, (item, kind) in enumerate([("A", "clicks"), ("B", "clicks"), ("A", "purchases")]):
        pipe.ingest({"event_id": str(i), "user_id": "u", "item_id": item, "ts": TS + i,
                     "kind": kind})
    # profile: {alpha 1} -> {alpha 1, beta 2} pruned to {beta 2} -> {beta 2, alpha 3} -> {alpha 3}
    assert pipe.profiles["u"].counts == {"alpha": 3.0}
    n = pipe.view.index_entry(index.USERS_KEY)["df"]
    assert n == 1
    assert pipe.view.index_entry("alpha")["df"] <= n


def test_pipeline_profile_reflects_an_event_at_once() -> None:
    pipe = MemoryPipeline(CFG, RecommendSettings())
    pipe.add_items([{"item_id": "A", "title": "jazz vinyl"}])
    pipe.ingest({"event_id": "1", "user_id": "u", "item_id": "A", "ts": TS, "kind": "clicks"})
    assert pipe.profiles["u"].tfs() == {"jazz": 0.5, "vinyl": 0.5}
    assert pipe.view.index_entry("jazz") == {"df": 1, "p": {"u": 0.5}}
    assert pipe.view.index_entry(index.USERS_KEY) == {"df": 1}
    assert pipe.view.index_entry(index.ITEM_PREFIX + "A") == {"s": 1.0, "ts": TS}
    assert pipe.view.trending_lists() == [[["A", 1.0, TS]]]
    # sketch: the tf of the profile's strongest terms (both weigh tf · log2(2/1) = 0.5)
    assert pipe.view.sketches["u"] == {"t": {"jazz": 0.5, "vinyl": 0.5}, "i": {"A": 1.0}}
    assert pipe.view.sketches["u"]["t"] == pytest.approx(pipe.profiles["u"].tfs())
