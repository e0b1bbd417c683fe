"""The variants compared side by side: named overrides of :class:`RecommendSettings`.

Every variant changes only settings used when recommending (blend weights, CF form) or the
trending half-life, which the replay tracks for every variant at once, so one replay of the
training data serves all of them. ``default`` is the production configuration as loaded
(defaults < config file < environment) *with the LLM scorer on*, as ``recstream up`` runs it
(weight_llm included); ``--no-llm`` evaluates it as ``recstream up --no-scorer`` does.
``learned`` starts from the same weights and learns them online from the replay (prequential,
:mod:`recstream.eval.prequential`); with ``learn.enabled`` ``default`` learns too, and
``fixed`` keeps the production weights pinned for comparison.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from recstream.settings import LearnSettings, RecommendSettings

#: "No decay": popularity counted over all time (a half-life of ~3 · 10^7 years, in seconds).
ALL_TIME_S = 1e15

#: Settings a variant may override; anything else would need its own replay.
BLEND_FIELDS = frozenset({"weight_cf", "weight_content", "weight_trending", "weight_llm",
                          "weight_cooc", "weight_seq",
                          "cf_form", "trending_half_life_s", "mmr_lambda"})

#: Variants that exist only with the LLM signal (unavailable without it).
NEEDS_LLM = frozenset({"hybrid_llm"})


@dataclass(frozen=True)
class Variant:
    name: str
    about: str
    overrides: dict[str, Any] = field(default_factory=dict)

    def settings(self, base: RecommendSettings) -> RecommendSettings:
        return RecommendSettings.model_validate({**base.model_dump(), **self.overrides})


def _only(**weights: float) -> dict[str, Any]:
    out: dict[str, Any] = {"weight_cf": 0.0, "weight_content": 0.0, "weight_trending": 0.0,
                           "weight_llm": 0.0, "weight_cooc": 0.0, "weight_seq": 0.0}
    out.update(weights)
    return out


def catalogue(base: RecommendSettings) -> dict[str, Variant]:
    """The built-in variants, in the order they are reported."""
    return {v.name: v for v in (
        Variant("popularity", "all-time popularity (trending signal without decay)",
                {**_only(weight_trending=1.0), "trending_half_life_s": ALL_TIME_S}),
        Variant("cf_seed", "user-user CF, the article's un-weighted neighbour sum",
                {**_only(weight_cf=1.0), "cf_form": "seed"}),
        Variant("cf", "user-user CF, similarity-weighted",
                {**_only(weight_cf=1.0), "cf_form": "weighted"}),
        Variant("content", "TF-IDF content match only", _only(weight_content=1.0)),
        Variant("cooc", "item-to-item co-occurrence with the recent items only (itemgraph)",
                _only(weight_cooc=1.0)),
        Variant("seq", "sequence transitions from the last items only (itemgraph)",
                _only(weight_seq=1.0)),
        Variant("hybrid", "CF + content at the production weights, no trending",
                {**_only(weight_cf=base.weight_cf, weight_content=base.weight_content)}),
        Variant("hybrid_llm", "CF + content + LLM score at the production weights, no "
                "trending", {**_only(weight_cf=base.weight_cf,
                                     weight_content=base.weight_content,
                                     weight_llm=base.weight_llm)}),
        Variant("fixed", "the production weights pinned (as with learn.enabled false)", {}),
        Variant("no_cooc", "ablation: the production weights pinned without co-occurrence",
                {"weight_cooc": 0.0}),
        Variant("no_seq", "ablation: the production weights pinned without the sequence "
                "signal", {"weight_seq": 0.0}),
        Variant("no_graph", "ablation: the production weights pinned without either item "
                "graph signal (the earlier default)", {"weight_cooc": 0.0, "weight_seq": 0.0}),
        Variant("learned", "the production weights as the start of the online-learned blend, "
                "updated from the replay's own impressions, with ε-greedy exploration", {}),
        Variant("default", "the production settings (CF + content + trending + LLM; learned "
                "when learn.enabled)", {}),
    )}

ORDER = ("popularity", "cf_seed", "cf", "content", "cooc", "seq", "hybrid", "hybrid_llm",
         "fixed", "no_cooc", "no_seq", "no_graph", "learned", "default")

#: Variants that learn their blend online (prequential only); ``default`` joins them when
#: ``learn.enabled`` is the production setting (:func:`learned_names`).
LEARNED = frozenset({"learned"})


def learned_names(runs: dict[str, RecommendSettings], cfg: LearnSettings) -> frozenset[str]:
    """The runs that blend with the online-learned weights: ``learned`` always, ``default``
    when ``learn.enabled`` (as the rank stage treats the production variant)."""
    names = set(LEARNED) | ({"default"} if cfg.enabled else set())
    return frozenset(n for n in names if n in runs)


def select(names: list[str] | None, base: RecommendSettings
           ) -> tuple[dict[str, RecommendSettings], dict[str, str]]:
    """Settings of the requested variants (all when ``names`` is None) and the requested
    ones that are unavailable, with their reason (none today: see :func:`without_llm`).
    Raises ValueError for an unknown name."""
    known = catalogue(base)
    wanted = list(ORDER) if names is None else names
    unknown = [n for n in wanted if n not in known]
    if unknown:
        raise ValueError(f"unknown variant(s) {', '.join(unknown)}; choose from "
                         f"{', '.join(ORDER)}")
    return {n: known[n].settings(base) for n in wanted}, {}


def without_llm(runs: dict[str, RecommendSettings], reason: str
                ) -> tuple[dict[str, RecommendSettings], dict[str, str]]:
    """The runs as the pipeline without a scorer would rank them: LLM-only variants become
    unavailable for ``reason``, the others keep their weights with weight_llm 0 (the rank
    stage ignores a signal no candidate has)."""
    kept = {n: cfg.model_copy(update={"weight_llm": 0.0}) for n, cfg in runs.items()
            if n not in NEEDS_LLM}
    return kept, {n: reason for n in runs if n in NEEDS_LLM}
