"""The item graph: hand-worked counts, incremental = batch, bounded memory and cost."""

from __future__ import annotations

import math
import random

import pytest

from recstream.core import itemgraph
from recstream.core.itemgraph import GRAPH_PREFIX, GraphConfig

CFG = GraphConfig(window=20, decay=0.5, seq_window=2, seq_decay=0.5, neighbours=100)

# u1: a, b, c; u2: b, c; then u1 repeats a (changes nothing)
STREAM = [("u1", "a", 1.0), ("u1", "b", 2.0), ("u1", "c", 3.0), ("u2", "b", 4.0),
          ("u2", "c", 5.0), ("u1", "a", 6.0)]


def entry(entries, item):
    return entries[GRAPH_PREFIX + item]


def test_hand_worked_counts():
    e = itemgraph.replay(STREAM, CFG)
    # u1 b: C[a,b] = 1, T[a->b] = 1; u1 c (recent b, a): C[b,c] = 1, C[a,c] = 0.5,
    # T[b->c] = 1, T[a->c] = 0.5; u2 c (recent b): C[b,c] = 2, T[b->c] = 2
    assert entry(e, "a") == {"n": 1, "co": {"b": 1.0, "c": 0.5}, "nx": {"b": 1.0, "c": 0.5},
                             "ts": 3.0}
    assert entry(e, "b") == {"n": 2, "co": {"a": 1.0, "c": 2.0}, "nx": {"c": 2.0}, "ts": 5.0}
    assert entry(e, "c") == {"n": 2, "co": {"b": 2.0, "a": 0.5}, "nx": {}, "ts": 5.0}


def test_hand_worked_scores():
    e = itemgraph.replay(STREAM, CFG)
    s = itemgraph.scores(e.get, {"a": 1.0, "b": 1.0}, CFG)  # recent: b, then a
    # cooc(c) = 1 · C[b,c] / sqrt(n_c n_b) + 0.5 · C[a,c] / sqrt(n_c n_a)
    assert s.cooc["c"] == pytest.approx(2 / 2 + 0.5 * 0.5 / math.sqrt(2))
    # seq(c) = 1 · T[b->c] / sqrt(2 · 2) + 0.5 · T[a->c] / sqrt(2 · 1)
    assert s.seq["c"] == pytest.approx(2 / 2 + 0.5 * 0.5 / math.sqrt(2))
    assert s.cooc_from["c"] == "b" and s.seq_from["c"] == "b"
    # seen items are scored too (callers filter): a is b's neighbour
    assert s.cooc["a"] == pytest.approx(1 / math.sqrt(2))


def test_repeat_changes_nothing():
    assert itemgraph.observe({"a": 1.0, "b": 1.0}, "a", 9.0, CFG) == []


def batch_counts(events, cfg):
    """C, T and n straight from each user's distinct items in order (no replay)."""
    order: dict[str, list[str]] = {}
    for user, item, _ in events:
        seq = order.setdefault(user, [])
        if item not in seq:
            seq.append(item)
    co: dict[tuple[str, str], float] = {}
    nx: dict[tuple[str, str], float] = {}
    n: dict[str, int] = {}
    for seq in order.values():
        for k, i in enumerate(seq):
            n[i] = n.get(i, 0) + 1
            for p, j in enumerate(reversed(seq[max(0, k - cfg.window):k])):
                co[i, j] = co.get((i, j), 0.0) + cfg.decay ** p
                co[j, i] = co.get((j, i), 0.0) + cfg.decay ** p
                if p < cfg.seq_window:
                    nx[j, i] = nx.get((j, i), 0.0) + cfg.seq_decay ** p
    return co, nx, n


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_incremental_equals_batch(seed):
    rng = random.Random(seed)
    events = [(f"u{rng.randrange(12)}", f"i{rng.randrange(30)}", float(t))
              for t in range(400)]
    cfg = GraphConfig(window=5, decay=0.8, seq_window=3, seq_decay=0.6, neighbours=1000)
    got = itemgraph.replay(events, cfg)
    co, nx, n = batch_counts(events, cfg)
    assert {k[len(GRAPH_PREFIX):]: v["n"] for k, v in got.items() if v["n"]} == n
    flat_co = {(k[len(GRAPH_PREFIX):], j): w for k, v in got.items()
               for j, w in v["co"].items()}
    flat_nx = {(k[len(GRAPH_PREFIX):], j): w for k, v in got.items()
               for j, w in v["nx"].items()}
    assert flat_co.keys() == co.keys() and flat_nx.keys() == nx.keys()
    for key, w in co.items():
        assert flat_co[key] == pytest.approx(w, rel=1e-12)
    for key, w in nx.items():
        assert flat_nx[key] == pytest.approx(w, rel=1e-12)


