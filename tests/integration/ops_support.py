"""Helpers shared by the operations tests (lag, /metrics, dashboard); not a test module."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

ML100K = Path("/work/shared/datasets/ml-100k")


@dataclass
class Burst:
    """Catalogue records and a burst of rating events spread over many users."""

    items: list[dict[str, Any]]
    events: list[dict[str, Any]]


def movielens_burst(users: int = 300, per_user: int = 5) -> Burst:
    """The first ``per_user`` ratings (time order) of the first ``users`` users of
    MovieLens 100K: enough events that a burst outpaces one worker, spread over every
    partition."""
    from recstream.datasets import interaction_event, item_record, load_dataset

    ds = load_dataset(ML100K)
    per: dict[str, int] = {}
    events = []
    for x in ds.interactions:
        if x.user_id not in per and len(per) >= users:
            continue
        if per.get(x.user_id, 0) < per_user:
            per[x.user_id] = per.get(x.user_id, 0) + 1
            events.append(interaction_event(x, "ratings", ds.format))
    return Burst(items=[item_record(i) for i in ds.items], events=events)
