"""streams.metrics.PipelineMetrics without a broker: counters, history, exposition."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from recstream.ops.lag import GroupSnapshot, Member, PartitionOffsets
from streams.metrics import PipelineMetrics, carry, trace


class Msg:
    timestamp = 100.0  # Faust: seconds


def samples(m: PipelineMetrics) -> dict[str, list[tuple[dict[str, str], float]]]:
    body, content_type = m.exposition()
    assert content_type.startswith("text/plain")
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for fam in text_string_to_metric_families(body.decode()):
        for s in fam.samples:
            out.setdefault(s.name, []).append((s.labels, s.value))
    return out


def test_trace_fields_travel_and_give_both_latencies() -> None:
    t = trace(Msg(), received_ts=101.0)
    assert t == {"received_ts": 101.0, "produced_ts": 100.0}
    assert carry({"user_id": "u", **t}) == t and carry({"user_id": "u"}) == {}
    m = PipelineMetrics("g", "b:9092")
    m.published({"variant": "default", "degraded": False, "published_ts": 101.5}, t)
    m.published({"variant": "default", "degraded": True, "published_ts": 102.0}, {})
    s = samples(m)
    assert s["recstream_recommendation_latency_seconds_sum"][0][1] == pytest.approx(0.5)
    assert s["recstream_event_to_recommendation_seconds_sum"][0][1] == pytest.approx(1.5)
    assert s["recstream_recommendations_total"] == [({"variant": "default"}, 2.0)]
    assert s["recstream_recommendations_degraded_total"] == [({"variant": "default"}, 1.0)]
    assert ({"stage": "rank", "outcome": "degraded"}, 1.0) in s["recstream_events_total"]


def test_history_rates_percentiles_and_degraded_share() -> None:
    m = PipelineMetrics("g", "b:9092")
    m.tick(now=1000.0)
    for i in range(10):
        m.event("clean")
        m.published({"variant": "v", "degraded": i < 2, "published_ts": 1001.0},
                    {"received_ts": 1001.0 - 0.1 * (i + 1), "produced_ts": 999.0})
    point = m.tick(now=1002.0)
    assert point["events_per_s"] == pytest.approx(5.0)  # 10 events in 2 s
    assert point["recommendations_per_s"] == pytest.approx(5.0)
    assert point["latency"]["p50"] == pytest.approx(0.55)
    assert point["e2e_latency"]["p99"] == pytest.approx(2.0)
    assert point["degraded_share"] == pytest.approx(0.2)
    summary = m.summary()
    assert summary["totals"]["events"] == {"clean/ok": 10.0, "rank/ok": 8.0,
                                           "rank/degraded": 2.0}
    assert summary["feedback"] == [] and len(summary["history"]) == 2


def test_freshness_slo_over_the_last_minute() -> None:
    m = PipelineMetrics("g", "b:9092", slo_ms=250.0)
    assert m.slo(now=1000.0) == {"target_ms": 250.0, "objective": 0.99, "window_s": 60.0,
                                 "records": 0, "share": None, "p99_ms": None, "met": None}
    # produced at 900: e2e 0.1, 0.2, 0.25 (within 250 ms) and 0.4 s; one older than a minute
    m.published({"variant": "v", "published_ts": 830.0}, {"received_ts": 829.0,
                                                          "produced_ts": 829.9})
    for e2e in (0.1, 0.2, 0.25, 0.4):
        m.published({"variant": "v", "published_ts": 900.0 + e2e},
                    {"received_ts": 900.0, "produced_ts": 900.0})
    got = m.slo(now=901.0)
    assert got["records"] == 4 and got["share"] == 0.75 and got["met"] is False
    # p99 of 100, 200, 250, 400 ms: 250 + (400 − 250) · 0.97 = 395.5
    assert got["p99_ms"] == pytest.approx(395.5, abs=0.1)
    assert m.tick(now=901.0)["slo_share"] == 0.75
    assert m.summary()["slo"]["target_ms"] == 250.0


def test_recent_records_newest_first_with_top_three_titles() -> None:
    m = PipelineMetrics("g", "b:9092")
    items = [{"item_id": str(n), "title": f"Film {n}", "reasons": [f"reason {n}", "more"]}
             for n in range(5)]
    for n in range(10):
        m.published({"user_id": f"u{n}", "variant": "v", "published_ts": 100.0 + n,
                     "items": items, "degraded": n == 9},
                    {"received_ts": 100.0 + n, "produced_ts": 99.95 + n})
    recent = m.recent()
    assert [r["user_id"] for r in recent] == [f"u{n}" for n in range(9, 1, -1)]  # last 8
    assert recent[0]["degraded"] is True and recent[1]["degraded"] is False
    assert recent[0]["freshness_ms"] == pytest.approx(50.0, abs=0.1)
    assert recent[0]["items"] == [{"item_id": str(n), "title": f"Film {n}",
                                   "reason": f"reason {n}"} for n in range(3)]
    assert m.summary()["recent"] == recent


def test_closed_feedback_windows_are_combined_per_window_and_variant() -> None:
    m = PipelineMetrics("g", "b:9092")
    # two partitions' records of one window: CTR (1 + 2) / (4 + 4), precision weighted
    m.feedback({"variant": "A", "window_start": 3600.0, "impressions": 4, "clicked": 1,
                "hits": 1, "precision": 0.1})
    m.feedback({"variant": "A", "window_start": 3600.0, "impressions": 4, "clicked": 2,
                "hits": 2, "precision": 0.3})
    m.feedback({"variant": "B", "window_start": 3600.0, "impressions": 0, "clicked": 0,
                "hits": 0, "precision": None})  # an empty window adds no point
    (point,) = m.summary()["feedback"]
    assert point["variant"] == "A" and point["impressions"] == 8
    assert point["ctr"] == pytest.approx(3 / 8)
    assert point["precision"] == pytest.approx((0.1 * 4 + 0.3 * 4) / 8)


def test_lag_series_use_kafka_lag_exporter_names_and_labels() -> None:
    m = PipelineMetrics("g", "b:9092")
    member = Member("c-1", "10.0.0.7", "faust", frozenset({("ratings", 0)}))
    snap = GroupSnapshot("g", "Stable", 10.0, (member,),
                         (PartitionOffsets("ratings", 0, 40, 100, 5, 7.5),
                          PartitionOffsets("events", 1, 3, 3, 0)))
    m.set_lag([m.tracker.observe(snap)], poll_ms=12.5)
    s = samples(m)
    unowned = next(lb for lb, _ in s["kafka_consumergroup_group_lag"] if lb["topic"] == "events")
    assert unowned == {"cluster_name": "b:9092", "group": "g", "topic": "events",
                       "partition": "1", "member_host": "-", "consumer_id": "-",
                       "client_id": "-"}
    lag = {lb["topic"]: v for lb, v in s["kafka_consumergroup_group_lag"]}
    assert lag == {"ratings": 60.0, "events": 0.0}
    secs = {lb["topic"]: v for lb, v in s["kafka_consumergroup_group_lag_seconds"]}
    assert secs["ratings"] == pytest.approx(2.5)  # now 10.0 − oldest record 7.5
    owner = next(lb for lb, _ in s["kafka_consumergroup_group_lag"] if lb["topic"] == "ratings")
    assert (owner["member_host"], owner["consumer_id"]) == ("10.0.0.7", "c-1")
    assert s["kafka_consumergroup_group_max_lag"] == [
        ({"cluster_name": "b:9092", "group": "g", "is_simple_consumer": "false"}, 60.0)]
    assert s["kafka_consumergroup_group_sum_lag"][0][1] == 60.0
    earliest = {lb["topic"]: v for lb, v in s["kafka_partition_earliest_offset"]}
    assert earliest == {"ratings": 5.0, "events": 0.0}
    assert s["kafka_consumergroup_poll_time_ms"][0][1] == 12.5
    assert s["recstream_consumergroup_status"] == [
        ({"cluster_name": "b:9092", "group": "g", "status": "OK"}, 1.0)]
