"""The online-learned blend: an online logistic regression over the rank stage's signals.

Each shown item of a recommendation is one example. Its features x are the item's blended
signals scaled to [0, 1] by their peak within the candidate set (``cf``, ``content``,
``trending``, ``llm``, ``cooc``, ``seq``: exactly what :func:`recstream.core.rank.blend`
weighs), centred on the shown list's mean (:func:`examples`); its label is 1
when the user clicked or purchased it, or rated it at least :data:`POSITIVE_RATING` stars,
within the feedback join window, else 0 (shown, not taken). river's
``linear_model.LogisticRegression`` (plain SGD, constant step) learns
P(taken | x) = σ(b + Σ_s θ_s x_s) one example at a time.

The blend weights are the coefficients clipped at 0 and normalised to sum 1:
w_s = max(θ_s, 0) / Σ_t max(θ_t, 0). Ranking by Σ w_s x_s is ranking by the model's logit
whenever no coefficient is negative (σ and the intercept are monotone and shared by every
item of a list); a negative coefficient is read as "no evidence for this signal" rather than
"rank against it". The coefficients start at the configured fixed weights, so an untrained
learner ranks exactly like the fixed blend.

The guard (``learn.guard``, champion/challenger): the learner does not serve its own weights
blindly. Before each impression's examples are learned, every *arm* — the learner's current
weights (``learned``), the configured weights (``prior``), optionally single signals
(``learn.guard_arms``) — re-ranks that impression's shown items by its weights, and its reward
is the reciprocal rank of the taken item among the shown items that were not taken
(:func:`list_reward`; impressions with no take, or only takes, say nothing and are skipped).
Each arm keeps an exponentially decayed mean of that reward (half-life
``learn.guard_half_life`` informative impressions). The learner serves from the start
(untrained, it ranks exactly like the prior; ``learn.guard_start`` = ``prior`` makes it
prove itself first instead). Another arm replaces the served one only when,
on at least ``learn.guard_min_impressions`` lists judged since the served arm began serving,
the lower confidence bound (``learn.guard_z`` standard errors) of its paired reward lead
exceeds ``learn.guard_margin`` (:meth:`Learner.lower_bound`); a switch restarts every
challenger's evidence. A challenger is judged on lists its rival chose (it cannot be asked
about items the served arm did not show), which flatters it: the bound and the margin are
the hysteresis against that. :func:`weights_of` hands the rank stage the served arm's
weights.

State (:meth:`Learner.state`) is a small JSON dict — coefficients, intercept, version,
counts, the served arm and each arm's running reward — not a pickle: it lives in a
changelog-backed table and any worker rebuilds the model from it. ``version`` increases by
one per :meth:`Learner.update` batch.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from river import linear_model, optim, utils

from recstream.settings import LearnSettings, RecommendSettings, VariantSettings

FEATURES = ("cf", "content", "trending", "llm", "cooc", "seq")
#: A rating at least this high (stars) is a positive label; a lower one a negative.
POSITIVE_RATING = 4.0
#: The table key of the one shared blend model.
MODEL_KEY = "blend"
#: Starting intercept: logit(0.1), about one taken item per shown list of ten. The intercept
#: learns at the weights' rate, so the base rate is not pushed into the coefficients.
PRIOR_INTERCEPT = -2.2

Example = tuple[dict[str, float], int]  # (features, label)
#: Key in the first example's features of each impression: how many examples (shown items)
#: that impression has, so a batch of several impressions' examples splits back into lists.
LIST_SIZE = "_n"
#: Arms the guard can serve besides single signals (``FEATURES``).
LEARNED, PRIOR = "learned", "prior"


def label(events: Iterable[Mapping[str, Any]]) -> set[str]:
    """Items the user took in ``events`` (feedback-join events: item, kind, rating?): clicked,
    purchased, or rated ≥ :data:`POSITIVE_RATING`. An item rated lower and never clicked or
    purchased is not taken."""
    took: set[str] = set()
    for e in events:
        rating = e.get("rating")
        if rating is None or float(rating) >= POSITIVE_RATING:
            took.add(e["item"])
    return took


def examples(shown: Mapping[str, Mapping[str, float]],
             events: Iterable[Mapping[str, Any]]) -> list[Example]:
    """One example per shown item (item id → its scaled features), label from ``events``.

    Features are centred on the list: x_s − mean of x_s over the shown items. A ranking by
    Σ w_s x_s is the same with or without a per-list shift, so nothing the blend can use is
    lost, while what is learned becomes what sets the taken item apart from the others shown
    with it (a conditional-logit view). Uncentred, every shown item's high raw values (the
    blend put them there) pushed all coefficients down alongside the intercept, most for the
    densest signals (the LLM cosine): on Magazine prequential that cost 0.022 HR@10
    (EVALUATION.md)."""
    took = label(events)
    xs = [(item, {s: float(x.get(s, 0.0)) for s in FEATURES})
          for item, x in sorted(shown.items())]
    mean = {s: sum(x[s] for _, x in xs) / len(xs) for s in FEATURES} if xs else {}
    out = [({s: x[s] - mean[s] for s in FEATURES}, int(item in took)) for item, x in xs]
    if out:
        out[0][0][LIST_SIZE] = float(len(out))
    return out


def impressions(batch: Sequence[Example]) -> list[Sequence[Example]]:
    """A batch split back into its impressions' lists by :data:`LIST_SIZE`; a batch without
    the marker (older producers) is one list."""
    out: list[Sequence[Example]] = []
    i = 0
    while i < len(batch):
        n = int(batch[i][0].get(LIST_SIZE, 0))
        if n <= 0:
            return [batch] if i == 0 else [*out, batch[i:]]
        out.append(batch[i:i + n])
        i += n
    return out


def list_reward(shown: Sequence[Example], weights: Mapping[str, float]) -> float | None:
    """How well ``weights`` rank one impression's taken items: the mean over taken items of
    the reciprocal rank among the shown items not taken (ties counted at their expected
    rank under a random order). None when nothing or everything shown was taken."""
    scores = [(sum(weights.get(s, 0.0) * x.get(s, 0.0) for s in FEATURES), y)
              for x, y in shown]
    neg = [v for v, y in scores if not y]
    pos = [v for v, y in scores if y]
    if not pos or not neg:
        return None
    total = 0.0
    for v in pos:
        above = sum(n > v + 1e-12 for n in neg)
        ties = sum(abs(n - v) <= 1e-12 for n in neg)
        total += sum(1.0 / (above + 1 + j) for j in range(ties + 1)) / (ties + 1)
    return total / len(pos)


def normalised(weights: Mapping[str, float]) -> dict[str, float] | None:
    """Coefficients clipped at 0 and scaled to sum 1; None when none is positive."""
    clipped = {s: max(float(weights.get(s, 0.0)), 0.0) for s in FEATURES}
    total = sum(clipped.values())
    if total <= 0:
        return None
    return {s: v / total for s, v in clipped.items()}


class Learner:
    """The blend model; ``prior``: the fixed weights it starts from (and falls back to)."""

    def __init__(self, cfg: LearnSettings, prior: Mapping[str, float],
                 state: Mapping[str, Any] | None = None) -> None:
        self.cfg = cfg
        self.prior = {s: float(prior.get(s, 0.0)) for s in FEATURES}
        self.model = linear_model.LogisticRegression(optimizer=optim.SGD(cfg.learning_rate),
                                                     l2=cfg.l2, intercept_lr=cfg.learning_rate)
        st = state or {}
        coef = st.get("coef") or self.prior
        self.model._weights = utils.VectorDict({s: float(coef.get(s, 0.0)) for s in FEATURES},
                                               self.model.initializer)
        self.model.intercept = float(st.get("intercept", PRIOR_INTERCEPT))
        # examples in which each signal was present (> 0): a signal never seen keeps its
        # prior coefficient untouched, which says nothing about it, so it gets no weight
        self.present = {s: int((st.get("present") or {}).get(s, 0)) for s in FEATURES}
        self.version = int(st.get("version", 0))
        self.examples = int(st.get("examples", 0))
        self.positives = int(st.get("positives", 0))
        self.updated_ts = st.get("updated_ts")
        # the guard: each arm's decayed mean reward and decayed count of judged lists
        self.arms = list(dict.fromkeys([LEARNED, PRIOR, *cfg.guard_arms])) if cfg.guard \
            else [LEARNED]
        stored_guard = st.get("guard") or {}
        self.guard = {a: _arm_stats(stored_guard.get(a)) for a in self.arms}
        served = st.get("served")
        self.served = served if served in self.arms else \
            (cfg.guard_start if cfg.guard else LEARNED)
        self.switches = int(st.get("switches", 0))
        self.judged = int(st.get("judged", 0))

    def update(self, batch: Sequence[Example], ts: float | None = None) -> int:
        """Learn from one batch of examples (in order; one or more impressions' lists, see
        :func:`impressions`); returns the new version. With the guard each list is first
        judged by every arm (test, then train) and the served arm chosen again."""
        for shown in impressions(batch):
            if self.cfg.guard:
                self._judge(shown)
            self._learn(shown)
        self.version += 1
        if ts is not None:
            self.updated_ts = ts
        return self.version

    def _judge(self, shown: Sequence[Example]) -> None:
        rewards = {a: list_reward(shown, self.arm_weights(a)) for a in self.arms}
        if any(r is None for r in rewards.values()):
            return
        self.judged += 1
        keep = 0.5 ** (1.0 / self.cfg.guard_half_life)
        served = float(rewards[self.served] or 0.0)
        for a, r in rewards.items():
            g = self.guard[a]
            g["n"] = keep * g["n"] + 1.0
            g["reward"] += (float(r or 0.0) - g["reward"]) / g["n"]
            g["lists"] += 1
            if a != self.served:  # paired with the served arm on the same list
                d = float(r or 0.0) - served
                g["vs_n"] = keep * g["vs_n"] + 1.0
                g["vs_n2"] = keep * keep * g["vs_n2"] + 1.0
                g["vs_mean"] += (d - g["vs_mean"]) / g["vs_n"]
                g["vs_sq"] += (d * d - g["vs_sq"]) / g["vs_n"]
                g["vs_lists"] += 1
        bounds = {a: self.lower_bound(a) for a in self.arms if a != self.served
                  and self.guard[a]["vs_lists"] >= self.cfg.guard_min_impressions}
        best = max(sorted(bounds), key=bounds.__getitem__, default=None)
        if best is not None and bounds[best] > self.cfg.guard_margin:
            self.served = best
            self.switches += 1
            for g in self.guard.values():  # every challenger proves itself anew
                g.update(_arm_stats(None, paired_only=True))

    def lower_bound(self, arm: str) -> float:
        """Lower confidence bound (``learn.guard_z`` standard errors) of how much higher
        ``arm``'s reward has been than the served arm's on the same lists since it began
        serving (decayed mean of the paired difference; effective n = (Σw)² / Σw²)."""
        g = self.guard[arm]
        if g["vs_n"] <= 0:
            return float("-inf")
        var = max(g["vs_sq"] - g["vs_mean"] ** 2, 0.0)
        n_eff = g["vs_n"] ** 2 / g["vs_n2"]
        return g["vs_mean"] - self.cfg.guard_z * (var / n_eff) ** 0.5

    def _learn(self, batch: Sequence[Example]) -> None:
        for x, y in batch:
            feats = {s: float(x.get(s, 0.0)) for s in FEATURES}
            self.model.learn_one(feats, bool(y))
            for s, v in feats.items():
                self.present[s] += v != 0  # centred: 0 when the list says nothing
            self.examples += 1
            self.positives += int(bool(y))

    def coefficients(self) -> dict[str, float]:
        w = self.model.weights
        return {s: float(w.get(s, 0.0)) for s in FEATURES}

    def learned(self) -> dict[str, float]:
        """The learner's own blend weights (see the module docstring) over the signals seen
        so far; the prior when none has a positive coefficient."""
        return learned_weights(self.coefficients(), self.present) or dict(self.prior)

    def arm_weights(self, arm: str) -> dict[str, float]:
        """The blend weights an arm stands for: the learner's, the prior, or one signal."""
        if arm == LEARNED:
            return self.learned()
        if arm == PRIOR:
            return dict(self.prior)
        return {s: float(s == arm) for s in FEATURES}

    def weights(self) -> dict[str, float]:
        """The served blend weights: the guard's served arm (the learner's own without the
        guard)."""
        return self.arm_weights(self.served)

    def probability(self, x: Mapping[str, float]) -> float:
        """P(taken | x) under the current model."""
        return float(self.model.predict_proba_one(dict(x)).get(True, 0.0))

    def state(self) -> dict[str, Any]:
        return {"coef": self.coefficients(), "intercept": float(self.model.intercept),
                "weights": self.weights(), "served": self.served,
                "learned_weights": self.learned(), "present": dict(self.present),
                "guard": {a: dict(g) for a, g in self.guard.items()},
                "switches": self.switches, "judged": self.judged,
                "version": self.version,
                "examples": self.examples, "positives": self.positives,
                "updated_ts": self.updated_ts}


