"""A small synthetic world for the protocol tests: 30 users with overlapping tastes.

Items belong to three genres (their tags); each user mostly interacts with one genre, at
distinct timestamps, so CF neighbours, content matches and popularity all have signal.
"""

from __future__ import annotations

import random

import pytest

from recstream.datasets.model import Dataset, Interaction, Item

GENRES = ("alpine hiking", "deep jazz", "space opera")


def world(n_users: int = 30, n_items: int = 24, per_user: int = 8, seed: int = 7) -> Dataset:
    rng = random.Random(seed)
    items = [Item(f"i{n:02d}", f"title{n} {GENRES[n % 3].split()[0]}", "", (GENRES[n % 3],))
             for n in range(n_items)]
    rows = []
    ts = 1_600_000_000.0
    for u in range(n_users):
        liked = [it for n, it in enumerate(items) if n % 3 == u % 3]
        picks = rng.sample(liked, min(per_user - 2, len(liked))) + rng.sample(items, 2)
        for it in dict.fromkeys(picks):
            ts += rng.choice((60.0, 3600.0))
            rows.append(Interaction(f"u{u:02d}", it.item_id, ts, float(rng.randint(1, 5))))
    rows.sort(key=lambda x: (x.ts, x.user_id, x.item_id))
    return Dataset("world", "amazon2018", items, rows)


@pytest.fixture
def small_world() -> Dataset:
    return world()
