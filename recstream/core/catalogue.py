"""The item catalogue as the recommender sees it: item terms and a term -> items index."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from recstream.core.text import term_counts


@dataclass(frozen=True, slots=True)
class CatalogueItem:
    item_id: str
    title: str
    tags: tuple[str, ...]
    terms: dict[str, float]  # term -> count in the item's text
    length: float  # total term count
    tf: dict[str, float]  # term -> count / length, precomputed for the content stage

    def tfs(self) -> dict[str, float]:
        return self.tf


def item_from_record(record: Mapping[str, Any]) -> CatalogueItem:
    """Build a catalogue entry from an ``items`` topic record (title, description, tags)."""
    tags = tuple(str(t) for t in record.get("tags") or ())
    desc = record.get("description") or ""
    if isinstance(desc, list):
        desc = " ".join(str(d) for d in desc)
    counts = term_counts([str(record.get("title") or ""), str(desc), *tags])
    length = float(sum(counts.values()))
    return CatalogueItem(str(record["item_id"]), str(record.get("title") or ""), tags,
                         dict(counts), length, {t: c / length for t, c in counts.items()})


#: (item text, known category names) -> inferred categories (recstream.core.classify)
Classifier = Callable[[str, Sequence[str]], Sequence[str]]


def item_text(record: Mapping[str, Any]) -> str:
    """Title and description of an ``items`` record, as one text for classification."""
    desc = record.get("description") or ""
    if isinstance(desc, list):
        desc = " ".join(str(d) for d in desc)
    return " ".join(t for t in (str(record.get("title") or ""), str(desc)) if t.strip())


class Catalogue:
    """Items by id plus an inverted index term -> item ids (for content candidates).

    With a ``classifier`` (setting ``catalogue.classify_untagged``), an item that arrives
    without tags but with text gets the known categories (tags of earlier items) its text is
    closest to, as tags (kept in :attr:`inferred`; inferred tags never become categories).
    """

    def __init__(self, classifier: Classifier | None = None) -> None:
        self.items: dict[str, CatalogueItem] = {}
        self.by_term: dict[str, set[str]] = {}
        self.classifier = classifier
        self.categories: dict[str, int] = {}  # known tag -> items carrying it (given, not inferred)
        self.inferred: dict[str, tuple[str, ...]] = {}  # item -> tags a classifier gave it
        # vectorised postings for content scoring: a row per item id ever seen, and per term
        # (rows of its items, their tf), built on first use and dropped when the term changes
        self.rows: dict[str, int] = {}
        self.row_ids: list[str] = []
        self._postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def __len__(self) -> int:
        return len(self.items)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self.items

    def get(self, item_id: str) -> CatalogueItem | None:
        return self.items.get(item_id)

    def upsert(self, record: Mapping[str, Any]) -> CatalogueItem:
        item_id = str(record["item_id"])
        self.remove(item_id)
        if (not record.get("tags") and self.classifier is not None and self.categories
                and (text := item_text(record))):
            tags = tuple(self.classifier(text, sorted(self.categories)))
            self.inferred[item_id] = tags
            record = {**record, "tags": list(tags)}
        item = item_from_record(record)
        if item.item_id not in self.inferred:
            for tag in item.tags:
                self.categories[tag] = self.categories.get(tag, 0) + 1
        self.items[item.item_id] = item
        if item.item_id not in self.rows:
            self.rows[item.item_id] = len(self.row_ids)
            self.row_ids.append(item.item_id)
        for term in item.terms:
            self.by_term.setdefault(term, set()).add(item.item_id)
            self._postings.pop(term, None)
        return item

    def remove(self, item_id: str) -> None:
        old = self.items.pop(item_id, None)
        if old is None:
            return
        if self.inferred.pop(item_id, None) is None:
            for tag in old.tags:
                if self.categories.get(tag, 0) <= 1:
                    self.categories.pop(tag, None)
                else:
                    self.categories[tag] -= 1
        for term in old.terms:
            self._postings.pop(term, None)
            ids = self.by_term.get(term)
            if ids is not None:
                ids.discard(item_id)
                if not ids:
                    del self.by_term[term]

    def postings(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """(rows, tf) of the items whose text has ``term``: :attr:`rows` indices and the
        term's tf in each, as arrays (empty when no item has it)."""
        got = self._postings.get(term)
        if got is None:
            ids = sorted(self.by_term.get(term, ()))
            got = self._postings[term] = (
                np.fromiter((self.rows[i] for i in ids), dtype=np.int64, count=len(ids)),
                np.fromiter((self.items[i].tf[term] for i in ids), dtype=np.float64,
                            count=len(ids)))
        return got

    def items_with_terms(self, terms: Iterable[str]) -> set[str]:
        out: set[str] = set()
        for t in terms:
            out |= self.by_term.get(t, set())
        return out
