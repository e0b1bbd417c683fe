"""A streaming rating model: baseline biases plus latent factors, trained by SGD per rating.

r̂(u, i) = μ + b_u + b_i + p_u · q_i, clipped to the range of the ratings seen. μ is the
running mean of every rating seen. Each rating (u, i, r) arriving on the stream takes one
SGD step on its own squared error (Funk / Koren, as Surprise's SVD and river.reco's
biased MF), with e = r − r̂ computed before the step::

    b_u += η_u · (e − reg_bias · b_u)          b_i += η_i · (e − reg_bias · b_i)
    p_u += lr · (e · q_i − reg · p_u)          q_i += lr · (e · p_u − reg · q_i)

with a key's bias step η = max(lr_bias, 1 / (n + bias_shrink)) at its n-th rating: a key
with few ratings learns its bias like a running mean shrunk towards 0, one with many at the
slow step (a fixed step had to choose between users with few ratings and users with many).

(q_i's step uses p_u from before its own step.) One pass of plain SGD is far from a trained
factor model, so the rating then enters a bounded replay buffer of ``buffer`` rows (policy
``recent``: the latest ratings, oldest dropped first; ``reservoir``: a uniform sample of the
whole stream; ``mixed``: half of each), and ``replay`` ratings drawn uniformly from that
buffer take one more step together, as one mini-batch (gradients summed at the current
parameters, so a key drawn twice moves twice). With ``recent`` a rating is revisited
``replay`` times on average during its stay in the buffer: several epochs' worth of
training spread over the stream, never a refit over all history.

Cost of one rating: O((1 + replay) · factors) arithmetic, bounded by the settings and
independent of the number of users, items and ratings. Memory: (users + items) ·
(factors + 1) floats plus ``buffer`` ratings. State is kept per key (a user's bias and
factor row, an item's bias and factor row, see :meth:`RatingModel.user_state`) so that it
can be partitioned by user with the item rows replicated; initial factors are drawn from
a generator seeded by the key, so they do not depend on arrival order.
"""

from __future__ import annotations

import zlib

import numpy as np

from recstream.settings import RatingSettings


class _Rows:
    """Bias and factor row per key, in growable arrays (id → row index)."""

    def __init__(self, factors: int, init_std: float, salt: int) -> None:
        self.index: dict[str, int] = {}
        self.bias = np.zeros(64)
        self.vec = np.zeros((64, factors))
        self.seen = np.zeros(64)  # ratings of the key so far
        self.total = np.zeros(64)  # their sum
        self.init_std = init_std
        self.salt = salt

    def row(self, key: str) -> int:
        n = self.index.get(key)
        if n is not None:
            return n
        n = self.index[key] = len(self.index)
        if n == len(self.bias):
            self.bias = np.concatenate([self.bias, np.zeros(n)])
            self.seen = np.concatenate([self.seen, np.zeros(n)])
            self.total = np.concatenate([self.total, np.zeros(n)])
            self.vec = np.concatenate([self.vec, np.zeros_like(self.vec)])
        seed = zlib.crc32(key.encode(), self.salt)
        self.vec[n] = np.random.default_rng(seed).normal(0.0, self.init_std, self.vec.shape[1])
        return n


