"""One event's effect on state, as pure functions, and an in-process pipeline built on them.

The agents call exactly these functions; :class:`MemoryPipeline` strings them together without
Kafka for tests, offline evaluation and consistency checks (a clean recomputation).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping
from typing import Any

from recstream.core import index
from recstream.core.candidates import CandidateSet, generate
from recstream.core.catalogue import CatalogueItem
from recstream.core.rank import blend
from recstream.core.sentiment import negative_review
from recstream.core.text import term_counts
from recstream.core.tfidf import Profile, ProfileChange, apply_event
from recstream.core.view import MemoryView, make_sketch, user_vector
from recstream.settings import ProfileSettings, RecommendSettings


def event_weight(event: Mapping[str, Any], cfg: ProfileSettings) -> tuple[float, float]:
    """(term-count multiplier, remembered interaction value) of an event."""
    kind = event["kind"]
    if kind == "ratings":
        r = float(event["rating"])
        return r * cfg.weight_per_star, r
    if kind == "purchases":
        return cfg.weight_purchase, cfg.weight_purchase
    return cfg.weight_click, cfg.weight_click


def event_terms(item: CatalogueItem | None, review: str | None) -> dict[str, float]:
    """Term counts an event adds: its item's text plus the review text, if any."""
    terms = dict(item.terms) if item else {}
    for t, c in term_counts([review or ""]).items():
        terms[t] = terms.get(t, 0.0) + c
    return terms


def update_profile(profile: Profile, event: Mapping[str, Any], item: CatalogueItem | None,
                   cfg: ProfileSettings) -> ProfileChange:
    weight, value = event_weight(event, cfg)
    if negative_review(event.get("review"), cfg):  # lowers interest in its terms instead
        weight = -weight
    return apply_event(profile, event_terms(item, event.get("review")), weight, event["ts"],
                       event["item_id"], value, cfg.decay_half_life_s, cfg.max_terms,
                       cfg.session_events, cfg.session_boost)


def index_updates(user_id: str, profile: Profile, change: ProfileChange,
                  event: Mapping[str, Any], weight: float) -> list[tuple[str, dict[str, Any]]]:
    """Messages for the index stage, keyed by the index key they update."""
    new = set(change.new_terms)
    out: list[tuple[str, dict[str, Any]]] = [
        (t, {"u": user_id, "tf": profile.tf(t), "new": t in new})
        for t in change.touched
    ]
    out += [(t, {"u": user_id, "drop": True}) for t in change.dropped]
    if change.new_user:
        out.append((index.USERS_KEY, {"u": user_id, "new": True}))
    out.append((index.ITEM_PREFIX + event["item_id"], {"w": weight, "ts": event["ts"]}))
    return out


def index_partition(key: str, partitions: int) -> int:
    """The index-updates partition that owns ``key`` (stable across processes)."""
    return zlib.crc32(key.encode("utf-8")) % partitions


def batch_by_partition(updates: Iterable[tuple[str, dict[str, Any]]], partitions: int
                       ) -> dict[int, list[tuple[str, dict[str, Any]]]]:
    """Group one event's index updates into one message per owning partition."""
    out: dict[int, list[tuple[str, dict[str, Any]]]] = {}
    for key, upd in updates:
        out.setdefault(index_partition(key, partitions), []).append((key, upd))
    return out


def apply_index_update(get: Any, key: str, upd: Mapping[str, Any], partition: int,
                       cfg: RecommendSettings) -> list[tuple[str, dict[str, Any] | None]]:
    """New entries for ``key`` (and the partition's trending list) after ``upd``; None
    deletes the entry.

    ``get(key)`` reads the current entry from the index stage's own table.
    """
    if key == index.USERS_KEY:
        return [(key, index.add_user(get(key)))]
    if key.startswith(index.ITEM_PREFIX):
        pop = index.add_popularity(get(key), upd["w"], upd["ts"], cfg.trending_half_life_s)
        tkey = f"{index.TRENDING_PREFIX}{partition}"
        item = key[len(index.ITEM_PREFIX):]
        trend = index.update_trending(get(tkey), item, pop, cfg.trending_size,
                                      cfg.trending_half_life_s)
        return [(key, pop), (tkey, trend)]
    if upd.get("drop"):
        return [(key, index.remove_posting(get(key), upd["u"]))]
    return [(key, index.add_posting(get(key), upd["u"], upd["tf"], upd["new"],
                                    cfg.postings_per_term))]


def recommend(user_id: str, profile: Profile, view: Any,
              cfg: RecommendSettings) -> tuple[list[dict[str, Any]], CandidateSet]:
    cands = generate(user_id, profile, view, cfg)
    w = {"cf": cfg.weight_cf, "content": cfg.weight_content, "trending": cfg.weight_trending}
    return blend(cands.items, w, cfg.top_n, profile.items), cands


class MemoryPipeline:
    """The whole pipeline in one process: profiles, index and sketches in dictionaries."""

    def __init__(self, profile_cfg: ProfileSettings, rec_cfg: RecommendSettings,
                 partitions: int = 1) -> None:
        self.profile_cfg = profile_cfg
        self.rec_cfg = rec_cfg
        self.partitions = partitions
        self.view = MemoryView()
        self.profiles: dict[str, Profile] = {}

    def add_items(self, records: Iterable[Mapping[str, Any]]) -> None:
        for r in records:
            self.view.catalogue.upsert(r)

    def ingest(self, event: Mapping[str, Any]) -> None:
        user = event["user_id"]
        profile = self.profiles.setdefault(user, Profile())
        item = self.view.catalogue.get(event["item_id"])
        change = update_profile(profile, event, item, self.profile_cfg)
        weight, _ = event_weight(event, self.profile_cfg)
        for key, upd in index_updates(user, profile, change, event, weight):
            part = index_partition(key, self.partitions)
            for k, entry in apply_index_update(self.view.get_entry, key, upd, part,
                                               self.rec_cfg):
                self.view.set_entry(k, entry)
        self.view.sketches[user] = make_sketch(
            profile, user_vector(profile, self.view)[0], self.rec_cfg.sketch_terms,
            self.rec_cfg.sketch_items)

    def recommend(self, user_id: str) -> list[dict[str, Any]]:
        profile = self.profiles.get(user_id, Profile())
        return recommend(user_id, profile, self.view, self.rec_cfg)[0]
