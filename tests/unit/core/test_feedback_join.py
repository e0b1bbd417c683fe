"""The online feedback join with hand-computed CTR, precision, recall, NDCG, MAE and coverage.

k = 3, join window W = 100 s, grace 0, tumbling windows of 1000 s, catalogue of 10 items:

    u1 (A) sees [a, b, c] at t=10 (trigger e0 on z at 10); later: b at 20, x at 50, a at 200
        R = {b, x} (z is the trigger, a is after t + W); H = {b} at rank 2
        clicked 1, precision 1/3, recall 1/2, NDCG = (1/log2 3) / (1 + 1/log2 3)
    u2 (A) sees [d, e, f] at t=30; no later events: clicked 0, precision 0, no recall/NDCG
    u3 (B) sees [a, d, g] at t=40 (a predicted 3.5); rates a 4 at 45, clicks d at 46
        H = R = {a, d} at ranks 1, 2: precision 2/3, recall 1, NDCG 1, |error| 0.5
    an impression at t=1100 closes window [0, 1000) (1100 ≥ 0 + 1000 + 100 + 0)
"""

from __future__ import annotations

import math

import pytest

from recstream.core.feedback import FeedbackJoin, outcome
from recstream.settings import FeedbackSettings

CFG = FeedbackSettings(window_s=1000, join_window_s=100, grace_s=0, k=3)
NDCG_U1 = (1 / math.log2(3)) / (1 + 1 / math.log2(3))


def rec(user: str, variant: str, ts: float, items: list[str], trigger: str,
        pred: dict[str, float] | None = None) -> dict:
    out = [{"item_id": i, "score": 1.0} for i in items]
    for it in out:
        if pred and it["item_id"] in pred:
            it["predicted_rating"] = pred[it["item_id"]]
    return {"user_id": user, "items": out, "variant": variant, "event_ts": ts,
            "trigger_event_id": trigger}


def ev(eid: str, user: str, item: str, ts: float, kind: str = "clicks", **kw) -> dict:
    return {"event_id": eid, "user_id": user, "item_id": item, "ts": ts, "kind": kind, **kw}


def test_outcome_by_hand() -> None:
    o = outcome(["a", "b", "c"], {"b", "x"}, 3)
    assert o["clicked"] == 1 and o["hits"] == 1
    assert o["precision_sum"] == pytest.approx(1 / 3)
    assert o["recall_sum"] == pytest.approx(0.5)
    assert o["ndcg_sum"] == pytest.approx(NDCG_U1)
    assert outcome(["a", "b", "c", "d"], {"d"}, 3)["hits"] == 0  # beyond k
    none = outcome(["a"], set(), 3)
    assert (none["clicked"], none["relevant"], none["ndcg_sum"]) == (0, 0, 0.0)


def test_windows_per_variant_by_hand() -> None:
    store: dict = {}
    j = FeedbackJoin(CFG, store, partition=0)
    # u1's events reach the join before its impression (the topics race): still counted
    for e in (ev("e0", "u1", "z", 10), ev("e1", "u1", "b", 20), ev("e2", "u1", "x", 50)):
        j.event(e)
    assert j.impression(rec("u1", "A", 10, ["a", "b", "c"], "e0"), 10) == []
    j.event(ev("e3", "u1", "a", 200))
    j.event(ev("e1", "u1", "b", 20))  # a replayed duplicate counts once
    assert j.impression(rec("u2", "A", 30, ["d", "e", "f"], "f0"), 10) == []
    assert j.impression(rec("u3", "B", 40, ["a", "d", "g"], "g0", {"a": 3.5}), 10) == []
    j.event(ev("g1", "u3", "a", 45, "ratings", rating=4.0))
    j.event(ev("g2", "u3", "d", 46))
    assert j.impression(rec("u1", "A", 10, ["a", "b", "c"], "e0"), 10) == []  # replayed
    out = {r["variant"]: r for r in j.impression(rec("u9", "A", 1100, ["q"], "q0"), 10)}
    assert set(out) == {"A", "B"}
    a, b = out["A"], out["B"]
    assert (a["window_start"], a["window_end"], a["partition"], a["k"]) == (0.0, 1000.0, 0, 3)
    assert (a["impressions"], a["clicked"], a["relevant"]) == (2, 1, 1)
    assert a["ctr"] == pytest.approx(0.5)
    assert a["precision"] == pytest.approx(1 / 6)
    assert a["recall"] == pytest.approx(0.5)
    assert a["ndcg"] == pytest.approx(NDCG_U1)
    assert a["mae"] is None and a["rmse"] is None
    assert a["coverage"] == pytest.approx(0.6)
    assert (b["impressions"], b["clicked"], b["hits"]) == (1, 1, 2)
    assert b["ctr"] == 1.0 and b["precision"] == pytest.approx(2 / 3)
    assert b["recall"] == 1.0 and b["ndcg"] == pytest.approx(1.0)
    assert (b["rated"], b["mae"], b["rmse"]) == (1, 0.5, 0.5)
    assert b["coverage"] == pytest.approx(0.3)
    # window [0, 1000) is gone: a late impression in it is dropped and counted
    assert j.impression(rec("u5", "A", 500, ["a"], "l0"), 10) == [] and j.late == 1
    assert store["0/meta"]["win"] == {}  # u9 (window 1000) is still pending
    assert set(store["0/meta"]["due"]) == {"u9"}


