"""One event's effect on state, as pure functions, and an in-process pipeline built on them.

The agents call exactly these functions; :class:`MemoryPipeline` strings them together without
Kafka for tests, offline evaluation and consistency checks (a clean recomputation).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from recstream.core import index, itemgraph
from recstream.core.candidates import CandidateSet, SourceCache, Sources, generate
from recstream.core.catalogue import CatalogueItem
from recstream.core.rank import blend
from recstream.core.sentiment import negative_review
from recstream.core.text import term_counts
from recstream.core.tfidf import (
    Profile,
    ProfileChange,
    already_applied,
    apply_event,
    mark_applied,
)
from recstream.core.view import MemoryView, make_sketch, sketch_due, user_vector
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


def apply_once(profile: Profile, event: Mapping[str, Any], item: CatalogueItem | None,
               cfg: ProfileSettings, offset: int | None = None) -> ProfileChange | None:
    """:func:`update_profile` unless ``profile`` already holds the event (same id among its
    last ``cfg.applied_ids``, or an input ``offset`` at or before the last applied one):
    then None and the counts are untouched; only a later offset is noted. The event's id
    and offset are recorded in the profile itself, so the state and the proof that the
    event is in it are one stored value (agents/profile.py)."""
    if already_applied(profile, event["event_id"], offset):
        if offset is not None:
            profile.offset = max(profile.offset, offset)
        return None
    change = update_profile(profile, event, item, cfg)
    mark_applied(profile, event["event_id"], offset, cfg.applied_ids)
    return change


def input_duplicate(stored: Any, source: str) -> bool:
    """Whether the clean stage drops an event as a duplicate: its id is stored
    (``stored``: the ``event_ids`` entry, None if none). The clean stage stores an id only
    once the broker has acknowledged the event it forwarded, so a stored id means the event
    is on ``events`` already, whether this is another record with the same id or the same
    input record (``source``: topic, partition, offset) replayed after a crash or a seek
    back. (Forwarding such a replay again put the event on ``events`` at a new offset; once
    it was more than ``profile.applied_ids`` events back, the profile applied it twice.)"""
    del source  # kept in the entry as provenance; either way it is a duplicate
    return stored is not None


#: field of a stored latest recommendation (agents/rank.py) holding the user's last
#: published [trigger event id, variant] pairs
PUBLISHED = "published"


def published_before(published: Sequence[Sequence[str]], trigger: str, variant: str) -> bool:
    """Whether (``trigger`` event id, ``variant``) is among a user's published pairs."""
    return any(t == trigger and v == variant for t, v in published)


def remember_published(published: Sequence[Sequence[str]], trigger: str, variant: str,
                       keep: int) -> list[list[str]]:
    """The user's published pairs with (``trigger``, ``variant``) added: the last ``keep``."""
    out = [list(pv) for pv in published if not (pv[0] == trigger and pv[1] == variant)]
    out.append([trigger, variant])
    return out[-keep:]


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


def graph_updates(history: Mapping[str, float], event: Mapping[str, Any],
                  cfg: RecommendSettings) -> list[tuple[str, dict[str, Any]]]:
    """The item graph's messages for the index stage (:func:`itemgraph.observe`), keyed by
    the item whose entry they update: ``history`` is the user's item map *before* the event
    (the profile stage computes them before :func:`apply_once`). Their keys start with
    :data:`itemgraph.GRAPH_PREFIX`, so :func:`batch_by_partition` routes them like the term
    index's and :func:`apply_index_update` applies them."""
    return itemgraph.observe(history, event["item_id"], float(event["ts"]),
                             itemgraph.GraphConfig.of(cfg))


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
    if key.startswith(itemgraph.GRAPH_PREFIX):
        return [(key, itemgraph.apply(get(key), upd, itemgraph.GraphConfig.of(cfg)))]
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


def recommend(user_id: str, profile: Profile, view: Any, cfg: RecommendSettings,
              sources: SourceCache[Sources] | None = None
              ) -> tuple[list[dict[str, Any]], CandidateSet]:
    cands = generate(user_id, profile, view, cfg, sources=sources)
    w = {"cf": cfg.weight_cf, "content": cfg.weight_content, "trending": cfg.weight_trending,
         "cooc": cfg.weight_cooc, "seq": cfg.weight_seq}
    return blend(cands.items, w, cfg.top_n, profile.items), cands


class MemoryPipeline:
    """The whole pipeline in one process: profiles, index (with the item graph) and sketches
    in dictionaries."""

    def __init__(self, profile_cfg: ProfileSettings, rec_cfg: RecommendSettings,
                 partitions: int = 1) -> None:
        self.profile_cfg = profile_cfg
        self.rec_cfg = rec_cfg
        self.partitions = partitions
        self.view = MemoryView()
        self.profiles: dict[str, Profile] = {}
        self.sources: SourceCache[Sources] = SourceCache(rec_cfg)  # as the workers reuse them
        self.duplicates = 0  # events ignored because their profile already held them

    def add_items(self, records: Iterable[Mapping[str, Any]]) -> None:
        for r in records:
            self.view.catalogue.upsert(r)

    def ingest(self, event: Mapping[str, Any]) -> bool:
        """Apply one event; False (and nothing changes) when its id was already applied
        to the user's profile, as in the profile stage."""
        user = event["user_id"]
        profile = self.profiles.setdefault(user, Profile())
        item = self.view.catalogue.get(event["item_id"])
        graph = graph_updates(profile.items, event, self.rec_cfg)  # before the profile moves
        change = apply_once(profile, event, item, self.profile_cfg)
        if change is None:
            self.duplicates += 1
            return False
        weight, _ = event_weight(event, self.profile_cfg)
        for key, upd in index_updates(user, profile, change, event, weight) + graph:
            part = index_partition(key, self.partitions)
            for k, entry in apply_index_update(self.view.get_entry, key, upd, part,
                                               self.rec_cfg):
                self.view.set_entry(k, entry)
        if sketch_due(profile, self.rec_cfg.sketch_every):
            self.view.set_sketch(user, make_sketch(
                profile, user_vector(profile, self.view)[0], self.rec_cfg.sketch_terms,
                self.rec_cfg.sketch_items))
        return True

    def recommend(self, user_id: str) -> list[dict[str, Any]]:
        profile = self.profiles.get(user_id, Profile())
        return recommend(user_id, profile, self.view, self.rec_cfg, self.sources)[0]
