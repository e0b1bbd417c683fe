"""A synthetic, realistic workload: a catalogue with Zipf popularity, users with Zipf activity.

Items get titles, descriptions and genre tags drawn from a fixed vocabulary, so the TF-IDF
profiles have real term overlap. Each user has a favourite genre: most of their events pick
an item of that genre (by Zipf popularity within it), the rest pick from the whole catalogue,
so collaborative filtering finds neighbours. Deterministic for a given seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

GENRES = ("action", "comedy", "drama", "horror", "romance", "thriller", "documentary",
          "animation", "fantasy", "scifi", "mystery", "western", "musical", "crime", "family",
          "history")
WORDS = (
    "night", "city", "river", "shadow", "love", "war", "secret", "garden", "storm", "king",
    "queen", "ghost", "dream", "road", "island", "winter", "summer", "fire", "ice", "heart",
    "stone", "star", "moon", "sun", "ocean", "forest", "machine", "empire", "legend", "hunter",
    "detective", "doctor", "soldier", "painter", "dancer", "thief", "pilot", "robot", "dragon",
    "witch", "prince", "family", "journey", "promise", "mirror", "letter", "train", "station",
    "tower", "bridge", "valley", "desert", "planet", "signal", "memory", "silence", "thunder",
    "harbor", "castle", "circus", "kitchen", "orchestra", "festival", "revolution", "frontier",
    "voyage", "mission", "escape", "return", "rising", "falling", "lost", "broken", "golden",
    "silver", "hidden", "last", "first", "wild", "quiet", "dark", "bright", "midnight",
    "electric", "ancient", "modern", "little", "great", "strange", "perfect", "crimson",
)
KIND_SHARES = (("clicks", 0.7), ("ratings", 0.2), ("purchases", 0.1))
FAVOURITE_GENRE_SHARE = 0.7  # share of a user's events on items of their favourite genre


def zipf_cdf(n: int, s: float) -> np.ndarray:
    """Cumulative probabilities of ranks 1..n under Zipf's law with exponent ``s`` (last = 1)."""
    if n < 1:
        raise ValueError("n must be ≥ 1")
    w = np.arange(1, n + 1, dtype=np.float64) ** -s
    cdf = np.cumsum(w)
    cdf /= cdf[-1]
    return cdf


def zipf_sample(cdf: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """``size`` 0-based ranks drawn with the probabilities whose CDF is ``cdf``."""
    idx = np.searchsorted(cdf, rng.random(size), side="right")
    return np.minimum(idx, len(cdf) - 1)


def make_items(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` catalogue records ``{item_id, title, description, tags}``; item ``i`` has
    primary genre ``GENRES[i % len(GENRES)]`` (so every genre has items when n ≥ 16)."""
    rng = np.random.default_rng(seed)
    items = []
    for i in range(n):
        words = [WORDS[j] for j in rng.choice(len(WORDS), size=int(rng.integers(2, 5)),
                                                replace=False)]
        genre = GENRES[i % len(GENRES)]
        extra = [GENRES[j] for j in rng.choice(len(GENRES), size=int(rng.integers(0, 3)))
                 if GENRES[j] != genre]
        desc = [WORDS[j] for j in rng.choice(len(WORDS), size=8)]
        items.append({"item_id": f"i{i}", "title": " ".join(words).title(),
                      "description": f"A {genre} story of " + " ".join(desc) + ".",
                      "tags": [genre, *dict.fromkeys(extra)]})
    return items


@dataclass(frozen=True)
class Workload:
    """``items`` to produce first, then ``events`` as ``(topic kind, event)`` in order.

    Events carry ``event_id``, ``user_id``, ``item_id`` (and ``rating`` for ratings) but no
    ``ts``: the producer stamps it at send time, as a live application would.
    """

    items: list[dict[str, Any]]
    events: list[tuple[str, dict[str, Any]]]

    @property
    def users_seen(self) -> int:
        return len({e["user_id"] for _, e in self.events})


def make_workload(n_events: int, n_users: int, n_items: int, seed: int = 0,
                  user_s: float = 1.0, item_s: float = 1.1) -> Workload:
    """Events of ``n_users`` users (Zipf activity, exponent ``user_s``) over ``n_items``
    items (Zipf popularity, exponent ``item_s``); see the module docstring."""
    if n_users < 1 or n_items < 1 or n_events < 0:
        raise ValueError("need ≥ 1 user, ≥ 1 item and ≥ 0 events")
    rng = np.random.default_rng(seed + 1)
    items = make_items(n_items, seed)
    # which user is heavy is random, not "u0", so partitions share the load like real ids
    user_perm = rng.permutation(n_users)
    users = user_perm[zipf_sample(zipf_cdf(n_users, user_s), n_events, rng)]
    item_perm = rng.permutation(n_items)  # popularity rank -> item index
    overall = item_perm[zipf_sample(zipf_cdf(n_items, item_s), n_events, rng)]
    g = len(GENRES)
    by_genre = [item_perm[item_perm % g == k] for k in range(g)]  # popularity order per genre
    genre_cdfs = [zipf_cdf(len(ids), item_s) if len(ids) else None for ids in by_genre]
    favourite = rng.random(n_events) < FAVOURITE_GENRE_SHARE
    kinds = rng.choice(len(KIND_SHARES), size=n_events, p=[s for _, s in KIND_SHARES])
    stars = rng.integers(1, 6, size=n_events)
    events: list[tuple[str, dict[str, Any]]] = []
    for n in range(n_events):
        u = int(users[n])
        item = int(overall[n])
        fav = (u * 7919) % g  # stable favourite genre per user
        cdf = genre_cdfs[fav]
        if favourite[n] and cdf is not None:
            item = int(by_genre[fav][zipf_sample(cdf, 1, rng)[0]])
        kind = KIND_SHARES[int(kinds[n])][0]
        ev: dict[str, Any] = {"event_id": f"e{seed}-{n}", "user_id": f"u{u}",
                              "item_id": f"i{item}"}
        if kind == "ratings":
            ev["rating"] = float(stars[n])
        events.append((kind, ev))
    return Workload(items, events)


def send_offsets(n: int, rate: float | None) -> np.ndarray:
    """When (s after the first send) event ``k`` is due at ``rate`` events/s; all zeros for
    ``None`` (as fast as possible)."""
    if rate is None:
        return np.zeros(n)
    if rate <= 0:
        raise ValueError("rate must be > 0")
    return np.arange(n, dtype=np.float64) / rate
