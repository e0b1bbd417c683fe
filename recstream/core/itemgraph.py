"""Behavioural item-to-item signals kept current per event: co-occurrence and transitions.

Both live in one entry per item, keyed ``GRAPH_PREFIX + item`` in the global index, so the
index stage's partition for that key is its single writer and the entries reach every worker
with the rest of the replicated index (ARCHITECTURE.md, "Item graph"). An entry is

    {"n": users who have the item, "co": {j: C[item, j]}, "nx": {j: T[item -> j]},
     "ts": event time of the latest change (s)}

For an event of user u on item i (:func:`observe`), with u's distinct earlier items
j_0, j_1, … most recent first (``graph_window`` of them) and i new to u:

    C[i, j_p] += d^p and C[j_p, i] += d^p           (d = ``graph_decay``; symmetric)
    T[j_p -> i] += s^p          for p < ``seq_window``   (s = ``seq_decay``; directed)
    n_i += 1

An item the user already has changes nothing (a user counts once per pair, as in "users who
have both"). A user's read (:func:`scores`) weighs the same recent items the same way:

    cooc(u, i) = Σ_p d^p · C[j_p, i] / sqrt(n_i · n_{j_p})
    seq(u, i)  = Σ_{p < seq_window} s^p · T[j_p -> i] / sqrt(n_i · n_{j_p})

Per-event cost is bounded by settings: at most ``graph_window + 1`` keys, ``3 · graph_window``
counts updated; a read visits at most ``graph_window`` entries of at most
``graph_max`` neighbours each. Memory per item is bounded: a map that grows past
``graph_max`` neighbours (``co`` and ``nx`` each) is pruned back to its ``graph_neighbours``
strongest (ties: smaller id kept), so an entry never holds more than ``graph_max`` of each.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

GRAPH_PREFIX = "\x00graph:"
#: items kept beyond those asked for in a base's best list (CoocBase.best_passing): the pick
#: filters out what the user sees, about one item per event between searches
TOP_MARGIN = 8

Delta = dict[str, Any]
Getter = Callable[[str], Mapping[str, Any] | None]


@dataclass(frozen=True, slots=True)
class GraphConfig:
    """The item graph's settings (``recommend.graph_*`` / ``seq_*``, see settings.py)."""

    window: int = 20
    decay: float = 0.9
    seq_window: int = 3
    seq_decay: float = 0.5
    neighbours: int = 100

    @property
    def cap(self) -> int:
        """Most neighbours a map holds before it is pruned back to ``neighbours``."""
        return self.neighbours + max(1, self.neighbours // 2)

    @classmethod
    def of(cls, cfg: Any) -> GraphConfig:
        """From a :class:`recstream.settings.RecommendSettings`."""
        return cls(cfg.graph_window, cfg.graph_decay, cfg.seq_window, cfg.seq_decay,
                   cfg.graph_neighbours)


def recent(items: Mapping[str, Any], window: int) -> list[str]:
    """The user's latest ``window`` distinct items, most recent first (``items``: the
    profile's insertion-ordered item map; reads only ``window`` keys)."""
    return list(itertools.islice(reversed(items), window))


def observe(history: Mapping[str, Any], item: str, ts: float, cfg: GraphConfig
            ) -> list[tuple[str, Delta]]:
    """The deltas one event adds, one per item key: ``history`` is the user's item map
    *before* the event (insertion order = first interaction). Empty when the user already
    has ``item``. Keys are :data:`GRAPH_PREFIX` + item, in a fixed order."""
    if item in history:
        return []
    before = recent(history, cfg.window)
    own: Delta = {"n": 1, "co": {}, "nx": {}, "ts": ts}
    out: list[tuple[str, Delta]] = [(GRAPH_PREFIX + item, own)]
    for p, j in enumerate(before):
        w = cfg.decay ** p
        own["co"][j] = w
        d: Delta = {"co": {item: w}, "ts": ts}
        if p < cfg.seq_window:
            d["nx"] = {item: cfg.seq_decay ** p}
        out.append((GRAPH_PREFIX + j, d))
    return out


def _merge(out: dict[str, float], add: Mapping[str, float], keep: int, cap: int
           ) -> dict[str, float]:
    for j, w in add.items():
        out[j] = out.get(j, 0.0) + w
    if len(out) > cap:  # the strongest ``keep``; ties keep the smaller id (order-free)
        out = dict(heapq.nsmallest(keep, out.items(), key=lambda kv: (-kv[1], kv[0])))
    return out


def apply(entry: Mapping[str, Any] | None, delta: Mapping[str, Any], cfg: GraphConfig
          ) -> dict[str, Any]:
    """The item's entry after ``delta`` (from :func:`observe`). The entry's two maps are
    updated in place, not copied (copying up to 2 · ``cap`` counts for each of an event's
    ``window + 1`` keys was most of the update's cost): the index stage owns its entries,
    and a reader that must keep an old version copies it."""
    e = entry or {}
    return {"n": int(e.get("n", 0)) + int(delta.get("n", 0)),
            "co": _merge(e.get("co") or {}, delta.get("co") or {}, cfg.neighbours, cfg.cap),
            "nx": _merge(e.get("nx") or {}, delta.get("nx") or {}, cfg.neighbours, cfg.cap),
            "ts": max(float(e.get("ts", delta["ts"])), float(delta["ts"]))}


@dataclass(slots=True)
class GraphScores:
    """A user's behavioural scores of items, with each item's strongest source item."""

    cooc: dict[str, float]
    seq: dict[str, float]
    cooc_from: dict[str, str]
    seq_from: dict[str, str]


def scores(get: Getter, items: Mapping[str, Any], cfg: GraphConfig) -> GraphScores:
    """cooc(u, i) and seq(u, i) (module docstring) of every neighbour of the user's recent
    items (``items``: the profile's item map; seen items are scored too, callers filter).
    ``get(key)`` reads an entry of the view."""
    return _read(get, items, cfg, {})


@dataclass(slots=True)
class CoocBase:
    """A user's co-occurrence scores as read in full at their last search, for
    :func:`extend` to bring up to date per event by reading only the items added since."""

    scores: dict[str, float]
    best: dict[str, float]  # each item's largest term
    source: dict[str, str]  # the recent item of that term
    latest: str | None  # the user's most recent item at the read
    #: the best items passing the pick's filter when last asked, best first (ties: larger
    #: id), a few more than asked for; ``complete``: every item passing it then is there
    top: list[str] | None = None
    complete: bool = False

    def best_passing(self, k: int, ok: Callable[[str], bool]) -> list[str]:
        """The ``k`` best items passing ``ok``. The filter (unseen, in the catalogue) only
        narrows as the user sees more, so the list kept from the last call serves until
        fewer than ``k`` of it pass; only then are all scores scanned again."""
        if self.top is not None:
            kept = [i for i in self.top if ok(i)]
            if len(kept) >= k or self.complete:
                self.top = kept
                return kept[:k]
        want = k + TOP_MARGIN
        fresh = heapq.nlargest(want, ((v, i) for i, v in self.scores.items() if ok(i)))
        self.top, self.complete = [i for _, i in fresh], len(fresh) < want
        return self.top[:k]


@dataclass(slots=True)
class Cooc:
    """cooc(u, i) between searches (:func:`extend`): the base read at the search, its
    weights decayed by ``scale`` = d^k for the k items added since, plus the terms of those
    k items at positions 0..k-1, read now."""

    base: CoocBase
    scale: float
    new: dict[str, float]
    best: dict[str, float]
    source: dict[str, str]

    def get(self, item: str, default: float = 0.0) -> float:
        b, n = self.base.scores.get(item), self.new.get(item)
        if b is None and n is None:
            return default
        return self.scale * (b or 0.0) + (n or 0.0)

    def source_of(self, item: str) -> str | None:
        """The recent item of ``item``'s largest term."""
        b = self.scale * self.base.best.get(item, 0.0)
        n = self.best.get(item, 0.0)
        if n > b:
            return self.source[item]
        return self.base.source.get(item) if b > 0.0 else None

    def top(self, k: int, ok: Callable[[str], bool]) -> list[str]:
        """The ``k`` best items passing ``ok``, ties by the larger id: scaling keeps the
        base's order, so only its first ``k`` passing items can compete with the new."""
        pool = set(self.base.best_passing(k, ok))
        pool.update(i for i in self.new if ok(i))
        return [i for _, i in heapq.nlargest(k, ((self.get(i), i) for i in pool))]

    def as_dict(self) -> dict[str, float]:
        return {i: self.get(i) for i in self.base.scores.keys() | self.new.keys()}


def extend(get: Getter, items: Mapping[str, Any], cfg: GraphConfig, base: CoocBase
           ) -> tuple[Cooc, GraphScores] | None:
    """The co-occurrence scores now from ``base`` (read at the user's last search) and the
    sequence scores, read in full (``seq_window`` items); None when the items added since
    the search cannot be told (more than ``window`` of them): read afresh then.

    Between searches the base's recent items keep their weight relative to each other and
    are decayed by d per item added, which is what a full read gives but for two things: an
    item pushed past ``window`` still counts (by at most d^window of its term) until the
    next search, and the base's counts are those of the search."""
    added: list[str] = []
    for j in reversed(items):
        if j == base.latest:
            break
        added.append(j)
        if len(added) > cfg.window:
            return None
    else:
        if base.latest is not None:
            return None
    pops: dict[str, float] = {}
    new: dict[str, float] = {}
    best: dict[str, float] = {}
    source: dict[str, str] = {}
    for p, j in enumerate(added):
        e = get(GRAPH_PREFIX + j)
        if e and e.get("n"):
            _accumulate(get, pops, e.get("co") or {}, cfg.decay ** p, float(e["n"]), j, new,
                        best, source)
    seq = _read(get, items, cfg, {}, cooc=False)
    return Cooc(base, cfg.decay ** len(added), new, best, source), seq


def read(get: Getter, items: Mapping[str, Any], cfg: GraphConfig, base: CoocBase | None = None
         ) -> tuple[Cooc, GraphScores, CoocBase]:
    """(co-occurrence scores, sequence scores, the base they came from): extended from
    ``base`` (:func:`extend`) when it can be, else from a full read (both signals in one
    pass), whose co-occurrence is returned as the base for the next events."""
    if base is not None:
        got = extend(get, items, cfg, base)
        if got is not None:
            return got[0], got[1], base
    best: dict[str, float] = {}
    g = _read(get, items, cfg, best)
    base = CoocBase(g.cooc, best, g.cooc_from, next(reversed(items), None))
    return Cooc(base, 1.0, {}, {}, {}), g, base


def _read(get: Getter, items: Mapping[str, Any], cfg: GraphConfig, best_c: dict[str, float],
          cooc: bool = True) -> GraphScores:
    """Both signals of the user's recent items (only the sequence with ``cooc`` False: then
    only ``seq_window`` entries are read); ``best_c`` gets each co-occurrence item's largest
    term."""
    out = GraphScores({}, {}, {}, {})
    pops: dict[str, float] = {}
    best_s: dict[str, float] = {}
    window = cfg.window if cooc else min(cfg.window, cfg.seq_window)
    for p, j in enumerate(recent(items, window)):
        e = get(GRAPH_PREFIX + j)
        if not e or not e.get("n"):
            continue
        nj = float(e["n"])
        if cooc:
            _accumulate(get, pops, e.get("co") or {}, cfg.decay ** p, nj, j, out.cooc, best_c,
                        out.cooc_from)
        if p < cfg.seq_window:
            _accumulate(get, pops, e.get("nx") or {}, cfg.seq_decay ** p, nj, j, out.seq,
                        best_s, out.seq_from)
    return out


def _accumulate(get: Getter, pops: dict[str, float], weights: Mapping[str, float],
                wp: float, nj: float, j: str, acc: dict[str, float], best: dict[str, float],
                src: dict[str, str]) -> None:
    """acc[i] += wp · weights[i] / sqrt(n_i · n_j); src[i]: the j of i's largest term."""
    sqrt = math.sqrt
    for i, c in weights.items():
        ni = pops.get(i)
        if ni is None:
            ei = get(GRAPH_PREFIX + i)
            ni = pops[i] = float(ei["n"]) if ei else 0.0
        if ni <= 0:
            continue
        v = wp * c / sqrt(ni * nj)
        old = acc.get(i)
        if old is None:
            acc[i] = 0.0 + v  # as a sum from 0: the same float
            if v > 0.0:
                best[i], src[i] = v, j
        else:
            acc[i] = old + v
            if v > best.get(i, 0.0):
                best[i], src[i] = v, j


def entry_size(entry: Mapping[str, Any] | None) -> tuple[int, int]:
    """(co-occurrence neighbours, transition targets) an entry holds."""
    if not entry:
        return 0, 0
    return len(entry.get("co") or {}), len(entry.get("nx") or {})


def replay(events: Sequence[tuple[str, str, float]], cfg: GraphConfig
          ) -> dict[str, dict[str, Any]]:
    """Every item's entry after ``events`` ((user, item, ts), in stream order) applied one by
    one, as the index stage does: the incremental state of a replay."""
    entries: dict[str, dict[str, Any]] = {}
    history: dict[str, dict[str, None]] = {}
    for user, item, ts in events:
        h = history.setdefault(user, {})
        for key, d in observe(h, item, ts, cfg):
            entries[key] = apply(entries.get(key), d, cfg)
        h[item] = None
    return entries
