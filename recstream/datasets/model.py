"""Plain data types shared by every dataset loader.

Ids are strings everywhere (numeric dataset ids become their decimal string) and
timestamps are Unix epoch seconds as floats, matching the stream contract.
"""

from __future__ import annotations

from dataclasses import dataclass


class DatasetError(ValueError):
    """A dataset cannot be loaded; the message is one line saying what is wrong and the fix."""


@dataclass(frozen=True, slots=True)
class Item:
    """One catalogue entry.

    ``tags`` holds genres (MovieLens), categories (Amazon) and, for MovieLens CSV
    folders with a ``tags.csv``, the distinct lower-cased user tags after the genres.
    """

    item_id: str
    title: str
    description: str = ""
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Interaction:
    """One user-item event: ``ts`` in Unix epoch seconds, ``rating`` on the dataset's scale."""

    user_id: str
    item_id: str
    ts: float
    rating: float | None = None
    review: str | None = None


@dataclass
class Dataset:
    """A loaded dataset.

    ``interactions`` are sorted by ``(ts, user_id, item_id)``. ``items`` cover every
    interacted item and keep the order of the catalogue file; items that the
    interactions reference but the catalogue lacks follow, with an empty title, in
    order of first interaction.
    """

    name: str
    format: str
    items: list[Item]
    interactions: list[Interaction]


def sort_key(inter: Interaction) -> tuple[float, str, str]:
    """The canonical interaction order: event time, then user id, then item id."""
    return (inter.ts, inter.user_id, inter.item_id)
