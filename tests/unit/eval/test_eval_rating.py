"""Rating prediction for ``split``: signal forms, blending, fallbacks, clipping."""

from __future__ import annotations

import pytest

from recstream.core.cf import Neighbour
from recstream.datasets.model import Dataset, Interaction
from recstream.eval import split, variants
from recstream.eval.job import Job
from recstream.eval.rating import Means, combine, signal_predictions
from recstream.eval.splits import temporal_split
from recstream.settings import RecommendSettings, Settings


class NoContent:
    def predict(self, rated: object, item_id: str) -> None:
        return None


def test_means_fallback_order_and_clip() -> None:
    m = Means([Interaction("a", "x", 1, 4.0), Interaction("a", "y", 2, 2.0),
               Interaction("b", "x", 3, 5.0)])
    assert m.fallback("a", "zz") == 3.0  # the user's mean first
    assert m.fallback("new", "x") == 4.5  # then the item's
    assert m.fallback("new", "zz") == pytest.approx(11 / 3)  # then the global mean
    assert m.scale == (2.0, 5.0)
    assert m.clip(7.0) == 5.0 and m.clip(0.0) == 2.0


def test_signal_forms_by_hand() -> None:
    nbrs = [Neighbour("v", 0.5, {"x": 4.0}), Neighbour("w", 0.25, {"x": 1.0, "y": 5.0})]
    m = Means([Interaction("v", "x", 1, 4.0), Interaction("w", "x", 1, 1.0)])
    p = signal_predictions(nbrs, {}, NoContent(), m, "x")  # type: ignore[arg-type]
    assert p["weighted"] == pytest.approx((0.5 * 4 + 0.25 * 1) / 0.75)  # 3.0
    assert p["seed_sum"] == 5.0  # the article's sum: not on the rating scale
    assert p["seed"] == 2.5  # mapped: the sum over the 2 neighbours summed
    assert p["trending"] == 2.5  # the item's mean rating
    assert p["content"] is None
    q = signal_predictions(nbrs, {}, NoContent(), m, "nobody")  # type: ignore[arg-type]
    assert q["weighted"] is q["seed"] is q["trending"] is None


def test_combine_renormalises_over_signals_with_support() -> None:
    cfg = RecommendSettings(weight_cf=0.5, weight_content=0.35, weight_trending=0.15)
    preds = {"weighted": 4.0, "seed": 1.0, "content": None, "trending": 3.0}
    assert combine(preds, cfg) == pytest.approx((0.5 * 4 + 0.15 * 3) / 0.65)
    assert combine({**preds, "weighted": None, "trending": None}, cfg) is None
    seed = cfg.model_copy(update={"cf_form": "seed", "weight_trending": 0.0})
    assert combine(preds, seed) == 1.0


def test_split_run_on_a_temporal_split(small_world: Dataset) -> None:
    s = Settings()
    runs, _ = variants.select(["popularity", "cf_seed", "cf", "default"], s.recommend)
    out = split.run(Job(small_world, s.profile, s.recommend, runs))
    assert list(out.results) == ["popularity", "cf_seed", "cf", "default"]
    for r in out.results.values():
        assert 0 <= r["mae"] <= r["rmse"] <= 4  # ratings are 1..5
        assert r["predictions"] == len(temporal_split(small_world.interactions)[1])
        assert r["folds"] == 1
    assert out.results["cf_seed"]["mae_unmapped"] > out.results["cf_seed"]["mae"]


def test_split_default_predicts_with_the_streaming_rating_model(small_world: Dataset) -> None:
    import math

    from recstream.core.rating import RatingModel
    from recstream.settings import RatingSettings

    s = Settings()
    runs, _ = variants.select(["fixed", "default"], s.recommend)
    cfg = RatingSettings(factors=4, buffer=50, replay=5)
    out = split.run(Job(small_world, s.profile, s.recommend, runs, rating=cfg))
    train, test = temporal_split(small_world.interactions)
    model = RatingModel(cfg)
    for x in train:
        model.update(x.user_id, x.item_id, x.rating, x.ts)  # type: ignore[arg-type]
    errors = [x.rating - model.predict(x.user_id, x.item_id) for x in test]  # type: ignore[operator]
    want = math.sqrt(sum(e * e for e in errors) / len(errors))
    assert out.results["default"]["rmse"] == pytest.approx(want, rel=1e-9)
    assert out.results["default"]["support"] == pytest.approx(
        sum(model.knows(x.user_id, x.item_id) for x in test) / len(test))
    assert out.results["default"]["rmse"] != pytest.approx(out.results["fixed"]["rmse"])
    off = split.run(Job(small_world, s.profile, s.recommend, runs,
                        rating=cfg.model_copy(update={"enabled": False})))
    assert off.results["default"] == off.results["fixed"]  # the blend, as before the model
