"""Candidate generation: user-user CF neighbours, content match, trending (cold start).

Cost per call is bounded by settings, never by the number of users: the user's strongest
``query_terms`` terms probe the term index, whose postings hold at most ``postings_per_term``
users each; only the best ``3 * max_neighbours`` of those get an exact cosine.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import numpy as np

from recstream.core import cf, itemgraph
from recstream.core.tfidf import Profile, top_terms
from recstream.core.view import GlobalView, ViewCache, user_vector
from recstream.settings import RecommendSettings

T = TypeVar("T")


@dataclass(slots=True)
class Candidate:
    item_id: str
    cf: float = 0.0  # CF score on the ratings' scale (see cf.rank_scores)
    content: float = 0.0  # cosine(user vector, item vector) in [0, 1]
    trending: float = 0.0  # decayed popularity
    users: int = 0  # neighbours who interacted with the item
    terms: list[str] = field(default_factory=list)  # strongest shared terms
    llm: float = 0.0  # LLM scorer: cosine(user, item) clipped to [0, 1]; set by rank
    cooc: float = 0.0  # item-to-item co-occurrence with the user's recent items (itemgraph)
    seq: float = 0.0  # transitions from the user's last items (itemgraph)
    cooc_from: str = ""  # title (else id) of the recent item contributing most to cooc
    seq_from: str = ""  # title (else id) of the last item contributing most to seq

    def to_dict(self) -> dict[str, object]:
        return {"item_id": self.item_id, "cf": self.cf, "content": self.content,
                "trending": self.trending, "users": self.users, "terms": self.terms,
                "cooc": self.cooc, "seq": self.seq, "cooc_from": self.cooc_from,
                "seq_from": self.seq_from}


@dataclass(slots=True)
class CandidateSet:
    items: list[Candidate]
    neighbours: int


def find_neighbours(user_id: str, u: dict[str, float], unorm: float,
                    query: list[tuple[str, float]], view: GlobalView,
                    cache: ViewCache, cfg: RecommendSettings) -> list[cf.Neighbour]:
    """Users with cosine > θ to vector ``u``, found through the postings of the ``query``
    terms (u's strongest).

    The partial dot products over the query terms pick a shortlist of the best
    ``3 * max_neighbours`` users (ties: the user met first in the postings, in query order);
    those get an exact cosine. Both are array operations that add in exactly the order of a
    plain loop (``np.bincount`` adds each user's products in query order; each cosine's dot
    adds its products in the order of the smaller vector, as
    :func:`recstream.core.similarity.dot` does), so the floats are the loop's."""
    idf_cache = cache.idf
    rows_l, prods_l = [], []
    for term, wu in query:
        got = cache.postings(term)
        if got is None:
            continue
        f = wu * idf_cache[term]
        rows_l.append(got[0])
        prods_l.append(got[1] * f)
    if not rows_l:
        return []
    rows = np.concatenate(rows_l)
    # users in the order met; first: where each first appears (heapq.nlargest's tie-break);
    # acc adds each user's products in query order
    users, first, inv = cache.arrays.first_met(rows)
    acc = np.bincount(inv, weights=np.concatenate(prods_l), minlength=len(users))
    me = cache.arrays.user_rows.get(user_id)
    hit = np.flatnonzero(users != me) if me is not None else np.arange(len(users))
    shortlist = 3 * cfg.max_neighbours
    if len(hit) > shortlist:
        hit = hit[np.lexsort((first[hit], -acc[hit]))[:shortlist]]
    sk = cache.sketch_rows(users[hit])
    sk = sk[sk >= 0]
    m = cache.arrays.sketches
    w, wnorm = cache.weighed(m, sk)
    keep = wnorm > 0
    sk, w, wnorm = sk[keep], w[keep], wnorm[keep]
    if not len(sk) or unorm <= 0:
        return []
    u_cols = np.fromiter((m.cols.get(t, 0) for t in u), dtype=np.int64, count=len(u))
    dense, pos = cache.arrays.scratch()  # zeros and -1s, one per column
    try:
        dense[u_cols] = np.fromiter(u.values(), dtype=np.float64, count=len(u))
        pos[u_cols] = np.arange(len(u))
        dense[0], pos[0] = 0.0, -1  # pads, and u's terms no sketch or item has
        ids = m.ids[sk]
        prods = w * dense[ids]
        swap = m.size[sk] > len(u)  # dot() iterates u: its products add in u's term order
        if swap.any():
            order = np.argsort(pos[ids[swap]], axis=1, kind="stable")
            prods[swap] = np.take_along_axis(prods[swap], order, axis=1)
    finally:
        dense[u_cols], pos[u_cols] = 0.0, -1
    dots = np.cumsum(prods, axis=1)[:, -1]  # sequential, like sum(); zeros change nothing
    sims = np.minimum(1.0, dots / (unorm * wnorm))
    keys = m.keys
    scored = {keys[r]: s for r, s in zip(sk.tolist(), sims.tolist(), strict=True)
              if s > cfg.theta}
    return [cf.Neighbour(v, s, m.src[m.rows[v]]["i"])
            for v, s in cf.select_neighbours(scored, cfg.theta, cfg.max_neighbours)]


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
    idf_cache = cache.idf
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
    inorm = cache.weighed(cache.arrays.items, cache.item_rows(hit))[1]
    keep = inorm > 0 if unorm > 0 else np.zeros(len(hit), dtype=bool)
    hit = hit[keep]
    scores = acc[hit] / (unorm * inorm[keep])
    return dict(zip([cat.row_ids[r] for r in hit.tolist()], scores.tolist(), strict=True))


def shared_terms(u: dict[str, float], item_terms: dict[str, float], k: int = 3) -> list[str]:
    """The k terms of the item that weigh most in the user's vector (ties by term, as
    :func:`recstream.core.tfidf.top_terms`; an item has few terms, so a sort beats a heap)."""
    both = sorted((-u[t], t) for t in item_terms if t in u)
    return [t for _, t in both[:k]]


def source_title(catalogue: dict[str, Any], item_id: str | None) -> str:
    """How a reason names a source item: its title, else its id ("" for none)."""
    if not item_id:
        return ""
    item = catalogue.get(item_id)
    return getattr(item, "title", "") or item_id


@dataclass(slots=True)
class Sources:
    """A user's costly candidate sources: TF-IDF vector, CF neighbours' items, content
    matches, each source's items also ranked best first for the per-event pick,
    and the shared terms of the items shown so far (a reason's words)."""

    u: dict[str, float]
    unorm: float
    query: list[tuple[str, float]]
    neighbours: int
    cf: dict[str, float]
    support: dict[str, int]
    content: dict[str, float]
    ranked: tuple[list[str], list[str]] = ((), ())  # type: ignore[assignment]
    terms: dict[str, list[str]] = field(default_factory=dict)
    rank: dict[str, int] = field(default_factory=dict)  # query term -> its position
    #: the item graph's co-occurrence read at the search, extended per event
    graph: itemgraph.CoocBase | None = None

    def __post_init__(self) -> None:
        # (score, item) pairs, largest first: best first, ties by the larger id
        self.ranked = tuple([i for _, i in sorted(((v, i) for i, v in signal.items()),
                                                  reverse=True)]
                            for signal in (self.cf, self.content))  # type: ignore[assignment]
        self.rank = {t: r for r, (t, _) in enumerate(self.query)}

    def shared_terms(self, item_id: str, item_terms: Mapping[str, float]) -> list[str]:
        """The item's terms weighing most in the user's vector (at most three)."""
        got = self.terms.get(item_id)
        if got is None:
            rank = self.rank
            # the query is u's strongest terms in shared_terms' order: when it holds three
            # of the item's terms (or all of u), they are the item's strongest shared ones
            pos = sorted(rank[t] for t in item_terms if t in rank)
            if len(pos) >= 3 or len(self.query) == len(self.u):
                got = [self.query[r][0] for r in pos[:3]]
            else:
                got = shared_terms(self.u, item_terms)
            self.terms[item_id] = got
        return got


def find_sources(user_id: str, profile: Profile, view: GlobalView, cfg: RecommendSettings,
                 cache: ViewCache | None = None) -> Sources:
    """Search the user's CF neighbours and content matches on the profile as it is now."""
    cache = ViewCache(view) if cache is None else cache
    u, unorm, _ = user_vector(profile, view, cache.idf)
    query = top_terms(u, cfg.query_terms)
    neighbours = find_neighbours(user_id, u, unorm, query, view, cache, cfg) if u else []
    cf_scores, support = cf.rank_scores(neighbours, cfg.cf_form)
    content = content_scores(unorm, query, view, cache, cfg) if u else {}
    return Sources(u, unorm, query, len(neighbours), cf_scores, support, content)


class SourceCache(Generic[T]):
    """Each user's last search (:class:`Sources`, or the evaluation's wider signals), reused
    between searches: the neighbour search is the costly part of candidate generation, and a
    user's neighbours do not change meaningfully with each event. A search is due when the
    user has ``refresh_events`` events more than at the last one, when the profile's term
    count grew by ``refresh_growth`` of itself (a new user's first events move the profile a
    lot: each of them searches anew), or ``refresh_s`` seconds after the last one. At most
    ``source_cache_users`` users are kept, least recently used dropped; nothing here is
    durable (a restarted worker searches again)."""

    def __init__(self, cfg: RecommendSettings) -> None:
        self.cfg = cfg
        #: user -> (search, profile events, profile terms, time) at the search
        self._by_user: OrderedDict[str, tuple[T, int, int, float]] = OrderedDict()
        self.searches = 0  # lookups that searched anew
        self.lookups = 0

    def due(self, user_id: str, profile: Profile, now: float) -> bool:
        got, cfg = self._by_user.get(user_id), self.cfg
        if got is None:
            return True
        _, events, terms, at = got
        return (not events <= profile.events < events + cfg.refresh_events
                or len(profile.counts) > terms * (1.0 + cfg.refresh_growth)
                or now - at >= cfg.refresh_s)

    def get(self, user_id: str, profile: Profile, search: Callable[[], T],
            now: float | None = None) -> T:
        """The user's last search, or ``search()`` when one is due; ``now``: the time in
        seconds (default: the wall clock)."""
        now = time.time() if now is None else now
        self.lookups += 1
        if self.due(user_id, profile, now):
            self.searches += 1
            self._by_user[user_id] = (search(), profile.events, len(profile.counts), now)
            if len(self._by_user) > self.cfg.source_cache_users:
                self._by_user.popitem(last=False)
        self._by_user.move_to_end(user_id)
        return self._by_user[user_id][0]

    def forget(self, user_id: str) -> None:
        self._by_user.pop(user_id, None)


def assemble(src: Sources, profile: Profile, view: GlobalView, cfg: RecommendSettings,
             cache: ViewCache) -> CandidateSet:
    """The event's candidate set from the user's sources: the best ``per_source`` unseen
    items of CF, content, trending, co-occurrence and sequence each. CF and content come
    from the last search, each walked best first, so their cost is ``per_source`` plus the
    items the user has seen, whatever a source's size. The item graph follows the user's
    latest items: co-occurrence is read in full at the search and extended per event by
    the items added since (itemgraph.extend), the sequence signal read from the last
    ``seq_window`` items (cost bounded by the graph settings: those items times the
    neighbours kept per item)."""
    cooc, graph, src.graph = itemgraph.read(view.index_entry, profile.items,
                                            itemgraph.GraphConfig.of(cfg), src.graph)
    trending, trending_ranked = cache.trending(cfg.trending_half_life_s, cfg.trending_size)
    seen, catalogue = profile.items, view.catalogue.items
    pool: set[str] = set()
    k = cfg.per_source
    for ranked in (*src.ranked, (i for _, i in trending_ranked)):  # a quota per source
        pool.update(itertools.islice((i for i in ranked if i not in seen and i in catalogue),
                                     k))
    # the graph follows the latest items: co-occurrence extended from the search by the
    # items added since, the sequence read from the last few
    pool.update(cooc.top(k, lambda i: i not in seen and i in catalogue))
    # (score, item) tuples order as the key (score, item id): best first, ties by id
    fresh = ((v, i) for i, v in graph.seq.items() if i not in seen and i in catalogue)
    pool.update(i for _, i in heapq.nlargest(k, fresh))
    if not pool:  # an empty system (first user, no popularity yet): show the catalogue
        pool.update(itertools.islice((i for i in catalogue if i not in seen), k))
    content, cf_scores, support = src.content, src.cf, src.support
    out = []
    for item_id in sorted(pool):
        match = content.get(item_id, 0.0)
        terms = src.shared_terms(item_id, catalogue[item_id].terms) if match > 0 else []
        out.append(Candidate(item_id, cf_scores.get(item_id, 0.0), match,
                             trending.get(item_id, 0.0), support.get(item_id, 0), terms,
                             cooc=cooc.get(item_id), seq=graph.seq.get(item_id, 0.0),
                             cooc_from=source_title(catalogue, cooc.source_of(item_id)),
                             seq_from=source_title(catalogue, graph.seq_from.get(item_id))))
    return CandidateSet(out, src.neighbours)


def generate(user_id: str, profile: Profile, view: GlobalView,
             cfg: RecommendSettings, cache: ViewCache | None = None,
             sources: SourceCache[Sources] | None = None) -> CandidateSet:
    """Unseen candidate items for the user with their CF, content, trending, co-occurrence
    and sequence signals (the item graph's neighbours of the user's recent items).
    ``cache``: derived values of ``view`` shared by the calls of one pass (the view must not
    change while it is in use); a fresh one per call by default. ``sources``: the users'
    reused searches (:class:`SourceCache`); None searches on every call."""
    cache = ViewCache(view) if cache is None else cache
    if sources is None:
        src = find_sources(user_id, profile, view, cfg, cache)
    else:
        src = sources.get(user_id, profile,
                          lambda: find_sources(user_id, profile, view, cfg, cache))
    return assemble(src, profile, view, cfg, cache)
