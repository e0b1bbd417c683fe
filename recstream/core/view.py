"""What the candidate stage may read of global state, and an in-memory implementation.

In the pipeline the view is backed by replicas of the term index, user sketches and items
(streams/replica.py); in tests and offline evaluation :class:`MemoryView` holds the same data.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from recstream.core import index
from recstream.core.catalogue import Catalogue
from recstream.core.tfidf import Profile, idf, idf_array, top_terms
from recstream.core.viewarrays import TermRows, ViewArrays


class GlobalView(Protocol):
    catalogue: Catalogue
    arrays: ViewArrays  # kept by the view for ViewCache; never read elsewhere

    def index_entry(self, key: str) -> Mapping[str, Any] | None: ...

    def sketch(self, user_id: str) -> Mapping[str, Any] | None: ...

    def trending_lists(self) -> list[list[list[Any]]]: ...

    def dfs(self, terms: Sequence[str]) -> np.ndarray: ...


def n_users(view: GlobalView) -> int:
    e = view.index_entry(index.USERS_KEY)
    return int(e["df"]) if e else 0


class IdfTable(dict[str, float]):
    """idf(w) under the view's N and df at creation, computed on first use of each term.

    ``changed``: told which terms' values :meth:`set_many` replaced by different ones (a
    :class:`ViewCache` keeps column copies of the values)."""

    def __init__(self, view: GlobalView,
                 changed: Callable[[list[str]], None] | None = None) -> None:
        super().__init__()
        self.view = view
        self.n = n_users(view)
        self.changed = changed

    def __missing__(self, term: str) -> float:
        e = self.view.index_entry(term)
        value = self[term] = idf(self.n, int(e["df"])) if e else 0.0
        return value

    def set_many(self, terms: Sequence[str], values: np.ndarray) -> None:
        new = dict(zip(terms, values.tolist(), strict=True))
        if self.changed is not None and self:
            # __missing__ (math.log2) and idf_vector (np.log2) may differ in the last bit
            moved = [t for t in self.keys() & new.keys() if self[t] != new[t]]
            if moved:
                self.changed(moved)
        self.update(new)


_PASSES = itertools.count(1)


class ViewCache:
    """Values derived from the global view for one pass: idf per term, TF-IDF weights and
    norms of the neighbour sketches and catalogue items met, the merged trending list.

    The candidate stage computes one batch of events in one synchronous pass (the replica
    applies updates between awaits, never during it), so a cache made for the pass gives the
    same numbers as computing each event alone, and popular neighbours and items of the batch
    are weighed once instead of once per event. The conversions that do not depend on idf
    live on the view (:class:`recstream.core.viewarrays.ViewArrays`), so a small pass does
    not pay for them again. A sketch or item is weighed at its first use in the pass under
    the idf table's values at that moment, as a plain loop over the events would."""

    def __init__(self, view: GlobalView) -> None:
        self.view = view
        self.arrays = view.arrays
        self.pass_id = next(_PASSES)
        self.idf = IdfTable(view, self._idf_changed)
        self._idf_cols = np.full(len(self.arrays.cols.terms), np.nan)  # nan: not yet
        self._postings: dict[str, tuple[np.ndarray, np.ndarray] | None] = {}
        self._trending: dict[tuple[float, int], tuple[dict[str, float],
                                                      list[tuple[float, str]]]] = {}

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray] | None:
        """The term's postings as arrays (rows of :attr:`arrays` users, tf) in the entry's
        order; None when the index has no entry for the term."""
        if term in self._postings:
            return self._postings[term]
        got = self._postings[term] = self.arrays.postings(term, self.view.index_entry(term))
        return got

    def sketch_rows(self, users: np.ndarray) -> np.ndarray:
        """The ``arrays.sketches`` row of each user row in ``users`` (-2: the user has no
        sketch), brought up to date with the view once per pass."""
        a = self.arrays
        a.fit()
        todo = users[a.sketch_pass[users] != self.pass_id]
        if len(todo):
            ids, sketches, rows = a.user_ids, a.sketches, a.sketch_of
            for r in todo.tolist():
                v = ids[r]
                sketch = self.view.sketch(v)
                rows[r] = sketches.row(v, sketch, sketch["t"]) if sketch else -2
            a.sketch_pass[todo] = self.pass_id
        return a.sketch_of[users]

    def item_rows(self, rows: np.ndarray) -> np.ndarray:
        """The ``arrays.items`` row of each catalogue row in ``rows`` (items in the
        catalogue), brought up to date with the view once per pass."""
        a, cat = self.arrays, self.view.catalogue
        a.fit_items(len(cat.row_ids))
        todo = rows[a.item_pass[rows] != self.pass_id]
        if len(todo):
            items, of, ids = a.items, a.item_of, cat.row_ids
            for r in todo.tolist():
                item = cat.items[ids[r]]
                of[r] = items.row(r, item, item.tf)
            a.item_pass[todo] = self.pass_id
        return a.item_of[rows]

    def weighed(self, m: TermRows, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The TF-IDF weights (padded rows) and norms of ``m``'s ``rows``, computed at each
        row's first use in the pass. The norm adds the squares in the row's term order
        (zero pads change nothing), as :func:`sketch_vector` and ``similarity.norm``."""
        todo = rows[m.stamp[rows] != self.pass_id]
        if len(todo):
            w = m.val[todo] * self._idf_of(m.ids[todo])
            m.w[todo] = w
            m.norm[todo] = np.sqrt(np.cumsum(w * w, axis=1)[:, -1])
            m.stamp[todo] = self.pass_id
        return m.w[rows], m.norm[rows]

    def _idf_of(self, ids: np.ndarray) -> np.ndarray:
        """idf of each column in ``ids`` (0 for the pad), as :attr:`idf` holds it now."""
        terms = self.arrays.cols.terms
        got = self._idf_cols
        if len(got) < len(terms):
            got = self._idf_cols = np.concatenate([got, np.full(len(terms) - len(got),
                                                                 np.nan)])
        got[0] = 0.0
        out = got[ids]
        miss = np.isnan(out)
        if miss.any():
            cols = np.unique(ids[miss])
            table = self.idf
            got[cols] = [table[terms[c]] for c in cols.tolist()]
            out = got[ids]
        return out

    def _idf_changed(self, terms: list[str]) -> None:
        cols = self.arrays.cols
        got = self._idf_cols
        for t in terms:
            c = cols.get(t)
            if c is not None and c < len(got):
                got[c] = np.nan  # read again from the table at the next use

    def trending(self, half_life_s: float, size: int
                 ) -> tuple[dict[str, float], list[tuple[float, str]]]:
        """The merged trending lists (:func:`recstream.core.index.merge_trending`) as item ->
        score, and as (score, item) best first: the same for every event of the pass."""
        got = self._trending.get((half_life_s, size))
        if got is None:
            scores = dict(index.merge_trending(self.view.trending_lists(), half_life_s, size))
            ranked = sorted(((v, i) for i, v in scores.items()), reverse=True)
            got = self._trending[(half_life_s, size)] = (scores, ranked)
        return got


def idf_vector(view: GlobalView, terms: Sequence[str], n: int) -> np.ndarray:
    """idf of each term as an array (:func:`recstream.core.tfidf.idf_array`)."""
    return idf_array(n, view.dfs(terms))


def sketch_vector(sketch_tf: Mapping[str, float], idf_of: Mapping[str, float]
                  ) -> tuple[dict[str, float], float]:
    """A neighbour sketch's TF-IDF weights under the current idf (``idf_of``, an
    :class:`IdfTable`), and their norm. A plain loop: a sketch has tens of terms, where
    numpy's per-call overhead costs more than the arithmetic."""
    w = {t: tf * idf_of[t] for t, tf in sketch_tf.items()}
    return w, math.sqrt(sum(x * x for x in w.values()))