def _arm_stats(stored: Mapping[str, Any] | None, paired_only: bool = False
               ) -> dict[str, float]:
    """An arm's guard statistics (from a stored state, or fresh): decayed mean ``reward`` and
    decayed count ``n``; judged ``lists``; and the paired difference to the served arm:
    decayed count, count of squared weights, mean, mean square, and its ``vs_lists``."""
    st = stored or {}
    keys = ("vs_n", "vs_n2", "vs_mean", "vs_sq", "vs_lists")
    if not paired_only:
        keys = ("reward", "n", "lists", *keys)
    return {k: (int if k.endswith("lists") else float)(st.get(k, 0)) for k in keys}


def weights_of(state: Mapping[str, Any] | None,
               prior: Mapping[str, float]) -> tuple[dict[str, float], int]:
    """(blend weights, version) from a stored state, without rebuilding the model: the
    guard's served arm (``prior`` is the caller's; a state without ``served`` serves the
    learner's own weights); the prior and version 0 when nothing was learned yet."""
    if not state:
        return dict(prior), 0
    version = int(state.get("version", 0))
    served = state.get("served", LEARNED)
    if served == PRIOR:
        return dict(prior), version
    if served in FEATURES:
        return {s: float(s == served) for s in FEATURES}, version
    w = learned_weights(state.get("coef") or {}, state.get("present"))
    return (w or dict(prior)), version


