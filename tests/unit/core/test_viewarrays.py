"""Arrays kept on the view across passes give the numbers of a fresh computation after the
view changes between passes (new events, sketches replaced or deleted, items changed or
removed), as the replica changes it between a worker's batches."""

from __future__ import annotations

import random

import numpy as np
import pytest

from recstream.core import index
from recstream.core.candidates import generate
from recstream.core.process import MemoryPipeline
from recstream.core.tfidf import idf, idf_array
from recstream.core.view import MemoryView, ViewCache, idf_vector
from recstream.core.viewarrays import ViewArrays
from recstream.settings import ProfileSettings, RecommendSettings

TS = 1_700_000_000.0
WORDS = ["hiking", "boots", "camping", "tent", "gas", "cooker", "chess", "board", "jazz",
         "vinyl", "poles", "map", "rope", "lamp", "stove", "kayak"]


def one_pass(pipe: MemoryPipeline, fresh: bool) -> list[object]:
    """Every user's candidates in one pass; ``fresh``: with no arrays kept from before."""
    if fresh:
        pipe.view.arrays = ViewArrays()
    cache = ViewCache(pipe.view)
    return [(u, [c.to_dict() for c in got.items], got.neighbours)
            for u in sorted(pipe.profiles)
            for got in [generate(u, pipe.profiles[u], pipe.view, pipe.rec_cfg, cache)]]


def ingest(pipe: MemoryPipeline, rng: random.Random, n: int, first: int) -> None:
    for k in range(first, first + n):
        pipe.ingest({"event_id": str(k), "user_id": f"u{rng.randint(0, 30)}",
                     "item_id": f"i{rng.randint(0, 29)}", "ts": TS + k, "kind": "clicks"})


@pytest.mark.parametrize("seed", range(12))
def test_kept_arrays_follow_changes_between_passes(seed: int) -> None:
    rng = random.Random(seed)
    pipe = MemoryPipeline(ProfileSettings(), RecommendSettings(
        theta=0.05, max_neighbours=rng.randint(1, 6), query_terms=rng.randint(1, 8),
        postings_per_term=rng.randint(3, 50), content_pool=rng.randint(1, 20), sketch_terms=6))
    title = lambda: " ".join(rng.sample(WORDS, rng.randint(1, 5)))  # noqa: E731
    pipe.add_items({"item_id": f"i{k}", "title": title()} for k in range(30))
    ingest(pipe, rng, rng.randint(20, 150), 0)
    kept = pipe.view.arrays
    for step in range(4):
        one_pass(pipe, fresh=False)  # fills the kept arrays and weighs under this pass's idf
        ingest(pipe, rng, rng.randint(1, 20), 1000 * (step + 1))  # postings, df, N, sketches
        pipe.add_items([{"item_id": f"i{rng.randint(0, 29)}", "title": title()}])
        pipe.view.catalogue.remove(f"i{rng.randint(0, 29)}")
        gone = f"u{rng.randint(0, 30)}"
        pipe.view.set_sketch(gone, None)  # a sketch tombstone (an erasure)
        got = one_pass(pipe, fresh=False)
        assert pipe.view.arrays is kept
        assert got == one_pass(pipe, fresh=True), step
        pipe.view.arrays = kept


def test_a_row_weighed_after_the_idf_table_changed_takes_the_new_value() -> None:
    # math.log2 (IdfTable.__missing__) and np.log2 (user_vector) may differ in the last bit;
    # a plain loop weighs each sketch with the table's value at the time, so must the arrays
    n, df = next(((n, d) for n in range(2, 2000) for d in range(1, n)
                  if idf(n, d) != idf_array(n, np.array([d], dtype=np.float64))[0]),
                 (0, None))
    if df is None:
        pytest.skip("math.log2 and np.log2 agree here")
    view = MemoryView()
    view.set_entry(index.USERS_KEY, {"df": n})
    view.set_entry("jazz", {"df": df, "p": {"a": 0.5, "b": 0.5}})
    cache, m = ViewCache(view), view.arrays.sketches
    before = cache.idf["jazz"]
    a = m.row("a", {"t": {"jazz": 0.5}}, {"jazz": 0.5})
    assert cache.weighed(m, np.array([a]))[0][0, 0] == 0.5 * before
    cache.idf.set_many(["jazz"], idf_vector(view, ["jazz"], cache.idf.n))
    assert cache.idf["jazz"] != before
    b = m.row("b", {"t": {"jazz": 0.5}}, {"jazz": 0.5})
    w, _ = cache.weighed(m, np.array([a, b]))
    assert w[:, 0].tolist() == [0.5 * before, 0.5 * cache.idf["jazz"]]  # a: once a pass


def test_an_erased_user_leaves_nothing_in_the_kept_arrays() -> None:
    """After its sketch tombstone the view's arrays hold neither the pseudonym nor its sketch's
    terms and values, and a user who comes back gets a fresh row and is a neighbour again."""
    pipe = MemoryPipeline(ProfileSettings(), RecommendSettings(theta=0.0, sketch_terms=6))
    pipe.add_items({"item_id": f"i{k}", "title": t} for k, t in enumerate(
        ["hiking boots", "camping tent", "jazz vinyl", "hiking poles", "camping stove"]))
    for k, (u, i) in enumerate([("ann", "i0"), ("ann", "i1"), ("bob", "i0"), ("bob", "i3"),
                                ("cy", "i2"), ("cy", "i4")]):
        pipe.ingest({"event_id": str(k), "user_id": u, "item_id": i, "ts": TS + k,
                     "kind": "clicks"})
    one_pass(pipe, fresh=False)
    a = pipe.view.arrays
    row, srow = a.user_rows["bob"], a.sketches.rows["bob"]
    assert a.sketches.val[srow].any()
    pipe.view.set_sketch("bob", None)
    assert "bob" not in a.user_rows and "bob" not in a.user_ids
    assert "bob" not in a.sketches.rows and "bob" not in a.sketches.keys
    assert not a.sketches.val[srow].any() and not a.sketches.ids[srow].any()
    assert a.sketches.src[srow] is None and a.sketch_of[row] == -2
    assert not any((rows == row).any() for _, (rows, _) in a.postings_of.values())
    # this view's index still lists bob (the pipeline's erasure removes those postings too):
    # no sketch, so no neighbour, in kept and fresh arrays alike
    got = one_pass(pipe, fresh=False)
    assert got == one_pass(pipe, fresh=True)
    pipe.view.arrays = a
    pipe.ingest({"event_id": "9", "user_id": "bob", "item_id": "i1", "ts": TS + 9,
                 "kind": "clicks"})  # bob comes back
    got = one_pass(pipe, fresh=False)
    assert a.user_rows["bob"] != row
    assert got == one_pass(pipe, fresh=True)
