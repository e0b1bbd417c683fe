"""What one evaluation run is given and what it returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from recstream.datasets.model import Dataset
from recstream.llm.scoring import ItemEmbeddings
from recstream.settings import LearnSettings, ProfileSettings, RatingSettings, RecommendSettings


class Reporter(Protocol):
    """Progress of long stages (the CLI draws bars; tests stay silent)."""

    def stage(self, name: str, total: int) -> Callable[[int], None]: ...


class Silent:
    def stage(self, name: str, total: int) -> Callable[[int], None]:
        return lambda n: None


@dataclass
class Job:
    dataset: Dataset
    profile: ProfileSettings
    recommend: RecommendSettings  # the production settings; neighbour search uses them
    variants: dict[str, RecommendSettings]  # name -> settings, in report order
    k: int = 10
    peers: bool = False
    path: Path | None = None  # where the dataset lives (ML-100K folds are files there)
    sample_every: int = 1  # prequential: evaluate every n-th eligible event
    max_events: int | None = None  # prequential: replay only the first n events
    judge_from: int = 0  # prequential: count only events from this stream index on
    refit_every: int | None = None  # prequential: peers refit period in events
    reporter: Reporter = field(default_factory=Silent)
    embeddings: ItemEmbeddings | None = None  # catalogue embeddings: the LLM signal
    llm_history: int = 20  # scorer.history_items: latest items in the user side
    cold_start: bool = True  # per-variant cold-start buckets (loo, prequential)
    timeline: bool = False  # prequential: keep each judged event's HR (drift report)
    learn: LearnSettings = field(default_factory=LearnSettings)  # the learner's settings
    learned: frozenset[str] = frozenset()  # variants that learn their blend (prequential)
    rating: RatingSettings = field(default_factory=RatingSettings)  # split: default's model


@dataclass
class Outcome:
    results: dict[str, dict[str, float]] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    cold_start: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    timelines: dict[str, list[float]] = field(default_factory=dict)  # name -> HR per event
    learned: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> final learner

    def merge(self, other: Outcome) -> None:
        self.results.update(other.results)
        self.unavailable.update(other.unavailable)
        self.notes += other.notes
        self.cold_start.update(other.cold_start)
        self.timelines.update(other.timelines)
        self.learned.update(other.learned)


def to_json(dataset: str, protocol: str, k: int, outcome: Outcome, order: list[str],
            seconds: float) -> dict[str, Any]:
    """The ``--json`` document: unavailable variants and peers appear in ``results`` as
    ``{"unavailable": reason}`` so a reader sees them next to the measured ones;
    ``cold_start`` (loo, prequential) holds each measured one's cold-start buckets;
    ``learned`` (prequential) each learned variant's final blend weights and counts."""
    results: dict[str, Any] = {}
    for name in order:
        if name in outcome.results:
            results[name] = {m: round(v, 6) for m, v in outcome.results[name].items()}
        elif name in outcome.unavailable:
            results[name] = {"unavailable": outcome.unavailable[name]}
    doc: dict[str, Any] = {"dataset": dataset, "protocol": protocol, "k": k,
                           "results": results}
    if outcome.cold_start:
        doc["cold_start"] = {
            name: {b: {m: round(v, 6) for m, v in r.items()}
                   for b, r in outcome.cold_start[name].items()}
            for name in order if name in outcome.cold_start}
    if outcome.learned:  # the learned variants' final blend: weights, version, examples
        doc["learned"] = {name: outcome.learned[name] for name in order
                          if name in outcome.learned}
    doc["seconds"] = round(seconds, 3)
    return doc
