"""Blend candidate signals into a ranked, explained top-N list."""

from __future__ import annotations

import random
from collections.abc import Container, Mapping, Sequence
from typing import Any

from recstream.core.candidates import Candidate
from recstream.core.learn import EXPLORE_REASON, explore

SIGNALS = ("cf", "content", "trending", "llm", "cooc", "seq")
#: Signals every item lists; the others (LLM, item graph) only when some candidate has them.
CORE_SIGNALS = ("cf", "content", "trending")
#: A candidate whose LLM score is at least this share of the set's best is explained by it.
LLM_REASON_SHARE = 0.9
#: How a content match's reason begins (the matched terms follow).
CONTENT_REASON = "matches your interest in "
#: The reason of an item offered with no signal at all (nothing like the user's items yet).
CATALOGUE_REASON = "from the catalogue: too little activity yet to match your taste"
#: A candidate whose co-occurrence (sequence) score is at least this share of the set's best
#: is explained by its strongest source item.
GRAPH_REASON_SHARE = 0.25


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
    peak = {"cf": max((c.cf for c in pool), default=0.0),
            "content": max((c.content for c in pool), default=0.0),
            "trending": max((c.trending for c in pool), default=0.0),
            "llm": max((c.llm for c in pool), default=0.0),
            "cooc": max((c.cooc for c in pool), default=0.0),
            "seq": max((c.seq for c in pool), default=0.0)}
    # unrolled over SIGNALS, adding in their order from 0.0 as sum() did: the same floats
    wc, wn, wt, wl, wo, ws = (weights.get(s, 0.0) for s in SIGNALS)
    pc, pn, pt, pl, po, ps = (peak[s] for s in SIGNALS)
    keyed = []
    for c in pool:
        score = (0.0 + wc * (c.cf / pc if pc > 0 else 0.0)
                 + wn * (c.content / pn if pn > 0 else 0.0)
                 + wt * (c.trending / pt if pt > 0 else 0.0)
                 + wl * (c.llm / pl if pl > 0 else 0.0)
                 + wo * (c.cooc / po if po > 0 else 0.0)
                 + ws * (c.seq / ps if ps > 0 else 0.0))
        keyed.append((-score, c.item_id, c))
    keyed.sort()  # best first, ties by item id (ids are unique: c is never compared)
    scored: list[tuple[float, Candidate]] = [(-k, c) for k, _, c in keyed]
    flags = [False] * min(top_n, len(scored))
    if epsilon > 0 and rng is not None:
        top, flags = explore(scored, top_n, epsilon, rng)
    else:
        top = scored[:top_n]
    shown = [s for s in SIGNALS if s in CORE_SIGNALS or peak[s] > 0]
    out = []
    for (score, c), explored in zip(top, flags, strict=True):
        x = {s: getattr(c, s) / peak[s] if peak[s] > 0 else 0.0 for s in SIGNALS}
        item: dict[str, Any] = {
            "item_id": c.item_id, "score": round(score, 6),
            # a signal the blend does not weigh explains nothing
            "reasons": reasons(c, llm_share=x["llm"], cooc_share=x["cooc"] if wo > 0 else 0.0,
                               seq_share=x["seq"] if ws > 0 else 0.0),
            "signals": {s: round(getattr(c, s), 6) for s in shown}}
        if features:
            item["features"] = {s: round(x[s], 6) for s in SIGNALS}
        if explored:
            item["explore"] = True
            item["reasons"] = [EXPLORE_REASON, *item["reasons"]]
        out.append(item)
    return out


def reasons(c: Candidate, llm_share: float = 0.0, cooc_share: float = 0.0,
            seq_share: float = 0.0) -> list[str]:
    """Which signals carried ``c``, strongest evidence first; ``*_share``: its LLM,
    co-occurrence and sequence scores over the set's best. The item graph's reasons name
    the user's item that contributed most (``cooc_from`` / ``seq_from``)."""
    out = []
    if c.seq_from and seq_share >= GRAPH_REASON_SHARE:
        out.append(f"next in sequence after {c.seq_from}")
    if c.cooc_from and cooc_share >= GRAPH_REASON_SHARE:
        out.append(f"because you chose {c.cooc_from}: people who chose it also chose this")
    if llm_share >= LLM_REASON_SHARE:
        out.append("the language model finds it close to your recent items")
    if c.users:
        out.append(f"{c.users} similar user{'s' if c.users != 1 else ''} liked it")
    if c.terms:
        out.append(CONTENT_REASON + ", ".join(c.terms))
    if c.trending > 0 and not out:
        out.append("trending now")
    elif c.trending > 0:
        out.append("also trending")
    if not out:
        out.append(CATALOGUE_REASON)
    return out
