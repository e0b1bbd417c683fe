"""``GET /metrics`` on a worker during a replay: kafka-lag-exporter's lag series, events per
stage and outcome, dead letters by reason, latency histograms and recommendation counts, all
in the Prometheus text format with non-zero values."""

from __future__ import annotations

import time
from collections import defaultdict

import pytest
from ops_support import movielens_burst
from prometheus_client.parser import text_string_to_metric_families

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

# series name -> labels every sample must carry
LAG_SERIES = {
    "kafka_consumergroup_group_lag": {"cluster_name", "group", "topic", "partition",
                                      "member_host", "consumer_id", "client_id"},
    "kafka_consumergroup_group_lag_seconds": {"cluster_name", "group", "topic", "partition",
                                              "member_host", "consumer_id", "client_id"},
    "kafka_consumergroup_group_offset": {"cluster_name", "group", "topic", "partition",
                                         "member_host", "consumer_id", "client_id"},
    "kafka_consumergroup_group_max_lag": {"cluster_name", "group", "is_simple_consumer"},
    "kafka_consumergroup_group_max_lag_seconds": {"cluster_name", "group",
                                                  "is_simple_consumer"},
    "kafka_consumergroup_group_sum_lag": {"cluster_name", "group"},
    "kafka_consumergroup_group_topic_sum_lag": {"cluster_name", "group", "topic"},
    "kafka_partition_latest_offset": {"cluster_name", "topic", "partition"},
}
PIPELINE_SERIES = {
    "recstream_events_total": {"stage", "outcome"},
    "recstream_dead_letters_total": {"reason"},
    "recstream_recommendation_latency_seconds_count": set(),
    "recstream_event_to_recommendation_seconds_count": set(),
    "recstream_recommendations_total": {"variant"},
}


def scrape(worker) -> dict[str, list[tuple[dict[str, str], float]]]:
    status, text = worker.get("/metrics")
    assert status == 200, text
    out: dict[str, list[tuple[dict[str, str], float]]] = defaultdict(list)
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[s.name].append((s.labels, s.value))
    return out


def test_metrics_during_a_replay(cluster, producer) -> None:
    burst = movielens_burst(users=300, per_user=5)
    (worker,) = cluster.start(1)
    group = f"{cluster.prefix}recstream"
    producer.items(burst.items)
    producer.raw("ratings", "u-bad", b"{not json")
    producer.raw("clicks", "u-bad", b'{"event_id": "x", "user_id": "u-bad"}')
    producer.events(burst.events)

    peak: dict[str, float] = defaultdict(float)
    deadline = time.monotonic() + 75
    last: dict[str, list[tuple[dict[str, str], float]]] = {}
    wanted = set(LAG_SERIES) | set(PIPELINE_SERIES)
    while time.monotonic() < deadline:
        last = scrape(worker)
        for name in wanted:
            for labels, value in last.get(name, []):
                assert set(labels) >= (LAG_SERIES | PIPELINE_SERIES)[name], (name, labels)
                if name.startswith("kafka_"):
                    assert labels["group"] == group if "group" in labels else True
                peak[name] = max(peak[name], value)
        if all(peak[n] > 0 for n in wanted):
            break
        time.sleep(0.5)
    missing = sorted(n for n in wanted if peak[n] <= 0)
    assert not missing, f"series never above 0 during the replay: {missing}"

    stages = {(lb["stage"], lb["outcome"]) for lb, v in last["recstream_events_total"] if v}
    assert {("clean", "ok"), ("clean", "dead_letter"), ("profile", "ok"), ("index", "ok"),
            ("rank", "ok")} <= stages, stages
    reasons = {lb["reason"] for lb, v in last["recstream_dead_letters_total"] if v}
    assert {"malformed_json", "missing_field"} & reasons, reasons
    # no scorer is enabled here, so nothing is degraded; the series is there, at 0
    degraded = last["recstream_recommendations_degraded_total"]
    assert degraded and all(v == 0 for _, v in degraded)
    buckets = [v for lb, v in last["recstream_event_to_recommendation_seconds_bucket"]]
    assert buckets == sorted(buckets) and buckets[-1] > 0
    status = last["recstream_consumergroup_status"]
    assert len(status) == 1 and status[0][0]["status"] in {"OK", "WARN", "ERR"}
