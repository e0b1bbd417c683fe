"""A plain item-to-item co-occurrence kNN, replayed in stream order (a streaming peer).

For a user u and item i:

    score(u, i) = Σ_{j ∈ last 20 distinct items of u} C[j, i] / sqrt(pop_i · pop_j)

where C[j, i] counts the users who have both j and i and pop_i the users who have i, all over
the events seen so far. No window on the counts, no pruning, no weights: the reference the
item graph (:mod:`recstream.core.itemgraph`) is measured against. In prequential it learns
each event as it is ingested (``observe``); ``fit`` replays a user → items map in its order
(loo: the training events in stream order).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

RECENT = 20


class CoocKnnPeer:
    streaming = True  # prequential calls observe per event instead of refitting

    def __init__(self, recent: int = RECENT) -> None:
        self.recent = recent
        self.co: dict[int, dict[int, int]] = {}
        self.pop = np.zeros(0)
        self.items: dict[int, list[int]] = {}  # user -> distinct items, first-taken order
        self.has: dict[int, set[int]] = {}

    def fit(self, rows: Mapping[int, Sequence[int]], n_users: int, n_items: int) -> None:
        """Forget everything, then observe each user's items in order."""
        del n_users
        self.co, self.pop, self.items, self.has = {}, np.zeros(n_items), {}, {}
        for u, items in rows.items():
            for i in items:
                self.observe(u, i)

    def observe(self, user: int, item: int) -> None:
        """One event: user ``user`` took item position ``item``."""
        has = self.has.setdefault(user, set())
        if item in has:
            return
        mine = self.items.setdefault(user, [])
        row = self.co.setdefault(item, {})
        for j in mine:
            row[j] = row.get(j, 0) + 1
            other = self.co.setdefault(j, {})
            other[item] = other.get(item, 0) + 1
        mine.append(item)
        has.add(item)
        self.pop[item] += 1

    def scores(self, user: int, items: Sequence[int]) -> np.ndarray:
        """A score for every item position (seen items included; callers mask them)."""
        del items  # the peer's own stream-ordered history gives "the last 20"
        out = np.zeros(len(self.pop))
        for j in self.items.get(user, [])[-self.recent:]:
            row = self.co.get(j)
            if not row:
                continue
            idx = np.fromiter(row.keys(), dtype=np.int64, count=len(row))
            c = np.fromiter(row.values(), dtype=np.float64, count=len(row))
            out[idx] += c / np.sqrt(self.pop[idx] * self.pop[j])
        return out
