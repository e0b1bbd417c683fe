"""Bad input never stops the stream: >= 10,000 Hypothesis-generated bad events, mixed with good
ones, through the real broker and one worker.

Checks: every bad record is in ``dead-letters`` exactly once (matched by topic/partition/offset)
with the reason its generator expects and its raw bytes; every good event yields its
recommendation; and good events are not held up by the bad ones. The cost check compares,
in the same run, a good-only slice with a slice of as many good events mixed with all the
bad ones: rejecting a bad event must cost well under processing a good one. The starvation
check follows each good event of the mixed slice: its recommendation must come out while the
bad events sent after it are still being rejected, not once they are all done.

Also: ``recstream produce --file`` with bad lines sends nothing to a live broker.
"""

from __future__ import annotations

import base64
import bisect
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from recstream.core.events import EPOCH_MIN

pytestmark = [pytest.mark.integration, pytest.mark.timeout(360)]

BAD_EVENTS = 10_000
MAX_BYTES = 4096  # the worker's max_event_bytes here, so oversized payloads stay cheap
NOW = time.time()
KINDS = ("clicks", "purchases", "ratings")
IDS = ("event_id", "user_id", "item_id")
CONTRACT = {"event_id", "user_id", "item_id", "ts", "rating", "review"}
REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Bad:
    reason: str  # what the dead letter must say
    kind: str  # clicks | purchases | ratings
    key: str
    value: bytes | None  # None: a tombstone


