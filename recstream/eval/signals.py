"""A user's recommendation signals, computed once and blended per variant.

The signals come from the candidate stage itself (:func:`recstream.core.candidates.generate`)
with the per-source quota lifted, so every item with any CF or content signal is returned
with its exact values. Variants differ only in blend weights, CF form and trending half-life,
so the neighbour search and content match are shared and the cheap part is redone per variant:
:func:`top_k` re-applies the production quotas and :func:`recstream.core.rank.blend`
(tests/unit/eval checks it equals ``process.recommend``), and :func:`full_scores` extends the
same blend to every catalogue item for full ranking.

The LLM signal (``UserSignals.llm``, from :mod:`recstream.eval.llm`) is what the rank agent
gets from the scorer: clip(cos, 0) of the pooled candidates; it adds no candidates, and is
blended with ``weight_llm`` like the other signals. ``recommend.mmr_lambda`` < 1 re-ranks the
blended pool with :func:`recstream.core.diversity.mmr` (``rerank``).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from recstream.core import itemgraph
from recstream.core.candidates import Candidate, generate, source_title
from recstream.core.rank import blend
from recstream.core.tfidf import Profile
from recstream.eval.llm import DenseScores
from recstream.settings import RecommendSettings

FORMS = ("weighted", "seed")
_ALL = 1 << 30  # a per-source quota no catalogue reaches


@dataclass
class UserSignals:
    cf: dict[str, dict[str, float]] = field(default_factory=dict)  # form -> item -> score
    support: dict[str, int] = field(default_factory=dict)  # item -> neighbours who have it
    content: dict[str, float] = field(default_factory=dict)  # item -> cosine
    llm: Mapping[str, float] = field(default_factory=dict)  # item -> clip(cos, 0); {}: none
    cooc: dict[str, float] = field(default_factory=dict)  # item -> co-occurrence score
    seq: dict[str, float] = field(default_factory=dict)  # item -> sequence score
    sources: dict[str, tuple[str, str]] = field(default_factory=dict)  # item -> from titles
    graph: itemgraph.CoocBase | None = None  # the co-occurrence read at the search


def user_signals(user_id: str, profile: Profile, view: Any, cfg: RecommendSettings,
                 content_pool: int | None = None, forms: Sequence[str] = FORMS) -> UserSignals:
    """CF scores (per form) and content matches of the user's unseen catalogue items, as the
    candidate stage computes them; ``content_pool`` overrides how many catalogue items get a
    content score (production: ``cfg.content_pool``)."""
    out = UserSignals()
    for form in forms:
        wide = cfg.model_copy(update={"cf_form": form, "per_source": _ALL,
                                      "content_pool": content_pool or cfg.content_pool})
        cands = generate(user_id, profile, view, wide).items
        out.cf[form] = {c.item_id: c.cf for c in cands if c.cf}
        out.content = {c.item_id: c.content for c in cands if c.content}
        out.support = {c.item_id: c.users for c in cands if c.users}
    out.cooc, out.seq, out.sources = graph_signals(profile, view, cfg, out)
    return out


def graph_signals(profile: Profile, view: Any, cfg: RecommendSettings, sig: UserSignals
                  ) -> tuple[dict[str, float], dict[str, float], dict[str, tuple[str, str]]]:
    """The item graph's co-occurrence and sequence scores of the user's candidates and each
    one's source titles, as the candidate stage reads them on every event: co-occurrence
    extended from ``sig``'s read at the search (``sig.graph``, set on the first call) by
    the items added since, the sequence read afresh."""
    cooc, seq, sig.graph = itemgraph.read(view.index_entry, profile.items,
                                          itemgraph.GraphConfig.of(cfg), sig.graph)
    scores = cooc.as_dict()
    cat = view.catalogue.items
    sources = {i: (source_title(cat, cooc.source_of(i)), source_title(cat, seq.seq_from.get(i)))
               for i in scores.keys() | seq.seq.keys()}
    return scores, dict(seq.seq), sources


def blend_weights(cfg: RecommendSettings) -> dict[str, float]:
    return {"cf": cfg.weight_cf, "content": cfg.weight_content, "trending": cfg.weight_trending,
            "llm": cfg.weight_llm, "cooc": cfg.weight_cooc, "seq": cfg.weight_seq}


def candidates(sig: UserSignals, trending: Mapping[str, float], seen: Mapping[str, float],
               catalogue: Any, cfg: RecommendSettings) -> list[Candidate]:
    """The candidate set the rank stage gets for a variant: the production per-source quotas
    over CF (the variant's form), content, co-occurrence, sequence and trending, each with
    all its signals."""
    cf_scores = sig.cf[cfg.cf_form]
    pool: set[str] = set()
    for signal in (cf_scores, sig.content, sig.cooc, sig.seq, trending):
        fresh = ((i, v) for i, v in signal.items() if i not in seen and i in catalogue)
        pool.update(i for i, _ in heapq.nlargest(cfg.per_source, fresh,
                                                 key=lambda kv: (kv[1], kv[0])))
    return [Candidate(i, cf_scores.get(i, 0.0), sig.content.get(i, 0.0),
                      trending.get(i, 0.0), sig.support.get(i, 0),
                      llm=sig.llm.get(i, 0.0), cooc=sig.cooc.get(i, 0.0),
                      seq=sig.seq.get(i, 0.0), cooc_from=sig.sources.get(i, ("", ""))[0],
                      seq_from=sig.sources.get(i, ("", ""))[1]) for i in sorted(pool)]


def top_k(sig: UserSignals, trending: Mapping[str, float], seen: Mapping[str, float],
          catalogue: Any, cfg: RecommendSettings, k: int,
          rerank: Callable[[list[tuple[str, float]], int, float], list[str]] | None = None
          ) -> list[str]:
    """The production top-k for a variant: per-source candidate quotas, then ``blend`` (and
    ``rerank(ranked, k, mmr_lambda)``, e.g. ItemVectors.mmr, when ``cfg.mmr_lambda`` < 1)."""
    cands = candidates(sig, trending, seen, catalogue, cfg)
    if cfg.mmr_lambda < 1.0 and rerank is not None:
        ranked = blend(cands, blend_weights(cfg), len(cands), seen)
        return rerank([(r["item_id"], r["score"]) for r in ranked], k, cfg.mmr_lambda)
    return [r["item_id"] for r in blend(cands, blend_weights(cfg), k, seen)]


class ItemSpace:
    """Catalogue item ids as array positions; ``by_id`` is each position's rank in item-id
    order (the tie-break of production lists)."""

    def __init__(self, ids: Sequence[str]) -> None:
        self.ids = list(ids)
        self.pos = {i: n for n, i in enumerate(self.ids)}
        self.by_id = np.empty(len(self.ids), dtype=np.int64)
        self.by_id[np.argsort(np.array(self.ids, dtype=object))] = np.arange(len(self.ids))

    def __len__(self) -> int:
        return len(self.ids)

    def dense(self, values: Mapping[str, float]) -> np.ndarray:
        out = np.zeros(len(self.ids))
        for i, v in values.items():
            p = self.pos.get(i)
            if p is not None:
                out[p] = v
        return out


def full_scores(space: ItemSpace, sig: UserSignals, popularity: np.ndarray,
                candidates: np.ndarray, cfg: RecommendSettings) -> np.ndarray:
    """The blend of :func:`recstream.core.rank.blend` over every candidate item (boolean
    mask ``candidates``): Σ_s weight_s · signal_s / max over the candidates; 0 without signal.
    Scores of non-candidates are meaningless."""
    w = blend_weights(cfg)
    score = np.zeros(len(space))
    llm = sig.llm.values if isinstance(sig.llm, DenseScores) else space.dense(sig.llm)
    for name, arr in (("cf", space.dense(sig.cf[cfg.cf_form])),
                      ("content", space.dense(sig.content)), ("trending", popularity),
                      ("llm", llm), ("cooc", space.dense(sig.cooc)),
                      ("seq", space.dense(sig.seq))):
        peak = arr[candidates].max(initial=0.0)
        if w[name] and peak > 0:
            score += w[name] * arr / peak
    return score
