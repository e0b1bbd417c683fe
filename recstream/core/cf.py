"""User-user collaborative filtering over TF-IDF vectors.

Neighbours are users v with sim(u, v) > θ. The article predicts with the plain neighbour sum
(``seed``); the similarity-weighted form is the usual, better-behaved one:

    seed:      p(u, j) = Σ_{v ∈ N(u), j ∈ I(v)} r_v(j)
    weighted:  p(u, j) = Σ sim(u, v) r_v(j) / Σ |sim(u, v)|   (both over v ∈ N(u), j ∈ I(v))

``weighted`` is a rating prediction (same scale as r). For top-N ranking the support matters,
so :func:`rank_scores` divides by the similarity mass of *all* neighbours instead, which keeps
the weighted sum's order and puts it on the ratings' scale.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Neighbour:
    user_id: str
    sim: float
    items: Mapping[str, float]  # item -> rating or implicit interaction value


def select_neighbours(scored: Mapping[str, float], theta: float, k: int) -> list[tuple[str, float]]:
    """Users with sim > θ, most similar first (ties by id), at most k."""
    keep = [(u, s) for u, s in scored.items() if s > theta]
    keep.sort(key=lambda us: (-us[1], us[0]))
    return keep[:k]


def predict_seed(neighbours: Sequence[Neighbour], item_id: str) -> float | None:
    """The article's form: the sum of neighbours' values for ``item_id`` (None: no support)."""
    vals = [n.items[item_id] for n in neighbours if item_id in n.items]
    return sum(vals) if vals else None


def predict_weighted(neighbours: Sequence[Neighbour], item_id: str) -> float | None:
    """Similarity-weighted mean of neighbours' values for ``item_id`` (None: no support)."""
    num = den = 0.0
    for n in neighbours:
        if item_id in n.items:
            num += n.sim * n.items[item_id]
            den += abs(n.sim)
    return num / den if den > 0 else None


def rank_scores(neighbours: Sequence[Neighbour], form: str = "weighted"
                ) -> tuple[dict[str, float], dict[str, int]]:
    """CF score of every item a neighbour has, and how many neighbours have it."""
    scores: dict[str, float] = {}
    support: dict[str, int] = {}
    mass = sum(abs(n.sim) for n in neighbours)
    for n in neighbours:
        w = 1.0 if form == "seed" else n.sim / mass
        for item, value in n.items.items():
            scores[item] = scores.get(item, 0.0) + w * value
            support[item] = support.get(item, 0) + 1
    return scores, support
