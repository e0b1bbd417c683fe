"""Array forms of the global view's postings, sketches and catalogue items, kept across passes.

The candidate stage reads the view through a per-pass :class:`recstream.core.view.ViewCache`;
converting postings and sketches to arrays anew in every pass cost a one-event pass more than
the arrays saved it. What here does not depend on the pass (user rows, term columns, postings
and term-frequency rows) lives on the view and is rebuilt only for what changed. Change is
seen by identity: index entries (:mod:`recstream.core.index`), sketches
(:func:`recstream.core.view.make_sketch`, the replica's decoded records) and catalogue items
are replaced by new objects, never changed in place, and a row keeps a reference to the
object it was built from, so ``is`` cannot be fooled by a reused id. What depends on idf
(weights, norms) is recomputed in every pass, under that pass's idf.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

import numpy as np


class Columns(dict[str, int]):
    """term -> column id, shared by every :class:`TermRows` of a view; 0 pads a row."""

    def __init__(self) -> None:
        super().__init__()
        self.terms = [""]  # column -> term

    def __missing__(self, term: str) -> int:
        col = self[term] = len(self.terms)
        self.terms.append(term)
        return col


class TermRows:
    """Term -> value mappings as padded rows of columns and values (in the mapping's order),
    one row per key, and each row's idf weights and norm as of the pass in :attr:`stamp`."""

    def __init__(self, cols: Columns) -> None:
        self.cols = cols
        self.rows: dict[Hashable, int] = {}
        self.keys: list[Hashable] = []  # row -> key
        self.src: list[Any] = []  # row -> the object the row was built from
        self.ids = np.zeros((16, 1), dtype=np.int64)
        self.val = np.zeros((16, 1))
        self.size = np.zeros(16, dtype=np.int64)  # row -> terms in it
        self.w = np.zeros((16, 1))  # val * idf under the idf of pass stamp[row]
        self.norm = np.zeros(16)
        self.stamp = np.zeros(16, dtype=np.int64)  # 0: not weighed

    def row(self, key: Hashable, src: Any, terms: Mapping[str, float]) -> int:
        """The row of ``key``, (re)built from ``terms`` unless it was built from ``src``."""
        row = self.rows.get(key)
        if row is not None and self.src[row] is src:
            return row
        if row is None:
            row = self.rows[key] = len(self.src)
            self.keys.append(key)
            self.src.append(src)
        else:
            self.src[row] = src
        n = len(terms)
        if row >= len(self.size) or n > self.ids.shape[1]:
            self._grow(max(len(self.size), 2 * row + 2), max(self.ids.shape[1], n))
        cols = self.cols
        self.ids[row] = 0
        self.val[row] = 0.0
        self.ids[row, :n] = [cols[t] for t in terms]
        self.val[row, :n] = list(terms.values())
        self.size[row], self.stamp[row] = n, 0
        return row

    def blank(self, key: Hashable) -> None:
        """Zero ``key``'s row and forget which key and object it held (the row stays unused)."""
        row = self.rows.pop(key, None)
        if row is None:
            return
        self.keys[row], self.src[row] = None, None
        for a in (self.ids, self.val, self.w):
            a[row] = 0
        self.size[row] = self.norm[row] = self.stamp[row] = 0

    def _grow(self, height: int, width: int) -> None:
        old = len(self.size)
        for name in ("ids", "val", "w"):
            a = getattr(self, name)
            b = np.zeros((height, width), dtype=a.dtype)
            b[:old, :a.shape[1]] = a
            setattr(self, name, b)
        for name in ("size", "norm", "stamp"):
            a = getattr(self, name)
            setattr(self, name, np.concatenate([a, np.zeros(height - old, dtype=a.dtype)]))


class ViewArrays:
    """The pass-independent arrays of one view (see the module docstring)."""

    def __init__(self) -> None:
        self.user_rows: dict[str, int] = {}  # a row per user met in postings, never reused
        self.user_ids: list[str] = []
        # term -> (the entry, its postings as arrays)
        self.postings_of: dict[str, tuple[Mapping[str, Any],
                                          tuple[np.ndarray, np.ndarray]]] = {}
        self.cols = Columns()
        self.sketches = TermRows(self.cols)  # keyed by user id: the sketch's tf
        self.items = TermRows(self.cols)  # keyed by catalogue row: the item's tf
        # user row -> sketches row (-2: no sketch), and the pass that last looked it up
        self.sketch_of = np.zeros(0, dtype=np.int64)
        self.sketch_pass = np.zeros(0, dtype=np.int64)
        # catalogue row -> items row, and the pass that last looked it up
        self.item_of = np.zeros(0, dtype=np.int64)
        self.item_pass = np.zeros(0, dtype=np.int64)
        self._dense, self._pos = np.zeros(0), np.zeros(0, dtype=np.int64)
        self._first = np.zeros(0, dtype=np.int64)  # user row -> where met; a big number
        self._slot = np.zeros(0, dtype=np.int64)

    def user_row(self, user_id: str) -> int:
        row = self.user_rows.get(user_id)
        if row is None:
            row = self.user_rows[user_id] = len(self.user_ids)
            self.user_ids.append(user_id)
        return row

    def forget_user(self, user_id: str) -> None:
        """Keep nothing of ``user_id`` (its sketch was deleted: an erasure): its row's id
        becomes "" (no pseudonym is empty, so no sketch is ever found for it), its sketch row's
        terms and values are zeroed, and postings arrays that name the row are dropped, so a
        user who comes back gets a new row everywhere. Rows are never reused."""
        row = self.user_rows.pop(user_id, None)
        if row is None:
            return
        self.user_ids[row] = ""
        if row < len(self.sketch_of):
            self.sketch_of[row], self.sketch_pass[row] = -2, 0
        for term, (_, (rows, _)) in list(self.postings_of.items()):
            if (rows == row).any():
                del self.postings_of[term]
        self.sketches.blank(user_id)

    def postings(self, term: str, entry: Mapping[str, Any] | None
                 ) -> tuple[np.ndarray, np.ndarray] | None:
        """The term entry's postings as arrays (user rows, tf) in the entry's order; None
        for no entry."""
        if not entry:
            self.postings_of.pop(term, None)
            return None
        kept = self.postings_of.get(term)
        if kept is not None and kept[0] is entry:
            return kept[1]
        p = entry["p"]
        row = self.user_row
        got = (np.fromiter((row(v) for v in p), dtype=np.int64, count=len(p)),
               np.fromiter(p.values(), dtype=np.float64, count=len(p)))
        self.postings_of[term] = (entry, got)
        return got

    def first_met(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The distinct user rows in ``rows`` in the order first met, where each was first
        met, and each entry's index among them: ``np.unique`` without its sort, in time
        linear in ``len(rows)`` rather than in the users."""
        big = np.iinfo(np.int64).max
        if len(self._first) < len(self.user_ids):
            more = max(len(self.user_ids), 2 * len(self._first)) - len(self._first)
            self._first = np.concatenate([self._first, np.full(more, big)])
            self._slot = np.concatenate([self._slot, np.zeros(more, dtype=np.int64)])
        at = np.arange(len(rows))
        np.minimum.at(self._first, rows, at)
        first = at[self._first[rows] == at]
        self._first[rows] = big
        users = rows[first]
        self._slot[users] = np.arange(len(users))
        return users, first, self._slot[rows]

    def scratch(self) -> tuple[np.ndarray, np.ndarray]:
        """Two arrays with an entry per column, all 0.0 and all -1, for one vector at a
        time: the caller sets its columns and must reset them to 0.0 and -1 after use (a
        vector costs its length, not the vocabulary's)."""
        n = len(self.cols.terms)
        if len(self._dense) < n:
            more = max(n, 2 * len(self._dense)) - len(self._dense)
            self._dense = np.concatenate([self._dense, np.zeros(more)])
            self._pos = np.concatenate([self._pos, np.full(more, -1)])
        return self._dense, self._pos

    def fit(self) -> None:
        """Size the per-user lookups to the users met so far."""
        n = len(self.user_ids)
        if len(self.sketch_of) < n:
            more = max(n, 2 * len(self.sketch_of)) - len(self.sketch_of)
            self.sketch_of = np.concatenate([self.sketch_of, np.full(more, -2)])
            self.sketch_pass = np.concatenate([self.sketch_pass,
                                               np.zeros(more, dtype=np.int64)])

    def fit_items(self, n: int) -> None:
        """Size the per-item lookups to ``n`` catalogue rows."""
        if len(self.item_of) < n:
            more = max(n, 2 * len(self.item_of)) - len(self.item_of)
            self.item_of = np.concatenate([self.item_of, np.zeros(more, dtype=np.int64)])
            self.item_pass = np.concatenate([self.item_pass, np.zeros(more, dtype=np.int64)])
