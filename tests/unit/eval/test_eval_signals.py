"""The shared-signal path reproduces the pipeline's own recommendations exactly."""

from __future__ import annotations

import pytest

from recstream.core.process import recommend
from recstream.datasets.model import Dataset
from recstream.eval import variants
from recstream.eval.replay import Replay
from recstream.eval.signals import top_k, user_signals
from recstream.settings import Settings


@pytest.fixture
def replayed(small_world: Dataset) -> Replay:
    s = Settings()
    replay = Replay(small_world.items, "amazon2018", s.profile, s.recommend)
    for row in small_world.interactions[:-40]:
        replay.ingest(row)
    return replay


@pytest.mark.parametrize("name", ["cf_seed", "cf", "content", "hybrid", "default"])
def test_top_k_equals_process_recommend(replayed: Replay, name: str) -> None:
    """Every variant whose trending half-life is the pipeline's: identical top-k lists."""
    base = Settings().recommend.model_copy(update={"per_source": 4, "top_n": 6})
    cfg = variants.catalogue(base)[name].settings(base)
    for user in sorted(replayed.pipeline.profiles):
        profile = replayed.profile(user)
        want = [r["item_id"] for r in recommend(user, profile, replayed.view, cfg)[0]]
        sig = user_signals(user, profile, replayed.view, base)
        got = top_k(sig, replayed.trending(cfg.trending_half_life_s), profile.items,
                    replayed.view.catalogue, cfg, cfg.top_n)
        assert got == want, user


def test_popularity_variant_counts_all_time(small_world: Dataset) -> None:
    s = Settings()
    replay = Replay(small_world.items, "amazon2018", s.profile, s.recommend,
                    [variants.ALL_TIME_S])
    for row in small_world.interactions:
        replay.ingest(row)
    weight = s.profile.weight_per_star
    want: dict[str, float] = {}
    for row in small_world.interactions:
        want[row.item_id] = want.get(row.item_id, 0.0) + weight * float(row.rating or 0)
    got = replay.popularity_all(variants.ALL_TIME_S)
    assert got == pytest.approx(want)


def test_unknown_variant_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown variant"):
        variants.select(["cf", "nope"], Settings().recommend)


def test_variants_override_only_blend_settings() -> None:
    for v in variants.catalogue(Settings().recommend).values():
        assert set(v.overrides) <= variants.BLEND_FIELDS, v.name