def learned_weights(coef: Mapping[str, float], present: Mapping[str, int] | None
                    ) -> dict[str, float] | None:
    """:func:`normalised` coefficients of the signals present in some example (all, when
    ``present`` is None); None when none of those is positive."""
    if present is not None:
        coef = {s: v for s, v in coef.items() if present.get(s, 0) > 0}
    return normalised(coef)


def exploration_rng(seed: str, trigger_event_id: str) -> random.Random:
    """A generator seeded by (setting, trigger event): a replay explores the same slots.
    ``random.Random`` hashes a str seed with SHA-512, so this is stable across processes."""
    return random.Random(f"{seed}:{trigger_event_id}")


def explore(ranked: list[Any], top_n: int, epsilon: float, rng: random.Random) -> tuple[
        list[Any], list[bool]]:
    """ε-greedy over the list: each of the first ``top_n`` slots, with probability ε, is
    given to a uniformly drawn item ranked below ``top_n`` (never shown twice), *inserted*
    there: the greedy items keep their order and move down, so an exploration costs the
    list's last greedy item, not the one whose slot it took. Returns the list and which
    slots were explored. A slot stays greedy when nothing is left to draw."""
    greedy = iter(ranked[:top_n])
    rest = list(ranked[top_n:])
    shown: list[Any] = []
    flags: list[bool] = []
    for _ in range(min(top_n, len(ranked))):
        if epsilon > 0 and rest and rng.random() < epsilon:
            shown.append(rest.pop(rng.randrange(len(rest))))
            flags.append(True)
        else:
            shown.append(next(greedy))
            flags.append(False)
    return shown, flags


