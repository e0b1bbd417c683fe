"""At-least-once commit guard for Faust's aiokafka consumer (faust-streaming 0.15.3).

Faust decides what to commit in ``Consumer._new_offset`` from the offsets its streams
acknowledged. Three things there let a commit jump past records that no stage processed
(the chaos test lost 21 of 3,000 events that way; faust-streaming issues #606, #221):

- the head check ``min(acked) - committed > 1`` is skipped when the committed offset is 0
  or unknown, and Faust forgets it (``_committed_offset.pop``) whenever a rebalance revokes
  the partition; ``perform_seek`` also maps a committed 0 to "unknown";
- it is off by one: the committed offset is the *next* offset to read, so acked offsets
  starting at ``committed + 1`` leave record ``committed`` unprocessed, yet pass the check;
- ``_gap`` intervals (offsets the fetcher saw jump over) count as processed, but after a
  seek the fetcher's read position can jump over records that exist and were only skipped
  (records fetched before the group settled carry an old generation id, and the stream
  drops them without acking; the re-fetched copies are then dropped as already read).

:class:`GuardedConsumer` commits only the consecutive run of acked offsets that starts at
the broker-committed position (the *base*, 0 included; re-read from the broker after every
assignment, the log start when the group has none), never counting gaps. When the record at
the base stays unacked while later ones are acked (it was skipped and will not be
re-fetched), it seeks the partition back to the base, so the skipped records are fetched and
processed again; the stages are idempotent for re-deliveries (ARCHITECTURE.md, Delivery
guarantees). Installed by :func:`install` for ``processing_guarantee=at_least_once``.
It never treats a missing offset as processed: an input topic written transactionally by
another system, with a commit marker at the committed position, would hold that
partition's commits (a seek-back every 60 s at most, logged).
"""

from __future__ import annotations

import logging
import time
import weakref
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP
from faust.types.tuples import ack_lock

log = logging.getLogger(__name__)

STALL_S = 5.0  # a head gap this old, with its record not in flight, is re-fetched
AWAIT_S = 10.0  # longest a partition's records wait for its base record after a seek
MAX_STALL_S = 60.0  # ... and again after 10, 20, 40, then every 60 s while it persists
IDLE_S = 20.0  # the idle watchdog's first wait (then doubling, at most MAX_STALL_S)


def next_commit(base: int | None, acked: Iterable[int]) -> int | None:
    """The offset to commit (the next offset to read) given the broker-committed position
    ``base`` and the offsets acknowledged since, or None to commit nothing.

    Only the run of consecutive acked offsets starting exactly at ``base`` is committable:
    a commit never passes the lowest offset at or after ``base`` that is not acked. An
    unknown base (None) commits nothing. Offsets below ``base`` are already committed.
    """
    if base is None:
        return None
    done = {o for o in acked if o >= base}
    nxt = base
    while nxt in done:
        nxt += 1
    return nxt if nxt > base else None


def head_gap(base: int | None, acked: Iterable[int]) -> tuple[int, int] | None:
    """``(base, lowest acked offset)`` when records at and after ``base`` are acked but the
    record at ``base`` is not (a head gap that blocks every commit), else None."""
    if base is None:
        return None
    above = [o for o in acked if o >= base]
    if not above or base in above:
        return None
    return base, min(above)


class ReadOffsets(defaultdict):  # type: ignore[type-arg]
    """Faust's ``_read_offset`` (last offset delivered per partition; the fetch loop drops
    any record below it). After a seek back to the commit base, records still in flight
    from the fetch before the seek push it past the base and the re-fetched records would
    be dropped again; while a partition is *rewound* it reads as None (deliver
    everything: duplicates are harmless) until its commit moves past the base."""

    def __init__(self) -> None:
        super().__init__(lambda: None)
        self.rewound: set[Any] = set()

    def __getitem__(self, tp: Any) -> Any:
        if tp in self.rewound:
            return None
        return super().__getitem__(tp)


#: app -> coroutines called with the newly assigned stream partitions, before their committed
#: offsets are read (streams/publish.py fences its transactional producers there)
_ASSIGN_HOOKS: weakref.WeakKeyDictionary[Any, list[Callable[[set[TP]], Awaitable[None]]]] = (
    weakref.WeakKeyDictionary())


def on_assigned(app: Any, hook: Callable[[set[TP]], Awaitable[None]]) -> None:
    """Call ``hook(assigned stream partitions)`` on every assignment, before the consumer
    reads their committed offsets (only with the guarded consumer)."""
    _ASSIGN_HOOKS.setdefault(app, []).append(hook)


