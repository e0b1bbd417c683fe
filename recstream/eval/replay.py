"""A dataset replayed through the in-process pipeline, plus the popularity tables the
variants need beside it.

The pipeline is :class:`recstream.core.process.MemoryPipeline`: the same functions the
agents call, one partition. Popularity per extra half-life (e.g. the ``popularity`` variant's
all-time counts) is kept with the index stage's own functions, so a variant that changes
only the trending half-life needs no second replay.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from recstream.core import index
from recstream.core.process import MemoryPipeline, event_weight
from recstream.core.tfidf import Profile, decay_factor
from recstream.datasets import interaction_event, item_record
from recstream.datasets.model import Interaction, Item
from recstream.settings import ProfileSettings, RecommendSettings


def to_event(x: Interaction, source: str) -> dict[str, Any]:
    """The cleaned event the pipeline ingests: a rating when the dataset has one, else a
    click (the clean stage adds ``kind``)."""
    kind = "ratings" if x.rating is not None else "clicks"
    return {**interaction_event(x, kind, source), "kind": kind}


class Replay:
    """Ingests interactions in the order given; ``half_lives``: trending half-lives (s) whose
    popularity and top lists are tracked for the variants."""

    def __init__(self, items: Iterable[Item], source: str, profile_cfg: ProfileSettings,
                 rec_cfg: RecommendSettings, half_lives: Iterable[float] = ()) -> None:
        self.pipeline = MemoryPipeline(profile_cfg, rec_cfg)
        self.pipeline.add_items(item_record(i) for i in items)
        self.source = source
        self.rec_cfg = rec_cfg
        self.popularity: dict[float, dict[str, Mapping[str, Any]]] = {
            h: {} for h in {rec_cfg.trending_half_life_s, *half_lives}}
        self.top_lists: dict[float, Mapping[str, Any] | None] = dict.fromkeys(self.popularity)
        self.counts: dict[str, int] = {}  # interactions ingested per user
        self.item_counts: dict[str, int] = {}  # interactions ingested per item
        self.total = 0  # interactions ingested
        self.newest_ts = 0.0

    @property
    def view(self) -> Any:
        return self.pipeline.view

    @property
    def catalogue_ids(self) -> list[str]:
        return list(self.pipeline.view.catalogue.items)

    def profile(self, user_id: str) -> Profile:
        return self.pipeline.profiles.get(user_id) or Profile()

    def ingest(self, x: Interaction) -> None:
        event = to_event(x, self.source)
        self.pipeline.ingest(event)
        weight, _ = event_weight(event, self.pipeline.profile_cfg)
        for h, table in self.popularity.items():
            pop = table[x.item_id] = index.add_popularity(table.get(x.item_id), weight, x.ts, h)
            self.top_lists[h] = index.update_trending(self.top_lists[h], x.item_id, pop,
                                                      self.rec_cfg.trending_size, h)
        self.counts[x.user_id] = self.counts.get(x.user_id, 0) + 1
        self.item_counts[x.item_id] = self.item_counts.get(x.item_id, 0) + 1
        self.total += 1
        self.newest_ts = max(self.newest_ts, x.ts)

    def trending(self, half_life_s: float) -> dict[str, float]:
        """The trending signal as the candidate stage sees it: the merged top list."""
        top = self.top_lists[half_life_s]
        return dict(index.merge_trending([top["top"]] if top else [], half_life_s,
                                         self.rec_cfg.trending_size))

    def popularity_all(self, half_life_s: float) -> dict[str, float]:
        """Decayed popularity of every item ever interacted with, at the newest event time
        (full ranking needs a trending value for items beyond the top list)."""
        return {i: float(e["s"]) * decay_factor(self.newest_ts - float(e["ts"]), half_life_s)
                for i, e in self.popularity[half_life_s].items()}
