"""The vectorised candidate search gives exactly the floats of the plain loops it replaced.

The reference functions below are the loops recstream/core/candidates.py used before the
neighbour search and content scores became array operations (kept here as the
specification): same shortlist (ties: the user met first in the postings), same cosines to
the last bit, same content scores.
"""

from __future__ import annotations

import heapq
import random

import pytest

from recstream.core import cf
from recstream.core.candidates import (
    content_scores,
    find_neighbours,
    generate,
    neighbours,
    shared_terms,
)
from recstream.core.process import MemoryPipeline
from recstream.core.similarity import dot, norm
from recstream.core.tfidf import top_terms, weights
from recstream.core.view import IdfTable, MemoryView, ViewCache, sketch_vector, user_vector
from recstream.settings import ProfileSettings, RecommendSettings

TS = 1_700_000_000.0

WORDS = ["hiking", "boots", "camping", "tent", "gas", "cooker", "chess", "board", "jazz",
         "vinyl", "poles", "map", "rope", "lamp", "stove", "kayak"]


class LoopCache:
    """What the plain loops kept for a pass: an idf table and the sketches weighed."""

    def __init__(self, view: MemoryView) -> None:
        self.idf = IdfTable(view)
        self.sketches: dict[str, tuple[dict[str, float], float]] = {}


def loop_neighbours(user_id, u, unorm, query, view, cache, cfg):  # type: ignore[no-untyped-def]
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
    items = {}
    for v, _ in shortlist:
        sketch = view.sketch(v)
        if not sketch:
            continue
        weighed = cache.sketches.get(v)  # weighed once per pass, as before
        if weighed is None:
            weighed = cache.sketches[v] = sketch_vector(sketch["t"], idf_cache)
        vw, vnorm = weighed
        if vnorm > 0 and unorm > 0:
            sims[v] = min(1.0, dot(vw, u) / (unorm * vnorm))
        items[v] = sketch["i"]
    return [cf.Neighbour(v, s, items[v])
            for v, s in cf.select_neighbours(sims, cfg.theta, cfg.max_neighbours)]


def loop_content(unorm, query, view, cache, cfg, norms):  # type: ignore[no-untyped-def]
    idf_cache, cat = cache.idf, view.catalogue
    acc: dict[str, float] = {}
    for term, wu in query:
        for item in sorted(cat.by_term.get(term, ())):
            acc[item] = acc.get(item, 0.0) + (wu * idf_cache[term]) * cat.items[item].tf[term]
    best = heapq.nsmallest(cfg.content_pool, [kv for kv in acc.items() if kv[1] > 0],
                           key=lambda kv: (-kv[1], kv[0]))
    out = {}
    for item, partial in best:
        inorm = norms.get(item)
        if inorm is None:
            inorm = norms[item] = norm(weights(cat.items[item].tf, idf_cache))
        if inorm > 0 and unorm > 0:
            out[item] = partial / (unorm * inorm)
    return out


def pipeline(**overrides: object) -> MemoryPipeline:
    values: dict[str, object] = dict(theta=0.1, max_neighbours=50, query_terms=20,
                                     postings_per_term=200, content_pool=2000)
    values.update(overrides)
    return MemoryPipeline(ProfileSettings(), RecommendSettings(**values))


def random_world(seed: int, **overrides: object) -> MemoryPipeline:
    rng = random.Random(seed)
    items = [{"item_id": f"i{k}", "title": " ".join(rng.sample(WORDS, rng.randint(1, 5)))}
             for k in range(40)]
    pipe = pipeline(**overrides)
    pipe.add_items(items)
    for n in range(rng.randint(20, 300)):
        pipe.ingest({"event_id": str(n), "user_id": f"u{rng.randint(0, 40)}",
                     "item_id": f"i{rng.randint(0, 39)}", "ts": TS, "kind": "clicks"})
    return pipe


@pytest.mark.parametrize("seed", range(40))
def test_neighbours_and_content_equal_the_plain_loops(seed: int) -> None:
    pipe = random_world(seed, max_neighbours=random.Random(seed).randint(1, 6),
                        query_terms=random.Random(seed).randint(1, 8), sketch_terms=6,
                        content_pool=random.Random(seed).randint(1, 20))
    cache, ref_cache = ViewCache(pipe.view), LoopCache(pipe.view)  # one pass, as a batch
    norms: dict[str, float] = {}
    for user, profile in pipe.profiles.items():
        u, unorm, _ = user_vector(profile, pipe.view, cache.idf)
        ru, runorm, _ = user_vector(profile, pipe.view, ref_cache.idf)
        if not u:
            continue
        query = top_terms(u, pipe.rec_cfg.query_terms)
        got = find_neighbours(user, u, unorm, query, pipe.view, cache, pipe.rec_cfg)
        want = loop_neighbours(user, ru, runorm, query, pipe.view, ref_cache, pipe.rec_cfg)
        assert [(n.user_id, n.sim, dict(n.items)) for n in got] == \
            [(n.user_id, n.sim, dict(n.items)) for n in want]
        assert content_scores(unorm, query, pipe.view, cache, pipe.rec_cfg) == \
            loop_content(runorm, query, pipe.view, ref_cache, pipe.rec_cfg, norms)


def test_shortlist_ties_keep_the_users_met_first() -> None:
    pipe = pipeline(max_neighbours=1)
    pipe.add_items([{"item_id": "A", "title": "hiking boots"},
                    {"item_id": "E", "title": "chess board"}])
    events = [(u, "A") for u in ("d", "c", "b", "a", "q")] + [(f"x{i}", "E") for i in range(5)]
    for n, (user, item) in enumerate(events):
        pipe.ingest({"event_id": str(n), "user_id": user, "item_id": item, "ts": TS,
                     "kind": "clicks"})
    # a..d tie on every score; the shortlist (3 · max_neighbours users) keeps the three met
    # first in the postings (d, c, b), and of those the smallest id is the neighbour
    got = neighbours("q", pipe.profiles["q"], pipe.view, pipe.rec_cfg)
    assert [n.user_id for n in got] == ["b"]
    assert generate("q", pipe.profiles["q"], pipe.view, pipe.rec_cfg).neighbours == 1


@pytest.mark.parametrize("seed", range(10))
def test_candidate_terms_are_the_strongest_shared_terms(seed: int) -> None:
    pipe = random_world(seed, query_terms=random.Random(seed).randint(1, 6))
    for user, profile in pipe.profiles.items():
        u, _, _ = user_vector(profile, pipe.view)
        for c in generate(user, profile, pipe.view, pipe.rec_cfg).items:
            want = shared_terms(u, pipe.view.catalogue.items[c.item_id].terms)
            assert c.terms == (want if c.content > 0 else []), (user, c.item_id)