class GuardedConsumer(faust_aiokafka.Consumer):
    """Faust's aiokafka consumer with the commit guard (see the module docstring)."""

    _read_offset: ReadOffsets

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._read_offset = ReadOffsets()
        # tp -> (base, since): after a seek to base, records above it that the fetch loop
        # still delivers from before the seek are held back until base itself comes, so
        # each partition reaches the streams in offset order (the profile stage skips an
        # event at or below the last offset it applied: out of order would lose it)
        self._awaiting: dict[Any, tuple[int, float]] = {}
        inner = self.callback

        async def in_order(message: Any) -> Any:
            if self._hold(message):
                return None
            self._seen[message.tp] = time.monotonic()
            self._delivering += 1  # a full stream queue blocks the fetch loop in here
            try:
                return await inner(message)
            finally:
                self._delivering -= 1

        self.callback = in_order
        self._commit_base: dict[TP, int] = {}
        # tp -> (base, first seen, re-seeks so far) while a head gap blocks its commits
        self._stalled: dict[TP, tuple[int, float, int]] = {}
        self._reseek: dict[TP, int] = {}
        # the in-order gate (:meth:`gate`): tp -> the next offset an agent may apply (the
        # commit base after each assignment), and gaps waiting for a seek back to it
        self._frontier: dict[TP, int] = {}
        self._reread: dict[TP, int] = {}
        # tp -> the offset a transaction committed for it (streams/publish.py): Faust's own
        # commit, which trails it, must never move the group's offset back below it
        self._txn_committed: dict[TP, int] = {}
        # the idle watchdog (:meth:`_check_idle`): when a record last reached the streams,
        # per partition, and tp -> (base, re-seeks so far) while one sits idle behind records
        self._seen: dict[TP, float] = {}
        self._idle: dict[TP, tuple[int, int]] = {}
        self._delivering = 0  # > 0 while the fetch loop waits to hand a record over
        self._blocked_at = 0.0  # when the idle watchdog last found it so

    def _hold(self, message: Any) -> bool:
        """True for a record above the awaited base of its partition (see ``_awaiting``).
        If the base never comes (its offset no longer exists) the hold ends after
        AWAIT_S."""
        wait = self._awaiting.get(message.tp)
        if wait is None:
            return False
        base, since = wait
        if message.offset < base:  # committed already: a fetch from a stale position
            return True  # (a transaction's offset not yet visible when it was read)
        if message.offset == base:
            del self._awaiting[message.tp]
            return False
        if time.monotonic() - since > AWAIT_S:
            del self._awaiting[message.tp]
            log.warning("commit guard: %s offset %d did not come within %.0f s of the seek "
                        "back to it; records after it pass (offset %d)", message.tp, base,
                        AWAIT_S, message.offset)
            return False
        return True

    def _rewind(self, tp: TP, base: int) -> None:
        self._read_offset.rewound.add(tp)
        self._awaiting[tp] = (base, time.monotonic())

    def _guarded(self, tp: TP) -> bool:
        return (self.app.topics.acks_enabled_for(tp.topic)
                and not self._is_changelog_tp(tp))

    async def perform_seek(self) -> None:
        """Seek every assigned stream partition to its committed position and remember that
        position as the commit base. aiokafka's ``seek_to_committed`` does not seek when
        the committed offset is 0 or absent (the fetcher then stays wherever it was); this
        seeks those to 0 / the log start explicitly."""
        hooks = _ASSIGN_HOOKS.get(self.app)
        if hooks:
            assigned = {tp for tp in self.assignment() if self._guarded(tp)}
            for hook in hooks:
                await hook(assigned)
        committed = await self.seek_to_committed()
        tps = [tp for tp in committed if self._guarded(tp)]
        absent = [tp for tp in tps if committed[tp] is None or committed[tp] < 0]
        start = await self.earliest_offsets(*absent) if absent else {}
        for tp, offset in committed.items():
            if tp not in tps:  # changelogs: Faust's own bookkeeping, as before
                self._read_offset[tp] = offset if offset is not None and offset >= 0 else None
                if offset:
                    self._committed_offset[tp] = offset
                continue
            base = offset if offset is not None and offset >= 0 else int(start.get(tp) or 0)
            if not offset:  # 0 or absent: aiokafka did not seek
                await self._seek(tp, base)
            self._set_base(tp, base)
            self._rewind(tp, base)

    def _set_base(self, tp: TP, base: int) -> None:
        self._commit_base[tp] = base
        self._txn_committed.pop(tp, None)
        self._seen[tp] = time.monotonic()
        self._idle.pop(tp, None)
        self._frontier[tp] = base
        self._reread.pop(tp, None)
        self._committed_offset[tp] = base
        self._read_offset[tp] = base if base else None
        acked = self._acked[tp]
        acked[:] = [o for o in acked if o >= base]
        self._acked_index[tp].intersection_update(acked)
        self._gap.pop(tp, None)
        self._stalled.pop(tp, None)

    async def on_partitions_revoked(self, revoked: set[TP]) -> None:
        for tp in revoked:
            self._txn_committed.pop(tp, None)
            self._seen.pop(tp, None)
            self._idle.pop(tp, None)
            self._read_offset.rewound.discard(tp)
            self._awaiting.pop(tp, None)
            self._commit_base.pop(tp, None)
            self._stalled.pop(tp, None)
            self._reseek.pop(tp, None)
            self._frontier.pop(tp, None)
            self._reread.pop(tp, None)
        await super().on_partitions_revoked(revoked)

    def _new_offset(self, tp: TP) -> int | None:
        acked = self._acked[tp]
        if not self._guarded(tp):
            return super()._new_offset(tp)
        if not acked:
            return None
        self._gap.pop(tp, None)  # gaps are not evidence that a record was processed
        base = self._commit_base.get(tp)
        # offsets below the base were committed already (by a transaction)
        if base is not None and min(acked) < base and not self._drop_acked(tp, base):
            return None
        new = next_commit(base, acked)
        if new is None:
            self._note_stall(tp, base, acked)
            return None
        self._stalled.pop(tp, None)
        if tp in self._read_offset.rewound:  # re-read through the base: filter again,
            self._read_offset.rewound.discard(tp)  # from the last committed record on
            self._read_offset[tp] = new - 1 if new > 1 else None
        self._drop_acked(tp, new)
        return new

    def _drop_acked(self, tp: TP, below: int) -> list[int]:
        """Forget ``tp``'s acked offsets below ``below``; returns those left (in place)."""
        acked = self._acked[tp]
        done = [o for o in acked if o < below]
        acked[:] = [o for o in acked if o >= below]
        self._acked_index[tp].difference_update(done)
        return acked

    def _note_stall(self, tp: TP, base: int | None, acked: list[int]) -> None:
        gap = head_gap(base, acked)
        if gap is None:
            return
        base_, _lowest = gap
        if any(m.tp == tp and m.offset == base_ for m in self._unacked_messages):
            return  # the head record is being processed
        now = time.monotonic()
        prev = self._stalled.get(tp)
        if prev is None or prev[0] != base_:
            self._stalled[tp] = (base_, now, 0)
            return
        _, since, tries = prev
        if now - since < min(STALL_S * 2 ** tries, MAX_STALL_S):
            return
        self._stalled[tp] = (base_, now, tries + 1)
        log.warning("commit guard: %s offset %d unacked while later ones are", tp, base_)
        self._reseek[tp] = base_

    async def commit(self, *args: Any, **kwargs: Any) -> bool:
        did = await super().commit(*args, **kwargs)
        await self._heal()
        return did

    def gate(self, events: list[Any]) -> tuple[list[Any], list[Any]]:
        """Split ``events`` into those an agent may apply now, in each partition's offset
        order, and those after a gap (a record not applied yet, e.g. one Faust skipped, or
        a batch given up on in a rebalance, overtaken by later records). The latter are
        left unacknowledged and their partition is sought back to the gap (at the next
        commit), so they come again after it. Records at or below the frontier are
        re-deliveries and pass. The caller reports what it applied with :meth:`advance`.

        Why: the profile skips an event at or below the last input offset it applied (a
        replay after a crash needs no id window that way), so an event applied before an
        earlier one of the same user would make the earlier one look applied (the
        50,000-event chaos run: 4 events in the middle of a user's history lost)."""
        nxt: dict[TP, int] = {}
        gapped: dict[TP, int] = {}
        admitted, held = [], []
        for ev in events:
            tp, offset = ev.message.tp, ev.message.offset
            base = self._commit_base.get(tp)
            if base is not None and offset < base:
                # committed already (a transaction published it): never again; left
                # unacknowledged without a seek back
                held.append(ev)
                continue
            f = nxt.get(tp, self._frontier.get(tp))
            if tp in gapped:
                held.append(ev)
                continue
            if f is not None and offset > f:
                held.append(ev)
                gapped[tp] = f
                continue
            admitted.append(ev)
            if f is not None:
                nxt[tp] = max(f, offset + 1)
        for tp, offset in gapped.items():
            log.warning("in-order gate: %s offset %d not applied yet, later ones held "
                        "(seeking back to it)", tp, offset)
            self._reread[tp] = offset
        return admitted, held

    def advance(self, events: Iterable[Any]) -> None:
        """Note ``events`` (admitted by :meth:`gate`) as applied: the frontier moves past
        them while their partitions stay assigned."""
        for ev in events:
            tp = ev.message.tp
            f = self._frontier.get(tp)
            if f is not None and ev.message.offset >= f:
                self._frontier[tp] = ev.message.offset + 1

    async def _heal(self) -> None:
        """Seek partitions with a gap at the in-order gate back to it, and partitions with
        a stalled head gap back to their base."""
        while self._reread:
            tp, offset = self._reread.popitem()
            if tp not in self.assignment() or self._frontier.get(tp) != offset:
                continue
            start = (await self.earliest_offsets(tp)).get(tp)
            if start is not None and offset < start:
                # the gap is below the log start (retention deleted it): nothing there to
                # wait for, the gate resumes from the first record that exists
                log.warning("in-order gate: %s offsets %d..%d no longer exist; resuming "
                            "at %d", tp, offset, int(start) - 1, int(start))
                offset = self._frontier[tp] = int(start)
            await self.seek(tp, offset)
            self._rewind(tp, offset)
        self._check_idle()
        await self._heal_stalls()

    def _check_idle(self) -> None:
        """Seek back to its base a partition with records at and after the base but none
        reaching the streams for a while and none being processed, while the partition is
        fetched (not paused, its stream buffer not full) and the fetch loop is not blocked
        handing a record over: those are backpressure, not loss. A catch-all for records that
        never reached the streams and are never fetched again: with no later record acked
        there is no head gap to notice, and with the input drained nothing arrives to end
        a hold (the chaos test's stall: 1,865 events behind the committed offsets, both
        workers silent; its exact route was not found). Waits IDLE_S, then twice as long
        each time at the same base, at most MAX_STALL_S: a seek back re-delivers what was
        fetched but not acked, and a stage that is not idempotent (dead letters, the
        index) sees it twice."""
        now = time.monotonic()
        if self._delivering:
            self._blocked_at = now  # time spent blocked does not count as idle
            return
        busy = {m.tp for m in self._unacked_messages}
        active = self._active_partitions
        for tp, base in list(self._commit_base.items()):
            if tp in busy or tp in self._reseek or any(o >= base for o in self._acked[tp]):
                continue  # in flight, or a head gap (the rule above handles it)
            if active is not None and tp not in active:  # paused (recovery) or its stream
                self._seen[tp] = now  # buffer is full (Faust's flow control): not fetched
                continue
            try:
                end = self.highwater(tp)
            except Exception:  # not (yet) assigned in the client
                continue
            if end is None or base >= end:
                self._idle.pop(tp, None)
                continue
            prev_base, tries = self._idle.get(tp, (base, 0))
            if prev_base != base:
                tries = 0
            quiet = now - max(self._seen.get(tp, now), self._blocked_at)
            if quiet < min(IDLE_S * 2 ** tries, MAX_STALL_S):
                continue
            log.warning("commit guard: %s idle for %.0f s at offset %d with records up to "
                        "%d; seeking back to it", tp, quiet, base, end - 1)
            self._idle[tp] = (base, tries + 1)
            self._seen[tp] = now
            self._reseek[tp] = base

    async def _heal_stalls(self) -> None:
        """Seek partitions with a stalled head gap back to their base: the records at and
        after it are fetched again (with the current generation) and processed."""
        while self._reseek:
            tp, base = self._reseek.popitem()
            if tp not in self.assignment() or self._commit_base.get(tp) != base:
                continue
            log.warning("commit guard: %s seeking back to offset %d (commits wait until "
                        "it is processed)", tp, base)
            await self.seek(tp, base)
            self._committed_offset[tp] = base
            self._rewind(tp, base)

    def note_committed(self, tp: Any, offset: int) -> None:
        """A transaction committed ``offset`` for ``tp`` (streams/publish.py): the commit
        base moves there, so seeks back (the watchdogs) never re-read what it committed,
        and Faust's livelock check counts it as a commit."""
        tp = TP(tp.topic, tp.partition)
        if tp not in self.assignment():
            return
        self._txn_committed[tp] = max(offset, self._txn_committed.get(tp, -1))
        base = self._commit_base.get(tp)
        if base is not None and offset > base:  # (Faust's _committed_offset stays: its
            self._commit_base[tp] = offset  # ack() refuses an offset below it, and would
            self._stalled.pop(tp, None)  # then keep the message as unacked for good)
        thread = getattr(self, "_thread", None)
        if thread is not None:
            thread.tp_last_committed_at[tp] = time.monotonic()

    async def _commit(self, offsets: Mapping[TP, int]) -> bool:
        floor = self._txn_committed
        send = {tp: o for tp, o in offsets.items() if o > floor.get(tp, -1)}
        # a transaction already committed as far (or further): done, as if committed here
        ok = bool(await super()._commit(send)) if send else True
        if ok:
            assigned = self.assignment()
            for tp, offset in offsets.items():
                if tp in assigned and tp in self._commit_base:
                    self._commit_base[tp] = max(offset, self._commit_base[tp])
        return ok


