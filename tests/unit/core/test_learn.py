"""The online-learned blend (recstream/core/learn.py) and its hooks in rank and feedback."""

from __future__ import annotations

import json
import random

import pytest

from recstream.core import learn
from recstream.core.candidates import Candidate
from recstream.core.feedback import FeedbackJoin
from recstream.core.rank import blend
from recstream.settings import ABSettings, FeedbackSettings, LearnSettings, VariantSettings

PRIOR = {"cf": 0.5, "content": 0.35, "trending": 0.15, "llm": 0.3, "cooc": 0.0, "seq": 0.0}


def synthetic(n: int, seed: int, signal: str = "content") -> list[learn.Example]:
    """Shown items with uniform random signals; the user takes exactly those whose
    ``signal`` is above 0.7 (that signal predicts clicks perfectly, the others not at all)."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        x = {s: rng.random() for s in learn.FEATURES}
        out.append((x, int(x[signal] > 0.7)))
    return out


def test_weights_move_towards_the_signal_that_predicts_clicks() -> None:
    learner = learn.Learner(LearnSettings(learning_rate=0.05), PRIOR)
    assert learner.weights() == learner.learned() == PRIOR  # untrained: the fixed weights
    before = {s: v / sum(PRIOR.values()) for s, v in PRIOR.items()}  # their shares
    stream = synthetic(6000, seed=1)
    for start in range(0, len(stream), 100):
        learner.update(stream[start:start + 100])
    after = learner.learned()
    assert after["content"] > 0.8 > before["content"]
    for s in ("cf", "trending", "llm"):
        assert after[s] < before[s]
    assert max(after, key=after.__getitem__) == "content"
    assert learner.version == 60 and learner.examples == 6000
    # the model, not only the weights, learned: takes are far likelier at high content
    assert learner.probability({"content": 0.95}) > 0.5 > learner.probability({"content": 0.2})


def test_the_learned_signal_follows_the_data_not_a_fixed_favourite() -> None:
    learner = learn.Learner(LearnSettings(learning_rate=0.05), PRIOR)
    learner.update(synthetic(6000, seed=2, signal="trending"))
    w = learner.learned()
    assert max(w, key=w.__getitem__) == "trending"


def test_a_signal_never_present_gets_no_weight() -> None:
    # llm is 0 in every example (no scorer): its prior coefficient never moves and must not
    # take over the blend when the others' coefficients fall
    learner = learn.Learner(LearnSettings(learning_rate=0.5), PRIOR)
    learner.update([({"cf": 1.0, "content": 1.0, "trending": 1.0}, 0)] * 50
                   + [({"cf": 1.0, "content": 0.2}, 1)] * 10)
    assert learner.coefficients()["llm"] == PRIOR["llm"]
    assert learner.learned()["llm"] == 0.0
    assert learner.present == {"cf": 60, "content": 60, "trending": 50, "llm": 0,
                               "cooc": 0, "seq": 0}


def test_untrained_learner_blends_like_the_prior_and_negative_coefficients_clip() -> None:
    assert learn.weights_of(None, PRIOR) == (PRIOR, 0)
    assert learn.weights_of({"coef": {"cf": -1.0, "content": -2.0}, "version": 3},
                            PRIOR) == (PRIOR, 3)
    w, v = learn.weights_of({"coef": {"cf": 3.0, "content": -2.0, "trending": 1.0},
                             "version": 7}, PRIOR)
    assert (w, v) == ({"cf": 0.75, "content": 0.0, "trending": 0.25, "llm": 0.0,
                      "cooc": 0.0, "seq": 0.0}, 7)


def test_state_round_trips_through_json_and_a_restarted_learner_resumes() -> None:
    cfg = LearnSettings(learning_rate=0.05)
    stream = synthetic(2000, seed=3)
    first = learn.Learner(cfg, PRIOR)
    first.update(stream[:1000], ts=100.0)
    stored = json.loads(json.dumps(first.state()))  # what the table's changelog carries
    restarted = learn.Learner(cfg, PRIOR, stored)
    assert restarted.state() == first.state()
    assert restarted.version == 1 and restarted.updated_ts == 100.0
    first.update(stream[1000:])
    restarted.update(stream[1000:])
    assert restarted.coefficients() == pytest.approx(first.coefficients())
    assert restarted.version == first.version == 2
    # and a fresh learner (no state) is not where the restarted one is
    assert learn.Learner(cfg, PRIOR).coefficients() != pytest.approx(first.coefficients())


def lists(n: int, seed: int, signal: str, size: int = 10) -> list[list[learn.Example]]:
    """Impressions of ``size`` shown items with uniform random signals; the user takes the
    one with the highest ``signal`` (as the feedback join emits them: centred, one batch)."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        shown = {f"i{k}": {s: rng.random() for s in learn.FEATURES} for k in range(size)}
        took = max(shown, key=lambda i: shown[i][signal])
        out.append(learn.examples(shown, [{"item": took, "kind": "clicks"}]))
    return out


