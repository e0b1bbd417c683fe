"""The demo's choice of users and its summary (recstream/ops/replay.py), hand-worked."""

from __future__ import annotations

from recstream.ops.replay import Followed, pick_followed, seen_before, summarise


def ev(n: int, user: str, item: str) -> dict:
    return {"event_id": f"e{n}", "user_id": user, "item_id": item}


EVENTS = ([ev(n, "a", f"i{n}") for n in range(5)]  # a: e0..e4
          + [ev(5, "b", "i0"), ev(6, "b", "i1"), ev(7, "a", "i7"), ev(8, "c", "i2"),
             ev(9, "b", "i9")])


def test_pick_followed_takes_long_histories_at_their_last_event() -> None:
    got = pick_followed(EVENTS, users=2, min_history=2, skip_first=0.5)
    # a: 6 events, last e7 (after e4); b: 3 events, last e9 (after e6); c has 1
    assert got == [Followed("a", "e4", "e7", "i7", 5), Followed("b", "e6", "e9", "i9", 2)]


def test_pick_followed_skips_users_done_early_and_short_histories() -> None:
    # with the first 80 % skipped only e8, e9 qualify as followed events: b (e9)
    assert [f.user_id for f in pick_followed(EVENTS, users=3, min_history=2,
                                             skip_first=0.8)] == ["b"]
    assert pick_followed(EVENTS, min_history=6) == []


def test_pick_followed_prefers_an_event_the_user_liked() -> None:
    rated = [{**e, "rating": 5.0 if e["event_id"] in ("e3", "e9") else 2.0} for e in EVENTS]
    got = pick_followed(rated, users=3, min_history=2, skip_first=0.0)
    # a liked e3 (4th event, after e2), not e4 or e7; b liked e9; c never qualifies
    assert got == [Followed("a", "e2", "e3", "i3", 3), Followed("b", "e6", "e9", "i9", 2)]


def test_seen_before_accumulates_per_user() -> None:
    seen = seen_before(EVENTS)
    assert seen["e0"] == {"i0"}
    assert seen["e7"] == {"i0", "i1", "i2", "i3", "i4", "i7"}
    assert seen["e6"] == {"i0", "i1"}


def rec(trigger: str, published: float, items: list[str], degraded: bool = False) -> dict:
    return {"trigger_event_id": trigger, "published_ts": published, "degraded": degraded,
            "items": [{"item_id": i} for i in items]}


def test_summarise_counts_freshness_violations_and_degraded() -> None:
    produced = {"e0": 100.0, "e5": 101.0, "e6": 102.0}
    seen = seen_before(EVENTS)
    records = [rec("e0", 100.1, ["i9"]),  # 100 ms
               rec("e5", 101.3, ["i0", "i5"]),  # 300 ms; i0 is b's own item: a violation
               rec("e6", 102.2, [], degraded=True),  # 200 ms, empty
               rec("other", 0.0, ["x"])]  # not this replay's
    got = summarise(records, produced, seen, slo_ms=250)
    assert got["records"] == 3 and got["events"] == 3 and got["coverage"] == 1.0
    assert got["seen_item_violations"] == 1
    assert got["empty_records"] == 1
    assert got["degraded_share"] == round(1 / 3, 4)
    # freshness 100, 300, 200 ms: p50 200; p99 = 200 + (300 − 200) · 0.98 = 298
    assert got["freshness_ms"] == {"p50": 200.0, "p99": 298.0}
    assert got["within_slo"] == round(2 / 3, 4)


def test_summarise_of_nothing_published() -> None:
    got = summarise([], {"e0": 1.0}, {})
    assert got["coverage"] == 0.0 and got["records"] == 0
    assert got["freshness_ms"] == {"p50": None, "p99": None}