def user_vector(profile: Profile, view: GlobalView, table: IdfTable | None = None
                ) -> tuple[dict[str, float], float, IdfTable]:
    """The profile's TF-IDF vector (non-zero weights only), its Euclidean norm, and an idf
    table already holding every profile term (vectorised: profiles have hundreds of terms).
    ``table``: an idf table of the same view to use and fill (a :class:`ViewCache`'s)."""
    table = IdfTable(view) if table is None else table
    if not profile.counts or profile.length <= 0:
        return {}, 0.0, table
    terms = list(profile.counts)
    counts = np.fromiter(profile.counts.values(), dtype=np.float64, count=len(terms))
    # the user holds every one of these terms, so N ≥ 1 and df ≥ 1 whatever the replicated
    # index says yet (its update from this very event may still be on its way: without this,
    # a system's first event found N = 0 and the user had no vector)
    idf_v = idf_array(max(table.n, 1), np.maximum(view.dfs(terms), 1))
    w = counts * (1.0 / profile.length) * idf_v
    table.set_many(terms, idf_v)
    nz = np.flatnonzero(w > 0)
    u = dict(zip([terms[i] for i in nz], w[nz].tolist(), strict=True))
    return u, math.sqrt(float(w @ w)), table


def make_sketch(profile: Profile, w: Mapping[str, float], n_terms: int,
                n_items: int) -> dict[str, Any]:
    """The compact, replicated form of a profile used by other users' CF: the tf of the
    terms strongest in ``w`` (the profile's current TF-IDF weights; readers recompute weights
    with their idf) and the latest items' values."""
    chosen = [t for t, _ in top_terms(w, n_terms)]
    if len(chosen) < n_terms:  # terms with idf 0 still describe the user
        rest = top_terms({t: c for t, c in profile.counts.items() if t not in w},
                         n_terms - len(chosen))
        chosen += [t for t, _ in rest]
    items = list(profile.items.items())[-n_items:]
    inv = 1.0 / profile.length if profile.length > 0 else 0.0
    return {"t": {t: profile.counts[t] * inv for t in chosen}, "i": dict(items)}


