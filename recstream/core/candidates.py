"""Candidate generation: user-user CF neighbours, content match, trending (cold start).

Cost per call is bounded by settings, never by the number of users: the user's strongest
``query_terms`` terms probe the term index, whose postings hold at most ``postings_per_term``
users each; only the best ``3 * max_neighbours`` of those get an exact cosine.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field

import numpy as np

from recstream.core import cf
from recstream.core.index import merge_trending
from recstream.core.similarity import dot, norm
from recstream.core.tfidf import Profile, top_terms, weights
from recstream.core.view import GlobalView, ViewCache, sketch_vector, user_vector
from recstream.settings import RecommendSettings


@dataclass(slots=True)
class Candidate:
    item_id: str
    cf: float = 0.0  # CF score on the ratings' scale (see cf.rank_scores)
    content: float = 0.0  # cosine(user vector, item vector) in [0, 1]
    trending: float = 0.0  # decayed popularity
    users: int = 0  # neighbours who interacted with the item
    terms: list[str] = field(default_factory=list)  # strongest shared terms
    llm: float = 0.0  # LLM scorer: cosine(user, item) clipped to [0, 1]; set by rank

    def to_dict(self) -> dict[str, object]:
        return {"item_id": self.item_id, "cf": self.cf, "content": self.content,
                "trending": self.trending, "users": self.users, "terms": self.terms}


@dataclass(slots=True)
class CandidateSet:
    items: list[Candidate]
    neighbours: int


def find_neighbours(user_id: str, u: dict[str, float], unorm: float,
                    query: list[tuple[str, float]], view: GlobalView,
                    cache: ViewCache, cfg: RecommendSettings) -> list[cf.Neighbour]:
    """Users with cosine > θ to vector ``u``, found through the postings of the ``query``
    terms (u's strongest)."""
    idf_cache = cache.idf
    acc: dict[str, float] = {}
    for term, wu in query:
        entry = view.index_entry(term)
        if not entry:
            continue
        f = wu * idf_cache[term]
        for v, tf_v in entry["p"].items():
            if v != user_id:
                acc[v] = acc.get(v, 0.0) + f * tf_v
    shortlist = heapq.nlargest(3 * cfg.max_neighbours, acc.items(), key=lambda kv: kv[1])
    sims: dict[str, float] = {}
    items: dict[str, dict[str, float]] = {}
    for v, _ in shortlist:
        sketch = view.sketch(v)
        if not sketch:
            continue
        weighed = cache.sketches.get(v)
        if weighed is None:
            weighed = cache.sketches[v] = sketch_vector(sketch["t"], idf_cache)
        vw, vnorm = weighed
        if vnorm > 0 and unorm > 0:  # cosine(u, vw) without recomputing ‖u‖ per neighbour
            sims[v] = min(1.0, dot(vw, u) / (unorm * vnorm))
        items[v] = sketch["i"]
    return [cf.Neighbour(v, s, items[v])
            for v, s in cf.select_neighbours(sims, cfg.theta, cfg.max_neighbours)]


def neighbours(user_id: str, profile: Profile, view: GlobalView,
               cfg: RecommendSettings) -> list[cf.Neighbour]:
    """The user's CF neighbours exactly as :func:`generate` finds them, with similarities
    (rating prediction needs them; the candidate set does not carry them)."""
    cache = ViewCache(view)
    u, unorm, _ = user_vector(profile, view, cache.idf)
    if not u:
        return []
    return find_neighbours(user_id, u, unorm, top_terms(u, cfg.query_terms), view, cache, cfg)


def content_scores(unorm: float, query: list[tuple[str, float]], view: GlobalView,
                   cache: ViewCache, cfg: RecommendSettings) -> dict[str, float]:
    """cosine(u, item vector) for the catalogue items best matching the ``query`` terms
    (the ``content_pool`` largest partial dot products over the query terms, ties broken by
    item id)."""
    idf_cache, norms = cache.idf, cache.item_norms
    cat = view.catalogue
    acc = np.zeros(len(cat.row_ids))
    for term, wu in query:
        rows, tfs = cat.postings(term)
        if len(rows):
            acc[rows] += (wu * idf_cache[term]) * tfs  # rows are distinct within a term
    hit = np.flatnonzero(acc > 0)
    if len(hit) > cfg.content_pool:
        kth = np.partition(acc[hit], len(hit) - cfg.content_pool)[len(hit) - cfg.content_pool]
        above, at = hit[acc[hit] > kth], hit[acc[hit] == kth]
        at = sorted(at.tolist(), key=lambda r: cat.row_ids[r])[:cfg.content_pool - len(above)]
        hit = np.concatenate([above, np.asarray(at, dtype=np.int64)])
    out = {}
    for row, partial_dot in zip(hit.tolist(), acc[hit].tolist(), strict=True):
        item_id = cat.row_ids[row]
        inorm = norms.get(item_id)
        if inorm is None:
            inorm = norms[item_id] = norm(weights(cat.items[item_id].tf, idf_cache))
        if inorm > 0 and unorm > 0:
            out[item_id] = partial_dot / (unorm * inorm)
    return out


def shared_terms(u: dict[str, float], item_terms: dict[str, float], k: int = 3) -> list[str]:
    """The k terms of the item that weigh most in the user's vector (ties by term, as
    :func:`recstream.core.tfidf.top_terms`; an item has few terms, so a sort beats a heap)."""
    both = sorted((-u[t], t) for t in item_terms if t in u)
    return [t for _, t in both[:k]]


def generate(user_id: str, profile: Profile, view: GlobalView,
             cfg: RecommendSettings, cache: ViewCache | None = None) -> CandidateSet:
    """Unseen candidate items for the user with their CF, content and trending signals.
    ``cache``: derived values of ``view`` shared by the calls of one pass (the view must not
    change while it is in use); a fresh one per call by default."""
    cache = ViewCache(view) if cache is None else cache
    u, unorm, _ = user_vector(profile, view, cache.idf)
    query = top_terms(u, cfg.query_terms)
    neighbours = find_neighbours(user_id, u, unorm, query, view, cache, cfg) if u else []
    cf_scores, support = cf.rank_scores(neighbours, cfg.cf_form)
    content = content_scores(unorm, query, view, cache, cfg) if u else {}
    trending = dict(merge_trending(view.trending_lists(), cfg.trending_half_life_s,
                                   cfg.trending_size))
    seen = profile.items
    pool: set[str] = set()
    for signal in (cf_scores, content, trending):  # a quota per source keeps every kind
        fresh = ((i, v) for i, v in signal.items() if i not in seen and i in view.catalogue)
        pool.update(i for i, _ in heapq.nlargest(cfg.per_source, fresh,
                                                 key=lambda kv: (kv[1], kv[0])))
    if not pool:  # an empty system (first user, no popularity yet): show the catalogue
        fresh = (i for i in view.catalogue.items if i not in seen)
        pool.update(itertools.islice(fresh, cfg.per_source))
    out = []
    for item_id in sorted(pool):
        c = Candidate(item_id, cf_scores.get(item_id, 0.0), content.get(item_id, 0.0),
                      trending.get(item_id, 0.0), support.get(item_id, 0))
        if c.content > 0:
            c.terms = shared_terms(u, view.catalogue.items[item_id].terms)
        out.append(c)
    return CandidateSet(out, len(neighbours))
