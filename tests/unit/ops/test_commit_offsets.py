"""The commit guard's decision (streams/offsets.py): given the broker-committed position
(the next offset to read) and the acked offsets, what may be committed."""

from __future__ import annotations

from typing import Any

import faust

from streams.offsets import GuardedConsumer, ReadOffsets, head_gap, install, next_commit


def test_consecutive_run_from_base_is_committed_up_to_its_end() -> None:
    assert next_commit(10, [10, 11, 12]) == 13
    assert next_commit(10, [12, 10, 11]) == 13  # order of acks does not matter


def test_run_stops_at_the_first_unacked_offset() -> None:
    assert next_commit(10, [10, 11, 13, 14]) == 12  # 12 unprocessed: 13, 14 wait


def test_gap_at_head_commits_nothing() -> None:
    assert next_commit(50, [55, 56, 57]) is None
    assert head_gap(50, [55, 56, 57]) == (50, 55)


def test_off_by_one_head_record_unacked() -> None:
    # Faust let this through (min(acked) - committed == 1), skipping record 50
    assert next_commit(50, [51, 52]) is None
    assert head_gap(50, [51, 52]) == (50, 51)


def test_base_zero_is_a_real_offset() -> None:
    # Faust skipped its head check for a committed offset of 0 and committed 6 here
    assert next_commit(0, [3, 4, 5]) is None
    assert next_commit(0, [0, 1, 2]) == 3


def test_unknown_base_commits_nothing() -> None:
    # e.g. right after a rebalance revoked the partition, before the base is re-read
    assert next_commit(None, [0, 1, 2]) is None
    assert head_gap(None, [5]) is None


def test_offsets_below_base_are_ignored() -> None:
    assert next_commit(10, [7, 8, 9, 10]) == 11  # re-deliveries of committed records
    assert next_commit(10, [7, 8, 9]) is None
    assert head_gap(10, [7, 8]) is None  # nothing above the base: no gap, nothing to do


def test_no_head_gap_while_the_head_is_acked() -> None:
    assert head_gap(10, [10, 12]) is None  # a gap in the middle is not a head gap


def test_install_gives_at_least_once_apps_the_guarded_consumer() -> None:
    app = faust.App("guard-test", broker="kafka://localhost:9", autodiscover=False)
    assert install(app)
    assert app.transport.Consumer is GuardedConsumer
    eos = faust.App("guard-test-eos", broker="kafka://localhost:9", autodiscover=False,
                    processing_guarantee="exactly_once")
    assert not install(eos)  # exactly_once keeps Faust's own consumer
    assert eos.transport.Consumer is not GuardedConsumer


def test_rewound_partition_delivers_records_below_the_last_read() -> None:
    # Faust's fetch loop delivers a record only if read is None or offset >= read
    def delivered(reads: ReadOffsets, tp: tuple[str, int], offset: int) -> bool:
        r = reads[tp]
        return r is None or offset >= r

    reads, tp = ReadOffsets(), ("events", 0)
    reads[tp] = 80  # a stale batch, still in flight after the seek back to 50, read 80
    assert not delivered(reads, tp, 50)  # Faust: the re-fetched record 50 is dropped
    reads.rewound.add(tp)
    assert delivered(reads, tp, 50)
    reads.rewound.discard(tp)
    assert reads[tp] == 80 and reads[("events", 1)] is None


def test_after_a_seek_records_above_the_base_wait_for_it() -> None:
    # records fetched before the seek back to 50 (55, 56) must not reach the streams before
    # the re-fetched 50: the profile stage would then skip 50..54 as already applied
    import time
    from types import SimpleNamespace

    state = SimpleNamespace(_awaiting={("events", 0): (50, time.monotonic())})

    def passes(offset: int, partition: int = 0) -> bool:
        msg = SimpleNamespace(tp=("events", partition), offset=offset)
        return not GuardedConsumer._hold(state, msg)  # type: ignore[arg-type]

    assert not passes(55) and not passes(56)
    assert passes(7, partition=1)  # other partitions are not held
    assert not passes(49)  # below the base: committed already, dropped
    assert passes(50)  # the base itself ends the hold
    assert passes(55) and passes(56)
    state._awaiting[("events", 0)] = (60, time.monotonic() - 60)  # base 60 never came
    assert passes(61)


