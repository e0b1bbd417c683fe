"""Bench figures: rate parsing, latency percentiles, throughput, CPU per event, /proc parsing."""

from __future__ import annotations

import os

import pytest

from recstream.bench.procstat import (
    cpu_seconds,
    cpu_seconds_from_stat,
    peak_rss_mb,
    peak_rss_mb_from_status,
    rss_mb,
)
from recstream.bench.summary import (
    Delivery,
    bench_result,
    cpu_us_per_event,
    flatness,
    latency_ms,
    memory_growth,
    not_reached,
    parse_counts,
    parse_rate,
    run_text,
    sweep_table,
)


def test_parse_rate() -> None:
    assert parse_rate("max") is None and parse_rate(" MAX ") is None
    assert parse_rate("1000") == 1000.0 and parse_rate("2.5") == 2.5
    for bad in ("0", "-3", "fast"):
        with pytest.raises(ValueError):
            parse_rate(bad)


def test_parse_counts() -> None:
    assert parse_counts("1000,100_000, 1e6") == [1000, 100_000, 1_000_000]
    for bad in ("0", "10,x", "1.5"):
        with pytest.raises(ValueError):
            parse_counts(bad)


def test_latency_percentiles_in_ms() -> None:
    lat = latency_ms([i / 1000 for i in range(1, 101)])  # 1..100 ms
    assert lat == {"p50": 50.5, "p95": 95.05, "p99": 99.01, "max": 100.0}
    assert latency_ms([]) == {"p50": None, "p95": None, "p99": None, "max": None}


def test_delivery_counts_throughput_and_latency() -> None:
    d = Delivery(produced={"a": 10.0, "b": 10.5, "c": 11.0, "d": 11.5},
                 arrived={"a": 10.1, "b": 10.7, "c": 12.0, "zz": 12.5})
    assert d.received == 3 and d.missing == 1  # "zz" is not ours, "d" never came
    assert sorted(d.latencies_s()) == pytest.approx([0.1, 0.2, 1.0])
    assert d.throughput_eps() == pytest.approx(3 / 2.0)  # first produce 10.0, last 12.0
    assert Delivery({"a": 1.0}, {}).throughput_eps() == 0.0


def test_latency_starts_at_the_scheduled_send() -> None:
    # at 10 events/s event k is due at 100 + k/10; the sender fell 2 s behind on "c", so
    # its send stamp alone would hide 2 s of queueing
    d = Delivery(produced={"a": 100.0, "b": 100.1, "c": 102.2},
                 scheduled={"a": 100.0, "b": 100.1, "c": 100.2},
                 arrived={"a": 100.05, "b": 100.15, "c": 102.25}, ended=103.0)
    assert sorted(d.latencies_s()) == pytest.approx([0.05, 0.05, 2.05])
    assert d.sender_behind_s() == pytest.approx(2.0)
    assert Delivery({"a": 1.0}, {"a": 2.0}).sender_behind_s() == 0.0  # max rate


def test_missing_events_count_in_the_percentiles() -> None:
    # 98 answered in 10 ms each, 2 never answered when the bench stopped 60 s after their
    # send: p99 falls on a missing event (2 % > 1 %), so it is a lower bound, not a figure
    produced = {f"e{k}": 0.0 for k in range(100)}
    arrived = {f"e{k}": 0.01 for k in range(98)}
    d = Delivery(produced, arrived, ended=60.0)
    assert d.censored_s() == pytest.approx([60.0, 60.0])
    r = bench_result(rate=None, delivery=d, baseline_eps=None, rss_mb=None, users=1,
                     items=1, cpu_s=None, scorer=False)
    assert r["missing"] == 2 and r["missing_share"] == pytest.approx(0.02)
    assert r["latency_ms"]["p50"] == pytest.approx(10.0)
    assert r["latency_ms"]["p99"] == pytest.approx(60_000.0)  # censored at the wait
    assert r["latency_not_reached"] == ["p99", "max"]
    text = run_text({**r, "workers": 1, "rss_mb": None})
    assert "p99 ≥ 60,000.0 (not reached)" in text and "p50 10.0 " in text
    assert "2 missing = 2.0 %" in text
    # one missing in 200 (0.5 %): p99 is a real figure, only max stays open
    d2 = Delivery({f"e{k}": 0.0 for k in range(200)},
                  {f"e{k}": 0.01 for k in range(199)}, ended=60.0)
    assert not_reached(d2.latencies_s(), d2.censored_s()) == ["max"]
    assert not_reached([0.1, 0.2], []) == []


