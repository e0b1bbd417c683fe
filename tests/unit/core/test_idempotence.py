"""Effectively-once profile state: a re-delivered event is a no-op where the state changes
(recstream.core.tfidf applied-id bookkeeping, recstream.core.process.apply_once), the clean
stage's duplicate rule, and the rank stage's published pairs."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from recstream.core.catalogue import item_from_record
from recstream.core.process import (
    MemoryPipeline,
    apply_once,
    input_duplicate,
    published_before,
    remember_published,
)
from recstream.core.tfidf import Profile
from recstream.settings import ProfileSettings, RecommendSettings

TS = 1_700_000_000.0
ITEM = item_from_record({"item_id": "a", "title": "Space opera", "tags": ["space"]})


def ev(i: int, ts: float | None = None, kind: str = "clicks") -> dict[str, Any]:
    return {"event_id": f"e{i}", "user_id": "u", "item_id": "a", "kind": kind,
            "ts": TS + i if ts is None else ts}


def snapshot(p: Profile) -> dict[str, Any]:
    return Profile.from_dict(p.to_dict()).to_dict()


def test_the_same_event_twice_gives_the_same_profile() -> None:
    cfg = ProfileSettings(decay_half_life_s=3600.0, session_events=2, session_boost=1.0)
    once, twice = Profile(), Profile()
    assert apply_once(once, ev(1), ITEM, cfg) is not None
    for _ in range(2):
        apply_once(twice, ev(1), ITEM, cfg)
    assert snapshot(once) == snapshot(twice)
    assert twice.events == 1 and twice.counts and twice.applied == ["e1"]
    assert apply_once(twice, ev(1), ITEM, cfg) is None  # says it changed nothing


def test_a_replayed_offset_is_a_no_op_even_after_its_id_left_the_window() -> None:
    cfg = ProfileSettings(applied_ids=2)
    p = Profile()
    for i in range(5):
        apply_once(p, ev(i), ITEM, cfg, offset=100 + i)
    before = snapshot(p)
    assert p.applied == ["e3", "e4"] and p.offset == 104
    # a crash replays the input from offset 101: ids e1, e2 are no longer remembered
    for i in range(1, 5):
        assert apply_once(p, ev(i), ITEM, cfg, offset=100 + i) is None
    assert snapshot(p) == before
    # the next offset is new, and survives the stored form
    assert apply_once(p, ev(5), ITEM, cfg, offset=105) is not None
    assert Profile.from_dict(p.to_dict()).offset == 105 and p.events == 6


def test_a_duplicate_at_a_later_offset_is_caught_by_its_id_and_moves_the_offset() -> None:
    cfg = ProfileSettings()
    p = Profile()
    apply_once(p, ev(1), ITEM, cfg, offset=7)
    assert apply_once(p, ev(1), ITEM, cfg, offset=9) is None  # re-sent by the clean stage
    assert p.events == 1 and p.offset == 9


def test_the_id_window_is_bounded_and_keeps_the_latest() -> None:
    cfg = ProfileSettings(applied_ids=3)
    p = Profile()
    for i in range(10):
        apply_once(p, ev(i), ITEM, cfg)
    assert p.applied == ["e7", "e8", "e9"]
    # an id older than the window is applied again: the bound is what the window covers
    assert apply_once(p, ev(0), ITEM, cfg) is not None
    assert p.applied == ["e8", "e9", "e0"]


def test_old_stored_profiles_without_bookkeeping_still_load() -> None:
    d = {"c": {"x": 1.0}, "len": 1.0, "ts": TS, "items": {"a": 1.0}, "n": 1}
    p = Profile.from_dict(d)
    assert p.applied == [] and p.offset == -1
    assert p.to_dict() == d  # nothing added until an event is applied


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 30), min_size=1, max_size=40),
       st.lists(st.tuples(st.integers(0, 39), st.integers(0, 39)), max_size=6))
def test_any_redelivery_pattern_equals_one_clean_pass(ids: list[int],
                                                      crashes: list[tuple[int, int]]) -> None:
    """At-least-once delivery of an in-order stream (crashes after position ``at`` replay it
    from an earlier ``back``, as from the last committed offset) gives the profile of the
    stream delivered once, whatever the decay, session window and ratings."""
    cfg = ProfileSettings(decay_half_life_s=600.0, session_events=3, session_boost=0.5)
    stream = [{**ev(i, TS + 10 * n, "ratings"), "rating": 1.0 + i % 5}
              for n, i in enumerate(dict.fromkeys(ids))]
    clean = Profile()
    for e in stream:
        apply_once(clean, e, ITEM, cfg)
    pending = {at: min(back, at) for at, back in crashes}
    delivered, pos = Profile(), 0
    while pos < len(stream):
        apply_once(delivered, stream[pos], ITEM, cfg, offset=pos)
        back = pending.pop(pos, None)
        pos = back if back is not None else pos + 1
    a, b = snapshot(clean), snapshot(delivered)
    a.pop("off", None), b.pop("off", None)
    assert a == b


def test_memory_pipeline_ignores_a_repeated_event_id() -> None:
    mp = MemoryPipeline(ProfileSettings(), RecommendSettings())
    mp.add_items([{"item_id": "a", "title": "Space opera"}])
    assert mp.ingest(ev(1)) is True
    before = copy.deepcopy(mp.view.entries)  # the index must not be updated twice either
    assert before
    assert mp.ingest(ev(1)) is False
    assert mp.duplicates == 1 and mp.profiles["u"].events == 1
    assert mp.view.entries == before


def test_clean_drops_any_event_whose_id_it_stored() -> None:
    # the clean stage stores an id only after the broker acknowledged the forwarded event
    assert input_duplicate(None, "src-1") is False  # first time
    stored = {"ts": TS, "src": "src-1"}
    assert input_duplicate(stored, "src-1") is True  # the same record replayed: delivered
    assert input_duplicate(stored, "src-2") is True  # a different record re-sent the id
    assert input_duplicate(TS, "src-1") is True  # an entry written before sources were kept


def test_published_pairs_are_remembered_per_variant_and_bounded() -> None:
    pub: list[list[str]] = []
    for i in range(5):
        pub = remember_published(pub, f"e{i}", "A", keep=3)
    assert pub == [["e2", "A"], ["e3", "A"], ["e4", "A"]]
    assert published_before(pub, "e3", "A")
    assert not published_before(pub, "e3", "B")  # another variant's record is not a repeat
    assert not published_before(pub, "e1", "A")  # beyond the window
    assert remember_published(pub, "e3", "A", keep=3) == [["e2", "A"], ["e4", "A"],
                                                           ["e3", "A"]]