class RatingModel:
    """Biased matrix factorisation learnt online; see the module docstring for the maths."""

    def __init__(self, cfg: RatingSettings) -> None:
        self.cfg = cfg
        self.users = _Rows(cfg.factors, cfg.init_std, zlib.crc32(b"user", cfg.seed))
        self.items = _Rows(cfg.factors, cfg.init_std, zlib.crc32(b"item", cfg.seed))
        self.count = 0
        self.mean = 0.0
        self.low = float("inf")
        self.high = float("-inf")
        # the replay buffer: user row, item row, rating
        self.buf_u = np.zeros(cfg.buffer, dtype=np.int64)
        self.buf_i = np.zeros(cfg.buffer, dtype=np.int64)
        self.buf_r = np.zeros(cfg.buffer)
        self.buffered = 0  # rows in use (≤ cfg.buffer)
        # rows [0, ring) are a ring of the latest ratings, [ring, buffer) a reservoir
        self.ring = {"recent": cfg.buffer, "reservoir": 0, "mixed": cfg.buffer // 2}[
            cfg.buffer_policy]
        self.rng = np.random.default_rng(cfg.seed)
        self.w = np.array([0.0, 1.0, 0.0, 0.0])  # the stack: intercept, model, user, item

    def update(self, user: str, item: str, rating: float, ts: float | None = None) -> None:
        """Learn from one rating event (``ts``, Unix seconds, is accepted for the event
        contract; the buffer's order is arrival order)."""
        cfg = self.cfg
        r = float(rating)
        if cfg.stack and self.count:  # test, then train: the stack learns from what is next
            f = self._features(user, item)
            e = r - (self.mean + float(self.w @ f))
            self.w += cfg.stack_lr * e * f / (1.0 + float(f @ f))
        self.count += 1
        self.mean += (r - self.mean) / self.count
        self.low, self.high = min(self.low, r), max(self.high, r)
        u, i = self.users.row(user), self.items.row(item)
        U, V = self.users, self.items
        U.seen[u] += 1
        U.total[u] += r
        V.seen[i] += 1
        V.total[i] += r
        pu, qi = U.vec[u], V.vec[i]
        e = r - (self.mean + U.bias[u] + V.bias[i] + float(pu @ qi))
        U.bias[u] += self._bias_step(U.seen[u]) * (e - cfg.reg_bias * U.bias[u])
        V.bias[i] += self._bias_step(V.seen[i]) * (e - cfg.reg_bias * V.bias[i])
        old = pu.copy()
        pu += cfg.lr * (e * qi - cfg.reg * pu)
        qi += cfg.lr * (e * old - cfg.reg * qi)
        if cfg.buffer == 0:
            return
        for slot in self._slots():
            self.buf_u[slot], self.buf_i[slot], self.buf_r[slot] = u, i, r
        self.buffered = min(self.count, self.ring) + min(self.count, cfg.buffer - self.ring)
        if cfg.replay:
            picks = self.rng.integers(0, self.buffered, cfg.replay)
            # filled slots are [0, min(count, ring)) and [ring, ring + filled reservoir)
            picks[picks >= min(self.count, self.ring)] += self.ring - min(self.count, self.ring)
            self._replay(picks)

    def _slots(self) -> list[int]:
        """Where the newest rating goes: the ring's oldest slot, and in the reservoir
        (Vitter's algorithm R, a uniform sample of the whole stream) a uniform slot with
        probability size / count once it is full."""
        out = [(self.count - 1) % self.ring] if self.ring else []
        size = self.cfg.buffer - self.ring
        if size:
            slot = self.count - 1 if self.count <= size else int(self.rng.integers(0, self.count))
            if slot < size:
                out.append(self.ring + slot)
        return out

    def _replay(self, picks: np.ndarray) -> None:
        cfg = self.cfg
        U, V = self.users, self.items
        us, its, rs = self.buf_u[picks], self.buf_i[picks], self.buf_r[picks]
        P, Q = U.vec[us], V.vec[its]
        e = rs - (self.mean + U.bias[us] + V.bias[its] + np.einsum("ij,ij->i", P, Q))
        np.add.at(U.bias, us, self._bias_step(U.seen[us]) * (e - cfg.reg_bias * U.bias[us]))
        np.add.at(V.bias, its, self._bias_step(V.seen[its]) * (e - cfg.reg_bias * V.bias[its]))
        np.add.at(U.vec, us, cfg.lr * (e[:, None] * Q - cfg.reg * P))
        np.add.at(V.vec, its, cfg.lr * (e[:, None] * P - cfg.reg * Q))

    def _bias_step(self, seen: np.ndarray | float) -> np.ndarray | float:
        """The bias step of a key with ``seen`` ratings: lr_bias, or with ``bias_shrink``
        s > 0 at least 1 / (seen + s)."""
        cfg = self.cfg
        if not cfg.bias_shrink:
            return cfg.lr_bias
        return np.maximum(cfg.lr_bias, 1.0 / (seen + cfg.bias_shrink))

    def _features(self, user: str, item: str) -> np.ndarray:
        """The stack's inputs, centred on μ: 1, the factor model, the user's and the item's
        mean rating (μ for a key never rated)."""
        out = np.array([1.0, self._model(user, item) - self.mean, 0.0, 0.0])
        for k, rows, key in ((2, self.users, user), (3, self.items, item)):
            n = rows.index.get(key)
            if n is not None:
                out[k] = rows.total[n] / rows.seen[n] - self.mean
        return out

    def predict(self, user: str, item: str) -> float | None:
        """The predicted rating, clipped to the range seen; None before any rating. An
        unknown user or item contributes no bias and no factor term; with ``stack`` the
        prediction is μ + w · features (see ``_features``)."""
        if not self.count:
            return None
        p = self.mean + float(self.w @ self._features(user, item)) if self.cfg.stack else \
            self._model(user, item)
        return min(max(p, self.low), self.high)

    def _model(self, user: str, item: str) -> float:
        p = self.mean
        u, i = self.users.index.get(user), self.items.index.get(item)
        if u is not None:
            p += self.users.bias[u]
        if i is not None:
            p += self.items.bias[i]
        if u is not None and i is not None:
            p += float(self.users.vec[u] @ self.items.vec[i])
        return p

    def knows(self, user: str, item: str) -> bool:
        """Whether both the user and the item have been rated (the full model applies)."""
        return user in self.users.index and item in self.items.index

    def user_state(self, user: str) -> tuple[float, np.ndarray] | None:
        """The user's (bias, factor row), or None for a user never rated."""
        n = self.users.index.get(user)
        return None if n is None else (float(self.users.bias[n]), self.users.vec[n].copy())

    def item_state(self, item: str) -> tuple[float, np.ndarray] | None:
        """The item's (bias, factor row), or None for an item never rated."""
        n = self.items.index.get(item)
        return None if n is None else (float(self.items.bias[n]), self.items.vec[n].copy())