def test_a_batch_left_unacked_is_never_committed() -> None:
    # take_events acks every event of a batch when the next is taken, processed or not; a
    # batch given up on in a rebalance must not count, or the commit passes events no stage
    # applied (after revoke, those late acks were all the partition had)
    from types import SimpleNamespace

    from faust.types import TP
    from faust.types.tuples import ConsumerMessage

    from streams.offsets import leave_unacked

    app = faust.App("guard-unacked", broker="kafka://localhost:9", autodiscover=False)
    install(app)
    app.topics._acking_topics.add("events")
    consumer = app.consumer
    tp = TP("events", 0)

    def message(offset: int) -> ConsumerMessage:
        msg = ConsumerMessage("events", 0, offset, 0.0, 0, [], b"k", b"v", None, 1, 1, tp)
        msg.refcount = 1
        consumer._unacked_messages.add(msg)
        return msg

    given_up, done = [message(o) for o in (50, 51)], message(52)
    leave_unacked(app, [SimpleNamespace(message=m) for m in given_up])
    assert not any(m.ack(consumer) for m in given_up)  # Faust's ack is a no-op for them
    assert done.ack(consumer)
    assert list(consumer._acked[tp]) == [52]
    assert set(consumer._unacked_messages) == set()  # nothing waits on them either
    consumer._commit_base[tp] = 50
    assert consumer._new_offset(tp) is None  # 50 and 51 are read again before any commit


def test_events_fetched_before_a_rebalance_are_left_to_be_read_again() -> None:
    # a batch was given up on in a rebalance; the next batch still holds records fetched
    # before it: applied now, they would overtake the given-up ones (which the profile would
    # then skip as at or below its last applied offset)
    from types import SimpleNamespace

    from streams.offsets import current_generation

    def ev(offset: int, gen: int) -> SimpleNamespace:
        return SimpleNamespace(message=SimpleNamespace(offset=offset, generation_id=gen,
                                                       acked=False))

    unacked: set[int] = set()
    app = SimpleNamespace(consumer_generation_id=7, consumer=SimpleNamespace(
        _unacked_messages=SimpleNamespace(discard=lambda m: unacked.add(m.offset))))
    batch = [ev(50, 6), ev(51, 6), ev(40, 7), ev(41, 7)]
    kept = current_generation(app, batch)
    assert [e.message.offset for e in kept] == [40, 41]
    assert batch[0].message.acked and batch[1].message.acked  # Faust will not ack them
    assert unacked == {50, 51} and not kept[0].message.acked
    assert current_generation(app, kept) is kept  # nothing stale: the batch as it is


def test_the_in_order_gate_holds_records_after_a_gap_and_seeks_back() -> None:
    # the profile skips an event at or below its last applied offset, so a partition's
    # events must be applied in offset order: after a gap (a record skipped, a batch given up
    # on) later records wait, unacknowledged, and the partition is read again from the gap
    from types import SimpleNamespace

    from faust.types import TP

    app = faust.App("guard-gate", broker="kafka://localhost:9", autodiscover=False)
    install(app)
    consumer = app.consumer
    tp, other = TP("events", 0), TP("events", 1)
    consumer._set_base(tp, 10)

    def evs(*offsets: int, t: TP = tp) -> list[SimpleNamespace]:
        return [SimpleNamespace(message=SimpleNamespace(tp=t, offset=o)) for o in offsets]

    admitted, held = consumer.gate(evs(10, 11, 13, 14) + evs(3, t=other))
    assert [e.message.offset for e in admitted] == [10, 11, 3]  # no base known yet for 1
    assert [e.message.offset for e in held] == [13, 14]
    assert consumer._reread == {tp: 12}  # sought back at the next commit
    consumer.advance(admitted)
    assert consumer._frontier[tp] == 12
    admitted, held = consumer.gate(evs(11, 12, 13))  # a re-delivery passes; 12 fills the gap
    assert [e.message.offset for e in admitted] == [11, 12, 13] and not held
    consumer.advance(admitted[:1])  # applying 11 again does not move the frontier
    assert consumer._frontier[tp] == 12
    consumer._reread.clear()
    admitted, held = consumer.gate(evs(8, 12))  # below the commit base: committed, dropped
    assert [e.message.offset for e in admitted] == [12]
    assert [e.message.offset for e in held] == [8] and not consumer._reread
    consumer._set_base(tp, 40)  # a new assignment: the base from the broker
    assert consumer._frontier[tp] == 40 and tp not in consumer._reread


def test_a_gap_below_the_log_start_moves_the_frontier_to_it() -> None:
    # a group that was away longer than the topic's retention: its committed base no longer
    # exists, and waiting for it would stall the partition for good
    import asyncio
    from types import SimpleNamespace

    tp = ("events", 0)
    seeks: list[tuple[Any, int]] = []

    async def earliest_offsets(*tps: Any) -> dict[Any, int]:
        return {tp: 500}

    async def seek(t: Any, offset: int) -> None:
        seeks.append((t, offset))

    async def no_stalls() -> None:
        return None

    state = SimpleNamespace(_reread={tp: 120}, _frontier={tp: 120}, assignment=lambda: {tp},
                            earliest_offsets=earliest_offsets, seek=seek,
                            _rewind=lambda t, o: None, _heal_stalls=no_stalls,
                            _check_idle=lambda: None)
    asyncio.run(GuardedConsumer._heal(state))  # type: ignore[arg-type]
    assert seeks == [(tp, 500)] and state._frontier[tp] == 500
    state._reread, state._frontier = {tp: 700}, {tp: 700}  # above the log start: as it is
    asyncio.run(GuardedConsumer._heal(state))  # type: ignore[arg-type]
    assert seeks[-1] == (tp, 700) and state._frontier[tp] == 700


