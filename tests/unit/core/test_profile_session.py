"""Session signal of the TF-IDF profile: the last N events count (1 + b) times."""

from __future__ import annotations

import pytest

from recstream.core.catalogue import item_from_record
from recstream.core.process import update_profile
from recstream.core.tfidf import Profile, apply_event
from recstream.settings import ProfileSettings


def test_last_n_events_weigh_one_plus_b() -> None:
    p = Profile()
    for n, term in enumerate("xyz"):
        change = apply_event(p, {term: 1.0}, 1.0, 100.0 + n, f"i{n}", 1.0,
                             session_events=2, session_boost=1.0)
    # x has left the window (counts once); y and z are the last two (count twice)
    assert p.counts == pytest.approx({"x": 1.0, "y": 2.0, "z": 2.0})
    assert p.length == pytest.approx(5.0)
    assert p.tf("z") == pytest.approx(2 / 5)
    assert set(change.touched) == {"z", "x"}  # x's count fell: the index must hear of it


def test_boost_leaves_decayed_like_the_rest() -> None:
    h = 1000.0
    p = Profile()
    apply_event(p, {"x": 1.0}, 1.0, 0.0, "a", 1.0, half_life_s=h, session_events=1,
                session_boost=1.0)
    assert p.counts["x"] == pytest.approx(2.0)
    apply_event(p, {"y": 1.0}, 1.0, h, "b", 1.0, half_life_s=h, session_events=1,
                session_boost=1.0)
    # x: weight 1 · decay 1/2 · (1 + 0); y: 1 · 1 · (1 + 1)
    assert p.counts == pytest.approx({"x": 0.5, "y": 2.0})
    assert p.length == pytest.approx(2.5)


def test_off_by_default_and_window_survives_the_table() -> None:
    plain, boosted = Profile(), Profile()
    for n in range(3):
        apply_event(plain, {"x": 1.0, f"t{n}": 2.0}, 2.0, float(n), f"i{n}", 2.0)
        apply_event(boosted, {"x": 1.0, f"t{n}": 2.0}, 2.0, float(n), f"i{n}", 2.0,
                    session_events=2, session_boost=0.5)
    assert "r" not in plain.to_dict()
    assert plain.counts == {"x": 6.0, "t0": 4.0, "t1": 4.0, "t2": 4.0}
    restored = Profile.from_dict(boosted.to_dict())
    assert restored == boosted and len(restored.recent) == 2
    apply_event(restored, {"y": 1.0}, 1.0, 3.0, "i3", 1.0, session_events=2, session_boost=0.5)
    # t1 left the window: back to its plain count
    assert restored.counts["t1"] == pytest.approx(4.0)
    assert restored.counts["t2"] == pytest.approx(6.0)
    assert restored.counts["y"] == pytest.approx(1.5)


def test_pipeline_profile_update_uses_the_settings() -> None:
    cfg = ProfileSettings(session_events=1, session_boost=2.0)
    p = Profile()
    for n, title in enumerate(("alpine", "jazz")):
        item = item_from_record({"item_id": f"i{n}", "title": title})
        update_profile(p, {"kind": "clicks", "ts": 10.0 + n, "item_id": f"i{n}"}, item, cfg)
    assert p.counts == pytest.approx({"alpine": 1.0, "jazz": 3.0})