def test_grace_keeps_an_impression_that_arrives_behind_the_watermark() -> None:
    cfg = FeedbackSettings(window_s=10, join_window_s=5, grace_s=20, k=1)
    j = FeedbackJoin(cfg, {}, partition=2)
    j.impression(rec("u1", "A", 30, ["a"], "t1"), 5)
    j.impression(rec("u2", "A", 8, ["b"], "t2"), 5)  # 22 s late, window [0, 10) still open
    j.event(ev("x", "u2", "b", 9))
    assert j.late == 0
    closed = j.impression(rec("u3", "A", 35, ["c"], "t3"), 5)  # 35 ≥ 0 + 10 + 5 + 20
    assert [(r["window_start"], r["impressions"], r["clicked"], r["partition"])
            for r in closed] == [(0.0, 1, 1, 2)]


def test_partitions_keep_separate_state_in_one_store() -> None:
    store: dict = {}
    p0, p1 = FeedbackJoin(CFG, store, 0), FeedbackJoin(CFG, store, 1)
    p0.impression(rec("u1", "A", 10, ["a"], "t1"), 10)
    assert p1.impression(rec("u2", "A", 5000, ["a"], "t2"), 10) == []  # p0's window waits
    assert [r["impressions"] for r in p0.impression(rec("u3", "A", 5000, ["a"], "t3"), 10)] == [1]


def test_a_user_keeps_at_most_max_pending_impressions() -> None:
    """With max_pending 2, u1's third impression makes the first final at once, joined with
    the events so far (b at 20: a hit); a click on c at 30, after that, is not counted for it.
    The other two stay pending and are joined in full when the window closes."""
    cfg = FeedbackSettings(window_s=1000, join_window_s=100, grace_s=0, k=3, max_pending=2)
    store: dict = {}
    j = FeedbackJoin(cfg, store, partition=0)
    j.impression(rec("u1", "A", 10, ["a", "b", "c"], "t1"), 10)
    j.event(ev("e1", "u1", "b", 20))
    j.impression(rec("u1", "A", 12, ["c", "d", "e"], "t2"), 10)
    assert j.early == 0 and len(store["0/u/u1"]["imps"]) == 2
    j.impression(rec("u1", "A", 14, ["f", "g", "h"], "t3"), 10)
    assert j.early == 1
    assert [i["trigger"] for i in store["0/u/u1"]["imps"]] == ["t2", "t3"]
    (acc,) = store["0/meta"]["win"].values()  # t1 counted: its window holds one impression
    assert (acc["impressions"], acc["clicked"], acc["hits"]) == (1, 1, 1)
    j.event(ev("e2", "u1", "c", 30))  # a hit for t2 (and would have been for t1)
    out = j.impression(rec("u9", "A", 1200, ["a"], "t9"), 10)  # closes window [0, 1000)
    (w,) = out
    assert (w["impressions"], w["clicked"]) == (3, 2)  # t1 (b), t2 (c); t3 none
    assert j.early == 1
