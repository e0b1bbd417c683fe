"""The texts the encoder sees: an item's catalogue text and a user's behaviour text."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

MAX_DESCRIPTION_CHARS = 400


def item_text(record: Mapping[str, Any]) -> str:
    """'title. tag, tag. description' of an ``items`` record (description truncated)."""
    desc = record.get("description") or ""
    if isinstance(desc, list):
        desc = " ".join(str(d) for d in desc)
    tags = ", ".join(str(t) for t in record.get("tags") or ())
    parts = [str(record.get("title") or record.get("item_id") or ""), tags,
             str(desc)[:MAX_DESCRIPTION_CHARS]]
    return ". ".join(p for p in parts if p)


def user_text(terms: Iterable[str], recent_titles: Iterable[str]) -> str:
    """A user's text: their strongest TF-IDF terms, then the titles of their recent items."""
    t = " ".join(terms)
    titles = "; ".join(recent_titles)
    return f"{t}. {titles}" if t and titles else t or titles
