"""The global term index: document frequencies, postings for neighbour search, trending.

One entry per key, each key owned by exactly one writer (the index agent's partition for that
key), replicated read-only to every worker. Keys:

- a term ``w``: ``{"df": users whose text contains w, "p": {user: tf(w, s_user)}}`` where the
  postings keep the ``cap`` users with the highest tf (ties: lower user id kept);
- ``USERS_KEY``: ``{"df": N}``, the number of users;
- ``ITEM_PREFIX + item``: ``{"s": popularity, "ts": event time of s}`` (decayed counts);
- ``TRENDING_PREFIX + partition``: ``{"top": [[item, s, ts], ...]}`` the partition's most
  popular items; a reader merges every partition's list.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from recstream.core.tfidf import decay_factor

USERS_KEY = "\x00users"
ITEM_PREFIX = "\x00item:"
TRENDING_PREFIX = "\x00trending:"


def add_posting(entry: Mapping[str, Any] | None, user: str, tf: float, new: bool,
                cap: int) -> dict[str, Any]:
    """The term entry after ``user``'s tf changed (``new``: the user just gained the term)."""
    df = int(entry["df"]) if entry else 0
    postings = dict(entry["p"]) if entry else {}
    if new:
        df += 1
    postings[user] = tf
    if len(postings) > cap:
        # the lowest tf goes; ties evict the larger user id, so the kept set is order-free
        worst = max(postings.items(), key=lambda kv: (-kv[1], kv[0]))
        del postings[worst[0]]
    return {"df": df, "p": postings}


def remove_posting(entry: Mapping[str, Any] | None, user: str) -> dict[str, Any] | None:
    """The term entry after ``user`` lost the term (pruned from the profile); None if empty."""
    if not entry:
        return None
    postings = {u: f for u, f in entry["p"].items() if u != user}
    df = max(int(entry["df"]) - 1, 0)
    return {"df": df, "p": postings} if df or postings else None


def add_user(entry: Mapping[str, Any] | None) -> dict[str, Any]:
    return {"df": (int(entry["df"]) if entry else 0) + 1}


def trend_key(score: float, ts: float, half_life_s: float) -> float:
    """A time-free ordering key: log2 of the score decayed to any common reference time."""
    return math.log2(score) + ts / half_life_s if score > 0 else -math.inf


def add_popularity(entry: Mapping[str, Any] | None, weight: float, ts: float,
                   half_life_s: float) -> dict[str, Any]:
    """Decayed popularity after an interaction of ``weight`` at event time ``ts`` (s)."""
    if not entry:
        return {"s": weight, "ts": ts}
    s, t0 = float(entry["s"]), float(entry["ts"])
    if ts >= t0:
        return {"s": s * decay_factor(ts - t0, half_life_s) + weight, "ts": ts}
    return {"s": s + weight * decay_factor(t0 - ts, half_life_s), "ts": t0}


def update_trending(entry: Mapping[str, Any] | None, item: str, pop: Mapping[str, Any],
                    size: int, half_life_s: float) -> dict[str, Any]:
    """The partition's top list after ``item``'s popularity became ``pop``."""
    top = [row for row in (entry["top"] if entry else []) if row[0] != item]
    top.append([item, float(pop["s"]), float(pop["ts"])])
    top.sort(key=lambda r: (-trend_key(r[1], r[2], half_life_s), r[0]))
    return {"top": top[:size]}


def merge_trending(lists: Iterable[Iterable[list[Any]]], half_life_s: float,
                   k: int) -> list[tuple[str, float]]:
    """Merge partition top lists; scores are decayed to the newest timestamp seen."""
    rows = [r for lst in lists for r in lst]
    if not rows:
        return []
    now = max(r[2] for r in rows)
    scored = [(r[0], r[1] * decay_factor(now - r[2], half_life_s)) for r in rows]
    scored.sort(key=lambda kv: (-kv[1], kv[0]))
    return scored[:k]