def test_a_partition_idle_behind_its_records_is_sought_back() -> None:
    # records dropped on the way (held after a seek until the hold gave up) are never
    # fetched again, and with no later record acked there is no head gap to notice: the
    # watchdog seeks a partition back when records wait at and after its base but none
    # reached the streams for a while and none is being processed
    import time

    from faust.types import TP
    from faust.types.tuples import ConsumerMessage

    from streams.offsets import IDLE_S as STALL_S

    app = faust.App("guard-idle", broker="kafka://localhost:9", autodiscover=False)
    install(app)
    app.topics._acking_topics.add("events")
    consumer = app.consumer
    tp, done = TP("events", 0), TP("events", 1)
    ends = {tp: 90, done: 30}
    consumer.highwater = lambda t: ends[t]  # type: ignore[method-assign]
    consumer._set_base(tp, 50)
    consumer._set_base(done, 30)  # everything read and committed: never idle
    consumer._check_idle()
    assert not consumer._reseek  # just assigned: records may still be on their way
    consumer._seen[tp] = consumer._seen[done] = time.monotonic() - STALL_S - 1
    busy = ConsumerMessage("events", 0, 50, 0.0, 0, [], b"k", b"v", None, 1, 1, tp)
    consumer._unacked_messages.add(busy)  # its base is being processed: not idle
    consumer._check_idle()
    assert not consumer._reseek
    consumer._unacked_messages.discard(busy)
    consumer._active_partitions = {done}  # tp's stream buffer is full: not fetched now
    consumer._check_idle()
    assert not consumer._reseek
    consumer._active_partitions = None
    consumer._seen[tp] = time.monotonic() - STALL_S - 1
    consumer._delivering = 1  # the fetch loop waits on a full stream queue: backpressure
    consumer._check_idle()
    assert not consumer._reseek
    consumer._delivering = 0  # ... and the time it spent blocked does not count
    consumer._check_idle()
    assert not consumer._reseek
    consumer._blocked_at = 0.0
    consumer._check_idle()
    assert consumer._reseek == {tp: 50}
    consumer._reseek.clear()
    consumer._seen[tp] = time.monotonic() - STALL_S - 1  # idle again at the same base:
    consumer._check_idle()  # the wait doubles
    assert not consumer._reseek
    consumer._seen[tp] = time.monotonic() - 2 * STALL_S - 1
    consumer._check_idle()
    assert consumer._reseek == {tp: 50}


def test_a_transaction_commit_is_never_moved_back() -> None:
    # the user agent commits a batch's input offsets in its publish transaction
    # (streams/publish.py); Faust's own commit trails it and must not move the group back
    import asyncio

    from faust.types import TP

    app = faust.App("guard-txn", broker="kafka://localhost:9", autodiscover=False)
    install(app)
    consumer = app.consumer
    tp, other = TP("events", 0), TP("events", 1)
    consumer.assignment = lambda: {tp, other}  # type: ignore[method-assign]
    consumer._commit_base.update({tp: 10, other: 5})
    sent: list[dict[Any, int]] = []

    async def commit(self: Any, offsets: dict[Any, int]) -> bool:
        sent.append(dict(offsets))
        return True

    faust_commit = GuardedConsumer.__mro__[1]._commit
    try:
        GuardedConsumer.__mro__[1]._commit = commit  # type: ignore[method-assign]
        consumer.note_committed(tp, 40)
        assert consumer._commit_base[tp] == 40  # seeks back never go below it
        assert asyncio.run(consumer._commit({tp: 20, other: 7}))
        assert sent == [{other: 7}]  # 20 < 40: not sent again
        assert consumer._commit_base == {tp: 40, other: 7}
        assert asyncio.run(consumer._commit({tp: 41}))
        assert sent[-1] == {tp: 41}
        # the batch's own acks come after its transaction: below the base, dropped
        app.topics._acking_topics.add("events")
        consumer._acked[tp][:] = [39, 41, 40, 42]
        consumer._acked_index[tp].update({39, 40, 41, 42})
        assert consumer._commit_base[tp] == 41
        assert consumer._new_offset(tp) == 43  # 39 and 40 were committed already
        assert consumer._acked[tp] == [] and not consumer._acked_index[tp]
        consumer._acked[tp][:] = [30, 35]  # only offsets a transaction committed
        assert consumer._new_offset(tp) is None and consumer._acked[tp] == []
    finally:
        GuardedConsumer.__mro__[1]._commit = faust_commit  # type: ignore[method-assign]