#: The reason an explored item carries first (as ``recstream.core.rank.blend`` writes it).
EXPLORE_REASON = "exploring: shown to learn whether it suits you"


def explore_items(items: list[dict[str, Any]], top_n: int, epsilon: float,
                  rng: random.Random) -> list[dict[str, Any]]:
    """:func:`explore` over finished list entries (dicts, best first; e.g. after an MMR
    re-rank): the first ``top_n``, explored slots marked ``explore: true`` with the
    exploring reason first."""
    shown, flags = explore(items, top_n, epsilon, rng)
    return [{**i, "explore": True, "reasons": [EXPLORE_REASON, *i.get("reasons", [])]}
            if f else i for i, f in zip(shown, flags, strict=True)]


def is_learned(variant: VariantSettings, cfg: LearnSettings) -> bool:
    """Whether ``variant`` blends with the learned weights: only with ``learn.enabled``; then
    as its ``learned`` says, and when unset, unless it pins a ``weight_*`` override."""
    if not cfg.enabled:
        return False
    if variant.learned is not None:
        return variant.learned
    return all(getattr(variant, f"weight_{s}") is None for s in FEATURES)


def prior_weights(rc: RecommendSettings) -> dict[str, float]:
    """The configured fixed weights (``recommend.weight_*``): the learner's starting point."""
    return {s: float(getattr(rc, f"weight_{s}")) for s in FEATURES}
