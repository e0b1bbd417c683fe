"""The streaming rating model: SGD steps by hand, learning, bounded buffer and replay."""

from __future__ import annotations

import math

import numpy as np
import pytest

from recstream.core.rating import RatingModel
from recstream.settings import RatingSettings

HAND = RatingSettings(factors=2, lr=0.1, reg=0.5, lr_bias=0.2, reg_bias=0.5, init_std=0.0,
                      buffer=0, replay=0)


def test_two_sgd_steps_by_hand() -> None:
    m = RatingModel(HAND)
    m.users.vec[m.users.row("a")] = [0.1, 0.2]
    m.items.vec[m.items.row("x")] = [0.3, -0.1]
    m.update("a", "x", 4.0, 1.0)
    # μ = 4, r̂ = 4 + 0.03 − 0.02 = 4.01, e = −0.01
    bu, pu = m.user_state("a")  # type: ignore[misc]
    bi, qi = m.item_state("x")  # type: ignore[misc]
    assert bu == pytest.approx(-0.002) and bi == pytest.approx(-0.002)
    assert pu == pytest.approx([0.0947, 0.1901])  # 0.1 + 0.1 (−0.01·0.3 − 0.5·0.1) ...
    assert qi == pytest.approx([0.2849, -0.0952])
    m.update("a", "y", 2.0, 2.0)  # y is new with zero factors: μ = 3, e = 2 − 2.998
    bu, pu = m.user_state("a")  # type: ignore[misc]
    by, qy = m.item_state("y")  # type: ignore[misc]
    assert bu == pytest.approx(-0.002 + 0.2 * (-0.998 + 0.001))
    assert by == pytest.approx(0.2 * -0.998)
    assert pu == pytest.approx([0.0947 * 0.95, 0.1901 * 0.95])  # only the penalty acts
    assert qy == pytest.approx([0.1 * -0.998 * 0.0947, 0.1 * -0.998 * 0.1901])
    # prediction: μ + b_u + b_i + p·q, clipped to the range seen (2..4)
    want = 3 + bu + bi + float(pu @ qi)
    assert m.predict("a", "x") == pytest.approx(want)
    assert m.predict("nobody", "y") == pytest.approx(3 + by)  # biases only, no factor term
    assert m.knows("a", "y") and not m.knows("nobody", "y")
    m.users.bias[m.users.index["a"]] = 10.0
    assert m.predict("a", "x") == 4.0


def test_a_key_with_few_ratings_takes_a_running_mean_step() -> None:
    """With bias_shrink s, a key's bias step is max(lr_bias, 1 / (n + s)) for its n-th
    rating: the hand-worked steps above with 0.2 = 1 / (1 + 4), then 1 / (2 + 4)."""
    m = RatingModel(HAND.model_copy(update={"lr_bias": 0.001, "bias_shrink": 4.0}))
    m.users.vec[m.users.row("a")] = [0.1, 0.2]
    m.items.vec[m.items.row("x")] = [0.3, -0.1]
    m.update("a", "x", 4.0, 1.0)
    assert m.user_state("a")[0] == pytest.approx(-0.002)  # type: ignore[index]
    assert m.item_state("x")[0] == pytest.approx(-0.002)  # type: ignore[index]
    m.update("a", "y", 2.0, 2.0)  # a's second rating (1/6), y's first (1/5)
    assert m.user_state("a")[0] == pytest.approx(  # type: ignore[index]
        -0.002 + (-0.998 + 0.5 * 0.002) / 6)
    assert m.item_state("y")[0] == pytest.approx(-0.998 / 5)  # type: ignore[index]
    many = RatingModel(HAND.model_copy(update={"lr_bias": 0.001, "bias_shrink": 4.0}))
    many.users.seen[many.users.row("b")] = 10_000  # a key with many ratings: lr_bias
    many.update("b", "x", 4.0, 1.0)
    many.update("b", "z", 2.0, 2.0)
    assert many.user_state("b")[0] == pytest.approx(0.001 * -1.0)  # type: ignore[index]


