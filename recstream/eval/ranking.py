"""Turning scores into the top-N metrics of one test item, and averaging them.

Full ranking (``loo``): every candidate item has a score; the test item's rank among the
candidates is taken with :func:`~recstream.eval.metrics.expected_over_ties` (ties are common:
every item without any signal scores 0). Lists for coverage break ties by item id, as the
production blend does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from recstream.eval.metrics import (
    coverage,
    expected_over_ties,
    f1_at_rank,
    hit_at_rank,
    ndcg_at_rank,
    precision_at_rank,
    recall_at_rank,
    reciprocal_rank_at_rank,
)
from recstream.eval.signals import ItemSpace

RANK_METRICS = ("hr", "ndcg", "mrr", "precision", "recall", "f1")


def metrics_at_rank(rank: int | None, k: int) -> dict[str, float]:
    """Every top-N metric of a single relevant item at 1-based ``rank`` in a top-k list
    (None: absent). MRR here is cut at k (MRR@k)."""
    return {"hr": hit_at_rank(rank, k), "ndcg": ndcg_at_rank(rank, k),
            "mrr": reciprocal_rank_at_rank(rank, k), "precision": precision_at_rank(rank, k),
            "recall": recall_at_rank(rank, k), "f1": f1_at_rank(rank, k)}


def metrics_of_list(ranked: Sequence[str], item: str, k: int) -> dict[str, float]:
    top = list(ranked[:k])
    return metrics_at_rank(top.index(item) + 1 if item in top else None, k)


def metrics_full(scores: np.ndarray, candidates: np.ndarray, target: int | None,
                 k: int) -> dict[str, float]:
    """Metrics of the test item at position ``target`` ranked among the ``candidates`` mask
    (expected over ties; MRR over the whole ranking). A target that is not a candidate
    (the user already had it in training) cannot be recommended: every metric is 0."""
    if target is None or not candidates[target]:
        return metrics_at_rank(None, k)
    s = scores[target]
    pool = scores[candidates]
    better, tied = int((pool > s).sum()), int((pool == s).sum())
    out = {name: expected_over_ties(lambda r, f=f: f(r, k), better, tied, zero_after=k)
           for name, f in (("hr", hit_at_rank), ("ndcg", ndcg_at_rank),
                           ("precision", precision_at_rank), ("recall", recall_at_rank),
                           ("f1", f1_at_rank))}
    out["mrr"] = expected_over_ties(reciprocal_rank_at_rank, better, tied)
    return out


def top_ids(space: ItemSpace, scores: np.ndarray, candidates: np.ndarray, k: int) -> list[str]:
    """The k best candidates, ties by item id."""
    idx = np.flatnonzero(candidates)
    order = np.lexsort((space.by_id[idx], -scores[idx]))[:k]
    return [space.ids[i] for i in idx[order]]


class Averages:
    """Running means of per-user (or per-event) metrics plus the lists for coverage. A metric
    missing from some adds (``ild`` of a one-item list) is averaged over the adds that have
    it."""

    def __init__(self, catalogue_size: int) -> None:
        self.catalogue_size = catalogue_size
        self.sums: dict[str, float] = {}
        self.counts: dict[str, int] = {}
        self.n = 0
        self.shown: set[str] = set()

    def add(self, metrics: dict[str, float], shown: Iterable[str]) -> None:
        for name, v in metrics.items():
            self.sums[name] = self.sums.get(name, 0.0) + v
            self.counts[name] = self.counts.get(name, 0) + 1
        self.n += 1
        self.shown.update(shown)

    def result(self) -> dict[str, float]:
        out = {name: s / self.counts[name] for name, s in self.sums.items()}
        out["coverage"] = coverage([self.shown], self.catalogue_size)
        return out


#: Cold-start buckets: an item with fewer than this many earlier interactions is new ...
NEW_ITEM_BELOW = 5
#: ... and a user's first this-many judged events are a new user's.
NEW_USER_EVENTS = 3


class ColdStart:
    """HR@k and NDCG@k restricted to the cold-start buckets ``new_items`` and ``new_users``."""

    def __init__(self, catalogue_size: int, count_name: str) -> None:
        self.count_name = count_name
        self.buckets = {"new_items": Averages(catalogue_size),
                        "new_users": Averages(catalogue_size)}

    def add(self, new_item: bool, new_user: bool, metrics: dict[str, float],
            shown: Sequence[str]) -> None:
        part = {m: metrics[m] for m in ("hr", "ndcg")}
        for name, flag in (("new_items", new_item), ("new_users", new_user)):
            if flag:
                self.buckets[name].add(part, shown)

    def result(self) -> dict[str, dict[str, float]]:
        out = {}
        for name, a in self.buckets.items():
            r = a.result()
            r.pop("coverage")
            out[name] = {**r, self.count_name: float(a.n)}
        return out