def test_list_reward_is_the_reciprocal_rank_of_the_taken_item_among_the_shown() -> None:
    shown = [({"cf": 0.3, "content": -0.2}, 0), ({"cf": 0.1, "content": 0.4}, 1),
             ({"cf": -0.4, "content": -0.2}, 0)]
    assert learn.list_reward(shown, {"cf": 1.0}) == 0.5  # second by cf
    assert learn.list_reward(shown, {"content": 1.0}) == 1.0  # first by content
    # a tie with one other item: expected rank 1.5 → (1 + 1/2) / 2
    assert learn.list_reward(shown, {"trending": 1.0}) == pytest.approx(
        (1 + 1 / 2 + 1 / 3) / 3)  # all tie: every rank equally likely
    assert learn.list_reward([(x, 0) for x, _ in shown], {"cf": 1.0}) is None  # no take
    assert learn.list_reward([(x, 1) for x, _ in shown], {"cf": 1.0}) is None  # all taken


def test_a_batch_of_several_impressions_splits_back_into_its_lists() -> None:
    a, b = lists(2, seed=4, signal="cf", size=3)[0], lists(1, seed=5, signal="cf", size=5)[0]
    assert [len(x) for x in learn.impressions(a + b)] == [3, 5]
    unmarked = [({s: v for s, v in x.items() if s != learn.LIST_SIZE}, y) for x, y in a + b]
    assert [len(x) for x in learn.impressions(unmarked)] == [8]  # older producers: one list


def test_a_learner_that_ranks_better_than_the_prior_keeps_being_served() -> None:
    # content decides what is taken; the configured weights trust cf most
    learner = learn.Learner(LearnSettings(learning_rate=0.05), PRIOR)
    assert learner.served == "learned" and learner.weights() == PRIOR  # untrained: the prior
    for imp in lists(400, seed=6, signal="content"):
        learner.update(imp)
    assert learner.served == "learned" and learner.switches == 0
    assert learner.weights() == learner.learned()
    assert max(learner.weights(), key=learner.weights().__getitem__) == "content"
    g = learner.state()["guard"]
    assert g["learned"]["reward"] > g["prior"]["reward"] + 0.2
    assert g["learned"]["lists"] == g["prior"]["lists"] == learner.judged == 400
    assert learn.weights_of(learner.state(), PRIOR)[0] == learner.learned()


STALE = {"coef": {"cf": 0.0, "content": 3.0, "trending": 0.0, "llm": 0.0},
         "present": dict.fromkeys(learn.FEATURES, 100), "served": "learned", "version": 50}


def test_the_guard_falls_back_to_the_prior_and_returns_once_the_learner_is_better() -> None:
    # the learner learned content when content decided (now stale), the stream has drifted
    # to cf, which the configured weights trust most: the prior must take over, and the
    # rank stage get it, until the learner has re-learned enough to rank better than it
    learner = learn.Learner(LearnSettings(learning_rate=0.02), PRIOR, STALE)
    assert learner.served == "learned" and learn.weights_of(STALE, PRIOR)[0]["content"] == 1.0
    stream = lists(1000, seed=7, signal="cf")
    for imp in stream[:29]:  # fewer than guard_min_impressions: no verdict yet
        learner.update(imp)
    assert learner.served == "learned"
    for imp in stream[29:100]:
        learner.update(imp)
    assert learner.learned()["content"] > 0.5  # still learning its way out
    assert learner.served == "prior" and learner.switches == 1
    assert learn.weights_of(learner.state(), PRIOR) == (PRIOR, learner.version)
    assert learn.weights_of(learner.state(), {"cf": 1.0}) == ({"cf": 1.0}, learner.version)
    for imp in stream[100:]:
        learner.update(imp)
    assert learner.served == "learned" and learner.switches == 2
    assert max(learner.weights(), key=learner.weights().__getitem__) == "cf"