def _step(p: dict, r: float, mean: float, cfg: RatingSettings) -> None:
    """One per-sample SGD step, written out plainly."""
    e = r - (mean + p["bu"] + p["bi"] + sum(a * b for a, b in zip(p["pu"], p["qi"],
                                                                    strict=True)))
    p["bu"] += cfg.lr_bias * (e - cfg.reg_bias * p["bu"])
    p["bi"] += cfg.lr_bias * (e - cfg.reg_bias * p["bi"])
    pu, qi = p["pu"], p["qi"]
    p["pu"] = [a + cfg.lr * (e * b - cfg.reg * a) for a, b in zip(pu, qi, strict=True)]
    p["qi"] = [b + cfg.lr * (e * a - cfg.reg * b) for a, b in zip(pu, qi, strict=True)]


def test_replay_of_a_one_rating_buffer_is_a_second_step() -> None:
    cfg = HAND.model_copy(update={"init_std": 0.1, "buffer": 1, "replay": 1})
    m = RatingModel(cfg)
    start = RatingModel(cfg)
    u0, i0 = start.users.vec[start.users.row("a")], start.items.vec[start.items.row("x")]
    p = {"bu": 0.0, "bi": 0.0, "pu": list(u0), "qi": list(i0)}
    m.update("a", "x", 3.0)
    _step(p, 3.0, 3.0, cfg)
    _step(p, 3.0, 3.0, cfg)
    bu, pu = m.user_state("a")  # type: ignore[misc]
    bi, qi = m.item_state("x")  # type: ignore[misc]
    assert (bu, bi) == pytest.approx((p["bu"], p["bi"]))
    assert pu == pytest.approx(p["pu"]) and qi == pytest.approx(p["qi"])


def _world(seed: int = 1, users: int = 150, items: int = 80, rank: int = 3, n: int = 12000):
    rng = np.random.default_rng(seed)
    P, Q = rng.normal(0, 0.7, (users, rank)), rng.normal(0, 0.7, (items, rank))
    bu, bi = rng.normal(0, 0.5, users), rng.normal(0, 0.5, items)
    rows = []
    for t in range(n):
        u, i = int(rng.integers(users)), int(rng.integers(items))
        r = 3.5 + bu[u] + bi[i] + float(P[u] @ Q[i]) + rng.normal(0, 0.1)
        rows.append((f"u{u}", f"i{i}", r, float(t)))
    return rows


def _rmse(m: RatingModel, rows) -> float:
    return math.sqrt(sum((r - m.predict(u, i)) ** 2 for u, i, r, _ in rows) / len(rows))  # type: ignore[operator]


def test_learns_known_factors_from_the_stream() -> None:
    rows = _world()
    train, test = rows[:10000], rows[10000:]
    spread = math.sqrt(sum((r - 3.5) ** 2 for _, _, r, _ in test) / len(test))
    cfg = RatingSettings(factors=8, lr=0.02, reg=0.02, lr_bias=0.02, reg_bias=0.0,
                         buffer=5000, replay=10)
    m = RatingModel(cfg)
    curve = []
    for n, (u, i, r, ts) in enumerate(train, 1):
        m.update(u, i, r, ts)
        if n % 2500 == 0:
            curve.append(_rmse(m, test))
    assert curve == sorted(curve, reverse=True)  # falls as the stream goes on
    assert curve[-1] < 0.35 * spread  # far below the spread of the ratings (≈ 1.1)
    biases = RatingModel(cfg.model_copy(update={"factors": 0}))
    for u, i, r, ts in train:
        biases.update(u, i, r, ts)
    assert curve[-1] < 0.5 * _rmse(biases, test)  # the factors carry the interaction term
    plain = RatingModel(cfg.model_copy(update={"replay": 0}))
    for u, i, r, ts in train:
        plain.update(u, i, r, ts)
    assert curve[-1] < 0.7 * _rmse(plain, test)  # replay beats one pass of plain SGD


