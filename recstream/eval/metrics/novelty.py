"""Novelty: the mean self-information −log2 p(i) of a list's items, with p(i) the item's
share of the training interactions, add-one smoothed over the catalogue
(p(i) = (n_i + 1) / (N + |catalogue|)) so an item nobody has touched yet is the most novel
rather than infinitely so."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence


def self_information(count: float, total: float, catalogue_size: int) -> float:
    """−log2((count + 1) / (total + catalogue_size)) in bits."""
    if catalogue_size < 1 or total < 0 or count < 0:
        raise ValueError("need catalogue_size >= 1 and non-negative counts")
    return -math.log2((count + 1.0) / (total + catalogue_size))


def novelty(items: Sequence[str], counts: Mapping[str, float], total: float,
            catalogue_size: int) -> float:
    """Mean self-information of ``items`` given interaction ``counts`` per item out of
    ``total`` (ValueError for an empty list)."""
    if not items:
        raise ValueError("novelty of an empty list is undefined")
    return sum(self_information(counts.get(i, 0.0), total, catalogue_size)
               for i in items) / len(items)
