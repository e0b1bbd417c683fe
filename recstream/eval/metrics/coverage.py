"""Catalogue coverage: the share of the catalogue that appears in at least one top-k list."""

from __future__ import annotations

from collections.abc import Iterable


def coverage(lists: Iterable[Iterable[str]], catalogue_size: int) -> float:
    """|distinct items over all ``lists``| / ``catalogue_size`` (items outside the catalogue
    are the caller's bug and still count)."""
    if catalogue_size < 1:
        raise ValueError(f"catalogue_size must be >= 1; got {catalogue_size}")
    shown: set[str] = set()
    for lst in lists:
        shown.update(lst)
    return len(shown) / catalogue_size
