"""The Faust app factory: topics, tables and replicas, declared once; agents register on it.

Nothing runs at import: :func:`create_pipeline` builds a fresh app from a typed
:class:`~recstream.settings.Settings`, so tests and several workers can build their own.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any

import faust
from faust.streams import _current_event

from recstream.core.classify import ZeroShotClassifier, lazy_encoder
from recstream.core.privacy import load_key
from recstream.settings import Settings, WorkerSettings
from streams.metrics import PipelineMetrics
from streams.offsets import exempt, on_assigned
from streams.offsets import install as install_commit_guard
from streams.publish import Publisher
from streams.replica import Replica
from streams.scoring import ScoreClient
from streams.security import faust_credentials
from streams.topics import TopicNames, topic_names
from streams.views import ReplicatedView

MODEL_VERSION = "tfidf-cf-1"


@dataclass
class Pipeline:
    """Everything an agent needs: settings, the app, its topics, tables and global view."""

    settings: Settings
    app: faust.App
    names: TopicNames
    raw_events: Any  # faust topic over clicks, purchases, ratings (raw bytes)
    events: Any
    index_updates: Any
    sketches: Any
    recommendations: Any
    dead_letters: Any
    profiles: Any  # Table user -> profile dict (RocksDB, changelog)
    event_ids: Any  # Table event_id -> ts, for de-duplication
    term_index: Any  # Table index key -> entry (see recstream.core.index)
    latest: Any  # Table user -> latest recommendation record
    view: ReplicatedView
    replica: Replica
    model_version: str = MODEL_VERSION
    metrics: PipelineMetrics = field(default_factory=lambda: PipelineMetrics("", ""))
    scoring: ScoreClient | None = None  # the LLM scorer's client when scorer.enabled
    feedback: Any = None  # Table "<partition>/..." -> feedback join state (agents/feedback.py)
    metrics_out: Any = None  # the `metrics` contract topic (key: variant)
    privacy_key: bytes = b""  # privacy.key: pseudonyms and sealed ids (recstream.core.privacy)
    forget: Any = None  # erasure requests (key: user pseudonym; agents/profile.py, feedback.py)
    forget_replies: Any = None  # each stage's erasure report (key: request id)
    # learned blend (agents/learn.py), only with learn.enabled: training-example topic, the
    # changelog-backed model table, and every worker's replica of the latest model state
    learn_examples: Any = None
    learner: Any = None  # Table "blend" -> recstream.core.learn.Learner.state()
    blend_model: dict[str, Any] = field(default_factory=dict)
    # transactional publication of recommendations + input offsets (streams/publish.py);
    # None: at-least-once publication through Faust's producer
    publisher: Publisher | None = None

    def changelog_topics(self) -> list[tuple[str, int, dict[str, str]]]:
        """(name, partitions, config) of every table's changelog, for ``ensure_topics``
        before the worker starts: when Faust creates them itself, on a fresh or just
        restarted broker its consumer can subscribe first, see them with 0 partitions and
        crash the agents that write those tables with PartitionsMismatch, for good. The
        config carries each table's ``extra_topic_configs`` (privacy.compaction_configs):
        a topic created here keeps them, Faust never revisits an existing topic's config."""
        return [(t.changelog_topic.get_topic_name(), self.names.partitions,
                 {"cleanup.policy": "compact", **(t.extra_topic_configs or {})})
                for t in self.app.tables.values()]


def broker_urls(bootstrap: str) -> list[str]:
    return [f"kafka://{h.strip()}" for h in bootstrap.split(",") if h.strip()]


def current_partition() -> int:
    """The partition of the message the calling agent is processing (to send an output,
    keyed by a raw id, to the partition its pseudonymous input came from)."""
    event = faust.current_event()
    assert event is not None, "outside an agent"
    return int(event.message.partition)


