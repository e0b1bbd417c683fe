"""Polling consumer-group offsets from Kafka (kafka-python 3.x admin + consumer APIs).

:class:`LagCollector` turns one poll of the cluster into pure
:class:`~recstream.ops.lag.GroupSnapshot` objects that a
:class:`~recstream.ops.lag.LagTracker` judges over a sliding window. It is used by
``recstream lag`` and by every worker's ``/metrics`` and dashboard (``streams/metrics.py``).

Per poll: ``describe_groups`` (state, members, assignments), ``list_group_offsets``
(committed offsets), ``list_partition_offsets`` (log start and end) and, for each lagging
partition, a fetch of the record at the committed offset, whose timestamp gives the age of
the oldest unconsumed message (lag in seconds). That fetch uses a group-less consumer (no
commits, no effect on the group) and reads at most one small batch per partition.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterable

from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient
from kafka.protocol.consumer import OffsetSpec

from recstream.ops.lag import GroupSnapshot, Member, PartitionOffsets
from recstream.settings import SecuritySettings
from streams.security import kafka_python_kwargs

log = logging.getLogger(__name__)
# Faust's consumer-protocol metadata is not the plain Kafka one, so kafka-python warns that it
# cannot decode it on every describe (every lag poll); group members are still listed.
logging.getLogger("kafka.admin._groups").setLevel(logging.ERROR)

# Faust's table changelogs and its assignor's leader topic are assigned to members but never
# committed by the group (they are replayed from the start), so they carry no lag.
_NOT_CONSUMED_SUFFIXES = ("-changelog", "-__assignor-__leader")
_FETCH_BYTES = 16 * 1024  # one small batch is enough to see the first unconsumed record


def pipeline_groups(all_groups: Iterable[str], group_id: str) -> list[str]:
    """The pipeline's groups among ``all_groups``: the worker group ``group_id`` (the app id,
    with any topic prefix) and groups named ``<group_id>-…`` (e.g. a scorer's)."""
    return sorted(g for g in set(all_groups) if g == group_id or g.startswith(group_id + "-"))


def _consumed(topic: str) -> bool:
    return not topic.endswith(_NOT_CONSUMED_SUFFIXES)


class LagCollector:
    """One admin client and one group-less consumer, reused across polls (not thread-safe)."""

    def __init__(self, bootstrap: str, timeout_s: float = 10.0,
                 fetch_record_timeout_s: float = 2.0,
                 security: SecuritySettings | None = None) -> None:
        ms = int(max(timeout_s, 1.0) * 1000)
        self.bootstrap = bootstrap
        self.fetch_record_timeout_s = fetch_record_timeout_s
        self._security = kafka_python_kwargs(security)
        self._admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="recstream-lag",
                                       bootstrap_timeout_ms=ms, request_timeout_ms=ms,
                                       **self._security)
        self._timeout_ms = ms

    def list_groups(self) -> list[str]:
        return sorted({g["group_id"] for g in self._admin.list_groups()})

    def snapshot(self, groups: Iterable[str]) -> list[GroupSnapshot]:
        """One poll of every group in ``groups`` (an unknown group comes back empty)."""
        groups = list(dict.fromkeys(groups))
        if not groups:
            return []
        described = self._admin.describe_groups(groups)
        committed = self._admin.list_group_offsets({g: None for g in groups})
        t = time.time()
        per_group: dict[str, dict[TopicPartition, int | None]] = {}
        members: dict[str, tuple[Member, ...]] = {}
        for g in groups:
            desc = described.get(g) or {}
            members[g] = tuple(_member(m) for m in desc.get("members") or [])
            tps: dict[TopicPartition, int | None] = {
                tp: (om.offset if om.offset >= 0 else None)
                for tp, om in (committed.get(g) or {}).items() if _consumed(tp.topic)}
            for m in members[g]:
                for topic, part in m.partitions:
                    if _consumed(topic):
                        tps.setdefault(TopicPartition(topic, part), None)
            per_group[g] = tps
        all_tps = {tp for tps in per_group.values() for tp in tps}
        ends = self._offsets(all_tps, OffsetSpec.LATEST)
        starts = self._offsets(all_tps, OffsetSpec.EARLIEST)
        want = {}
        for tps in per_group.values():
            for tp, c in tps.items():
                base = starts.get(tp, 0) if c is None else c
                if tp in ends and base < ends[tp]:
                    want[tp] = min(want.get(tp, base), base)
        oldest = self._record_timestamps(want)
        out = []
        for g in groups:
            parts = []
            for tp, c in per_group[g].items():
                if tp not in ends:
                    continue  # topic deleted since the group committed
                base = starts.get(tp, 0) if c is None else c
                ts = oldest.get((tp, base))
                parts.append(PartitionOffsets(tp.topic, tp.partition, c, ends[tp],
                                              starts.get(tp, 0), ts))
            state = (described.get(g) or {}).get("group_state") or "Dead"
            out.append(GroupSnapshot(g, state, t, members[g], tuple(parts)))
        return out

    def _offsets(self, tps: set[TopicPartition], spec: OffsetSpec) -> dict[TopicPartition, int]:
        if not tps:
            return {}
        res = self._admin.list_partition_offsets({tp: spec for tp in tps},
                                                 timeout_ms=self._timeout_ms)
        return {tp: ot.offset for tp, ot in res.items()}

    def _record_timestamps(self, want: dict[TopicPartition, int]
                           ) -> dict[tuple[TopicPartition, int], float]:
        """Timestamp (s) of the first record at or after each wanted offset, where readable
        within ``fetch_record_timeout_s`` (several groups at different offsets of one
        partition: the oldest offset is read, the others fall back to interpolation)."""
        if not want:
            return {}
        # A fresh consumer per poll: a reused kafka-python consumer re-assigned to the same
        # partitions sometimes returned nothing for some of them within the deadline.
        c = KafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None,
                          enable_auto_commit=False, client_id="recstream-lag",
                          max_partition_fetch_bytes=_FETCH_BYTES, fetch_max_wait_ms=100,
                          # only timestamps are read: skip kafka-python's pure-Python CRC32C
                          # (4-5 % of a busy worker's CPU in the py-spy profile)
                          check_crcs=False, **self._security)
        found: dict[tuple[TopicPartition, int], float] = {}
        try:
            c.assign(list(want))
            for tp, off in want.items():
                c.seek(tp, off)
            deadline = time.monotonic() + self.fetch_record_timeout_s
            while len(found) < len(want) and time.monotonic() < deadline:
                for tp, records in c.poll(timeout_ms=100, max_records=500).items():
                    if records and (tp, want[tp]) not in found:
                        c.pause(tp)
                        if records[0].timestamp >= 0:  # -1: a pre-0.10 message, no time
                            found[(tp, want[tp])] = records[0].timestamp / 1000.0
        finally:
            c.close(autocommit=False)
        return found

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._admin.close()


def _member(m: dict) -> Member:
    assignment = m.get("member_assignment")
    parts: set[tuple[str, int]] = set()
    if isinstance(assignment, dict):
        for a in assignment.get("assigned_partitions") or []:
            parts.update((a["topic"], p) for p in a.get("partitions") or [])
    return Member(consumer_id=m.get("member_id") or "-",
                  host=(m.get("client_host") or "-").lstrip("/"),
                  client_id=m.get("client_id") or "-", partitions=frozenset(parts))
