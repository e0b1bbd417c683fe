"""Consumer-group lag maths: rates, time to drain, lag in seconds and Burrow-style status.

Pure code: the Kafka side (``streams/lag.py``) turns one poll of the cluster into a
:class:`GroupSnapshot`; a :class:`LagTracker` keeps a sliding window of samples per partition
and turns each snapshot into :class:`GroupLag` rows. Offsets are Kafka offsets (messages),
times are Unix epoch seconds, rates are messages per second.

Lag in seconds is the **age of the oldest unconsumed message**: now minus the timestamp of
the record at the committed offset (fetched by the collector). When that record could not be
read, it falls back to **interpolation** as kafka-lag-exporter does: the window's
(log-end offset, time) points tell when the log end passed the committed offset.

Status follows Burrow's evaluation rules over the window (not a fixed threshold):

========  ===================================================================================
OK        lag is 0 now or at any sample in the window, or too few samples to judge a trend
STOP      lag > 0 and no live member of the group owns the partition (Burrow: commits stopped)
STALL     lag > 0, a member owns it, and the committed offset never moved across the window
REWIND    the committed offset went backwards within the window
WARN      offsets move but the lag never decreased between consecutive samples (falling behind)
========  ===================================================================================

A group is ``ERR`` when any partition is STOP, STALL or REWIND, ``WARN`` when any is WARN,
``NOTFOUND`` when the group has neither members nor committed offsets, ``OK`` otherwise.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

OK, WARN, STALL, STOP, REWIND = "OK", "WARN", "STALL", "STOP", "REWIND"
ERR, NOTFOUND = "ERR", "NOTFOUND"
_GROUP_ERRORS = {STALL, STOP, REWIND}
#: The keys ``recstream lag --json`` guarantees on every row (more may follow).
JSON_KEYS = ("group", "topic", "partition", "committed", "end", "lag", "lag_seconds", "rate",
             "status")


@dataclass(frozen=True)
class Member:
    """A live member of a consumer group and the partitions assigned to it."""

    consumer_id: str
    host: str
    client_id: str
    partitions: frozenset[tuple[str, int]] = frozenset()


@dataclass(frozen=True)
class PartitionOffsets:
    """One topic-partition of a group as seen by one poll."""

    topic: str
    partition: int
    committed: int | None  # None: the group never committed an offset here
    end: int  # log-end offset: the offset the next produced message will get
    start: int = 0  # log-start offset (where an uncommitted group starts reading)
    oldest_ts: float | None = None  # timestamp (s) of the first unconsumed record, if read

    @property
    def lag(self) -> int:
        """Unconsumed messages; from the log start when nothing was committed yet."""
        base = self.start if self.committed is None else self.committed
        return max(self.end - base, 0)


@dataclass(frozen=True)
class GroupSnapshot:
    """Everything one poll of the cluster saw for one consumer group at time ``t``."""

    group: str
    state: str  # the coordinator's group state: Stable, PreparingRebalance, Empty, Dead, ...
    t: float
    members: tuple[Member, ...] = ()
    partitions: tuple[PartitionOffsets, ...] = ()


@dataclass(frozen=True)
class Sample:
    t: float
    offset: int | None  # committed offset
    end: int
    lag: int


def consume_rate(window: Sequence[Sample]) -> float | None:
    """Committed messages per second between the window's first and last sample."""
    pts = [s for s in window if s.offset is not None]
    if len(pts) < 2 or pts[-1].t <= pts[0].t:
        return None
    return max(pts[-1].offset - pts[0].offset, 0) / (pts[-1].t - pts[0].t)  # type: ignore[operator]


def produce_rate(window: Sequence[Sample]) -> float | None:
    """Messages appended to the partition per second over the window."""
    if len(window) < 2 or window[-1].t <= window[0].t:
        return None
    return max(window[-1].end - window[0].end, 0) / (window[-1].t - window[0].t)


def time_to_drain(lag: int, consume: float | None, produce: float | None) -> float | None:
    """Seconds until the lag reaches 0 at the current rates; None when it never will.

    The backlog shrinks at the net rate ``consume - produce`` (messages/s).
    """
    if lag <= 0:
        return 0.0
    if consume is None:
        return None
    net = consume - (produce or 0.0)
    return lag / net if net > 0 else None


def interpolate_lag_seconds(window: Sequence[Sample], offset: int, now: float) -> float | None:
    """kafka-lag-exporter's estimate: how long ago the log end passed ``offset``.

    The window's (log-end offset, time) points form a lookup table; the time at which the
    log end reached ``offset`` is interpolated between the two points around it, or
    extrapolated from the first and last points when ``offset`` is older than the table.
    Returns 0 when ``offset`` is at the log end, None when the table cannot tell.
    """
    if not window or offset >= window[-1].end:
        return 0.0
    k = next(i for i, s in enumerate(window) if s.end > offset)
    if k > 0:
        a, b = window[k - 1], window[k]
    else:
        a, b = window[0], window[-1]
        if b.end <= a.end:
            return None
    t_at = a.t + (offset - a.end) * (b.t - a.t) / (b.end - a.end)
    return max(now - t_at, 0.0)


