"""What one evaluation run is given and what it returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from recstream.datasets.model import Dataset
from recstream.settings import ProfileSettings, RecommendSettings


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
    refit_every: int | None = None  # prequential: peers refit period in events
    reporter: Reporter = field(default_factory=Silent)


@dataclass
class Outcome:
    results: dict[str, dict[str, float]] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def merge(self, other: Outcome) -> None:
        self.results.update(other.results)
        self.unavailable.update(other.unavailable)
        self.notes += other.notes


def to_json(dataset: str, protocol: str, k: int, outcome: Outcome, order: list[str],
            seconds: float) -> dict[str, Any]:
    """The ``--json`` document: unavailable variants and peers appear in ``results`` as
    ``{"unavailable": reason}`` so a reader sees them next to the measured ones."""
    results: dict[str, Any] = {}
    for name in order:
        if name in outcome.results:
            results[name] = {m: round(v, 6) for m, v in outcome.results[name].items()}
        elif name in outcome.unavailable:
            results[name] = {"unavailable": outcome.unavailable[name]}
    return {"dataset": dataset, "protocol": protocol, "k": k, "results": results,
            "seconds": round(seconds, 3)}
