"""MMR in the live rank stage (recstream.core.diversity.ranked_list) and ILD / novelty in the
online feedback metrics, against hand-computed values.

Catalogue of four items, idf = log2(4 / df): "red" is in a and b (idf 1), every other term
in one item (idf 2). Unit vectors: a = (red 0.5, apple 1) / √1.25, b = (red 0.5, cherry 1)
/ √1.25, c = (blue, sky), d = (green, grass): cos(a, b) = 0.25 / 1.25 = 0.2, every other
pair 0.
"""

from __future__ import annotations

import math
import random
import zlib

import numpy as np
import pytest

from recstream.core import learn
from recstream.core.candidates import Candidate
from recstream.core.catalogue import Catalogue
from recstream.core.diversity import item_vectors, ranked_list, variant_lambda
from recstream.core.feedback import FeedbackJoin
from recstream.core.rank import blend
from recstream.eval.lists import ItemVectors
from recstream.settings import FeedbackSettings, RecommendSettings, VariantSettings

TEXTS = {"a": "red apple", "b": "red cherry", "c": "blue sky", "d": "green grass"}


@pytest.fixture
def catalogue() -> Catalogue:
    cat = Catalogue()
    for i, t in TEXTS.items():
        cat.upsert({"item_id": i, "title": t})
    return cat


def test_live_item_vectors_give_the_cosines_by_hand_and_the_harness_ones(
        catalogue: Catalogue) -> None:
    v = item_vectors(catalogue, ["a", "b", "c", "x"])
    assert set(v) == {"a", "b", "c"}  # x is not in the catalogue
    assert float(v["a"] @ v["b"]) == pytest.approx(0.2)
    assert float(v["a"] @ v["c"]) == 0.0
    harness = ItemVectors(catalogue, list(TEXTS))  # what recstream eval measures ILD with
    for i, j in (("a", "b"), ("a", "c"), ("b", "c")):  # pairs (it keeps shared terms only)
        assert float(v[i] @ v[j]) == pytest.approx(float(harness.get(i) @ harness.get(j)))


# a and b are the two most relevant but alike; c is a little less relevant and different
CANDS = [Candidate("a", cf=1.0), Candidate("b", cf=0.9), Candidate("c", cf=0.5),
         Candidate("d", cf=0.1)]
W = {"cf": 1.0, "content": 0.0, "trending": 0.0, "llm": 0.0}


def test_lambda_one_is_the_plain_blend(catalogue: Catalogue) -> None:
    assert ranked_list(CANDS, W, 3, (), catalogue=catalogue, mmr_lambda=1.0) == \
        blend(CANDS, W, 3, ())


def test_mmr_reorders_the_top_n_by_hand(catalogue: Catalogue) -> None:
    # scores 1, 0.9, 0.5, 0.1 (cf / peak). λ = 0.3: pick a; then b 0.27 − 0.7·0.2 = 0.13,
    # c 0.15 − 0 = 0.15, d 0.03 → c; then b 0.13, d 0.03 → b
    items = ranked_list(CANDS, W, 3, (), catalogue=catalogue, mmr_lambda=0.3, features=True)
    assert [i["item_id"] for i in items] == ["a", "c", "b"]
    assert all("features" in i for i in items)  # the learner still gets its signals
    # λ = 0.5: b 0.45 − 0.1 = 0.35 beats c 0.25: relevance wins again
    assert [i["item_id"] for i in ranked_list(CANDS, W, 3, (), catalogue=catalogue,
                                              mmr_lambda=0.5)] == ["a", "b", "c"]


def test_exploration_comes_after_the_re_rank(catalogue: Catalogue) -> None:
    # ε = 0.5 with a fixed seed: explored slots are filled from below the MMR top-n (d only
    # here) and labelled exactly as blend labels them
    items = ranked_list(CANDS, W, 3, (), catalogue=catalogue, mmr_lambda=0.3, epsilon=0.5,
                        rng=random.Random(4))
    greedy = ["a", "c", "b"]
    explored = [i for i in items if i.get("explore")]
    assert explored and all(i["item_id"] == "d" for i in explored)
    assert all(i["reasons"][0] == learn.EXPLORE_REASON for i in explored)
    # explored items are inserted: the greedy items keep their order, the last ones drop out
    kept = [i["item_id"] for i in items if not i.get("explore")]
    assert kept == greedy[:len(kept)]


