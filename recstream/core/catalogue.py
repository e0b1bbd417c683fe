"""The item catalogue as the recommender sees it: item terms and a term -> items index."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

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


class Catalogue:
    """Items by id plus an inverted index term -> item ids (for content candidates)."""

    def __init__(self) -> None:
        self.items: dict[str, CatalogueItem] = {}
        self.by_term: dict[str, set[str]] = {}

    def __len__(self) -> int:
        return len(self.items)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self.items

    def get(self, item_id: str) -> CatalogueItem | None:
        return self.items.get(item_id)

    def upsert(self, record: Mapping[str, Any]) -> CatalogueItem:
        item = item_from_record(record)
        self.remove(item.item_id)
        self.items[item.item_id] = item
        for term in item.terms:
            self.by_term.setdefault(term, set()).add(item.item_id)
        return item

    def remove(self, item_id: str) -> None:
        old = self.items.pop(item_id, None)
        if old is None:
            return
        for term in old.terms:
            ids = self.by_term.get(term)
            if ids is not None:
                ids.discard(item_id)
                if not ids:
                    del self.by_term[term]

    def items_with_terms(self, terms: Iterable[str]) -> set[str]:
        out: set[str] = set()
        for t in terms:
            out |= self.by_term.get(t, set())
        return out
