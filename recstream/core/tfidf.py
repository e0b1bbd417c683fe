"""Incremental TF-IDF user profiles, exactly as DESIGN.md states them.

A user's behaviour text s_i is the multiset of terms of the items they interacted with (and of
their reviews), each occurrence multiplied by the event's weight (a purchase counts more than a
click, a rating by its stars). With c_i(w) the weighted count of w and |s_i| = sum_w c_i(w):

    tf(w, s_i) = c_i(w) / |s_i|
    idf(w)     = log2((N + 1) / df(w)),  N users, df(w) users whose text contains w
    w_ij       = tf · idf

The idf is the seed's log2(N / df) smoothed by one phantom user whose text holds no term: it
tends to the seed's for many users (the shift is log2(1 + 1/N), 0.0015 for N = 943) but a
term every user has keeps a weight (log2(1 + 1/N) > 0), so the very first user of a system,
whose every term has df = N = 1, still has a profile vector (idf 1) for content matching.

Time decay (event time) multiplies every count and |s_i| by 2^(-Δt / half_life) so older
behaviour fades; an out-of-order event is decayed to the profile's reference time instead, so
the result does not depend on arrival order.

Session signal (optional): the user's last N events (arrival order) count (1 + b) times. The
profile keeps those N events' terms; when an event leaves the window its extra b share,
decayed like everything else, is taken off again, so the counts always equal
Σ_events weight · decay · (1 + b·[event among the last N]).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np


def tf(count: float, length: float) -> float:
    """Term frequency c(w) / |s| (0 for an empty text)."""
    return count / length if length > 0 else 0.0


def idf(n_users: int, df: int) -> float:
    """log2((N + 1) / df) (module docstring); 0 when the term is unseen (df 0) or there are
    no users. A df above N (transiently, while replicas catch up) counts as N."""
    if df <= 0 or n_users <= 0:
        return 0.0
    return math.log2((n_users + 1) / min(df, n_users))


def idf_array(n_users: int, df: np.ndarray) -> np.ndarray:
    """:func:`idf` of each df in ``df`` (one N), vectorised."""
    out = np.zeros(len(df))
    ok = df > 0
    if n_users > 0:
        out[ok] = np.log2((n_users + 1) / np.minimum(df[ok], n_users))
    return out


def decay_factor(dt_s: float, half_life_s: float) -> float:
    """2^(-dt / half_life) for dt >= 0 seconds; 1 when decay is off (half_life 0)."""
    if half_life_s <= 0 or dt_s <= 0:
        return 1.0
    return 2.0 ** (-dt_s / half_life_s)


@dataclass
class Profile:
    """One user's behaviour state; stored as a JSON dict in the profiles table."""

    counts: dict[str, float] = field(default_factory=dict)
    length: float = 0.0
    ts: float = 0.0  # reference event time of counts (s)
    items: dict[str, float] = field(default_factory=dict)  # item -> strongest interaction value
    events: int = 0
    #: session window: [terms, scale, reference ts] of the last N events, oldest first
    recent: list[list[Any]] = field(default_factory=list)
    #: delivery bookkeeping (:func:`already_applied`): ids of the last applied events, oldest
    #: first, and the input offset of the latest applied event (-1: none known)
    applied: list[str] = field(default_factory=list)
    offset: int = -1

    def to_dict(self) -> dict[str, Any]:
        d = {"c": self.counts, "len": self.length, "ts": self.ts, "items": self.items,
             "n": self.events}
        if self.recent:
            d["r"] = self.recent
        if self.applied:
            d["ids"] = self.applied
        if self.offset >= 0:
            d["off"] = self.offset
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> Profile:
        if not d:
            return cls()
        return cls(dict(d["c"]), float(d["len"]), float(d["ts"]), dict(d["items"]), int(d["n"]),
                   [list(e) for e in d.get("r") or ()], list(d.get("ids") or ()),
                   int(d.get("off", -1)))

    def tf(self, term: str) -> float:
        return tf(self.counts.get(term, 0.0), self.length)

    def tfs(self) -> dict[str, float]:
        """Term frequencies of every term in the profile."""
        if self.length <= 0:
            return {}
        inv = 1.0 / self.length
        return {t: c * inv for t, c in self.counts.items()}


def already_applied(profile: Profile, event_id: str, offset: int | None = None) -> bool:
    """Whether the event is already in ``profile``: its id is among the last applied ids, or
    it comes from the input at or before the offset of the last applied event (a replay
    after a crash: one user's events arrive in order on one partition). ``offset`` None:
    the id alone decides."""
    if offset is not None and 0 <= offset <= profile.offset:
        return True
    return event_id in profile.applied


def mark_applied(profile: Profile, event_id: str, offset: int | None, keep: int) -> None:
    """Remember that the event was applied: its id (the last ``keep`` ids are kept) and its
    input offset. Call it with the state change, so both land in the same stored value."""
    if event_id not in profile.applied:
        profile.applied.append(event_id)
        if len(profile.applied) > keep:
            del profile.applied[: len(profile.applied) - keep]
    if offset is not None:
        profile.offset = max(profile.offset, offset)


@dataclass(frozen=True, slots=True)
class ProfileChange:
    """What one event did to a profile: the terms it touched and the terms that are new."""

    touched: tuple[str, ...]
    new_terms: tuple[str, ...]
    new_user: bool
    dropped: tuple[str, ...] = ()  # terms pruned from the profile (no longer in its text)


