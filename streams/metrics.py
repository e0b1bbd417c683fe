"""Prometheus metrics of a worker (``GET /metrics``) and the recent history its dashboard plots.

Each :class:`~streams.app.Pipeline` owns one :class:`PipelineMetrics` with its own registry
(several pipelines can live in one process, as in tests). Agents count with one call each;
a background timer polls consumer lag (``streams/lag.py``) and a second one records a point
of history every :data:`HISTORY_INTERVAL_S`.

Series (``_total`` counters, histograms in seconds):

- ``recstream_events_total{stage, outcome}``: clean ok/duplicate/dead_letter, profile ok,
  index ok (one per index-update batch), candidates ok/empty, rank ok/degraded
- ``recstream_dead_letters_total{reason}``
- ``recstream_recommendation_latency_seconds``: published_ts − the time this worker received
  the trigger event (processing latency)
- ``recstream_event_to_recommendation_seconds``: published_ts − the trigger's Kafka
  timestamp (its produce time: end-to-end latency, queueing in the topic included)
- ``recstream_recommendations_total{variant}``,
  ``recstream_recommendations_degraded_total{variant}``
- ``recstream_llm_scores_total{path}``: LLM scores of user events by where they came from:
  ``worker`` (computed here from the replicated item embeddings), ``scorer`` (a request
  answered), ``none`` (no answer: degraded)
- ``recstream_feedback_impressions_total|clicked_total|hits_total|late_impressions_total
  {variant}``: online feedback per A/B variant, counted as windows close;
  ``recstream_feedback_early_impressions_total``: made final early (``feedback.max_pending``)
- kafka-lag-exporter's names and labels for every pipeline group:
  ``kafka_consumergroup_group_offset|lag|lag_seconds`` (per partition, labels cluster_name,
  group, topic, partition, member_host, consumer_id, client_id),
  ``kafka_consumergroup_group_max_lag|max_lag_seconds`` (cluster_name, group,
  is_simple_consumer), ``kafka_consumergroup_group_sum_lag`` (cluster_name, group),
  ``kafka_consumergroup_group_topic_sum_lag`` (cluster_name, group, topic),
  ``kafka_partition_latest_offset|earliest_offset`` (cluster_name, topic, partition),
  ``kafka_consumergroup_poll_time_ms`` (cluster_name); plus
  ``recstream_consumergroup_status{cluster_name, group, status}`` (1 for the Burrow status)
  and ``recstream_consumergroup_consume_rate{cluster_name, group, topic, partition}``.

The dashboard's summary adds the freshness SLO (:meth:`PipelineMetrics.slo`: the last
minute's records within ``worker.freshness_slo_ms`` of their event's produce time) and the
latest published records (:meth:`PipelineMetrics.recent`), both computed when asked.

Lag is the whole group's (read from Kafka), so every worker reports the same lag series;
aggregate with ``max by (group, topic, partition)``. Counters and latencies are this
worker's own.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest

from recstream.ops.lag import GroupLag, LagTracker
from recstream.ops.stats import counter_rate, percentiles

log = logging.getLogger(__name__)

LAG_INTERVAL_S = 5.0  # how often a worker polls consumer lag (kafka-lag-exporter: 30 s)
HISTORY_INTERVAL_S = 2.0  # dashboard resolution
FEEDBACK_WINDOWS = 500  # closed (window, variant) points kept for the dashboard
HISTORY_POINTS = 300  # 10 minutes at 2 s
LATENCY_WINDOW_S = 30.0  # percentiles over the last 30 s of recommendations
SHARE_WINDOW_S = 60.0  # degraded share and freshness SLO over the last minute
RECENT_RECORDS = 8  # latest published records the dashboard lists
SLO_OBJECTIVE = 0.99  # share of records that must be within the freshness target
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
                   60.0, 120.0, 300.0)


def trace(message: Any, received_ts: float) -> dict[str, float | None]:
    """Timing fields carried from the raw input to the rank stage (internal topics only)."""
    ts = getattr(message, "timestamp", None)
    return {"received_ts": received_ts, "produced_ts": float(ts) if ts else None}


def carry(record: Mapping[str, Any]) -> dict[str, Any]:
    """The :func:`trace` fields of ``record`` (empty when absent), to pass on downstream."""
    return {k: record[k] for k in ("received_ts", "produced_ts") if k in record}


class PipelineMetrics:
    """Counters, latency histograms and lag of one worker, in its own registry."""

    def __init__(self, group_id: str, bootstrap: str, cluster_name: str | None = None,
                 lag_window: int = 10, slo_ms: float = 250.0) -> None:
        self.group_id = group_id
        self.slo_ms = slo_ms  # worker.freshness_slo_ms
        self.bootstrap = bootstrap
        self.cluster_name = cluster_name or bootstrap
        self.registry = r = CollectorRegistry(auto_describe=True)
        self.events = Counter("recstream_events", "Events handled per pipeline stage and "
                              "outcome.", ["stage", "outcome"], registry=r)
        self.dead_letters = Counter("recstream_dead_letters", "Input records sent to "
                                    "dead-letters, by reason.", ["reason"], registry=r)
        self.latency = Histogram("recstream_recommendation_latency_seconds", "published_ts "
                                 "minus the time this worker received the trigger event.",
                                 buckets=LATENCY_BUCKETS, registry=r)
        self.e2e_latency = Histogram("recstream_event_to_recommendation_seconds",
                                     "published_ts minus the trigger's Kafka (produce) "
                                     "timestamp.", buckets=LATENCY_BUCKETS, registry=r)
        self.recommendations = Counter("recstream_recommendations", "Recommendation records "
                                       "published.", ["variant"], registry=r)
        self.degraded = Counter("recstream_recommendations_degraded", "Recommendations "
                                "published without the LLM score (scorer slow or down).",
                                ["variant"], registry=r)
        self.llm_scores = Counter("recstream_llm_scores", "LLM scores of user events by "
                                  "source: worker (replicated item embeddings), scorer (a "
                                  "request answered), none (degraded).", ["path"], registry=r)
        # online feedback (agents/feedback.py), counted when a window closes: CTR is
        # clicked / impressions, precision@k is hits / (k · impressions)
        self.fb_impressions = Counter("recstream_feedback_impressions", "Impressions in "
                                      "closed feedback windows.", ["variant"], registry=r)
        self.fb_clicked = Counter("recstream_feedback_clicked", "Impressions followed by an "
                                  "event on one of their top-k items within the join window.",
                                  ["variant"], registry=r)
        self.fb_hits = Counter("recstream_feedback_hits", "Top-k items of impressions that "
                               "the user interacted with within the join window.",
                               ["variant"], registry=r)
        self.fb_late = Counter("recstream_feedback_late_impressions", "Impressions dropped: "
                               "their window had closed.", ["variant"], registry=r)
        self.fb_early = Counter("recstream_feedback_early_impressions", "Impressions made "
                                "final before their join window ended: the user had "
                                "feedback.max_pending newer ones.", registry=r)
        self.tracker = LagTracker(window=lag_window)
        self.lag: list[GroupLag] = []
        self.lag_poll_ms: float | None = None
        self.lag_error: str | None = None
        r.register(_LagCollector(self))
        self._lock = threading.Lock()
        self._recent: deque[tuple[float, float, float | None]] = deque(maxlen=20_000)
        # the latest records as published (not copied: formatted only when asked for)
        self._records: deque[tuple[Mapping[str, Any], float | None]] = deque(
            maxlen=RECENT_RECORDS)
        self._ticks: deque[dict[str, Any]] = deque(maxlen=HISTORY_POINTS)
        self._counts: deque[tuple[float, float, float, float]] = deque(maxlen=HISTORY_POINTS)
        self._started = time.time()
        # closed feedback windows: (window start, variant) -> [impressions, clicked, prec sum]
        self._fb: dict[tuple[float, str], list[float]] = {}

    # ---------------------------------------------------------------- agent hooks
    def event(self, stage: str, outcome: str = "ok") -> None:
        self.events.labels(stage, outcome).inc()

    def llm_scored(self, path: str) -> None:
        """One user event's LLM score came from ``path``: worker, scorer or none."""
        self.llm_scores.labels(path).inc()

    def dead_letter(self, reason: str) -> None:
        self.events.labels("clean", "dead_letter").inc()
        self.dead_letters.labels(reason).inc()

    def published(self, record: Mapping[str, Any], trigger: Mapping[str, Any]) -> None:
        """Count one published recommendation; observe its latencies from ``trigger``'s
        :func:`trace` fields (absent fields are skipped)."""
        variant, degraded = str(record.get("variant", "default")), bool(record.get("degraded"))
        self.events.labels("rank", "degraded" if degraded else "ok").inc()
        self.recommendations.labels(variant).inc()
        if degraded:
            self.degraded.labels(variant).inc()
        else:
            self.degraded.labels(variant)  # the series exists (at 0) from the first record
        published = float(record["published_ts"])
        lat = e2e = None
        if trigger.get("received_ts"):
            lat = max(published - float(trigger["received_ts"]), 0.0)
            self.latency.observe(lat)
        if trigger.get("produced_ts"):
            e2e = max(published - float(trigger["produced_ts"]), 0.0)
            self.e2e_latency.observe(e2e)
        with self._lock:
            if lat is not None:
                self._recent.append((published, lat, e2e))
            self._records.append((record, e2e))

    def feedback(self, record: Mapping[str, Any]) -> None:
        """Count one closed feedback window record (recstream.core.feedback)."""
        v = str(record["variant"])
        self.fb_impressions.labels(v).inc(record["impressions"])
        self.fb_clicked.labels(v).inc(record["clicked"])
        self.fb_hits.labels(v).inc(record["hits"])
        n = record["impressions"]
        if n:  # per (window, variant) over this worker's partitions, for the dashboard
            acc = self._fb.setdefault((float(record["window_start"]), v), [0.0, 0.0, 0.0])
            acc[0] += n
            acc[1] += record["clicked"]
            acc[2] += (record["precision"] or 0.0) * n
            while len(self._fb) > FEEDBACK_WINDOWS:
                del self._fb[min(self._fb)]

    def feedback_late(self, variant: str) -> None:
        self.fb_late.labels(variant).inc()

    def feedback_early(self, n: int) -> None:
        self.fb_early.inc(n)

    # ---------------------------------------------------------------- lag and history
    def set_lag(self, groups: list[GroupLag], poll_ms: float) -> None:
        self.lag, self.lag_poll_ms, self.lag_error = groups, poll_ms, None

    def tick(self, now: float | None = None) -> dict[str, Any]:
        """Record one history point (throughput, latency percentiles, degraded share, lag)."""
        now = time.time() if now is None else now
        if not self._counts and self._started < now:
            # every counter was 0 at start: a burst that ends before the first tick still shows
            self._counts.append((self._started, 0.0, 0.0, 0.0))
        events_in, recs = _sum(self.events, stage="clean"), _sum(self.recommendations)
        degraded = _sum(self.degraded)
        self._counts.append((now, events_in, recs, degraded))
        pts = list(self._counts)
        span = 3 * HISTORY_INTERVAL_S
        with self._lock:
            recent = [x for x in self._recent if x[0] >= now - LATENCY_WINDOW_S]
        lat = percentiles(x[1] for x in recent)
        e2e = percentiles(x[2] for x in recent if x[2] is not None)
        base = next(p for p in pts if p[0] >= now - SHARE_WINDOW_S)
        d_recs, d_degraded = (recs - base[2], degraded - base[3]) if base is not pts[-1] else (
            recs, degraded)
        point = {
            "t": round(now, 3),
            "events_per_s": round(counter_rate([(p[0], p[1]) for p in pts], span), 3),
            "recommendations_per_s": round(counter_rate([(p[0], p[2]) for p in pts], span), 3),
            "latency": {k: _r(v) for k, v in lat.items()},
            "e2e_latency": {k: _r(v) for k, v in e2e.items()},
            "degraded_share": round(d_degraded / d_recs, 4) if d_recs > 0 else 0.0,
            "lag": sum(g.lag for g in self.lag),
            "slo_share": self.slo(now)["share"],
        }
        self._ticks.append(point)
        return point

    def slo(self, now: float | None = None) -> dict[str, Any]:
        """The freshness SLO over the last :data:`SHARE_WINDOW_S`: records with an end-to-end
        latency (published_ts − the event's produce time), the share within ``slo_ms``, their
        p99 (ms) and whether the objective (:data:`SLO_OBJECTIVE` within target) is met
        (None: no record in the window)."""
        now = time.time() if now is None else now
        with self._lock:
            e2e = [x[2] for x in self._recent if x[0] >= now - SHARE_WINDOW_S
                   and x[2] is not None]
        within = sum(x * 1000.0 <= self.slo_ms for x in e2e)
        p99 = percentiles(e2e, (0.99,))["p99"]
        share = round(within / len(e2e), 4) if e2e else None
        return {"target_ms": self.slo_ms, "objective": SLO_OBJECTIVE,
                "window_s": SHARE_WINDOW_S, "records": len(e2e), "share": share,
                "p99_ms": None if p99 is None else round(p99 * 1000.0, 1),
                "met": None if share is None else share >= SLO_OBJECTIVE}

    def recent(self) -> list[dict[str, Any]]:
        """The latest published records, newest first, as the dashboard lists them: user,
        top 3 titles with their first reason, freshness (ms), degraded."""
        with self._lock:
            latest = list(self._records)
        return [{"user_id": r.get("user_id"), "published_ts": r.get("published_ts"),
                 "freshness_ms": None if e2e is None else round(e2e * 1000.0, 1),
                 "degraded": bool(r.get("degraded")),
                 "items": [{"item_id": i.get("item_id"), "title": i.get("title") or "",
                            "reason": (i.get("reasons") or [""])[0]}
                           for i in (r.get("items") or [])[:3]]}
                for r, e2e in reversed(latest)]

    def summary(self) -> dict[str, Any]:
        """What the dashboard shows: totals, the history, the latest lag poll, the freshness
        SLO and the latest records."""
        return {
            "group": self.group_id, "cluster": self.cluster_name, "t": time.time(),
            "slo": self.slo(), "recent": self.recent(),
            "history": list(self._ticks),
            "totals": {
                "events": {f"{lb['stage']}/{lb['outcome']}": v
                           for lb, v in _values(self.events)},
                "dead_letters": {lb["reason"]: v for lb, v in _values(self.dead_letters)},
                "recommendations": _sum(self.recommendations),
                "degraded": _sum(self.degraded),
            },
            "lag": {"poll_ms": self.lag_poll_ms, "error": self.lag_error,
                    "groups": [{"group": g.group, "state": g.state, "status": g.status,
                                "members": len(g.members), "lag": g.lag,
                                "max_lag_seconds": round(g.max_lag_seconds, 3),
                                "rate": round(g.rate, 3), "t": g.t} for g in self.lag],
                    "partitions": [p.to_json() for g in self.lag for p in g.partitions]},
            "feedback": [{"window_start": w, "variant": v, "impressions": a[0],
                          "ctr": a[1] / a[0], "precision": a[2] / a[0]}
                         for (w, v), a in sorted(self._fb.items())],
        }

    def exposition(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def _values(metric: Any, **match: str) -> list[tuple[dict[str, str], float]]:
    """(labels, value) of a counter's ``_total`` samples whose labels include ``match``."""
    return [(smp.labels, smp.value) for fam in metric.collect() for smp in fam.samples
            if smp.name.endswith("_total")
            and all(smp.labels.get(k) == v for k, v in match.items())]


def _sum(metric: Any, **match: str) -> float:
    return sum(v for _, v in _values(metric, **match))


class _LagCollector:
    """Exposes the last lag poll under kafka-lag-exporter's metric names at scrape time."""

    def __init__(self, m: PipelineMetrics) -> None:
        self.m = m

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        m, cl = self.m, self.m.cluster_name
        part_labels = ["cluster_name", "group", "topic", "partition", "member_host",
                       "consumer_id", "client_id"]
        offset = GaugeMetricFamily("kafka_consumergroup_group_offset", "Last committed offset "
                                   "of the group for the partition.", labels=part_labels)
        lag = GaugeMetricFamily("kafka_consumergroup_group_lag", "Log-end offset minus "
                                "committed offset (messages).", labels=part_labels)
        lag_s = GaugeMetricFamily("kafka_consumergroup_group_lag_seconds", "Age of the "
                                  "oldest unconsumed message (s); interpolated from the "
                                  "log-end history when that record is unreadable.",
                                  labels=part_labels)
        glabels = ["cluster_name", "group", "is_simple_consumer"]
        max_lag = GaugeMetricFamily("kafka_consumergroup_group_max_lag", "Highest partition "
                                    "lag of the group (messages).", labels=glabels)
        max_lag_s = GaugeMetricFamily("kafka_consumergroup_group_max_lag_seconds", "Highest "
                                      "partition lag of the group (s).", labels=glabels)
        sum_lag = GaugeMetricFamily("kafka_consumergroup_group_sum_lag", "Total lag of the "
                                    "group (messages).", labels=["cluster_name", "group"])
        topic_sum = GaugeMetricFamily("kafka_consumergroup_group_topic_sum_lag", "Total lag "
                                      "of the group per topic (messages).",
                                      labels=["cluster_name", "group", "topic"])
        latest = GaugeMetricFamily("kafka_partition_latest_offset", "Log-end offset.",
                                   labels=["cluster_name", "topic", "partition"])
        earliest = GaugeMetricFamily("kafka_partition_earliest_offset", "Log-start offset.",
                                     labels=["cluster_name", "topic", "partition"])
        status = GaugeMetricFamily("recstream_consumergroup_status", "1 for the group's "
                                   "Burrow-style status (OK, WARN, ERR, NOTFOUND).",
                                   labels=["cluster_name", "group", "status"])
        rate = GaugeMetricFamily("recstream_consumergroup_consume_rate", "Committed messages "
                                 "per second over the lag window.",
                                 labels=["cluster_name", "group", "topic", "partition"])
        seen_parts: set[tuple[str, int]] = set()  # a partition read by several groups
        for g in m.lag:
            simple = "false" if g.members else "true"
            topics: dict[str, int] = {}
            for p in g.partitions:
                labels = [cl, g.group, p.topic, str(p.partition), p.host, p.consumer_id,
                          p.client_id]
                if p.committed is not None:
                    offset.add_metric(labels, p.committed)
                lag.add_metric(labels, p.lag)
                if p.lag_seconds is not None:
                    lag_s.add_metric(labels, p.lag_seconds)
                if p.rate is not None:
                    rate.add_metric([cl, g.group, p.topic, str(p.partition)], p.rate)
                topics[p.topic] = topics.get(p.topic, 0) + p.lag
                if (p.topic, p.partition) not in seen_parts:
                    seen_parts.add((p.topic, p.partition))
                    latest.add_metric([cl, p.topic, str(p.partition)], p.end)
                    earliest.add_metric([cl, p.topic, str(p.partition)], p.start)
            max_lag.add_metric([cl, g.group, simple], g.max_lag)
            max_lag_s.add_metric([cl, g.group, simple], g.max_lag_seconds)
            sum_lag.add_metric([cl, g.group], g.lag)
            for topic, total in topics.items():
                topic_sum.add_metric([cl, g.group, topic], total)
            status.add_metric([cl, g.group, g.status], 1)
        yield from (offset, lag, lag_s, max_lag, max_lag_s, sum_lag, topic_sum, latest,
                    earliest, status, rate)
        if m.lag_poll_ms is not None:
            poll = GaugeMetricFamily("kafka_consumergroup_poll_time_ms", "Duration of the "
                                     "last lag poll (ms).", labels=["cluster_name"])
            poll.add_metric([cl], m.lag_poll_ms)
            yield poll


def register_metrics(p: Any) -> None:
    """``GET /metrics`` on the worker's web port and the lag/history timers."""
    from streams.lag import LagCollector, pipeline_groups

    m: PipelineMetrics = p.metrics
    state: dict[str, LagCollector] = {}

    def poll_lag() -> None:
        t0 = time.monotonic()
        try:
            if "c" not in state:
                state["c"] = LagCollector(m.bootstrap, timeout_s=LAG_INTERVAL_S,
                                          security=p.settings.security)
            c = state["c"]
            groups = pipeline_groups(c.list_groups(), m.group_id) or [m.group_id]
            result = [m.tracker.observe(s) for s in c.snapshot(groups)]
            m.set_lag(result, (time.monotonic() - t0) * 1000)
        except Exception as exc:  # a broker hiccup must not stop the sampler
            m.lag_error = repr(exc)
            log.warning("event=lag_poll_failed error=%r", exc)
            old = state.pop("c", None)
            if old is not None:
                old.close()

    @p.app.timer(interval=LAG_INTERVAL_S)
    async def sample_lag() -> None:
        await asyncio.get_running_loop().run_in_executor(None, poll_lag)

    @p.app.timer(interval=HISTORY_INTERVAL_S)
    async def record_history() -> None:
        m.tick()

    @p.app.page("/metrics")
    async def metrics(web: Any, request: Any) -> Any:
        body, content_type = m.exposition()
        return web.bytes(body, headers={"Content-Type": content_type})