def partition_status(window: Sequence[Sample], owned: bool = True) -> str:
    """Burrow's partition evaluation over ``window`` (oldest first); see the module doc."""
    if not window or window[-1].lag <= 0:
        return OK
    if not owned:
        return STOP
    if len(window) < 2 or any(s.lag == 0 for s in window):
        return OK
    offsets = [s.offset for s in window]
    if len(set(offsets)) == 1:
        return STALL
    known = [o for o in offsets if o is not None]
    if any(b < a for a, b in zip(known, known[1:], strict=False)):
        return REWIND
    if all(b.lag >= a.lag for a, b in zip(window, window[1:], strict=False)):
        return WARN
    return OK


def group_status(statuses: Iterable[str], found: bool = True) -> str:
    """The group's status from its partitions' statuses (Burrow: OK, WARN, ERR, NOTFOUND)."""
    if not found:
        return NOTFOUND
    seen = set(statuses)
    if seen & _GROUP_ERRORS:
        return ERR
    return WARN if WARN in seen else OK


@dataclass(frozen=True)
class PartitionLag:
    """One row of ``recstream lag``: a topic-partition of a group, judged over its window."""

    group: str
    topic: str
    partition: int
    committed: int | None
    end: int
    lag: int
    lag_seconds: float | None
    lag_seconds_method: str  # "record" (oldest unconsumed message), "interpolated" or "none"
    rate: float | None  # consumed messages/s over the window
    produce_rate: float | None  # produced messages/s over the window
    eta_seconds: float | None  # estimated time to drain (None: not draining)
    status: str
    consumer_id: str = "-"
    host: str = "-"
    client_id: str = "-"
    start: int = 0  # log-start offset

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` object: the contract keys (JSON_KEYS) first, then extras."""
        return {"group": self.group, "topic": self.topic, "partition": self.partition,
                "committed": self.committed, "end": self.end, "lag": self.lag,
                "lag_seconds": _round(self.lag_seconds), "rate": _round(self.rate),
                "status": self.status, "lag_seconds_method": self.lag_seconds_method,
                "produce_rate": _round(self.produce_rate),
                "eta_seconds": _round(self.eta_seconds), "consumer_id": self.consumer_id,
                "host": self.host, "client_id": self.client_id}


@dataclass(frozen=True)
class GroupLag:
    """A group's state, members and per-partition rows at one poll."""

    group: str
    state: str
    t: float
    members: tuple[Member, ...]
    status: str
    partitions: tuple[PartitionLag, ...] = ()

    @property
    def lag(self) -> int:
        return sum(p.lag for p in self.partitions)

    @property
    def max_lag(self) -> int:
        return max((p.lag for p in self.partitions), default=0)

    @property
    def max_lag_seconds(self) -> float:
        return max((p.lag_seconds or 0.0 for p in self.partitions), default=0.0)

    @property
    def rate(self) -> float:
        return sum(p.rate or 0.0 for p in self.partitions)


def _round(x: float | None, digits: int = 3) -> float | None:
    return None if x is None else round(x, digits)


@dataclass
class LagTracker:
    """Sliding windows of samples per (group, topic, partition); ``observe`` judges a poll."""

    window: int = 10  # samples kept per partition (Burrow's default window is 10 offsets)
    _samples: dict[tuple[str, str, int], deque[Sample]] = field(default_factory=dict)

    def observe(self, snap: GroupSnapshot) -> GroupLag:
        owner = {tp: m for m in snap.members for tp in m.partitions}
        rows = []
        live = set()
        for po in sorted(snap.partitions, key=lambda p: (p.topic, p.partition)):
            key = (snap.group, po.topic, po.partition)
            live.add(key)
            win = self._samples.setdefault(key, deque(maxlen=self.window))
            if win and po.end < win[-1].end:  # topic recreated: the history means nothing
                win.clear()
            win.append(Sample(snap.t, po.committed, po.end, po.lag))
            pts = list(win)
            consume, produce = consume_rate(pts), produce_rate(pts)
            seconds, method = self._lag_seconds(po, pts, snap.t)
            member = owner.get((po.topic, po.partition))
            rows.append(PartitionLag(
                group=snap.group, topic=po.topic, partition=po.partition,
                committed=po.committed, end=po.end, lag=po.lag, lag_seconds=seconds,
                lag_seconds_method=method, rate=consume, produce_rate=produce,
                eta_seconds=time_to_drain(po.lag, consume, produce),
                status=partition_status(pts, owned=member is not None),
                consumer_id=member.consumer_id if member else "-",
                host=member.host if member else "-",
                client_id=member.client_id if member else "-", start=po.start))
        for key in [k for k in self._samples if k[0] == snap.group and k not in live]:
            del self._samples[key]
        found = bool(snap.members or snap.partitions)
        return GroupLag(snap.group, snap.state, snap.t, snap.members,
                        group_status((r.status for r in rows), found), tuple(rows))

    @staticmethod
    def _lag_seconds(po: PartitionOffsets, win: Sequence[Sample], now: float
                     ) -> tuple[float | None, str]:
        if po.lag == 0:
            return 0.0, "record"
        if po.oldest_ts is not None:
            return max(now - po.oldest_ts, 0.0), "record"
        base = po.start if po.committed is None else po.committed
        est = interpolate_lag_seconds(win, base, now)
        return (est, "interpolated") if est is not None else (None, "none")