# ------------------------------------------------------------------------- strategies
def strategies(users: list[str], items: list[str]) -> st.SearchStrategy[Bad]:
    """One bad event of any kind: a valid event with exactly one thing wrong (or bytes that
    are not an event at all), tagged with the reason the worker must give.

    Every strategy is built once here; the per-reason functions only ``draw`` from them
    (building strategies inside each draw made generation ~10x slower).
    """
    dumps = orjson.dumps
    user_st, item_st, kind_st = st.sampled_from(users), st.sampled_from(items), \
        st.sampled_from(KINDS)
    review_st = st.text(st.characters(codec="ascii", min_codepoint=32), max_size=40)
    json_value = st.recursive(st.none() | st.booleans() | st.integers(-99, 99)
                              | st.text(max_size=5), lambda x: st.lists(x, max_size=3),
                              max_leaves=4)
    id_field = st.sampled_from(IDS)
    control = st.sampled_from([chr(c) for c in [*range(32), 127]])
    utf8_breakers = st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\x80",
                                     b"\xf8\x88\x80", b"\xe2\x82"])
    not_utf8 = st.binary(min_size=1, max_size=64).filter(_not_utf8)
    not_json_text = st.text(max_size=30).map(str.encode).filter(_not_json)
    non_finite = st.sampled_from([b"NaN", b"Infinity", b"-Infinity", b"1e999"])
    not_object = (st.lists(json_value, max_size=4) | st.integers(-(2**63), 2**63 - 1)
                  | st.text(max_size=10) | st.booleans() | st.none())
    extra_name = st.text(min_size=1, max_size=12).filter(lambda k: k not in CONTRACT)
    not_id = (st.lists(st.integers(-9, 9), max_size=2) | st.booleans()
              | st.floats(allow_nan=False, allow_infinity=False)
              | st.dictionaries(st.text(max_size=3), st.integers(-9, 9), max_size=2))
    not_number = st.text(max_size=8) | st.booleans() | st.lists(st.integers(-9, 9), max_size=2)
    not_review = st.integers(-9, 9) | st.booleans() | st.lists(st.none(), max_size=2)
    out_of_range = (st.floats(max_value=-1e-9, allow_nan=False, allow_infinity=False)
                    | st.floats(min_value=10.000001, allow_nan=False, allow_infinity=False)
                    | st.integers(10**20, 10**40))
    blank = st.text(" \t\r\n", max_size=4)
    ctrl_id = st.tuples(st.text("abc", min_size=1, max_size=5), control,
                        st.text("xyz", max_size=5)).map("".join)

    def base(draw: st.DrawFn, kind: str) -> dict[str, Any]:
        ev: dict[str, Any] = {"event_id": f"bad-{draw(st.uuids()).hex}",
                              "user_id": draw(user_st), "item_id": draw(item_st),
                              "ts": draw(st.floats(EPOCH_MIN, NOW))}
        if kind == "ratings":
            ev["rating"] = draw(st.integers(0, 10))
        if draw(st.booleans()):
            ev["review"] = draw(review_st)
        return ev

    def oversized(draw: st.DrawFn, kind: str, ev: dict[str, Any]) -> bytes | None:
        return dumps({**ev, "review": "x" * draw(st.integers(MAX_BYTES + 1, MAX_BYTES + 3000))})

    def invalid_utf8(draw: st.DrawFn, kind: str, ev: dict[str, Any]) -> bytes | None:
        if draw(st.booleans()):
            return draw(not_utf8)
        return dumps({**ev, "user_id": "@@"}).replace(b'"@@"', b'"u' + draw(utf8_breakers)
                                                      + b'"')

    def malformed_json(draw: st.DrawFn, kind: str, ev: dict[str, Any]) -> bytes | None:
        how = draw(st.integers(0, 3))
        if how == 0:  # cut short (ASCII, so the cut never splits a UTF-8 sequence)
            whole = dumps({k: v for k, v in ev.items() if k != "review"})
            return whole[:draw(st.integers(0, len(whole) - 1))]
        if how == 1:  # what json.dumps(float("nan")) writes
            return dumps({**ev, "rating": "@R@"}).replace(b'"@R@"', draw(non_finite))
        return draw(not_json_text) if how == 2 else None  # None: a tombstone

    def not_an_object(draw: st.DrawFn, kind: str, ev: dict[str, Any]) -> bytes | None:
        return dumps([ev]) if draw(st.booleans()) else dumps(draw(not_object))

    def missing_field(draw: st.DrawFn, kind: str, ev: dict[str, Any]) -> bytes | None:
        field = draw(st.sampled_from([*IDS, "ts", *(["rating"] if kind == "ratings" else [])]))
        if draw(st.booleans()):
            return dumps({**ev, field: None})  # null counts as missing
        return dumps({k: v for k, v in ev.items() if k != field})

    def unknown_field(draw: st.DrawFn, kind: str, ev: dict[str, Any]) -> bytes | None:
        name = "rating" if kind != "ratings" and draw(st.booleans()) else draw(extra_name)
        return dumps({**ev, name: draw(json_value)})

    def wrong_type(draw: st.DrawFn, kind: str, ev: dict[str, Any]) -> bytes | None:
        field = draw(st.sampled_from([*IDS, "ts", "review",
                                      *(["rating"] if kind == "ratings" else [])]))
        value = draw(not_id if field in IDS else not_review if field == "review" else not_number)
        return dumps({**ev, field: value})

    def empty_id(draw: st.DrawFn, kind: str, ev: dict[str, Any]) -> bytes | None:
        return dumps({**ev, draw(id_field): draw(blank)})

    def oversized_id(draw: st.DrawFn, kind: str, ev: dict[str, Any]) -> bytes | None:
        return dumps({**ev, draw(id_field): "i" * draw(st.integers(257, 600))})

    def control_chars(draw: st.DrawFn, kind: str, ev: dict[str, Any]) -> bytes | None:
        return dumps({**ev, draw(id_field): draw(ctrl_id)})

    def ts_out_of_range(draw: st.DrawFn, kind: str, ev: dict[str, Any]) -> bytes | None:
        return dumps({**ev, "ts": draw(st.floats(-1e12, EPOCH_MIN - 1))})

    def ts_in_future(draw: st.DrawFn, kind: str, ev: dict[str, Any]) -> bytes | None:
        return dumps({**ev, "ts": draw(st.floats(NOW + 3 * 86400, 1e15))})

    def unknown_item(draw: st.DrawFn, kind: str, ev: dict[str, Any]) -> bytes | None:
        return dumps({**ev, "item_id": f"no-such-item-{draw(st.uuids()).hex}"})

    def bad_rating(draw: st.DrawFn, kind: str, ev: dict[str, Any]) -> bytes | None:
        r = draw(out_of_range)  # repr: huge ints stay ints in the JSON text
        return dumps({**ev, "rating": "@R@"}).replace(b'"@R@"', repr(r).encode())

    makers = [oversized, invalid_utf8, malformed_json, not_an_object, missing_field,
              unknown_field, wrong_type, empty_id, oversized_id, control_chars,
              ts_out_of_range, ts_in_future, unknown_item, bad_rating]
    maker_st = st.sampled_from(makers)

    @st.composite
    def bad(draw: st.DrawFn) -> Bad:
        make = draw(maker_st)
        kind = "ratings" if make is bad_rating else draw(kind_st)
        ev = base(draw, kind)
        return Bad(make.__name__, kind, ev["user_id"], make(draw, kind, ev))

    return bad()


