"""The learned blend in the prequential harness: it learns from its own impressions."""

from __future__ import annotations

import random

from recstream.datasets.model import Dataset, Interaction, Item
from recstream.eval import prequential, variants
from recstream.eval.job import Job
from recstream.settings import LearnSettings, Settings

WAVE_S = 3600.0
WORDS = [f"w{n}" for n in range(30)]


def waves(n_items: int = 40, n_users: int = 25, take: float = 0.8, seed: int = 3) -> Dataset:
    """Items are released one per hour; within its hour, most users consume the new item (at
    random times, so the first few takers make it trending for the rest). Item texts are
    random words: the next item is predicted by trending, not by content."""
    rng = random.Random(seed)
    items = [Item(f"i{n:02d}", " ".join(rng.sample(WORDS, 3)), "", ()) for n in range(n_items)]
    rows = []
    for n, it in enumerate(items):
        for u in range(n_users):
            if rng.random() < take:
                rows.append(Interaction(f"u{u:02d}", it.item_id,
                                        n * WAVE_S + rng.uniform(0, WAVE_S), 5.0))
    rows.sort(key=lambda x: (x.ts, x.user_id, x.item_id))
    return Dataset("waves", "amazon2018", items, rows)


def run(ds: Dataset, learn: LearnSettings) -> tuple[dict, dict]:  # type: ignore[type-arg]
    s = Settings()
    # the configured (fixed) weights trust content, which is noise here; trending (half-life
    # a quarter of a wave) is what predicts the next event
    rc = s.recommend.model_copy(update={"weight_cf": 0.0, "weight_content": 0.95,
                                        "weight_trending": 0.05, "weight_llm": 0.0,
                                        "weight_cooc": 0.0, "weight_seq": 0.0,
                                        "trending_half_life_s": WAVE_S / 4})
    runs, _ = variants.select(["fixed", "learned"], rc)
    job = Job(ds, s.profile, rc, runs, k=3, learn=learn,
              learned=variants.learned_names(runs, learn))
    out = prequential.run(job)
    return out.results, out.learned


def test_learned_blend_beats_the_fixed_one_when_a_signal_predicts_the_next_item() -> None:
    results, learned = run(waves(), LearnSettings(epsilon=0.05))
    fixed, online = results["fixed"], results["learned"]
    assert fixed["events"] == online["events"] > 500
    assert online["hr"] > fixed["hr"] + 0.2
    w = learned["learned"]
    assert w["prior"]["content"] == 0.95
    assert max(w["weights"], key=w["weights"].__getitem__) == "trending"
    # the guard kept serving the learner: the configured weights never ranked better
    assert w["served"] == "learned" and w["switches"] == 0
    assert w["served_share"] == {"learned": 1.0} and w["weights"] == w["learned_weights"]
    assert w["guard"]["learned"]["reward"] > w["guard"]["prior"]["reward"] + 0.1
    # one impression (a batch of up to k examples: early lists can be shorter) per judged
    # event, some slots explored
    assert w["version"] == online["events"]
    assert 2.9 * online["events"] < w["examples"] <= 3 * online["events"]
    assert 0 < w["explored"] < 0.15 * w["examples"]


def test_without_learning_or_exploration_learned_ranks_like_fixed() -> None:
    # a vanishing step and no exploration: the learner keeps (to 1e-11) its starting
    # weights, the fixed blend's, so its lists are the fixed ones but where two items tie
    # exactly under the fixed weights (the nudge then breaks the tie): one event here
    results, learned = run(waves(n_items=10), LearnSettings(epsilon=0.0, learning_rate=1e-12))
    fixed, online = results["fixed"], results["learned"]
    assert abs(online["hr"] - fixed["hr"]) * fixed["events"] <= 1.0 + 1e-9
    assert learned["learned"]["explored"] == 0 and learned["learned"]["switches"] == 0
    results, _ = run(waves(n_items=10), LearnSettings(epsilon=0.0, learning_rate=0.5,
                                                      guard=False))
    assert results["learned"]["hr"] > fixed["hr"] + 0.1  # while a real step learns


def test_exploration_is_seeded_so_a_rerun_is_identical() -> None:
    ds = waves(n_items=12)
    first, second = run(ds, LearnSettings(epsilon=0.3)), run(ds, LearnSettings(epsilon=0.3))
    assert first == second
    other = run(ds, LearnSettings(epsilon=0.3, seed="another"))
    assert other[1]["learned"]["explored"] != first[1]["learned"]["explored"] or \
        other[0]["learned"] != first[0]["learned"]


def test_default_learns_only_when_learning_is_the_production_setting() -> None:
    runs, _ = variants.select(["default", "fixed", "learned"], Settings().recommend)
    assert variants.learned_names(runs, LearnSettings(enabled=False)) == {"learned"}
    assert variants.learned_names(runs, LearnSettings(enabled=True)) == {"learned", "default"}
