"""Turn dataset records into the JSON values of the stream contract (see DESIGN.md).

User events: ``{event_id, user_id, item_id, ts}`` with ``ts`` in Unix epoch seconds
(float); ``ratings`` events add ``rating`` and, when present, ``review``.
Catalogue records: ``{item_id, title, description, tags}``.
"""

from __future__ import annotations

from typing import Any

from recstream.datasets.model import Interaction, Item

EVENT_KINDS = ("ratings", "clicks", "purchases")


def event_id(inter: Interaction, kind: str, source: str) -> str:
    """Deterministic id ``source:user:item:ts:kind``, so a replay is deduplicated downstream.

    ``ts`` is written as whole seconds when integral, else in full (``repr``).
    """
    ts = int(inter.ts) if inter.ts.is_integer() else repr(inter.ts)
    return f"{source}:{inter.user_id}:{inter.item_id}:{ts}:{kind}"


def interaction_event(inter: Interaction, kind: str, source: str) -> dict[str, Any]:
    """The JSON-able event for topic ``kind`` (``ratings``, ``clicks`` or ``purchases``).

    Raises ValueError for an unknown kind or a ``ratings`` event without a rating.
    """
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown event kind {kind!r}; use one of {', '.join(EVENT_KINDS)}")
    event: dict[str, Any] = {
        "event_id": event_id(inter, kind, source),
        "user_id": inter.user_id,
        "item_id": inter.item_id,
        "ts": float(inter.ts),
    }
    if kind == "ratings":
        if inter.rating is None:
            raise ValueError(
                f"interaction {inter.user_id}/{inter.item_id} has no rating; "
                "send it as clicks or purchases"
            )
        event["rating"] = float(inter.rating)
        if inter.review is not None:
            event["review"] = inter.review
    return event


def item_record(item: Item) -> dict[str, Any]:
    """The JSON-able ``items`` record: ``{item_id, title, description, tags}`` (tags a list)."""
    return {
        "item_id": item.item_id,
        "title": item.title,
        "description": item.description,
        "tags": list(item.tags),
    }