@pytest.mark.parametrize("policy", ["recent", "reservoir", "mixed"])
def test_buffer_and_replay_are_bounded(policy: str, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = RatingSettings(factors=4, buffer=100, replay=7, buffer_policy=policy)
    m = RatingModel(cfg)
    sizes: list[int] = []
    real = m._replay
    monkeypatch.setattr(m, "_replay", lambda picks: (sizes.append(len(picks)), real(picks)))
    rows = _world(n=5000)
    for u, i, r, ts in rows:
        m.update(u, i, r, ts)
    assert m.buffered == 100 and len(m.buf_r) == 100
    assert sizes == [7] * len(rows)  # replay steps per rating: exactly `replay`
    kept = [t for _, _, r, t in rows if (m.buf_r == r).any()]  # ratings are distinct
    if policy == "recent":
        assert len(kept) == 100 and min(kept) >= 4900  # only the latest 100
    elif policy == "reservoir":
        assert len(kept) == 100  # a uniform sample of the stream
        assert np.mean(kept) == pytest.approx(2500, rel=0.25)
    else:  # the latest 50 and 50 (one may be among the latest too) from the whole stream
        assert sum(t >= 4950 for t in kept) == 50 and 99 <= len(kept) <= 100
        assert np.mean([t for t in kept if t < 4950]) == pytest.approx(2500, rel=0.35)


def test_initial_factors_do_not_depend_on_arrival_order() -> None:
    c, d = RatingModel(RatingSettings()), RatingModel(RatingSettings())
    c.users.row("u1")
    first = c.users.vec[c.users.row("u2")].copy()
    for n in range(200):  # grows the arrays past their first capacity
        c.users.row(f"more{n}")
    d.users.row("u2")
    assert np.allclose(first, d.users.vec[d.users.index["u2"]])
    assert np.allclose(first, c.users.vec[c.users.index["u2"]])
    assert not np.allclose(first, c.users.vec[c.users.index["u1"]])


def test_empty_and_cold_predictions() -> None:
    m = RatingModel(RatingSettings())
    assert m.predict("u", "i") is None
    m.update("u1", "i1", 4.0)
    m.update("u2", "i2", 3.0)
    assert m.predict("u3", "i9") == pytest.approx(3.5)  # the running mean


def test_stack_step_by_hand() -> None:
    cfg = HAND.model_copy(update={"factors": 0, "stack": True, "stack_lr": 0.1})
    m = RatingModel(cfg)
    m.update("a", "x", 4.0)  # nothing to test against yet: the stack does not move
    assert list(m.w) == [0.0, 1.0, 0.0, 0.0]
    m.update("a", "y", 2.0)  # before it: μ = 4, features [1, 0, 0, 0], e = −2
    assert m.w == pytest.approx([0.1 * -2 / 2, 1.0, 0.0, 0.0])
    # now μ = 3, b_a = b_y = 0.2 · (2 − 3) = −0.2; for (a, x): the model 3 − 0.2 = 2.8,
    # a's mean 3 (centred 0), x's mean 4 (centred 1): 3 + (−0.1 + 1 · −0.2) = 2.7
    assert m.predict("a", "x") == pytest.approx(2.7)


def test_stack_learns_to_trust_the_user_mean() -> None:
    rng = np.random.default_rng(3)
    level = {f"u{u}": float(rng.choice([1.5, 4.5])) for u in range(60)}
    rows = [(u, f"i{int(rng.integers(500))}", level[u] + rng.normal(0, 0.3), float(t))
            for t, u in enumerate(rng.choice(sorted(level), 6000))]
    cfg = RatingSettings(factors=0, lr_bias=0.001, bias_shrink=0, buffer=0,
                         replay=0)  # a sluggish model
    plain, stacked = RatingModel(cfg), RatingModel(cfg.model_copy(update={"stack": True}))
    for u, i, r, ts in rows[:5000]:
        plain.update(u, i, r, ts)
        stacked.update(u, i, r, ts)
    assert stacked.w[2] > 0.5  # the user's mean carries the signal
    assert _rmse(stacked, rows[5000:]) < 0.6 * _rmse(plain, rows[5000:])