def scope_to(event: Any) -> None:
    """Send the calling task's table reads and writes to ``event``'s partition.

    A table is read and written in the partition of the *current event*, which an agent
    taking events in batches must set per event. Only the task's context variable is set,
    never the stream's ``current_event`` attribute: faust's ``take_events`` reads that
    attribute to know which event it buffered, and setting it from the agent made it buffer
    (and later acknowledge) the wrong events."""
    _current_event.set(weakref.ref(event))


async def write_through(table: Any, key: Any, value: Any) -> Any:
    """``table[key] = value``, with the changelog record sent straight to the producer
    rather than through Faust's producer buffer; returns its future (resolved when the broker
    has it). Table keys are written in the partition of the current event (:func:`scope_to`).

    An agent awaits these futures before its batch is acknowledged, so a commit never passes
    an event whose state change has not reached the changelog. Faust's own commit only
    *tries* to drain its buffer (``ProducerBuffer.flush`` gives up after 0.1 s without
    progress), and under load a SIGKILL after a commit lost changelog records: a new owner
    restored a stale profile and never replayed the events (the 50,000-event chaos run: n 23
    for 108 events). Awaiting the buffer instead halved the throughput (every agent waited
    for every other's queued records)."""
    partition = table.partition_for_key(key)
    table.data[key] = value  # readers (HTTP) see it now, before any await
    return await table.changelog_topic.send(
        key=key, value=value, partition=partition,
        key_serializer=table.key_serializer, value_serializer=table.value_serializer,
        callback=table._on_changelog_sent)  # keeps RocksDB's persisted changelog offset


def batches(stream: Any, worker: WorkerSettings) -> Any:
    """The stream's events in batches of up to ``worker.stage_batch``, each closed after
    ``worker.stage_batch_wait_ms`` (under a backlog batches fill; at a trickle an event is
    its own batch). Faust acknowledges a batch when the agent asks for the next one."""
    return stream.take_events(worker.stage_batch, within=worker.stage_batch_wait_ms / 1e3)


def owns(app: faust.App, event: Any) -> bool:
    """Whether this worker still holds ``event``'s partition: a batch that awaited (the
    scorer, the broker) may find it revoked by a rebalance, and its new owner then replays
    the batch from the committed offset; writing the batch's state here as well would race
    that owner's writes in the changelog (a stale profile written last wins)."""
    msg = event.message
    return (msg.topic, msg.partition) in app.consumer.assignment()


def privacy_key(settings: Settings) -> bytes:
    """``privacy.key`` (or the key file's) bytes; raises
    :class:`recstream.core.privacy.MissingKey` when none is configured."""
    secret = settings.privacy.key
    return load_key(secret.get_secret_value() if secret else None, settings.privacy.key_file)


def transactional_publisher(app: faust.App, settings: Settings, names: TopicNames
                            ) -> Publisher:
    """A :class:`Publisher` fenced on every assignment (before committed offsets are read)
    whose commits the guarded consumer never moves back."""
    publisher = Publisher(settings, names.events, names.recommendations)

    async def fence(assigned: set[Any]) -> None:
        await publisher.fence(tp.partition for tp in assigned if tp.topic == names.events)

    on_assigned(app, fence)
    exempt(app, names.recommendations)  # its commit markers leave gaps in its offsets
    publisher.owns = lambda part: (names.events, part) in app.consumer.assignment()
    publisher.on_commit.append(lambda tp, offset: app.consumer.note_committed(tp, offset))

    @app.on_before_shutdown.connect  # type: ignore[misc]
    async def close_publisher(app: faust.App, **kwargs: Any) -> None:
        await publisher.close()
    return publisher


