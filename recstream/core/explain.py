"""What a person reads in a published list: each item's title, and content reasons that name
the user's own item behind the match.

:func:`describe` runs on the rank stage's top-N (agents/rank.py) after the blend, so it costs
per event at most ``top_n`` title look-ups plus, per content-matched item, its (≤ 3) reason
terms checked against the user's ``recent`` latest items: bounded by settings, never by the
catalogue or the user's history. Pure: no Kafka.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from recstream.core.candidates import Candidate
from recstream.core.catalogue import Catalogue
from recstream.core.rank import CONTENT_REASON

#: Longest title a record carries (characters); a longer one is cut and ends with "…".
TITLE_MAX_CHARS = 120
#: How many of the user's latest items are searched for the source of a content match.
SOURCE_ITEMS = 20


@functools.lru_cache(maxsize=8192)
def short_title(title: str, limit: int = TITLE_MAX_CHARS) -> str:
    """``title`` with runs of whitespace folded, at most ``limit`` characters ("…" ends a
    cut one). Cached: the same titles come back in every list."""
    title = " ".join(title.split())
    return title if len(title) <= limit else title[: limit - 1].rstrip() + "…"


def latest_items(seen: Mapping[str, float], catalogue: Catalogue, n: int = SOURCE_ITEMS
                 ) -> list[tuple[str, Mapping[str, float]]]:
    """(item id, its terms) of the user's ``n`` latest items the catalogue still has, latest
    first (``seen``: the profile's items, latest last)."""
    known = catalogue.items
    return [(i, known[i].terms) for i in itertools.islice(reversed(seen), n) if i in known]


def source_item(terms: Sequence[str], latest: Sequence[tuple[str, Mapping[str, float]]]
                ) -> str | None:
    """The first of ``latest`` (:func:`latest_items`) whose text holds the most of ``terms``
    (None when none holds any)."""
    best, best_n, want = None, 0, len(terms)
    for item_id, held in latest:
        n = 0
        for t in terms:
            if t in held:
                n += 1
        if n > best_n:
            best, best_n = item_id, n
            if n == want:
                break
    return best


def describe(items: list[dict[str, Any]], candidates: Sequence[Candidate],
             seen: Mapping[str, float], catalogue: Catalogue,
             recent: int = SOURCE_ITEMS) -> list[dict[str, Any]]:
    """Give each ranked item its catalogue ``title`` ("" for an item the catalogue no longer
    has) and extend a content reason with the user's item that shares its terms:
    "matches your interest in horror, scifi, as in Alien (1979)". ``seen``: the profile's
    items (insertion order, latest last); ``candidates``: the set the items were ranked from
    (their matched terms). Replaces ``items``' entries in place and returns ``items``."""
    shown = {it["item_id"] for it in items}
    terms = {c.item_id: c.terms for c in candidates if c.terms and c.item_id in shown}
    latest = latest_items(seen, catalogue, recent) if terms else []
    known = catalogue.items
    for n, it in enumerate(items):
        item = known.get(it["item_id"])
        # the title right after the id, where a person reading the JSON looks for it
        items[n] = it = {"item_id": it["item_id"],
                         "title": short_title(item.title) if item is not None else "", **it}
        matched = terms.get(it["item_id"])
        if not matched:
            continue
        src = source_item(matched, latest)
        if src is None:
            continue
        name = short_title(known[src].title) or src
        it["reasons"] = [f"{r}, as in {name}" if r.startswith(CONTENT_REASON) else r
                         for r in it["reasons"]]
    return items