def test_equally_good_arms_do_not_make_the_guard_switch() -> None:
    # a vanishing step: the learned weights stay the prior's, nothing to choose between
    learner = learn.Learner(LearnSettings(learning_rate=1e-9), PRIOR)
    for imp in lists(300, seed=8, signal="trending"):
        learner.update(imp)
    assert learner.served == "learned" and learner.switches == 0


def test_a_single_signal_arm_is_served_when_configured_and_best() -> None:
    cfg = LearnSettings(learning_rate=1e-9, guard_arms=["trending", "cf"])
    learner = learn.Learner(cfg, PRIOR)
    for imp in lists(300, seed=9, signal="trending"):
        learner.update(imp)
    assert learner.served == "trending"
    assert learn.weights_of(learner.state(), PRIOR)[0] == {
        "cf": 0.0, "content": 0.0, "trending": 1.0, "llm": 0.0, "cooc": 0.0, "seq": 0.0}
    off = learn.Learner(LearnSettings(guard=False), PRIOR)
    assert off.served == "learned" and off.arms == ["learned"]
    strict = learn.Learner(LearnSettings(guard_start="prior"), PRIOR)
    assert strict.served == "prior"
    for imp in lists(300, seed=9, signal="content"):  # the learner must prove itself
        strict.update(imp)
    assert strict.served == "learned" and strict.switches == 1


def test_the_guard_state_round_trips_through_json_and_resumes() -> None:
    cfg = LearnSettings(learning_rate=0.02)
    stream = lists(100, seed=10, signal="cf")
    first = learn.Learner(cfg, PRIOR, STALE)
    for imp in stream[:25]:  # mid-way through the evidence for a fallback
        first.update(imp)
    assert first.served == "learned" and first.guard["prior"]["vs_lists"] == 25
    stored = json.loads(json.dumps(first.state()))  # what the table's changelog carries
    restarted = learn.Learner(cfg, PRIOR, stored)
    assert restarted.state() == first.state()
    for imp in stream[25:]:
        first.update(imp)
        restarted.update(imp)
    assert restarted.state() == first.state()  # same served arm, rewards, switches
    assert restarted.served == first.served == "prior"


def candidates(n: int) -> list[Candidate]:
    return [Candidate(f"i{k:03d}", cf=float(n - k), content=k / n, trending=1.0)
            for k in range(n)]


def test_exploration_share_matches_epsilon() -> None:
    eps, records, top = 0.2, 500, 10
    explored = 0
    for r in range(records):
        out = blend(candidates(60), PRIOR, top, epsilon=eps,
                    rng=learn.exploration_rng("seed", f"e{r}"))
        ids = [i["item_id"] for i in out]
        assert len(ids) == top == len(set(ids))  # never shows an item twice
        greedy = {i["item_id"] for i in blend(candidates(60), PRIOR, top)}
        for i in out:
            if i.get("explore"):
                explored += 1
                assert i["item_id"] not in greedy  # drawn from below the greedy top-N
                assert i["reasons"][0].startswith("exploring")
            else:
                assert i["item_id"] in greedy
    share = explored / (records * top)
    sd = (eps * (1 - eps) / (records * top)) ** 0.5
    assert abs(share - eps) < 3 * sd, share


def test_an_explored_slot_pushes_the_greedy_items_down_instead_of_replacing_one() -> None:
    greedy = [f"g{k}" for k in range(5)]
    ranked = greedy + [f"r{k}" for k in range(5)]
    for seed in range(50):
        shown, flags = learn.explore(ranked, 5, 0.4, random.Random(seed))
        kept = [i for i, f in zip(shown, flags, strict=True) if not f]
        assert kept == greedy[:len(kept)]  # the best greedy items survive, in order
        assert all(i.startswith("r") for i, f in zip(shown, flags, strict=True) if f)
        assert len(shown) == 5 == len(set(shown))


