"""Blend candidate signals into a ranked, explained top-N list."""

from __future__ import annotations

from collections.abc import Container, Mapping, Sequence
from typing import Any

from recstream.core.candidates import Candidate

SIGNALS = ("cf", "content", "trending", "llm")
#: A candidate whose LLM score is at least this share of the set's best is explained by it.
LLM_REASON_SHARE = 0.9


def blend(candidates: Sequence[Candidate], weights: Mapping[str, float], top_n: int,
          seen: Container[str] = ()) -> list[dict[str, Any]]:
    """Top-N unseen items by Σ_s weight_s · signal_s / max(signal_s over the candidates).

    Each signal is scaled to [0, 1] within this candidate set so the weights are comparable;
    ties break by item id. Every item carries its raw signals and human-readable reasons;
    ``llm`` appears among the signals (and reasons) only when some candidate has an LLM score.
    """
    pool = [c for c in candidates if c.item_id not in seen]
    peak = {s: max((getattr(c, s) for c in pool), default=0.0) for s in SIGNALS}
    scored = []
    for c in pool:
        score = sum(weights.get(s, 0.0) * getattr(c, s) / peak[s] for s in SIGNALS if peak[s] > 0)
        scored.append((score, c))
    scored.sort(key=lambda sc: (-sc[0], sc[1].item_id))
    shown = [s for s in SIGNALS if s != "llm" or peak["llm"] > 0]
    return [
        {"item_id": c.item_id, "score": round(score, 6),
         "reasons": reasons(c, llm_share=c.llm / peak["llm"] if peak["llm"] > 0 else 0.0),
         "signals": {s: round(getattr(c, s), 6) for s in shown}}
        for score, c in scored[:top_n]
    ]


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
