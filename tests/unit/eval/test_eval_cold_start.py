"""Cold-start buckets (new items, new users), list statistics per variant and the drift
report."""

from __future__ import annotations

import pytest

from recstream.datasets.model import Dataset, Interaction, Item
from recstream.eval import drift, loo, prequential, variants
from recstream.eval.job import Job, Outcome, to_json
from recstream.eval.splits import loo_split
from recstream.settings import Settings


def pq_world() -> Dataset:
    """Six users each go p then q (user after user). Judged: every second event (q). Item n
    is never taken: it sorts first among the unseen, so a list with no popularity signal
    (every score 0, ties by item id) starts with it."""
    items = [Item(i, f"thing {i}", "", ("stuff",)) for i in ("n", "p", "q", "r", "s")]
    rows = []
    for n, u in enumerate(("b", "c", "d", "e", "f", "a")):
        rows += [Interaction(u, "p", 100.0 * n, 5.0), Interaction(u, "q", 100.0 * n + 1, 5.0)]
    return Dataset("pq", "amazon2018", items, rows)


def test_prequential_buckets_by_hand() -> None:
    s = Settings()
    runs, _ = variants.select(["popularity"], s.recommend)
    out = prequential.run(Job(pq_world(), s.profile, s.recommend, runs, k=1))
    cold = out.cold_start["popularity"]
    # q had 0, 1, 2, 3, 4 earlier interactions for users b..f (new, < 5) and 5 for a (not);
    # b's q is the one miss (no popularity yet: content matches every item equally, so the
    # score-0 list starts with n)
    assert cold["new_items"] == {"hr": pytest.approx(4 / 5), "ndcg": pytest.approx(4 / 5),
                                 "events": 5.0}
    # every judged event is its user's first judged one
    assert cold["new_users"] == {"hr": pytest.approx(5 / 6), "ndcg": pytest.approx(5 / 6),
                                 "events": 6.0}
    r = out.results["popularity"]
    assert "ild" not in r  # one-item lists have no pairs
    assert r["novelty"] > 0


def test_loo_buckets_count_the_right_users(small_world: Dataset) -> None:
    s = Settings()
    runs, _ = variants.select(["cf", "default"], s.recommend)
    out = loo.run(Job(small_world, s.profile, s.recommend, runs, k=5))
    train, test = loo_split(small_world.interactions)
    counts: dict[str, int] = {}
    per_user: dict[str, int] = {}
    for x in train:
        counts[x.item_id] = counts.get(x.item_id, 0) + 1
        per_user[x.user_id] = per_user.get(x.user_id, 0) + 1
    new_items = sum(1 for t in test.values() if counts.get(t.item_id, 0) < 5)
    new_users = sum(1 for u in test if per_user.get(u, 0) <= 3)
    for name in ("cf", "default"):
        cold = out.cold_start[name]
        assert cold["new_items"].get("users") == new_items
        assert cold["new_users"].get("users") == new_users
        r = out.results[name]
        assert 0 < r["ild"] <= 1 and r["novelty"] > 0


def test_json_document_carries_cold_start() -> None:
    out = Outcome(results={"cf": {"hr": 0.5}},
                  cold_start={"cf": {"new_items": {"hr": 0.25, "ndcg": 0.1, "events": 4.0},
                                     "new_users": {"events": 0.0}}})
    doc = to_json("d", "prequential", 10, out, ["cf"], 1.0)
    assert list(doc) == ["dataset", "protocol", "k", "results", "cold_start", "seconds"]
    assert doc["cold_start"]["cf"]["new_items"]["hr"] == 0.25


def test_segment_means() -> None:
    assert drift.segment_means([1, 0, 1, 1, 0, 0], 3) == [0.5, 1.0, 0.0]
    assert drift.segment_means([1.0, 0.0], 10) == [1.0, 0.0]


def test_drift_rows_match_plain_reruns(small_world: Dataset) -> None:
    s = Settings()
    runs, _ = variants.select(["default"], s.recommend)
    job = Job(small_world, s.profile, s.recommend, runs, k=5)
    grid = ((0.0, 0, 0.0), (3600.0, 0, 0.0), (0.0, 2, 3.0))
    rows = drift.run(job, grid)["rows"]
    assert [(r["decay_half_life_s"], r["session_events"], r["session_boost"]) for r in rows] \
        == list(grid)
    plain = prequential.run(job).results["default"]
    assert rows[0]["hr"] == pytest.approx(plain["hr"], abs=1e-6)
    boosted = prequential.run(Job(small_world, s.profile.model_copy(
        update={"session_events": 2, "session_boost": 3.0}), s.recommend, runs, k=5))
    assert rows[2]["hr"] == pytest.approx(boosted.results["default"]["hr"], abs=1e-6)
    for r in rows:
        assert len(r["hr_by_segment"]) == drift.SEGMENTS
        assert r["events"] == plain["events"]


def test_mmr_variant_diversifies(small_world: Dataset) -> None:
    s = Settings()
    base = s.recommend
    runs = {"default": base, "mmr": base.model_copy(update={"mmr_lambda": 0.3})}
    for protocol in (loo, prequential):
        out = protocol.run(Job(small_world, s.profile, s.recommend, runs, k=5))
        assert out.results["mmr"]["ild"] > out.results["default"]["ild"], protocol.__name__