def test_degraded_records_are_counted() -> None:
    d = Delivery({"a": 0.0, "b": 0.0, "c": 0.0, "d": 0.0},
                 {"a": 0.1, "b": 0.2, "c": 0.3},
                 degraded=frozenset({"b", "c", "d", "zz"}), ended=5.0)
    # "d" never arrived and "zz" is not ours: 2 of the 3 received were degraded
    r = bench_result(rate=100.0, delivery=d, baseline_eps=None, rss_mb=None, users=1,
                     items=1, cpu_s=None, scorer=True)
    assert r["degraded"] == 2 and r["degraded_share"] == pytest.approx(2 / 3, abs=1e-4)
    text = run_text({**r, "workers": 1, "rss_mb": None})
    assert "2 recommendations without the LLM score (66.7 % of those received)" in text


def test_bench_result_ratio_and_cost() -> None:
    d = Delivery({"a": 0.0, "b": 0.0}, {"a": 0.5, "b": 1.0})
    r = bench_result(rate=None, delivery=d, baseline_eps=8.0, rss_mb=100.0, users=5,
                     items=3, cpu_s=0.01, scorer=True)
    assert r["rate"] == "max" and r["events"] == 2 and r["throughput_eps"] == 2.0
    assert r["ratio"] == 0.25
    assert r["cpu_us_per_event"] == 5000.0
    assert r["latency_ms"]["max"] == 1000.0
    assert bench_result(rate=100.0, delivery=d, baseline_eps=None, rss_mb=None, users=1,
                        items=1, cpu_s=None, scorer=False)["ratio"] is None


def test_cpu_per_event_and_flatness() -> None:
    assert cpu_us_per_event(0.5, 1000) == 500.0
    assert cpu_us_per_event(0.5, 0) is None
    assert flatness([100.0, 100.0]) == 0.0
    assert flatness([80.0, 120.0]) == pytest.approx(0.2)
    assert flatness([]) is None


def test_sweep_table_says_whether_cost_is_flat() -> None:
    rows = [{"users": 1000, "events": 500, "users_seen": 300, "throughput_eps": 90.0,
             "cpu_us_per_event": 1000.0, "rss_mb": 200.0, "missing": 0},
            {"users": 1_000_000, "events": 500, "users_seen": 480, "throughput_eps": 60.0,
             "cpu_us_per_event": 2000.0, "rss_mb": 210.0, "missing": 3}]
    table = sweep_table(rows)
    assert "| 1,000,000 | 500 | 480 | 60.0 | 2,000 | 210 | 3 |" in table
    assert "± 33 %" in table and "NOT flat" in table


STAT = ("4242 (python -m x) S 1 4242 4242 0 -1 4194560 5000 0 0 0 "
        "250 50 0 0 20 0 3 0 100 1000000 5000 18446744073709551615")


def test_proc_parsing() -> None:
    assert cpu_seconds_from_stat(STAT, clk_tck=100) == 3.0  # (250 + 50) ticks
    assert peak_rss_mb_from_status("Name:\tx\nVmHWM:\t  204800 kB\nVmRSS:\t 1 kB\n") == 200.0
    assert peak_rss_mb_from_status("Name:\tx\n") is None


def test_proc_of_this_process() -> None:
    assert (cpu_seconds(os.getpid()) or 0) > 0
    assert (peak_rss_mb(os.getpid()) or 0) > 10
    assert cpu_seconds(2**22 + 12345) is None


def test_memory_growth_after_warm_up() -> None:
    # a run of 100 s sampled every second: memory climbs for 20 s, then holds at 300 MB
    # but for the last sample (330 MB, +10 %)
    samples = [(1000.0 + t, 100.0 + 10 * min(t, 20)) for t in range(100)] + [(1100.0, 330.0)]
    got = memory_growth(samples, warmup=0.25, points=11)
    assert got is not None
    assert got["after_warmup_mb"] == 300.0 and got["end_mb"] == 330.0
    assert got["growth_pct"] == 10.0
    tl = got["timeline"]
    assert tl[0] == [0.0, 100.0] and tl[-1] == [100.0, 330.0]
    assert len(tl) <= 11 and [t for t, _ in tl] == sorted(t for t, _ in tl)


def test_memory_growth_needs_two_samples() -> None:
    assert memory_growth([]) is None and memory_growth([(0.0, 10.0)]) is None


def test_current_rss_of_this_process() -> None:
    now = rss_mb(os.getpid())
    assert now is not None and 5 < now <= (peak_rss_mb(os.getpid()) or 0)
    assert peak_rss_mb_from_status("VmHWM:\t2048 kB\nVmRSS:\t1024 kB\n", "VmRSS") == 1.0
