"""The public entry point: evaluate a dataset under one protocol, every variant side by side."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from recstream.datasets import item_record, load_dataset
from recstream.datasets.model import Dataset
from recstream.eval import drift as drift_report
from recstream.eval import loo, prequential, split, variants
from recstream.eval.job import Job, Outcome, Reporter, Silent, to_json
from recstream.eval.llm import CACHE_DIR, CachedEncoder, item_embeddings
from recstream.eval.splits import first_users
from recstream.llm.scoring import ItemEmbeddings
from recstream.settings import ScorerSettings, Settings

PROTOCOLS = {"split": split.run, "loo": loo.run, "prequential": prequential.run}
RATING_PEERS = ("surprise_svd", "surprise_svdpp", "surprise_knn")
RANKING_PEERS = ("implicit_als", "implicit_bpr", "implicit_itemknn", "cooc_knn")

log = logging.getLogger(__name__)


def evaluate(path: str | Path, protocol: str, settings: Settings, k: int = 10,
             variant_names: list[str] | None = None, peers: bool = False,
             limit_users: int | None = None, sample_every: int = 1,
             max_events: int | None = None, refit_every: int | None = None,
             judge_from: float = 0.0,
             reporter: Reporter | None = None, llm: bool = True, drift: bool = False,
             cache_dir: Path | None = CACHE_DIR) -> tuple[dict[str, Any], list[str]]:
    """The ``--json`` document of one run and its notes (bounds, caveats).

    ``llm``: evaluate with the LLM signal as ``recstream up`` runs the pipeline (scorer on);
    False is ``recstream up --no-scorer``. ``drift`` (prequential): add the drift report.
    ``cache_dir``: where item embeddings are kept between runs (None: not kept).
    Raises ValueError for a bad argument or a protocol the data cannot serve, and
    DatasetError for a dataset that cannot be loaded.
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; use split, loo or prequential")
    if k < 1 or sample_every < 1:
        raise ValueError("--k and --sample-every must be >= 1")
    if drift and protocol != "prequential":
        raise ValueError("--drift reports the prequential protocol only; add "
                         "--protocol prequential")
    started = time.monotonic()
    runs, unavailable = variants.select(variant_names, settings.recommend)
    if drift and "default" not in runs:
        raise ValueError("--drift reruns the default variant; include it in --variants")
    ds = load_dataset(path)
    if limit_users:
        ds.interactions = first_users(ds.interactions, limit_users)
    notes: list[str] = []
    embeddings = None
    wants_llm = any(cfg.weight_llm > 0 for cfg in runs.values())
    if wants_llm and protocol == "split":
        runs, unavailable = variants.without_llm(
            runs, "the LLM score ranks items; split predicts ratings")
        if not settings.rating.enabled:
            notes.append("split: default blends its rating signals without the LLM score")
    if protocol == "split" and settings.rating.enabled and "default" in runs:
        notes.append("split: default predicts with the streaming rating model (rating.*, "
                     "core/rating.py) trained on each fold's ratings in stream order")
    elif wants_llm and not llm:
        runs, unavailable = variants.without_llm(runs, "--no-llm")
        notes.append("--no-llm: default ranks as `recstream up --no-scorer` does")
    elif wants_llm:
        try:
            embeddings = load_embeddings(ds, settings.scorer, cache_dir, notes)
        except Exception as e:  # ModelLoadError, ImportError (torch), OSError ...
            reason = f"the LLM encoder is unavailable ({str(e).splitlines()[0]})"
            runs, unavailable = variants.without_llm(runs, reason)
            notes.append(f"{reason}: default ranks without the LLM score")
    learned = variants.learned_names(runs, settings.learn)
    if learned and protocol != "prequential":
        # nothing streams past a learner in split / loo: it would rank with its start weights
        if "learned" in runs:
            runs = {n: cfg for n, cfg in runs.items() if n != "learned"}
            unavailable["learned"] = "learns online from the replay: prequential only"
        if "default" in learned:
            notes.append(f"{protocol}: default (learn.enabled) ranks with the learner's "
                         "starting weights, the configured recommend.weight_*")
        learned = frozenset()
    job = Job(ds, settings.profile, settings.recommend, runs, k=k, peers=peers, path=Path(path),
              sample_every=sample_every, max_events=max_events, refit_every=refit_every,
              judge_from=_judge_from(judge_from, len(ds.interactions)),
              reporter=reporter or Silent(), embeddings=embeddings,
              llm_history=settings.scorer.history_items, learn=settings.learn,
              learned=learned, rating=settings.rating)
    outcome = Outcome(unavailable=dict(unavailable), notes=notes)
    outcome.merge(PROTOCOLS[protocol](job))
    requested = variant_names if variant_names is not None else list(variants.ORDER)
    order = [*requested]
    if peers:
        order += list(RATING_PEERS if protocol == "split" else RANKING_PEERS)
    drift_doc = drift_report.run(job) if drift else None
    seconds = time.monotonic() - started
    log.info("eval done dataset=%s protocol=%s k=%d variants=%d seconds=%.1f", ds.name,
             protocol, k, len(runs), seconds)
    doc = to_json(ds.name, protocol, k, outcome, order, seconds)
    if drift_doc is not None:
        doc = {**{key: v for key, v in doc.items() if key != "seconds"}, "drift": drift_doc,
               "seconds": doc["seconds"]}
    return doc, outcome.notes


def _judge_from(value: float, events: int) -> int:
    """``--judge-from``: a stream index, or with a value below 1 that share of the events."""
    if value < 0:
        raise ValueError("--judge-from must be >= 0")
    return int(value * events) if value < 1 else int(value)


def load_embeddings(ds: Dataset, scorer: ScorerSettings, cache_dir: Path | None,
                    notes: list[str]) -> ItemEmbeddings:
    """The catalogue's item embeddings with the scorer's model settings, from the on-disk
    cache where possible (the encoder is loaded only for texts not cached)."""
    from recstream.llm.model import Encoder, default_model_path, model_name

    path = Path(scorer.model) if scorer.model else default_model_path()
    name = model_name(path) + ("-int8" if scorer.quantize == "int8" else "")
    encoder = CachedEncoder(name, lambda: Encoder(path, device=scorer.device,
                                                  quantize=scorer.quantize), cache_dir)
    started = time.monotonic()
    items = item_embeddings([item_record(i) for i in ds.items], encoder, scorer.max_batch)
    notes.append(f"LLM signal: {name}, {len(items)} item embeddings ({encoder.misses} "
                 f"encoded, {encoder.hits} from the cache) in "
                 f"{time.monotonic() - started:.1f} s")
    return items