class MemoryView:
    """Global state in dictionaries: used directly by tests and in-process evaluation, and
    filled from replicated topics by the workers (streams/views.py)."""

    def __init__(self) -> None:
        self.catalogue = Catalogue()
        self.arrays = ViewArrays()
        self.entries: dict[str, Mapping[str, Any]] = {}
        self.sketches: dict[str, Mapping[str, Any]] = {}
        self.trending: dict[str, list[list[Any]]] = {}
        self._vocab: dict[str, int] = {}  # term -> row of _df (for vectorised idf)
        self._df = np.zeros(1024, dtype=np.float64)

    def set_entry(self, key: str, entry: Mapping[str, Any] | None) -> None:
        """Store (or, for None, delete) an index entry; trending lists are kept apart."""
        if key.startswith(index.TRENDING_PREFIX):
            if entry is None:
                self.trending.pop(key, None)
            else:
                self.trending[key] = entry["top"]
        elif entry is None:
            self.entries.pop(key, None)
            if key in self._vocab:
                self._df[self._vocab[key]] = 0
        else:
            self.entries[key] = entry
            if not key.startswith("\x00"):  # a term, not N / item / trending
                row = self._vocab.setdefault(key, len(self._vocab))
                if row >= len(self._df):
                    self._df = np.concatenate([self._df, np.zeros(len(self._df))])
                self._df[row] = entry["df"]

    def dfs(self, terms: Sequence[str]) -> np.ndarray:
        """df of each term (0 for unknown terms), as floats."""
        vocab = self._vocab
        rows = np.fromiter((vocab.get(t, -1) for t in terms), dtype=np.int64, count=len(terms))
        out = self._df[rows]
        out[rows < 0] = 0.0
        return out

    def set_sketch(self, user_id: str, sketch: Mapping[str, Any] | None) -> None:
        """Store (or, for None, delete: an erasure) a user's sketch; a deleted user leaves
        nothing in the kept arrays either (:meth:`ViewArrays.forget_user`)."""
        if sketch is None:
            self.sketches.pop(user_id, None)
            self.arrays.forget_user(user_id)
        else:
            self.sketches[user_id] = sketch

    def get_entry(self, key: str) -> Mapping[str, Any] | None:
        if key.startswith(index.TRENDING_PREFIX):
            top = self.trending.get(key)
            return {"top": top} if top is not None else None
        return self.entries.get(key)

    def index_entry(self, key: str) -> Mapping[str, Any] | None:
        return self.entries.get(key)

    def sketch(self, user_id: str) -> Mapping[str, Any] | None:
        return self.sketches.get(user_id)

    def trending_lists(self) -> list[list[list[Any]]]:
        return list(self.trending.values())