def apply_event(
    profile: Profile,
    terms: Mapping[str, float],
    weight: float,
    ts: float,
    item_id: str,
    value: float,
    half_life_s: float = 0.0,
    max_terms: int = 0,
    session_events: int = 0,
    session_boost: float = 0.0,
) -> ProfileChange:
    """Add ``terms`` (term -> count in the event's text) times ``weight`` at event time ``ts``.

    ``value`` is the interaction strength remembered for ``item_id`` (a rating's stars or the
    implicit weight). With ``session_events`` N > 0 and ``session_boost`` b > 0 the event
    counts (1 + b) times while it is among the user's last N events. Mutates ``profile``;
    returns what changed (terms whose count fell because an event left the session window
    are reported as touched too).

    A negative ``weight`` (a negative review, see recstream.core.process.update_profile)
    lowers the counts of the terms the profile already has instead of raising them, never
    below 0; a term whose count reaches 0 leaves the profile (reported as dropped). It gets no
    session boost and adds no new terms.
    """
    new_user = profile.events == 0
    if profile.events and ts > profile.ts:
        f = decay_factor(ts - profile.ts, half_life_s)
        if f != 1.0:
            for t in profile.counts:
                profile.counts[t] *= f
            profile.length *= f
        profile.ts = ts
        scale = weight
    elif profile.events:
        scale = weight * decay_factor(profile.ts - ts, half_life_s)
    else:
        profile.ts = ts
        scale = weight
    if scale < 0:
        return _subtract(profile, terms, -scale, item_id, value, new_user)
    boost = session_boost if session_events > 0 else 0.0
    new_terms = []
    for term, count in terms.items():
        if term not in profile.counts:
            new_terms.append(term)
            profile.counts[term] = 0.0
        profile.counts[term] += count * scale * (1.0 + boost)
        profile.length += count * scale * (1.0 + boost)
    expired: dict[str, None] = {}
    if boost > 0:
        profile.recent.append([dict(terms), scale, profile.ts])
        while len(profile.recent) > session_events:
            expired.update(_end_session_boost(profile, profile.recent.pop(0), boost,
                                              half_life_s))
    elif profile.recent:  # the session signal was switched off: drop the window
        profile.recent.clear()
    profile.items[item_id] = max(value, profile.items.get(item_id, value))
    profile.events += 1
    dropped: tuple[str, ...] = ()
    if max_terms and len(profile.counts) > max_terms:
        dropped = _prune(profile, max_terms)
    touched = dict.fromkeys(terms) | {t: None for t in expired if t not in terms}
    return ProfileChange(tuple(t for t in touched if t in profile.counts),
                         tuple(t for t in new_terms if t in profile.counts), new_user,
                         tuple(t for t in dropped if t not in new_terms))


def _subtract(profile: Profile, terms: Mapping[str, float], scale: float, item_id: str,
              value: float, new_user: bool) -> ProfileChange:
    """A negative event: counts fall by count · scale, floored at 0 (see :func:`apply_event`)."""
    touched, gone = [], []
    for term, count in terms.items():
        old = profile.counts.get(term)
        if old is None:
            continue
        new = old - count * scale
        if new <= 1e-12:
            new = 0.0
            del profile.counts[term]
            gone.append(term)
        else:
            profile.counts[term] = new
            touched.append(term)
        profile.length -= old - new
    profile.length = max(0.0, profile.length) if profile.counts else 0.0
    profile.items[item_id] = max(value, profile.items.get(item_id, value))
    profile.events += 1
    return ProfileChange(tuple(touched), (), new_user, tuple(gone))


def _end_session_boost(profile: Profile, entry: list[Any], boost: float,
                       half_life_s: float) -> dict[str, None]:
    """Take an event's extra ``boost`` share off the counts as it leaves the session window;
    returns the terms whose count changed."""
    terms, scale, ref = entry
    f = scale * boost * decay_factor(profile.ts - float(ref), half_life_s)
    out: dict[str, None] = {}
    for term, count in terms.items():
        if term in profile.counts:  # pruned terms already left the length
            old = profile.counts[term]
            profile.counts[term] = max(0.0, old - count * f)
            profile.length -= old - profile.counts[term]
            out[term] = None
    profile.length = max(0.0, profile.length)
    return out


def _prune(profile: Profile, max_terms: int) -> tuple[str, ...]:
    """Keep the ``max_terms`` largest counts; return the dropped terms."""
    ranked = sorted(profile.counts.items(), key=lambda kv: (-kv[1], kv[0]))
    profile.counts = dict(ranked[:max_terms])
    profile.length -= sum(c for _, c in ranked[max_terms:])
    return tuple(t for t, _ in ranked[max_terms:])


def weights(tfs: Mapping[str, float], idf_of: Mapping[str, float]) -> dict[str, float]:
    """TF-IDF vector {w: tf(w) * idf(w)}, dropping zero weights.

    ``idf_of[w]`` is looked up with ``[]`` so a lazily filled table (view.IdfTable) computes
    missing terms; a term absent from a plain mapping counts as idf 0.
    """
    out = {}
    for t, f in tfs.items():
        try:
            w = f * idf_of[t]
        except KeyError:
            continue
        if w > 0:
            out[t] = w
    return out


def top_terms(vector: Mapping[str, float], k: int) -> list[tuple[str, float]]:
    """The k largest entries of a sparse vector, ties broken by term."""
    return heapq.nsmallest(k, vector.items(), key=lambda kv: (-kv[1], kv[0]))
