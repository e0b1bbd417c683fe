"""Blend candidate signals into a ranked, explained top-N list."""

from __future__ import annotations

import random
from collections.abc import Container, Mapping, Sequence
from typing import Any

from recstream.core.candidates import Candidate
from recstream.core.learn import explore

SIGNALS = ("cf", "content", "trending", "llm")
#: A candidate whose LLM score is at least this share of the set's best is explained by it.
LLM_REASON_SHARE = 0.9


def blend(candidates: Sequence[Candidate], weights: Mapping[str, float], top_n: int,
          seen: Container[str] = (), *, epsilon: float = 0.0, rng: random.Random | None = None,
          features: bool = False) -> list[dict[str, Any]]:
    """Top-N unseen items by Σ_s weight_s · signal_s / max(signal_s over the candidates).

    Each signal is scaled to [0, 1] within this candidate set so the weights are comparable;
    ties break by item id. Every item carries its raw signals and human-readable reasons;
    ``llm`` appears among the signals (and reasons) only when some candidate has an LLM score.
    ``features``: also carry the scaled signals (what the learned blend trains on).
    ``epsilon`` > 0 (with ``rng``): ε-greedy exploration (:func:`recstream.core.learn.explore`);
    explored items carry ``explore: true``.
    """
    pool = [c for c in candidates if c.item_id not in seen]
    peak = {s: max((getattr(c, s) for c in pool), default=0.0) for s in SIGNALS}
    scored = []
    for c in pool:
        x = {s: getattr(c, s) / peak[s] if peak[s] > 0 else 0.0 for s in SIGNALS}
        scored.append((sum(weights.get(s, 0.0) * x[s] for s in SIGNALS), c, x))
    scored.sort(key=lambda sc: (-sc[0], sc[1].item_id))
    flags = [False] * min(top_n, len(scored))
    if epsilon > 0 and rng is not None:
        top, flags = explore(scored, top_n, epsilon, rng)
    else:
        top = scored[:top_n]
    shown = [s for s in SIGNALS if s != "llm" or peak["llm"] > 0]
    out = []
    for (score, c, x), explored in zip(top, flags, strict=True):
        item: dict[str, Any] = {
            "item_id": c.item_id, "score": round(score, 6),
            "reasons": reasons(c, llm_share=x["llm"]),
            "signals": {s: round(getattr(c, s), 6) for s in shown}}
        if features:
            item["features"] = {s: round(x[s], 6) for s in SIGNALS}
        if explored:
            item["explore"] = True
            item["reasons"] = ["exploring: shown to learn whether it suits you",
                               *item["reasons"]]
        out.append(item)
    return out


def reasons(c: Candidate, llm_share: float = 0.0) -> list[str]:
    """Which signals carried ``c``; ``llm_share``: its LLM score over the set's best."""
    out = []
    if llm_share >= LLM_REASON_SHARE:
        out.append("the language model finds it close to your recent items")
    if c.users:
        out.append(f"{c.users} similar user{'s' if c.users != 1 else ''} liked it")
    if c.terms:
        out.append("matches your interest in " + ", ".join(c.terms))
    if c.trending > 0 and not out:
        out.append("trending now")
    elif c.trending > 0:
        out.append("also trending")
    if not out:
        out.append("from the catalogue (no signal yet)")
    return out
