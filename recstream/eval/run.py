"""The public entry point: evaluate a dataset under one protocol, every variant side by side."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from recstream.datasets import load_dataset
from recstream.eval import loo, prequential, split, variants
from recstream.eval.job import Job, Outcome, Reporter, Silent, to_json
from recstream.eval.splits import first_users
from recstream.settings import Settings

PROTOCOLS = {"split": split.run, "loo": loo.run, "prequential": prequential.run}
RATING_PEERS = ("surprise_svd", "surprise_svdpp", "surprise_knn")
RANKING_PEERS = ("implicit_als", "implicit_bpr", "implicit_itemknn")

log = logging.getLogger(__name__)


def evaluate(path: str | Path, protocol: str, settings: Settings, k: int = 10,
             variant_names: list[str] | None = None, peers: bool = False,
             limit_users: int | None = None, sample_every: int = 1,
             max_events: int | None = None, refit_every: int | None = None,
             reporter: Reporter | None = None) -> tuple[dict[str, Any], list[str]]:
    """The ``--json`` document of one run and its notes (bounds, caveats).

    Raises ValueError for a bad argument or a protocol the data cannot serve, and
    DatasetError for a dataset that cannot be loaded.
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; use split, loo or prequential")
    if k < 1 or sample_every < 1:
        raise ValueError("--k and --sample-every must be >= 1")
    started = time.monotonic()
    runs, unavailable = variants.select(variant_names, settings.recommend)
    ds = load_dataset(path)
    if limit_users:
        ds.interactions = first_users(ds.interactions, limit_users)
    job = Job(ds, settings.profile, settings.recommend, runs, k=k, peers=peers, path=Path(path),
              sample_every=sample_every, max_events=max_events, refit_every=refit_every,
              reporter=reporter or Silent())
    outcome = Outcome(unavailable=dict(unavailable))
    outcome.merge(PROTOCOLS[protocol](job))
    requested = variant_names if variant_names is not None else list(variants.ORDER)
    order = [*requested]
    if peers:
        order += list(RATING_PEERS if protocol == "split" else RANKING_PEERS)
    seconds = time.monotonic() - started
    log.info("eval done dataset=%s protocol=%s k=%d variants=%d seconds=%.1f", ds.name,
             protocol, k, len(runs), seconds)
    return to_json(ds.name, protocol, k, outcome, order, seconds), outcome.notes