def test_memory_per_item_is_bounded_and_keeps_the_strongest():
    rng = random.Random(7)
    cfg = GraphConfig(window=10, decay=1.0, seq_window=3, seq_decay=1.0, neighbours=8)
    events = []
    for u in range(300):  # every user takes "hub" and "mate", then random items
        events += [(f"u{u}", "hub", 0.0), (f"u{u}", "mate", 1.0)]
        events += [(f"u{u}", f"i{rng.randrange(500)}", 2.0 + t) for t in range(6)]
    got = itemgraph.replay(events, cfg)
    sizes = [itemgraph.entry_size(e) for e in got.values()]
    assert max(c for c, _ in sizes) <= cfg.cap and max(t for _, t in sizes) <= cfg.cap
    assert max(c for c, _ in sizes) > cfg.neighbours  # the bound was reached, not idle
    hub = got[GRAPH_PREFIX + "hub"]
    assert hub["co"]["mate"] == pytest.approx(300.0)  # never evicted: the strongest
    assert hub["nx"]["mate"] == pytest.approx(300.0)


def test_per_event_work_is_bounded_by_the_window():
    history = {f"i{n}": 1.0 for n in range(5000)}
    cfg = GraphConfig(window=20, seq_window=3)
    deltas = itemgraph.observe(history, "new", 1.0, cfg)
    assert len(deltas) == cfg.window + 1
    assert sum(len(d.get("co", {})) + len(d.get("nx", {})) for _, d in deltas) \
        == 2 * cfg.window + cfg.seq_window
    # the window is the user's latest items
    assert set(deltas[0][1]["co"]) == {f"i{n}" for n in range(4980, 5000)}


def _random_graph(seed: int = 3, users: int = 40, items: int = 30, events: int = 600):
    rng = random.Random(seed)
    stream = [(f"u{rng.randrange(users)}", f"i{int(rng.paretovariate(1.2)) % items}",
               float(t)) for t in range(events)]
    return itemgraph.replay(stream, CFG)


def test_extend_equals_a_full_read_while_the_window_holds():
    """Between searches, co-occurrence extended from the search's read by the items added
    since is the full read of the same entries (the window still holds every item)."""
    e = _random_graph()
    items = {f"i{k}": 1.0 for k in (3, 1, 7, 2)}
    cooc, _, base = itemgraph.read(e.get, items, CFG)  # the search's read
    for k in (5, 0, 9, 4):  # four events later, one a repeat (i4 new, i0, i9 new)
        items.setdefault(f"i{k}", 1.0)
    cooc, seq, again = itemgraph.read(e.get, items, CFG, base)
    assert again is base  # extended, not read afresh
    full = itemgraph.scores(e.get, items, CFG)
    got = cooc.as_dict()
    assert got.keys() == full.cooc.keys()
    for i, v in full.cooc.items():
        assert got[i] == pytest.approx(v, rel=1e-12)
        assert cooc.source_of(i) == full.cooc_from.get(i)
    assert seq.seq == pytest.approx(full.seq) and seq.seq_from == full.seq_from
    ok = {i for i in full.cooc if i not in items}.__contains__
    want = [i for _, i in sorted(((v, i) for i, v in full.cooc.items() if ok(i)),
                                 reverse=True)[:5]]
    assert cooc.top(5, ok) == want
    # the user sees two of them: the next pick narrows the kept list, scanning nothing new
    seen = set(items) | set(want[:2])
    later = [i for _, i in sorted(((v, i) for i, v in full.cooc.items() if i not in seen),
                                  reverse=True)[:5]]
    assert cooc.top(5, lambda i: i not in seen) == later


def test_extend_keeps_an_item_pushed_past_the_window_until_the_next_search():
    """The one difference from a full read, bounded: an item pushed out of ``window``
    still counts with its decayed weight (d^window of its term) until a search reads again."""
    cfg = GraphConfig(window=3, decay=0.5, seq_window=2, seq_decay=0.5, neighbours=100)
    e = _random_graph()
    items = {"i1": 1.0, "i2": 1.0}
    _, _, base = itemgraph.read(e.get, items, cfg)
    items.update({"i3": 1.0, "i4": 1.0})  # i1 is now at position 3: outside the window
    cooc, _, _ = itemgraph.read(e.get, items, cfg, base)
    full = itemgraph.scores(e.get, items, cfg).cooc
    a = e[GRAPH_PREFIX + "i1"]
    for i, c in a["co"].items():
        term = 0.5 ** 3 * c / math.sqrt(e[GRAPH_PREFIX + i]["n"] * a["n"])
        assert cooc.get(i) - full.get(i, 0.0) == pytest.approx(term, abs=1e-12)
    # more items added than the window holds: read afresh (a new base)
    items.update({f"i{k}": 1.0 for k in range(5, 10)})
    _, _, fresh = itemgraph.read(e.get, items, cfg, base)
    assert fresh is not base and fresh.latest == "i9"
