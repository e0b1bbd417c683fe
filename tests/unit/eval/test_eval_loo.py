"""Leave-one-out: full ranking over exactly the unseen items, ties, and the whole run."""

from __future__ import annotations

import numpy as np
import pytest

from recstream.datasets.model import Dataset
from recstream.eval import loo, variants
from recstream.eval.job import Job
from recstream.eval.ranking import metrics_full, top_ids
from recstream.eval.replay import Replay
from recstream.eval.signals import ItemSpace
from recstream.eval.splits import loo_split
from recstream.settings import Settings


def test_candidates_exclude_only_the_users_training_items() -> None:
    space = ItemSpace(["c", "a", "b", "d"])
    mask = loo.candidates(space, {"a": 1.0, "d": 4.0, "zz": 1.0})
    assert [space.ids[i] for i in np.flatnonzero(mask)] == ["c", "b"]


def test_metrics_full_by_hand_with_ties() -> None:
    space = ItemSpace(["a", "b", "c", "d", "e"])
    scores = np.array([0.9, 0.0, 0.5, 0.0, 0.0])
    mask = np.array([True, True, True, True, False])  # e is a training item
    # target d: better = a, c; tied = b, d (e is not a candidate) -> rank 3 or 4
    m = metrics_full(scores, mask, 3, k=3)
    assert m["hr"] == pytest.approx(0.5)
    assert m["mrr"] == pytest.approx((1 / 3 + 1 / 4) / 2)
    assert m["ndcg"] == pytest.approx(0.5 * 0.5)  # 1/log2(4) = 0.5 at rank 3
    assert top_ids(space, scores, mask, 3) == ["a", "c", "b"]  # tie b/d broken by id
    # a target the user already had in training cannot be recommended
    assert metrics_full(scores, mask, 4, k=3)["hr"] == 0.0


def test_training_replay_never_sees_test_items(small_world: Dataset) -> None:
    s = Settings()
    train, test = loo_split(small_world.interactions)
    replay = Replay(small_world.items, "amazon2018", s.profile, s.recommend)
    for row in train:
        replay.ingest(row)
    for user, t in test.items():
        assert t.item_id not in replay.profile(user).items  # items held out, not ingested


def test_loo_run_reports_every_variant(small_world: Dataset) -> None:
    s = Settings()
    runs, _ = variants.without_llm(variants.select(None, s.recommend)[0], "no encoder")
    out = loo.run(Job(small_world, s.profile, s.recommend, runs, k=5))
    assert list(out.results) == [n for n in variants.ORDER if n != "hybrid_llm"]
    for r in out.results.values():
        assert r["users"] == 30
        assert set(r) == {"hr", "ndcg", "mrr", "precision", "recall", "f1", "coverage", "ild",
                          "novelty", "users"}
        assert 0 <= r["ndcg"] <= r["hr"] <= 1
        assert r["recall"] == r["hr"]
        assert r["precision"] == pytest.approx(r["hr"] / 5)
    # this world is made of taste groups: CF must beat chance (5 of ~18 unseen items)
    assert out.results["cf"]["hr"] > 5 / 18
