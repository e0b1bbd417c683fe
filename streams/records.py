"""The JSON records on recstream's topics (values are JSON objects; keys are ids as UTF-8).

Declared once here; producers, agents and tests use these shapes.
"""

from __future__ import annotations

from typing import NotRequired, TypedDict


class Event(TypedDict):
    """``clicks`` / ``purchases`` / ``ratings`` (key: user id), after validation."""

    event_id: str
    user_id: str
    item_id: str
    ts: float  # event time, Unix epoch seconds
    kind: str  # the source topic: clicks | purchases | ratings
    rating: NotRequired[float]  # ratings only
    review: NotRequired[str]  # optional review text


class Item(TypedDict):
    """``items`` (key: item id, compacted)."""

    item_id: str
    title: str
    description: NotRequired[str]
    tags: NotRequired[list[str]]


class RecommendedItem(TypedDict):
    item_id: str
    title: str  # the catalogue's title, at most 120 characters ("" if the item is unknown)
    score: float
    reasons: list[str]
    signals: dict[str, float]


class Recommendation(TypedDict):
    """``recommendations`` (key: user id): one record per processed event."""

    user_id: str
    items: list[RecommendedItem]
    variant: str
    model_version: str
    trigger_event_id: str
    event_ts: float  # the trigger event's ts (s)
    published_ts: float  # wall clock at publication (s)
    degraded: bool


class DeadLetter(TypedDict):
    """``dead-letters`` (key: the input key): the raw input and why it was rejected."""

    reason: str  # machine-readable code, e.g. malformed_json, unknown_item
    detail: str
    topic: str
    partition: int
    offset: int
    raw: str  # the raw value, base64
    ts: float  # wall clock of rejection (s)
