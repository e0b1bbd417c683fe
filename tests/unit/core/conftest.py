"""A small hand-made world shared by the candidate and rank tests.

Six items with distinct words and four users, every event at the same time (so no decay):

    u1: clicks A "hiking boots"
    u2: clicks C "camping tent"
    u3: clicks C "camping tent", clicks D "gas cooker"
    u4: clicks E "chess board"
    (B "hiking poles" and F "jazz vinyl" are never interacted with)

By hand, N = 4 and df(hiking) = df(boots) = df(gas) = df(cooker) = df(chess) = df(board) = 1,
df(camping) = df(tent) = 2, df(poles) = df(jazz) = df(vinyl) = 0, so with the smoothed
idf log2((N + 1) / df) (recstream/core/tfidf.py): idf = a = log2(5/1) ≈ 2.3219 for the df-1
terms, b = log2(5/2) = a − 1 ≈ 1.3219 for camping/tent, 0 for unseen terms.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from recstream.core.process import MemoryPipeline
from recstream.settings import ProfileSettings, RecommendSettings

TS = 1_700_000_000.0

ITEMS = [
    {"item_id": "A", "title": "hiking boots"},
    {"item_id": "B", "title": "hiking poles"},
    {"item_id": "C", "title": "camping tent"},
    {"item_id": "D", "title": "gas cooker"},
    {"item_id": "E", "title": "chess board"},
    {"item_id": "F", "title": "jazz vinyl"},
]

EVENTS = [("u1", "A"), ("u2", "C"), ("u3", "C"), ("u3", "D"), ("u4", "E")]


def profile_cfg() -> ProfileSettings:
    return ProfileSettings(weight_click=1.0, weight_purchase=3.0, weight_per_star=0.5,
                           decay_half_life_s=0.0, max_terms=2000)


def rec_cfg(**overrides: object) -> RecommendSettings:
    values: dict[str, object] = dict(
        top_n=10, theta=0.1, max_neighbours=50, query_terms=20, postings_per_term=200,
        sketch_terms=64, sketch_items=100, content_pool=2000, trending_size=100,
        trending_half_life_s=7 * 86400.0, weight_cf=0.5, weight_content=0.35,
        weight_trending=0.15, cf_form="weighted",
        weight_cooc=0.0, weight_seq=0.0,  # the item graph's tests name their own weights
    )
    values.update(overrides)
    return RecommendSettings(**values)


def build_world(**overrides: object) -> MemoryPipeline:
    pipe = MemoryPipeline(profile_cfg(), rec_cfg(**overrides))
    pipe.add_items(ITEMS)
    for i, (user, item) in enumerate(EVENTS):
        pipe.ingest({"event_id": str(i), "user_id": user, "item_id": item, "ts": TS,
                     "kind": "clicks"})
    return pipe


@pytest.fixture
def world() -> Callable[..., MemoryPipeline]:
    """Factory: ``world(theta=0.45)`` builds the pipeline with RecommendSettings overrides."""
    return build_world
