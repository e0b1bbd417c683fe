"""What the candidate stage may read of global state, and an in-memory implementation.

In the pipeline the view is backed by replicas of the term index, user sketches and items
(streams/replica.py); in tests and offline evaluation :class:`MemoryView` holds the same data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from recstream.core import index
from recstream.core.catalogue import Catalogue
from recstream.core.tfidf import Profile, idf, top_terms, weights


class GlobalView(Protocol):
    catalogue: Catalogue

    def index_entry(self, key: str) -> Mapping[str, Any] | None: ...

    def sketch(self, user_id: str) -> Mapping[str, Any] | None: ...

    def trending_lists(self) -> list[list[list[Any]]]: ...


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


def idf_of(view: GlobalView, terms: Any) -> dict[str, float]:
    """idf of each term under the view's current N and document frequencies."""
    table = IdfTable(view)
    return {t: table[t] for t in terms}


def make_sketch(profile: Profile, idf_now: Mapping[str, float], n_terms: int,
                n_items: int) -> dict[str, Any]:
    """The compact, replicated form of a profile used by other users' CF: the strongest
    terms' tf (weights are recomputed with the reader's idf) and the latest items' values."""
    tfs = profile.tfs()
    w = weights(tfs, idf_now)
    chosen = [t for t, _ in top_terms(w, n_terms)]
    if len(chosen) < n_terms:  # terms with idf 0 still describe the user
        rest = [t for t, _ in top_terms({t: f for t, f in tfs.items() if t not in w},
                                        n_terms - len(chosen))]
        chosen += rest
    items = list(profile.items.items())[-n_items:]
    return {"t": {t: tfs[t] for t in chosen}, "i": dict(items)}


class MemoryView:
    """Global state in dictionaries: used directly by tests and in-process evaluation, and
    filled from replicated topics by the workers (streams/views.py)."""

    def __init__(self) -> None:
        self.catalogue = Catalogue()
        self.entries: dict[str, Mapping[str, Any]] = {}
        self.sketches: dict[str, Mapping[str, Any]] = {}
        self.trending: dict[str, list[list[Any]]] = {}

    def set_entry(self, key: str, entry: Mapping[str, Any] | None) -> None:
        """Store (or, for None, delete) an index entry; trending lists are kept apart."""
        if key.startswith(index.TRENDING_PREFIX):
            if entry is None:
                self.trending.pop(key, None)
            else:
                self.trending[key] = entry["top"]
        elif entry is None:
            self.entries.pop(key, None)
        else:
            self.entries[key] = entry

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