def test_a_variant_overrides_the_mmr_setting() -> None:
    rc = RecommendSettings(mmr_lambda=0.8)
    assert variant_lambda(rc, VariantSettings(name="a", share=0.5)) == 0.8
    assert variant_lambda(rc, VariantSettings(name="b", share=0.5, mmr_lambda=0.4)) == 0.4
    with pytest.raises(ValueError):
        VariantSettings(name="c", share=0.5, mmr_lambda=1.5)


def test_feedback_windows_carry_ild_and_novelty(catalogue: Catalogue) -> None:
    cfg = FeedbackSettings(window_s=1000, join_window_s=100, grace_s=0, k=3, ild_every=1)
    join = FeedbackJoin(cfg, {}, 0)  # type: ignore[arg-type]  # a dict is a store
    for n, item in enumerate(["a", "a", "a", "c"]):  # counts a 3, c 1; N = 4
        join.event({"event_id": f"e{n}", "user_id": f"v{n}", "item_id": item, "ts": 1.0,
                    "kind": "clicks"})

    def rec(user: str, ts: float, items: list[str]) -> dict:  # type: ignore[type-arg]
        return {"user_id": user, "items": [{"item_id": i, "score": 1.0} for i in items],
                "variant": "A", "event_ts": ts, "trigger_event_id": f"t-{user}"}

    join.impression(rec("u1", 10.0, ["a", "b", "c"]), 4, catalogue)
    join.impression(rec("u2", 20.0, ["c", "d"]), 4, catalogue)
    [out] = join.impression(rec("u3", 1200.0, ["a"]), 4, catalogue)
    # ILD: [a, b, c] pairs 0.8, 1, 1 → 2.8 / 3; [c, d] → 1; mean over the two lists
    assert out["ild_lists"] == 2
    assert out["ild"] == pytest.approx((2.8 / 3 + 1.0) / 2)
    # novelty: −log2((n + 1) / (4 + 4)): a 3 → 1 bit, b, d 0 → 3 bits, c 1 → 2 bits
    assert out["novelty_lists"] == 2
    assert out["novelty"] == pytest.approx(((1 + 3 + 2) / 3 + (2 + 3) / 2) / 2)
    assert out["ctr"] == 0.0 and out["impressions"] == 2  # the usual fields are unchanged


def test_without_the_catalogue_the_window_has_no_diversity_figures() -> None:
    join = FeedbackJoin(FeedbackSettings(window_s=1000, join_window_s=100, grace_s=0, k=3),
                        {}, 0)  # type: ignore[arg-type]
    join.impression({"user_id": "u", "items": [{"item_id": "a"}, {"item_id": "b"}],
                     "event_ts": 1.0, "trigger_event_id": "t"}, 4)
    [out] = join.impression({"user_id": "w", "items": [{"item_id": "a"}], "event_ts": 2000.0,
                             "trigger_event_id": "t2"}, 4)
    assert out["ild"] is None and out["novelty"] is None and out["ild_lists"] == 0
    assert not math.isnan(out["ctr"]) and np.isfinite(out["coverage"])


def test_ild_is_measured_on_one_impression_in_ild_every(catalogue: Catalogue) -> None:
    cfg = FeedbackSettings(window_s=1000, join_window_s=100, grace_s=0, k=3, ild_every=4)
    join = FeedbackJoin(cfg, {}, 0)  # type: ignore[arg-type]  # a dict is a store
    triggers = [f"t{n}" for n in range(40)]
    for n, t in enumerate(triggers):
        join.impression({"user_id": f"u{n}", "items": [{"item_id": i, "score": 1.0}
                                                        for i in ("a", "b", "c")],
                         "variant": "A", "event_ts": 10.0, "trigger_event_id": t},
                        4, catalogue)
    [out] = join.impression({"user_id": "late", "items": [{"item_id": "a", "score": 1.0}],
                             "variant": "A", "event_ts": 1200.0, "trigger_event_id": "x"},
                            4, catalogue)
    sampled = sum(zlib.crc32(t.encode()) % 4 == 0 for t in triggers)
    assert 0 < sampled < 40  # the hash picks some, not all
    assert out["ild_lists"] == sampled and out["novelty_lists"] == 40
    assert out["ild"] == pytest.approx(2.8 / 3)  # every list is [a, b, c]