def _not_utf8(b: bytes) -> bool:
    try:
        b.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _not_json(b: bytes) -> bool:
    try:
        orjson.loads(b)
    except orjson.JSONDecodeError:
        return True
    return False


def generate(strategy: st.SearchStrategy[Bad], n: int, rng_seed: int, batch: int = 25
             ) -> list[Bad]:
    """``n`` examples of ``strategy`` (Hypothesis' generate phase only: no shrinking), drawn
    ``batch`` per Hypothesis example: one example per event costs ~5 ms of overhead here."""
    out: list[Bad] = []

    @seed(rng_seed)
    @settings(max_examples=-(-n // batch), database=None, deadline=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(st.lists(strategy, min_size=batch, max_size=batch))
    def collect(bs: list[Bad]) -> None:
        out.extend(bs)

    collect()
    return out[:n]


# ------------------------------------------------------------------------- the test
def fast_producer(bootstrap: str) -> KafkaProducer:
    return KafkaProducer(bootstrap_servers=bootstrap.split(","), linger_ms=20,
                         batch_size=256 * 1024, acks=1, max_request_size=4 * 1024 * 1024)


Rec = tuple[str, str, bytes | None]  # (kind, key, value)


def send_all(p: KafkaProducer, prefix: str, records: list[Rec]) -> list[tuple[str, int, int]]:
    """Send records in bulk (no await per record); their (topic, partition, offset)s."""
    futures = [p.send(prefix + kind, key=key.encode(), value=value)
               for kind, key, value in records]
    p.flush(timeout=120)
    metas = [f.get(timeout=60) for f in futures]
    return [(m.topic, m.partition, m.offset) for m in metas]


def test_bad_events_are_dead_lettered_and_good_ones_flow(cluster, producer, reader, ml_sample,
                                                         kafka_broker: str) -> None:
    w = cluster.worker()
    w.env_extra = {"RECSTREAM_WORKER__REJECT_UNKNOWN_FIELDS": "true",
                   "RECSTREAM_WORKER__MAX_EVENT_BYTES": str(MAX_BYTES)}
    w.start()
    by_user = ml_sample.by_user()
    users = sorted(by_user)
    items = [it["item_id"] for it in ml_sample.items]
    rng_seed = random.randrange(2**32)
    t_gen = time.monotonic()
    bad = generate(strategies(users, items), BAD_EVENTS, rng_seed)
    gen_s = time.monotonic() - t_gen
    assert len(bad) == BAD_EVENTS, f"Hypothesis generated only {len(bad)}"
    w.wait_healthy()
    producer.items(ml_sample.items)
    recs, dead = reader("recommendations"), reader("dead-letters")
    fast = fast_producer(kafka_broker)
    prefix = producer.prefix

    def good_records(evs: list[dict[str, Any]]) -> list[Rec]:
        return [("ratings", ev["user_id"], orjson.dumps(ev)) for ev in evs]

    def wait_recs(evs: list[dict[str, Any]], what: str) -> None:
        ids = {ev["event_id"] for ev in evs}
        recs.wait_for(lambda rs: ids <= {r.value["trigger_event_id"] for r in rs}, 180, what)

    # Slice A, good events only (half of the users): the baseline rate.
    half = len(users) // 2
    good_a = [ev for u in users[:half] for ev in by_user[u]]
    good_b = [ev for u in users[half:] for ev in by_user[u]]
    t0 = time.monotonic()
    send_all(fast, prefix, good_records(good_a))
    wait_recs(good_a, "recommendations for the good-only slice")
    good_only_s = time.monotonic() - t0

    # Slice B: the other users' good events spread evenly among all the bad ones.
    tagged: list[tuple[Rec, Bad | None]] = [((b.kind, b.key, b.value), b) for b in bad]
    step = len(tagged) // len(good_b)
    for i, rec in enumerate(good_records(good_b)):
        tagged.insert(i * (step + 1), (rec, None))
    t1 = time.monotonic()
    where = send_all(fast, prefix, [rec for rec, _ in tagged])
    fast.close()
    wait_recs(good_b, "recommendations for the good events among the bad ones")
    good_mixed_s = time.monotonic() - t1
    dead.wait_for(lambda rs: len(rs) >= BAD_EVENTS, 180, f"{BAD_EVENTS} dead letters")
    mixed_s = time.monotonic() - t1
    recs.drain(quiet_s=1.0)
    dead.drain(quiet_s=1.0)

    # Every bad record is dead-lettered exactly once, with its reason and bytes.
    expected = {at: b for (_, b), at in zip(tagged, where, strict=True) if b is not None}
    letters = Counter((d["topic"], d["partition"], d["offset"]) for d in dead.values())
    twice = [k for k, n in letters.items() if n > 1]
    assert not twice, f"dead-lettered more than once: {twice[:5]}"
    stray = set(letters) - set(expected)
    assert not stray, f"dead letters for records that were not bad: {sorted(stray)[:5]}"
    missing = set(expected) - set(letters)
    assert not missing, (f"{len(missing)} bad records not dead-lettered, e.g. "
                         f"{[expected[k] for k in sorted(missing)[:3]]}")
    wrong = []
    for d in dead.records:
        v = d.value
        b = expected[(v["topic"], v["partition"], v["offset"])]
        raw = b.value or b""
        got_raw = base64.b64decode(v["raw"])
        if (v["reason"] != b.reason or got_raw != raw[:MAX_BYTES]
                or v["raw_size"] != len(raw) or v["truncated"] != (len(raw) > MAX_BYTES)
                or d.key != b.key):
            wrong.append((v["reason"], v["detail"], b))
    assert not wrong, f"{len(wrong)} dead letters differ from the bad input, e.g. {wrong[:3]}"

    # Every good event produced exactly one recommendation.
    triggers = Counter(r.value["trigger_event_id"] for r in recs.records)
    good_ids = {ev["event_id"] for ev in [*good_a, *good_b]}
    assert set(triggers) == good_ids
    assert all(n == 1 for n in triggers.values())

    # Good events keep flowing: a rejected event costs a small fraction of a good one.
    per_good_s = good_only_s / len(good_a)
    per_bad_s = max(0.0, mixed_s - len(good_b) * per_good_s) / BAD_EVENTS
    good_rate, good_rate_mixed = len(good_a) / good_only_s, len(good_b) / good_mixed_s
    reasons = Counter(b.reason for b in bad)
    gaps: dict[str, list[float]] = {}  # time since the previous dead letter, same partition
    last: dict[int, float] = {}
    for d in dead.records:
        if d.partition in last:
            gaps.setdefault(d.value["reason"], []).append(d.value["ts"] - last[d.partition])
        last[d.partition] = d.value["ts"]
    cost = {r: round(1000 * sorted(g)[len(g) // 2], 2) for r, g in gaps.items()}
    print("median ms between dead letters by reason:", cost)
    print(f"\nbad input: {BAD_EVENTS} bad events tried, {sum(letters.values())} dead-lettered "
          f"({len(reasons)} reasons: {dict(sorted(reasons.items()))}), "
          f"{len(triggers)} good processed; good-only {good_rate:.0f} events/s "
          f"({per_good_s * 1000:.1f} ms each), mixed {good_rate_mixed:.0f} good events/s, "
          f"{per_bad_s * 1000:.2f} ms per bad event; generated in {gen_s:.1f}s, "
          f"hypothesis seed {rng_seed}")
    assert len(reasons) == 14
    assert per_bad_s < per_good_s / 3, (per_bad_s, per_good_s)
    lags = starvation_lags(tagged, recs.records, dead.records)
    print(f"good events among the bad ones: median lag {statistics.median(lags):.3f}, "
          f"worst {max(lags):.3f} (share of all bad events rejected after the good event's "
          f"recommendation should have come, by send order)")
    # Good events are not starved: one sent after a share s of the bad events must be
    # answered before much more than s of them are rejected. A pipeline that served good
    # events only once the bad ones were done has a lag of 1 − s (median 0.75 over the first
    # half of the stream); FIFO processing has the pipeline's own delay, a few per cent.
    assert statistics.median(lags) < 0.25, sorted(lags)


def starvation_lags(tagged: list[tuple[Rec, Bad | None]], recs: list[Any],
                    dead: list[Any]) -> list[float]:
    """For each good event in the first half of the mixed stream (``tagged``, send order):
    the share of all bad events dead-lettered by the time its recommendation was published
    (wall clock, ``published_ts`` against each dead letter's ``ts``), minus the share sent
    before it."""
    n_bad = sum(1 for _, b in tagged if b is not None)
    published = {}
    for r in recs:
        published.setdefault(r.value["trigger_event_id"], r.value["published_ts"])
    rejected = sorted(d.value["ts"] for d in dead)
    lags, bad_before = [], 0
    for (_, _, value), b in tagged:
        if b is not None:
            bad_before += 1
            continue
        if bad_before > n_bad / 2:
            break
        t = published[orjson.loads(value or b"{}")["event_id"]]
        lags.append(bisect.bisect_right(rejected, t) / n_bad - bad_before / n_bad)
    return lags


def test_produce_file_with_bad_lines_sends_nothing(kafka_broker: str, topic_prefix: str,
                                                   tmp_path: Path) -> None:
    good = {"event_id": "e1", "user_id": "u1", "item_id": "i1", "ts": 1.7e9}
    f = tmp_path / "events.jsonl"
    env = {**os.environ, "RECSTREAM_TOPICS__PREFIX": topic_prefix}

    def produce() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "recstream", "produce", "--file", str(f),
                               "--bootstrap-server", kafka_broker, "--quiet"], cwd=REPO_ROOT,
                              env=env, capture_output=True, text=True, timeout=120)

    def offsets() -> dict[str, int]:
        c = KafkaConsumer(bootstrap_servers=kafka_broker)
        try:
            out = {}
            for kind in KINDS:
                parts = c.partitions_for_topic(topic_prefix + kind) or set()
                tps = [TopicPartition(topic_prefix + kind, p) for p in parts]
                out[kind] = sum(c.end_offsets(tps).values()) if tps else 0
            return out
        finally:
            c.close()

    f.write_text("\n".join([json.dumps(good), json.dumps({**good, "event_id": "e2"}),
                            json.dumps({**good, "event_id": "e3", "ts": "now"}),
                            json.dumps({**good, "event_id": "e4", "rating": 4})]) + "\n")
    proc = produce()
    assert proc.returncode == 2, proc
    assert proc.stderr.strip() == ("error: 1 invalid line(s) in " + str(f) + ", nothing sent: "
                                   "line 3: wrong_type: ts must be a number (epoch seconds)")
    assert offsets() == {"clicks": 0, "purchases": 0, "ratings": 0}

    f.write_text("\n".join(line for i, line in enumerate(f.read_text().splitlines()) if i != 2))
    proc = produce()  # the same file without its bad line goes out, so the broker was usable
    assert proc.returncode == 0, proc
    assert "sent 0 items and 3 events" in proc.stdout
    deadline = time.monotonic() + 30
    while offsets() != {"clicks": 2, "purchases": 0, "ratings": 1}:
        assert time.monotonic() < deadline, offsets()
        time.sleep(0.5)
