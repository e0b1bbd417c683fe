"""recstream.ops.lag: rates, time to drain, interpolation and Burrow's rules, by hand."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from recstream.ops.lag import (
    ERR,
    JSON_KEYS,
    NOTFOUND,
    OK,
    REWIND,
    STALL,
    STOP,
    WARN,
    GroupSnapshot,
    LagTracker,
    Member,
    PartitionOffsets,
    Sample,
    consume_rate,
    group_status,
    interpolate_lag_seconds,
    partition_status,
    produce_rate,
    time_to_drain,
)


def window(*rows: tuple[float, int | None, int]) -> list[Sample]:
    """Samples from (t, committed, end); lag = end - committed."""
    return [Sample(t, c, e, max(e - (c or 0), 0)) for t, c, e in rows]


# ------------------------------------------------------------------------- rates and ETA
def test_rates_over_the_window() -> None:
    w = window((0, 100, 150), (1, 110, 170), (4, 160, 190))
    assert consume_rate(w) == pytest.approx(60 / 4)  # 100 -> 160 in 4 s
    assert produce_rate(w) == pytest.approx(40 / 4)  # 150 -> 190 in 4 s


def test_rates_need_two_samples() -> None:
    assert consume_rate(window((0, 1, 5))) is None
    assert produce_rate(window((0, 1, 5))) is None
    assert consume_rate(window((0, None, 5), (1, None, 9))) is None


def test_time_to_drain_uses_the_net_rate() -> None:
    assert time_to_drain(300, consume=20.0, produce=5.0) == pytest.approx(20.0)  # 300 / 15
    assert time_to_drain(300, consume=5.0, produce=20.0) is None  # growing: never
    assert time_to_drain(300, consume=None, produce=None) is None
    assert time_to_drain(0, consume=None, produce=None) == 0.0
    assert time_to_drain(50, consume=10.0, produce=None) == pytest.approx(5.0)


# ------------------------------------------------------------------------- lag in seconds
def test_interpolation_between_the_points_around_the_offset() -> None:
    # log end 100 at t=10, 200 at t=20: offset 150 was the log end at t=15
    w = window((10, 90, 100), (20, 95, 200))
    assert interpolate_lag_seconds(w, 150, now=30) == pytest.approx(15.0)


def test_interpolation_uses_the_last_flat_point_before_the_rise() -> None:
    # end stays 100 until t=12, then reaches 140 at t=14: offset 120 at t=13
    w = window((10, 0, 100), (12, 0, 100), (14, 0, 140))
    assert interpolate_lag_seconds(w, 120, now=20) == pytest.approx(7.0)


def test_extrapolation_below_the_table() -> None:
    # 10 msg/s from end 100 at t=10 to end 200 at t=20; offset 50 → t=5
    w = window((10, 0, 100), (20, 0, 200))
    assert interpolate_lag_seconds(w, 50, now=20) == pytest.approx(15.0)


def test_interpolation_edge_cases() -> None:
    assert interpolate_lag_seconds([], 5, now=1) == 0.0
    w = window((10, 0, 100), (20, 0, 100))
    assert interpolate_lag_seconds(w, 100, now=30) == 0.0  # at the log end
    assert interpolate_lag_seconds(w, 50, now=30) is None  # flat table: cannot tell


# ------------------------------------------------------------------------- Burrow's rules
def test_zero_lag_now_or_anywhere_in_window_is_ok() -> None:
    assert partition_status(window((0, 10, 10), (1, 10, 10))) == OK
    assert partition_status(window((0, 10, 10), (1, 10, 30), (2, 12, 50))) == OK


def test_unowned_partition_with_lag_is_stopped() -> None:
    assert partition_status(window((0, 10, 20)), owned=False) == STOP
    assert partition_status(window((0, 10, 10)), owned=False) == OK  # nothing to consume


def test_frozen_offset_with_lag_is_stalled() -> None:
    assert partition_status(window((0, 10, 20), (1, 10, 20), (2, 10, 25))) == STALL
    assert partition_status(window((0, None, 20), (1, None, 30))) == STALL


def test_lag_never_decreasing_is_a_warning() -> None:
    # offsets move (10 → 12 → 14) but the lag grows 10 → 18 → 26: falling behind
    assert partition_status(window((0, 10, 20), (1, 12, 30), (2, 14, 40))) == WARN
    # constant lag counts as "not decreasing" too (Burrow)
    assert partition_status(window((0, 10, 20), (1, 20, 30))) == WARN


def test_decreasing_lag_is_ok() -> None:
    assert partition_status(window((0, 10, 100), (1, 50, 110), (2, 90, 115))) == OK
    assert partition_status(window((0, 10, 100), (1, 30, 130), (2, 90, 135))) == OK


def test_offsets_going_backwards_is_rewind() -> None:
    assert partition_status(window((0, 50, 100), (1, 20, 100), (2, 30, 100))) == REWIND


def test_one_sample_with_lag_is_not_judged() -> None:
    assert partition_status(window((0, 10, 100))) == OK


def test_group_status() -> None:
    assert group_status([OK, OK]) == OK
    assert group_status([OK, WARN]) == WARN
    for bad in (STALL, STOP, REWIND):
        assert group_status([WARN, bad, OK]) == ERR
    assert group_status([], found=False) == NOTFOUND


@given(st.lists(st.tuples(st.integers(0, 1000), st.integers(0, 1000)), min_size=1,
                max_size=12))
def test_status_is_ok_whenever_the_current_lag_is_zero(points: list[tuple[int, int]]) -> None:
    w = [Sample(float(i), c, c + lag, lag) for i, (c, lag) in enumerate(points)]
    w[-1] = Sample(w[-1].t, w[-1].offset, w[-1].offset or 0, 0)
    assert partition_status(w) == OK
    assert partition_status(w, owned=False) == OK


@given(st.integers(1, 10_000), st.floats(0.1, 1e4), st.floats(0, 1e4))
def test_drain_time_is_positive_and_consistent(lag: int, consume: float,
                                               produce: float) -> None:
    eta = time_to_drain(lag, consume, produce)
    if consume > produce:
        assert eta is not None and eta > 0
        assert eta * (consume - produce) == pytest.approx(lag)
    else:
        assert eta is None


# ------------------------------------------------------------------------- the tracker
def snap(t: float, committed: int | None, end: int, owned: bool = True,
         oldest_ts: float | None = None) -> GroupSnapshot:
    member = Member("c-1", "/127.0.0.1", "faust", frozenset({("ratings", 0)}))
    return GroupSnapshot("g", "Stable" if owned else "Empty", t,
                         (member,) if owned else (),
                         (PartitionOffsets("ratings", 0, committed, end, 0, oldest_ts),))


def test_tracker_builds_rows_over_a_sliding_window() -> None:
    tr = LagTracker(window=3)
    tr.observe(snap(0, 0, 100, oldest_ts=-5.0))
    tr.observe(snap(1, 20, 200, oldest_ts=0.5))
    g = tr.observe(snap(2, 40, 300, oldest_ts=1.0))
    (row,) = g.partitions
    assert (row.committed, row.end, row.lag) == (40, 300, 260)
    assert row.rate == pytest.approx(20.0) and row.produce_rate == pytest.approx(100.0)
    assert row.eta_seconds is None  # producing faster than consuming
    assert row.lag_seconds == pytest.approx(1.0) and row.lag_seconds_method == "record"
    assert row.status == WARN and g.status == WARN
    assert row.consumer_id == "c-1"
    # draining: production stops, the window slides past the growth
    tr.observe(snap(3, 140, 300, oldest_ts=2.5))
    g = tr.observe(snap(4, 240, 300, oldest_ts=3.5))
    (row,) = g.partitions
    assert row.status == OK and row.eta_seconds == pytest.approx(60 / 100)
    g = tr.observe(snap(5, 300, 300))
    assert g.partitions[0].lag == 0 and g.partitions[0].lag_seconds == 0.0
    assert g.lag == 0 and g.status == OK


def test_tracker_falls_back_to_interpolation_without_a_record() -> None:
    tr = LagTracker()
    tr.observe(snap(10, 0, 100))
    g = tr.observe(snap(20, 150, 200))  # end 100 @10 → 200 @20: offset 150 at t=15
    row = g.partitions[0]
    assert row.lag_seconds_method == "interpolated"
    assert row.lag_seconds == pytest.approx(5.0)


def test_stopped_group_is_an_error() -> None:
    tr = LagTracker()
    g = tr.observe(snap(0, 10, 50, owned=False))
    assert g.partitions[0].status == STOP and g.status == ERR
    assert g.partitions[0].consumer_id == "-"


def test_unknown_group_is_notfound() -> None:
    g = LagTracker().observe(GroupSnapshot("nobody", "Dead", 0.0))
    assert g.status == NOTFOUND and g.partitions == ()


def test_json_rows_carry_the_contract_keys_first() -> None:
    g = LagTracker().observe(snap(0, 5, 10, oldest_ts=0.0))
    obj = g.partitions[0].to_json()
    assert tuple(obj)[: len(JSON_KEYS)] == JSON_KEYS
    assert obj["lag"] == 5 and obj["committed"] == 5 and obj["end"] == 10


def test_uncommitted_partition_lags_from_the_log_start() -> None:
    po = PartitionOffsets("t", 0, None, end=30, start=10)
    assert po.lag == 20