def create_pipeline(settings: Settings) -> Pipeline:
    key = privacy_key(settings)  # before anything starts: no key, no worker
    w = settings.worker
    names = topic_names(settings)
    datadir = w.data_dir / f"{settings.group_id}-{w.web_port}"
    datadir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        settings.group_id,
        broker=broker_urls(settings.bootstrap),
        store=w.store,
        datadir=str(datadir),
        web_port=w.web_port,
        web_bind=w.web_host,
        web_host=w.web_host,
        topic_partitions=settings.topics.partitions,
        topic_replication_factor=1,
        consumer_auto_offset_reset="earliest",
        table_standby_replicas=w.standby_replicas,
        producer_linger_ms=w.producer_linger_ms,
        producer_compression_type=None if w.producer_compression == "none"
        else w.producer_compression,
        # a profile's changelog record is tens of KB; with the 16 KB default every one was
        # its own batch and the send path waited a broker round trip per record
        producer_max_batch_size=1024 * 1024,
        broker_commit_interval=1.0,
        broker_credentials=faust_credentials(settings.security),
        processing_guarantee=w.processing_guarantee,
        stream_wait_empty=False,
        autodiscover=False,
        web_enabled=True,
    )
    # never commit past an unprocessed record (streams/offsets.py, faust-streaming #606/#221)
    guarded = install_commit_guard(app)

    def json_topic(name: str, **kw: Any) -> Any:
        return app.topic(name, key_type=str, key_serializer="raw", value_serializer="json",
                         partitions=names.partitions, **kw)

    raw = app.topic(*names.inputs, key_serializer="raw", value_serializer="raw")

    def store_options() -> dict[str, int]:
        """RocksDB options of one table (a fresh dict: Faust's store pops keys from it)."""
        return {"write_buffer_size": w.rocksdb_write_buffer_mb << 20,
                "max_write_buffer_number": 2,
                "block_cache_size": w.rocksdb_block_cache_mb << 20,
                "block_cache_compressed_size": w.rocksdb_block_cache_mb << 20}

    def table(name: str, **kw: Any) -> Any:
        return app.Table(name, default=None, key_type=bytes,  # raw UTF-8 keys, as producers send
                         partitions=names.partitions, options=store_options(),
                         extra_topic_configs=settings.privacy.compaction_configs, **kw)

    term_index = table("term_index")
    view = ReplicatedView(names, term_index.changelog_topic.get_topic_name())
    if settings.catalogue.classify_untagged:  # untagged items get the nearest categories
        cc = settings.catalogue
        view.catalogue.classifier = ZeroShotClassifier(
            lazy_encoder(settings.scorer.model), top=cc.classify_top,
            template=cc.classify_template)
    replica = Replica(settings.bootstrap, view.topics, view.apply, security=settings.security)
    pipeline = Pipeline(
        settings=settings, app=app, names=names, raw_events=raw,
        events=json_topic(names.events), index_updates=json_topic(names.index_updates),
        sketches=json_topic(names.sketches), recommendations=json_topic(names.recommendations),
        dead_letters=json_topic(names.dead_letters),
        profiles=table("profiles"), event_ids=table("event_ids"), term_index=term_index,
        latest=table("latest_recommendations"), view=view, replica=replica,
        metrics=PipelineMetrics(settings.group_id, settings.bootstrap,
                                slo_ms=settings.worker.freshness_slo_ms),
        feedback=app.Table("feedback", default=None, key_type=str,
                           partitions=names.partitions, options=store_options(),
                           extra_topic_configs=settings.privacy.compaction_configs),
        metrics_out=json_topic(names.metrics),
        privacy_key=key, forget=json_topic(names.forget),
        forget_replies=json_topic(names.forget_replies),
    )

    if guarded and w.transactional_publish:
        pipeline.publisher = transactional_publisher(app, settings, names)

    if settings.learn.enabled:
        # one key ("blend"), so one partition and one writer; internal: Faust creates it
        pipeline.learn_examples = json_topic(f"{settings.group_id}-learn-examples",
                                             internal=True)
        pipeline.learner = app.Table("learner", default=None, key_type=str,
                                     partitions=names.partitions, options=store_options())

    if settings.scorer.enabled:
        pipeline.scoring = ScoreClient(settings.scorer, settings.bootstrap,
                                       json_topic(names.score_requests), names.score_replies,
                                       security=settings.security)

    @app.task
    async def start_replica() -> None:
        await app.add_runtime_dependency(replica)
    return pipeline
