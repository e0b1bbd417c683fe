"""Topic names: the public contract (configurable) and recstream's internal topics."""

from __future__ import annotations

from dataclasses import dataclass

from recstream.settings import Settings

COMPACT = {"cleanup.policy": "compact"}


@dataclass(frozen=True)
class TopicNames:
    clicks: str
    purchases: str
    ratings: str
    items: str
    recommendations: str
    dead_letters: str
    metrics: str
    events: str  # validated events (key: user)
    index_updates: str  # term/user/item deltas (key: index key)
    sketches: str  # replicated CF user sketches (key: user, compacted)
    partitions: int
    score_requests: str = ""  # LLM score requests to the scorer group (key: user)
    score_replies: str = ""  # the scorer's answers (key: user)
    forget: str = ""  # erasure requests (key: user pseudonym, co-partitioned with events)
    forget_replies: str = ""  # each stage's erasure report (key: request id)
    item_embeddings: str = ""  # the scorer's item vectors, replicated by workers (key: item)
    compact_config: tuple[tuple[str, str], ...] = ()  # privacy.compaction_configs

    @property
    def inputs(self) -> tuple[str, str, str]:
        return (self.clicks, self.purchases, self.ratings)

    def all(self) -> list[tuple[str, int, dict[str, str]]]:
        """(name, partitions, config) of every topic recstream needs to exist."""
        p = self.partitions
        plain = [self.clicks, self.purchases, self.ratings, self.recommendations,
                 self.dead_letters, self.metrics, self.events,
                 self.index_updates, *(t for t in (self.score_requests, self.score_replies,
                                                   self.forget, self.forget_replies) if t)]
        compacted = [(self.items, p, COMPACT),
                     (self.sketches, p, {**dict(self.compact_config), **COMPACT})]
        if self.item_embeddings:
            compacted.append((self.item_embeddings, p, COMPACT))
        return [(t, p, {}) for t in plain] + compacted


def topic_names(settings: Settings) -> TopicNames:
    t = settings.topics
    internal = f"{settings.group_id}-"
    return TopicNames(
        clicks=t.name(t.clicks), purchases=t.name(t.purchases), ratings=t.name(t.ratings),
        items=t.name(t.items), recommendations=t.name(t.recommendations),
        dead_letters=t.name(t.dead_letters), metrics=t.name(t.metrics),
        events=internal + "events", index_updates=internal + "index-updates",
        sketches=internal + "user-sketches", partitions=t.partitions,
        score_requests=internal + "score-requests", score_replies=internal + "score-replies",
        forget=internal + "forget", forget_replies=internal + "forget-replies",
        item_embeddings=internal + "item-embeddings",
        compact_config=tuple(sorted(settings.privacy.compaction_configs.items())),
    )