def test_exploration_is_reproducible_per_trigger_and_off_at_epsilon_zero() -> None:
    def run(trigger: str, eps: float) -> list[tuple[str, bool]]:
        out = blend(candidates(40), PRIOR, 10, epsilon=eps,
                    rng=learn.exploration_rng("s", trigger))
        return [(i["item_id"], bool(i.get("explore"))) for i in out]

    assert run("t1", 0.3) == run("t1", 0.3)
    assert run("t1", 0.3) != run("t2", 0.3)
    assert not any(e for _, e in run("t1", 0.0))


def test_blend_carries_the_scaled_features_the_learner_trains_on() -> None:
    out = blend([Candidate("a", cf=2.0, content=0.5), Candidate("b", cf=1.0, content=1.0)],
                {"cf": 1.0}, 10, features=True)
    assert out[0]["features"] == {"cf": 1.0, "content": 0.5, "trending": 0.0, "llm": 0.0,
                                   "cooc": 0.0, "seq": 0.0}
    assert out[1]["features"] == {"cf": 0.5, "content": 1.0, "trending": 0.0, "llm": 0.0,
                                   "cooc": 0.0, "seq": 0.0}
    assert "features" not in blend([Candidate("a", cf=1.0)], {"cf": 1.0}, 10)[0]


def test_feedback_join_labels_each_shown_item() -> None:
    cfg = FeedbackSettings(window_s=60, join_window_s=100, grace_s=0, k=10)
    store: dict = {}
    join = FeedbackJoin(cfg, store, 0)
    cf = {"A": 1.0, "B": 0.8, "C": 0.6, "D": 0.2}  # mean 0.65
    imp = {"user_id": "u", "event_ts": 1000.0, "trigger_event_id": "t", "variant": "default",
           "items": [{"item_id": i, "score": 1.0, "features": {
               "cf": cf[i], "content": 0.2, "trending": 0.0, "llm": 0.0}} for i in "ABCD"]}
    assert join.impression(imp, 10) == []
    for eid, item, ts, kind, rating in [("e1", "A", 1010.0, "clicks", None),
                                        ("e2", "B", 1020.0, "ratings", 2.0),
                                        ("e3", "C", 1030.0, "ratings", 5.0),
                                        ("e4", "D", 1200.0, "clicks", None)]:  # too late
        ev = {"event_id": eid, "user_id": "u", "item_id": item, "ts": ts, "kind": kind}
        if rating is not None:
            ev["rating"] = rating
        join.event(ev)
    assert join.examples == []  # not final yet
    later = {**imp, "user_id": "v", "event_ts": 1101.0, "trigger_event_id": "t2"}
    join.impression(later, 10)
    # features centred on the list: cf − 0.65; content equal for all shown items → 0
    assert [(y, round(x["cf"], 6), x["content"]) for x, y in join.examples] == [
        (1, 0.35, 0.0), (0, 0.15, 0.0), (1, -0.05, 0.0), (0, -0.45, 0.0)]  # A, B, C, D


def test_the_production_variant_learns_without_exploring_by_default() -> None:
    """Defaults (EVALUATION.md, "The default: learned, ε 0"): the one A/B variant blends with
    the learned weights, and its list is the greedy one, no slot explored."""
    cfg = LearnSettings()
    (variant,) = ABSettings().variants
    assert learn.is_learned(variant, cfg)
    greedy = [i["item_id"] for i in blend(candidates(40), PRIOR, 10)]
    for trigger in (f"t{n}" for n in range(20)):  # 200 slots: ε 0.05 would explore ~10
        out = blend(candidates(40), PRIOR, 10, epsilon=cfg.epsilon,
                    rng=learn.exploration_rng(cfg.seed, trigger))
        assert not any(i.get("explore") for i in out)
        assert [i["item_id"] for i in out] == greedy


def test_which_variants_learn() -> None:
    on, off = LearnSettings(enabled=True), LearnSettings(enabled=False)
    plain = VariantSettings(name="default", share=0.5)
    pinned = VariantSettings(name="fixed", share=0.5, weight_cf=1.0)
    assert learn.is_learned(plain, on) and not learn.is_learned(plain, off)
    assert not learn.is_learned(pinned, on)
    assert not learn.is_learned(plain.model_copy(update={"learned": False}), on)
    assert learn.is_learned(pinned.model_copy(update={"learned": True}), on)
