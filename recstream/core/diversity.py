"""Diversity re-ranking: maximal marginal relevance (Carbonell & Goldstein, 1998).

Given candidates with relevance scores and item vectors, MMR builds the list greedily: the
next item is the one maximising

    λ · rel(i) − (1 − λ) · max_{j already chosen} cos(v_i, v_j)

(the max is 0 for the first pick). λ = 1 is pure relevance (the input order: off), λ = 0 picks
the item least similar to the list so far. Relevance is used as given: the blend's scores lie
in [0, Σ weights], so λ trades them against cosines in [−1, 1]. Ties break by the input order
(the blend's, i.e. score then item id). An item without a vector is similar to nothing.
Vectors are normalised first unless ``normalize=False`` says their dot products already are
the cosines (e.g. unit vectors with the coordinates no other item shares left out).
:func:`ranked_list` is the rank stage's list (blend, MMR when λ < 1, exploration), shared by
``agents/rank.py`` and the eval harness; :func:`item_vectors` gives it the items' TF-IDF
vectors from the live catalogue. Pure: numpy only, no Kafka.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Container, Mapping, Sequence
from typing import Any

import numpy as np

from recstream.core.candidates import Candidate
from recstream.core.learn import explore_items
from recstream.core.rank import blend
from recstream.settings import RecommendSettings, VariantSettings


def mmr(ranked: Sequence[tuple[str, float]], vector: Callable[[str], np.ndarray | None],
        k: int, lam: float, normalize: bool = True) -> list[str]:
    """The top ``k`` item ids of ``ranked`` ((item id, relevance), best first) re-ordered by
    maximal marginal relevance with trade-off ``lam`` in [0, 1]."""
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"mmr lambda must be in [0, 1]; got {lam}")
    if k < 1:
        raise ValueError(f"k must be >= 1; got {k}")
    if lam >= 1.0 or len(ranked) <= 1:
        return [i for i, _ in ranked[:k]]
    ids = [i for i, _ in ranked]
    rel = np.array([r for _, r in ranked], dtype=np.float64)
    vecs = [vector(i) for i in ids]
    dim = next((len(v) for v in vecs if v is not None), 0)
    mat = np.zeros((len(ids), max(dim, 1)))
    for n, v in enumerate(vecs):
        if v is not None:
            norm = float(np.linalg.norm(v)) if normalize else 1.0
            if norm > 0:
                mat[n, :dim] = np.asarray(v, dtype=np.float64) / norm
    max_sim = np.zeros(len(ids))
    chosen = np.zeros(len(ids), dtype=bool)
    out: list[str] = []
    for _ in range(min(k, len(ids))):
        gain = lam * rel - (1.0 - lam) * max_sim
        gain[chosen] = -np.inf
        best = int(np.argmax(gain))  # first maximum: input order breaks ties
        chosen[best] = True
        out.append(ids[best])
        max_sim = np.maximum(max_sim, mat @ mat[best])
    return out


def item_vectors(catalogue: Any, item_ids: Sequence[str]) -> dict[str, np.ndarray]:
    """Unit TF-IDF vectors of ``item_ids`` under the catalogue's idf log2(|catalogue| / items
    with the term), over the terms these items use: their dot products are the cosines the
    eval harness uses for ILD (``recstream.eval.lists.ItemVectors``), computed from the live
    catalogue (``view.catalogue``: ``items`` and ``by_term``). Items not in the catalogue, or
    whose every term is in every item, get no vector."""
    n = max(len(catalogue), 1)
    weighted: dict[str, dict[str, float]] = {}
    for i in item_ids:
        it = catalogue.get(i)
        if it is None:
            continue
        w = {}
        for t, f in it.tf.items():
            idf = math.log2(n / max(len(catalogue.by_term.get(t, ())), 1))
            if idf > 0:
                w[t] = f * idf
        if w:
            weighted[i] = w
    col = {t: c for c, t in enumerate(sorted({t for w in weighted.values() for t in w}))}
    out = {}
    for i, w in weighted.items():
        v = np.zeros(len(col))
        for t, x in w.items():
            v[col[t]] = x
        out[i] = v / float(np.linalg.norm(v))
    return out


def rerank(items: Sequence[dict[str, Any]], vector: Callable[[str], np.ndarray | None],
           top_n: int, lam: float) -> list[dict[str, Any]]:
    """Blend output (dicts with ``item_id`` and ``score``, best first) with its first
    ``top_n`` re-ordered by :func:`mmr` (unit vectors); the others follow in blend order."""
    picks = mmr([(i["item_id"], float(i["score"])) for i in items], vector, top_n, lam,
                normalize=False)
    by_id = {i["item_id"]: i for i in items}
    chosen = set(picks)
    return [by_id[p] for p in picks] + [i for i in items if i["item_id"] not in chosen]


def ranked_list(candidates: Sequence[Candidate], weights: Mapping[str, float], top_n: int,
                seen: Container[str], *, catalogue: Any = None, mmr_lambda: float = 1.0,
                epsilon: float = 0.0, rng: random.Random | None = None,
                features: bool = False) -> list[dict[str, Any]]:
    """The published top-``top_n``, as the rank stage builds it: :func:`blend`; with
    ``mmr_lambda`` < 1 (and a ``catalogue``) the whole blended pool re-ranked by MMR over
    :func:`item_vectors`, then ε-greedy exploration over that order
    (:func:`recstream.core.learn.explore_items`). λ = 1 is exactly ``blend`` (with its own
    exploration), so the default path is unchanged."""
    if mmr_lambda >= 1.0 or catalogue is None:
        return blend(candidates, weights, top_n, seen, epsilon=epsilon, rng=rng,
                     features=features)
    full = blend(candidates, weights, len(candidates), seen, features=features)
    vectors = item_vectors(catalogue, [i["item_id"] for i in full])
    ordered = rerank(full, vectors.get, top_n, mmr_lambda)
    if epsilon > 0 and rng is not None:
        return explore_items(ordered, top_n, epsilon, rng)
    return ordered[:top_n]


def variant_lambda(rc: RecommendSettings, variant: VariantSettings) -> float:
    """The MMR trade-off of an A/B ``variant``: its own ``mmr_lambda``, else
    ``recommend.mmr_lambda``."""
    return rc.mmr_lambda if variant.mmr_lambda is None else variant.mmr_lambda
