"""Rating prediction for the ``split`` protocol, from the same signals the variants blend.

Each signal gives a prediction on the rating scale when it has support:

- ``cf`` (weighted): the similarity-weighted mean of the neighbours' ratings of the item,
  Σ sim·r / Σ |sim| over neighbours who rated it (:func:`recstream.core.cf.predict_weighted`);
- ``cf`` (seed, the article): Σ r over those neighbours (:func:`cf.predict_seed`) is a sum,
  not a rating; it is mapped to the scale by dividing by the number of neighbours summed,
  i.e. the un-weighted neighbour mean. The raw sum's errors are reported beside it;
- ``content``: the mean of the user's own ratings of the ``CONTENT_NEIGHBOURS`` training items
  most similar to the item (cosine of item TF-IDF vectors, same idf), weighted by similarity;
- ``trending``: the item's mean training rating (the popularity signal's rating analogue).

A variant predicts Σ_s weight_s · p_s / Σ_s weight_s over its signals with support; with none,
it falls back to the user's mean, else the item's mean, else the global mean. Predictions are
clipped to the training ratings' range.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from recstream.core import cf
from recstream.core.tfidf import weights
from recstream.core.view import IdfTable
from recstream.datasets.model import Interaction
from recstream.settings import RecommendSettings

CONTENT_NEIGHBOURS = 20


class Means:
    """User, item and global mean ratings of the training data, and its rating range."""

    def __init__(self, train: Iterable[Interaction]) -> None:
        users: dict[str, list[float]] = {}
        items: dict[str, list[float]] = {}
        for x in train:
            if x.rating is not None:
                users.setdefault(x.user_id, []).append(x.rating)
                items.setdefault(x.item_id, []).append(x.rating)
        every = [r for rs in users.values() for r in rs]
        if not every:
            raise ValueError("the training data has no ratings")
        self.user = {u: sum(rs) / len(rs) for u, rs in users.items()}
        self.item = {i: sum(rs) / len(rs) for i, rs in items.items()}
        self.globally = sum(every) / len(every)
        self.scale = (min(every), max(every))

    def fallback(self, user: str, item: str) -> float:
        return self.user.get(user, self.item.get(item, self.globally))

    def clip(self, r: float) -> float:
        return min(max(r, self.scale[0]), self.scale[1])


class ContentKNN:
    """Item-item cosine of catalogue TF-IDF vectors under the view's idf (vectors cached)."""

    def __init__(self, view: Any) -> None:
        self.catalogue = view.catalogue
        self.idf = IdfTable(view)
        self.vectors: dict[str, dict[str, float]] = {}

    def vector(self, item_id: str) -> dict[str, float]:
        v = self.vectors.get(item_id)
        if v is None:
            item = self.catalogue.get(item_id)
            w = weights(item.tf, self.idf) if item else {}
            n = math.sqrt(sum(x * x for x in w.values()))
            v = self.vectors[item_id] = {t: x / n for t, x in w.items()} if n else {}
        return v

    def predict(self, rated: Mapping[str, float], item_id: str) -> float | None:
        target = self.vector(item_id)
        if not target:
            return None
        sims = []
        for other, r in rated.items():
            ov = self.vector(other)
            s = sum(x * ov[t] for t, x in target.items() if t in ov)
            if s > 0:
                sims.append((s, r))
        best = heapq.nlargest(CONTENT_NEIGHBOURS, sims)
        den = sum(s for s, _ in best)
        return sum(s * r for s, r in best) / den if den > 0 else None


def signal_predictions(neighbours: Sequence[cf.Neighbour], rated: Mapping[str, float],
                       content: ContentKNN, means: Means, item_id: str
                       ) -> dict[str, float | None]:
    """Each signal's prediction for one (user, item); None where it has no support."""
    seed = cf.predict_seed(neighbours, item_id)
    support = sum(1 for n in neighbours if item_id in n.items)
    return {"weighted": cf.predict_weighted(neighbours, item_id),
            "seed": seed / support if seed is not None else None,
            "seed_sum": seed,
            "content": content.predict(rated, item_id),
            "trending": means.item.get(item_id)}


def combine(preds: Mapping[str, float | None], cfg: RecommendSettings
            ) -> float | None:
    """The variant's blend of the signals with support (None: no signal has support)."""
    parts = ((cfg.weight_cf, preds[cfg.cf_form]), (cfg.weight_content, preds["content"]),
             (cfg.weight_trending, preds["trending"]))
    num = den = 0.0
    for w, p in parts:
        if w > 0 and p is not None:
            num += w * p
            den += w
    return num / den if den > 0 else None