def leave_unacked(app: Any, events: Iterable[Any]) -> None:
    """Never acknowledge ``events``: a batch that an agent gave up on (a rebalance began while
    it ran) is left to be read again from the committed offset.

    ``take_events`` acknowledges every event of a batch once the agent asks for the next one,
    processed or not. After an eager rebalance the consumer's acked offsets are cleared on
    revoke, so those late acks were the only ones left for the partition when it came back:
    the guard then committed past events that no stage had applied, and the re-fetched
    copies were dropped as already read (the 50,000-event chaos run: users whose final
    profiles missed a whole batch of their events). Marked acked here, Faust's ``ack`` is a
    no-op for them; the commit stops at the first of them until a re-fetched copy is
    processed (re-fetched after the rebalance's seek, or by the guard's seek-back)."""
    consumer = app.consumer
    for ev in events:
        msg = ev.message
        with ack_lock:
            msg.acked = True
        consumer._unacked_messages.discard(msg)


def current_generation(app: Any, events: list[Any]) -> list[Any]:
    """The ``events`` fetched in the consumer group's current generation, in order; the rest
    are left unacknowledged (:func:`leave_unacked`) to be read again.

    Faust drops a record of an older generation when it enters a stream, but records that
    entered before a rebalance wait in ``take_events``'s buffer and came out in the next
    batch. When the batch before them was given up on (a rebalance began while it ran),
    those later records were applied first, and the re-read ones then fell at or below the
    profile's last applied input offset and were skipped as already applied: the
    50,000-event chaos run lost the middle of user histories that way (a profile of n 6 for
    46 events: its first 40 were in the given-up batch). The rebalance's seek re-reads them
    all in order."""
    gen = app.consumer_generation_id
    stale = [ev for ev in events if ev.message.generation_id != gen]
    if not stale:
        return events
    log.warning("%d events fetched before the last rebalance: left to be read again",
                len(stale))
    leave_unacked(app, stale)
    return [ev for ev in events if ev.message.generation_id == gen]


def in_order(app: Any, events: list[Any]) -> list[Any]:
    """The ``events`` an agent may apply now (:meth:`GuardedConsumer.gate`); the rest are
    left unacknowledged to come again in order. Without the guard (exactly_once), all."""
    gate = getattr(app.consumer, "gate", None)
    if gate is None:
        return events
    admitted, held = gate(events)
    if held:
        leave_unacked(app, held)
    return admitted


def applied(app: Any, events: Iterable[Any]) -> None:
    """Report ``events`` admitted by :func:`in_order` as applied."""
    advance = getattr(app.consumer, "advance", None)
    if advance is not None:
        advance(events)


class GuardedTransport(faust_aiokafka.Transport):
    Consumer = GuardedConsumer


def install(app: Any) -> bool:
    """Give ``app`` the guarded consumer (before anything uses its transport). Only for
    ``at_least_once``: with ``exactly_once`` input offsets are committed by the
    transactional producer and that mode stays Faust's own (ARCHITECTURE.md)."""
    if str(app.conf.processing_guarantee).lower().endswith("exactly_once"):
        return False
    app.transport = GuardedTransport(app.conf.broker_consumer, app)
    return True
