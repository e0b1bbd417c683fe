"""What the candidate stage may read of global state, and an in-memory implementation.

In the pipeline the view is backed by replicas of the term index, user sketches and items
(streams/replica.py); in tests and offline evaluation :class:`MemoryView` holds the same data.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import numpy as np

from recstream.core import index
from recstream.core.catalogue import Catalogue
from recstream.core.tfidf import Profile, idf, top_terms


class GlobalView(Protocol):
    catalogue: Catalogue

    def index_entry(self, key: str) -> Mapping[str, Any] | None: ...

    def sketch(self, user_id: str) -> Mapping[str, Any] | None: ...

    def trending_lists(self) -> list[list[list[Any]]]: ...

    def dfs(self, terms: Sequence[str]) -> np.ndarray: ...


def n_users(view: GlobalView) -> int:
    e = view.index_entry(index.USERS_KEY)
    return int(e["df"]) if e else 0


class IdfTable(dict[str, float]):
    """idf(w) under the view's N and df at creation, computed on first use of each term."""

    def __init__(self, view: GlobalView) -> None:
        super().__init__()
        self.view = view
        self.n = n_users(view)

    def __missing__(self, term: str) -> float:
        e = self.view.index_entry(term)
        value = self[term] = idf(self.n, int(e["df"])) if e else 0.0
        return value


class ViewCache:
    """Values derived from the global view, valid while the view does not change: idf per
    term, TF-IDF norm per catalogue item, TF-IDF weights and norm per neighbour sketch.

    The candidate stage computes one batch of events in one synchronous pass (the replica
    applies updates between awaits, never during it), so a cache made for the pass gives the
    same numbers as computing each event alone, and popular neighbours and items of the batch
    are weighed once instead of once per event."""

    def __init__(self, view: GlobalView) -> None:
        self.view = view
        self.idf = IdfTable(view)
        self._item_norms = np.zeros(0)  # catalogue row -> TF-IDF norm; nan: not yet
        self.sketches: dict[str, tuple[dict[str, float], float]] = {}  # user -> (w, ‖w‖)
        self._trending: dict[tuple[float, int], tuple[dict[str, float],
                                                      list[tuple[float, str]]]] = {}
        # neighbour search (recstream.core.candidates.find_neighbours): a row per user met
        self.user_rows: dict[str, int] = {}
        self.user_ids: list[str] = []
        self._postings: dict[str, tuple[np.ndarray, np.ndarray] | None] = {}
        self.weighed = SketchMatrix()
        self._sketch_of = np.zeros(0, dtype=np.int64)  # user row -> weighed row; -1: not yet

    def item_norms(self, rows: int) -> np.ndarray:
        """A catalogue row -> item TF-IDF norm array for the caller to fill (nan: not yet
        computed in this pass); ``rows``: the catalogue's row count (fixed during a pass)."""
        if len(self._item_norms) < rows:
            self._item_norms = np.concatenate(
                [self._item_norms, np.full(rows - len(self._item_norms), np.nan)])
        return self._item_norms

    def user_row(self, user_id: str) -> int:
        row = self.user_rows.get(user_id)
        if row is None:
            row = self.user_rows[user_id] = len(self.user_ids)
            self.user_ids.append(user_id)
        return row

    def sketch_rows(self, users: np.ndarray) -> np.ndarray:
        """The :attr:`weighed` row of each user row in ``users`` (-2: the user has no
        sketch), weighing the sketches not weighed yet in this pass."""
        known = self._sketch_of
        if len(known) < len(self.user_ids):
            known = self._sketch_of = np.concatenate(
                [known, np.full(len(self.user_ids) - len(known), -1)])
        got = known[users]
        for r in users[got == -1].tolist():
            v = self.user_ids[r]
            sketch = self.view.sketch(v)
            known[r] = self.sketch_row(v, sketch) if sketch else -2
        return known[users]

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray] | None:
        """The term's postings as arrays (user rows, tf) in the entry's order; None when the
        index has no entry for the term."""
        if term in self._postings:
            return self._postings[term]
        entry = self.view.index_entry(term)
        got = None
        if entry:
            p = entry["p"]
            row = self.user_row
            got = (np.fromiter((row(v) for v in p), dtype=np.int64, count=len(p)),
                   np.fromiter(p.values(), dtype=np.float64, count=len(p)))
        self._postings[term] = got
        return got

    def sketch_row(self, user_id: str, sketch: Mapping[str, Any]) -> int:
        """The row of ``user_id``'s sketch in :attr:`weighed`, weighing it (under the idf
        at this moment, as :func:`sketch_vector`) the first time in the pass."""
        row = self.weighed.rows.get(user_id)
        if row is None:
            w, wnorm = self.sketches[user_id] = sketch_vector(sketch["t"], self.idf)
            row = self.weighed.add(user_id, w, wnorm, sketch["i"])
        return row

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


class SketchMatrix:
    """Weighed sketches as padded rows of term columns and weights (in the sketch's term
    order), so one event's neighbours are scored with a few array operations."""

    def __init__(self) -> None:
        self.rows: dict[str, int] = {}
        self.cols: dict[str, int] = {}  # term -> column id; 0 pads a row
        self.users: list[str] = []  # row -> user id
        self.items: list[Mapping[str, float]] = []  # row -> the sketch's items
        self.ids = np.zeros((16, 1), dtype=np.int64)
        self.w = np.zeros((16, 1))
        self.norm = np.zeros(16)
        self.size = np.zeros(16, dtype=np.int64)  # row -> terms in the sketch

    def add(self, user_id: str, w: Mapping[str, float], wnorm: float,
            items: Mapping[str, float]) -> int:
        row = self.rows[user_id] = len(self.items)
        self.users.append(user_id)
        self.items.append(items)
        if row >= len(self.norm) or len(w) > self.ids.shape[1]:
            height = max(len(self.norm), 2 * row + 2)
            width = max(self.ids.shape[1], len(w))
            ids, wt = np.zeros((height, width), dtype=np.int64), np.zeros((height, width))
            ids[:row, :self.ids.shape[1]] = self.ids[:row]
            wt[:row, :self.w.shape[1]] = self.w[:row]
            self.ids, self.w = ids, wt
            self.norm = np.concatenate([self.norm, np.zeros(height - len(self.norm))])
            self.size = np.concatenate([self.size, np.zeros(height - len(self.size),
                                                            dtype=self.size.dtype)])
        cols = self.cols
        self.ids[row, :len(w)] = [cols.setdefault(t, len(cols) + 1) for t in w]
        self.w[row, :len(w)] = list(w.values())
        self.norm[row], self.size[row] = wnorm, len(w)
        return row


def idf_vector(view: GlobalView, terms: Sequence[str], n: int) -> np.ndarray:
    """idf of each term as an array: log2(N / df), 0 where df is 0 or ≥ N."""
    df = view.dfs(terms)
    ok = (df > 0) & (df < n)
    out = np.zeros(len(terms))
    if n > 0:
        out[ok] = np.log2(n / df[ok])
    return out


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
    idf_v = idf_vector(view, terms, table.n)
    w = counts * (1.0 / profile.length) * idf_v
    table.update(zip(terms, idf_v.tolist(), strict=True))
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
