"""Chaos (issue 6, item 2): two workers and the scorer on their own broker replay MovieLens
events while a random worker is SIGKILLed at random moments at least 10 times (each
restarted on its kept RocksDB directory) and the broker is restarted once.

Afterwards: every user's profile in the profiles changelog equals one clean in-process pass
(MemoryPipeline) over the same events; every input event is accounted for (good events
applied exactly once, by the profiles' event counts and applied ids; bad ones dead-lettered);
every good event has exactly one recommendation per variant for a read-committed reader;
each restarted worker had less to recover than its changelog holds (its RocksDB persisted
changelog offsets, read before the restart).

In the default test command at 5,000 events. Bounded: ``RECSTREAM_CHAOS_EVENTS`` events
(default 5,000: about 3-4 minutes on the 2-core VM;
the replay is paced at ``RECSTREAM_CHAOS_RATE`` records/s, at least over a minute, and the
kills are spread across it). The issue's full 50,000 events
(``RECSTREAM_CHAOS_EVENTS=50000 pytest tests/integration/test_chaos.py``) take 10-22
minutes here, too long for every test run; BENCHMARKS.md lists those runs (the eighth
passed, after seven that each found a defect). On failure the test prints where the events
without a recommendation stopped (internal topics, the group's committed offsets against
each topic's end), or which users' final profiles differ and by how much.
"""

from __future__ import annotations

import base64
import math
import os
import random
import signal
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest
from kafka import KafkaConsumer, TopicPartition
from test_outages import own_broker, support  # noqa: F401  (own_broker: a fixture)
from test_restart import expected_profiles, last_per_key, profile_diff

from recstream.core.privacy import event_pseudonym, pseudonym
from recstream.settings import Settings

EVENTS = int(os.environ.get("RECSTREAM_CHAOS_EVENTS", "5000"))
RATE = float(os.environ.get("RECSTREAM_CHAOS_RATE", "100"))  # input records/s while replaying
KILLS = 10
# at most this long after the replay for the last recommendations (two workers on two shared
# cores, restarting ten times, process ~100 events/s: a long replay ends with a backlog)
FINAL_WAIT_S = max(240, EVENTS // 40)
IDLE_S = 45  # ... and fail sooner when none came for this long (the pipeline stopped)
pytestmark = [pytest.mark.integration, pytest.mark.timeout(600 + EVENTS // 10)]

# Faust waits broker_session_timeout (60 s) for a SIGKILLed member before it rebalances; 10 s
# keeps ten kills inside the time budget (Faust reads these variables itself).
WORKER_ENV = {"RECSTREAM_SCORER__ENABLED": "true", "RECSTREAM_SCORER__TIMEOUT_MS": "1500",
              "BROKER_SESSION_TIMEOUT": "10", "BROKER_HEARTBEAT_INTERVAL": "1"}
BAD_EVERY = 97  # one bad event (dead-lettered: bad_rating) per this many good ones
RESEND_EVERY = 89  # the producer sends one good event per this many twice


def persisted_backlog(data_dir: Path, bootstrap: str, topic: str) -> tuple[int, int]:
    """(records Faust must read to recover the profiles partitions whose RocksDB the worker
    kept, records those changelog partitions hold), from each partition's persisted
    changelog offset (Faust's ``__faust\\0offset__`` key). A full rebuild reads them all."""
    import rocksdict

    kept: dict[int, int] = {}
    for db in data_dir.glob("**/profiles-*.db"):
        part = int(db.name[len("profiles-"):-len(".db")])
        rd = rocksdict.Rdict(str(db), options=rocksdict.Options(raw_mode=True),
                             access_type=rocksdict.AccessType.read_only())
        try:
            off = rd.get(b"__faust\x00offset__")
        finally:
            rd.close()
        kept[part] = int(off) if off is not None else -1
    if not kept:
        return 0, 0
    c = KafkaConsumer(bootstrap_servers=bootstrap)
    try:
        tps = [TopicPartition(topic, p) for p in kept]
        end, begin = c.end_offsets(tps), c.beginning_offsets(tps)
    finally:
        c.close()
    to_read = sum(max(0, end[tp] - (kept[tp.partition] + 1)) for tp in tps)
    return to_read, sum(end[tp] - begin[tp] for tp in tps)


def diagnose(bootstrap: str, prefix: str, key: bytes, missing: set[str],
             sup: Any) -> str:
    """Where the events without a recommendation stopped: their records on the internal
    topic (events; it carries event pseudonyms) and the worker
    group's committed offsets against each topic's end."""
    from streams.lag import LagCollector

    lines = [f"{len(missing)} events without a recommendation: {sorted(missing)[:10]}"]
    want = {event_pseudonym(key, e): e for e in missing}
    group = f"{prefix}recstream"
    for stage in ("ratings", "events"):
        r = sup.TopicReader(bootstrap, prefix + stage if stage == "ratings"
                            else f"{group}-{stage}")
        try:
            r.drain(quiet_s=1.5)
        finally:
            r.close()
        ids = missing if stage == "ratings" else want  # the input carries the raw ids
        hits = [(want.get(rec.value["event_id"], rec.value["event_id"]), rec.partition,
                 rec.offset) for rec in r.records
                if isinstance(rec.value, dict) and rec.value.get("event_id") in ids]
        lines.append(f"  {stage}: {len(r.records)} records; missing events there "
                     f"(event, partition, offset): {hits[:20]}")
    lag = LagCollector(bootstrap)
    try:
        for snap in lag.snapshot(lag.list_groups()):
            lines.append(f"  group {snap.group} ({snap.state}, {len(snap.members)} members):")
            for po in sorted(snap.partitions, key=lambda po: (po.topic, po.partition)):
                if po.committed != po.end:
                    lines.append(f"    {po.topic}[{po.partition}] committed={po.committed} "
                                 f"end={po.end}")
    finally:
        lag.close()
    return "\n".join(lines)


def test_chaos_kills_and_broker_restart_leave_profiles_exact(
        own_broker, topic_prefix: str, tmp_path: Path,  # noqa: F811
        request: pytest.FixtureRequest) -> None:
    sup = support(request.config)
    rnd = random.Random(int(os.environ.get("RECSTREAM_CHAOS_SEED", "6")))
    bootstrap = own_broker.bootstrap
    cluster = sup.Cluster(bootstrap, topic_prefix, tmp_path)
    request.node._recstream_cluster = cluster
    key = sup.TEST_PRIVACY_KEY.encode()
    readers: list[Any] = []

    def reader(name: str) -> Any:
        r = sup.TopicReader(bootstrap, topic_prefix + name)
        readers.append(r)
        return r

    sample = sup.movielens_sample(users=min(943, max(50, EVENTS // 10)),
                                  per_user=max(10, 2 * math.ceil(EVENTS / 943)))
    good, items = sample.events[:EVENTS], sample.items
    bad = [{**ev, "event_id": f"chaos-bad-{i}", "rating": -2.0}
           for i, ev in enumerate(good[::BAD_EVERY])]
    stream: list[dict[str, Any]] = []
    for i, ev in enumerate(good):
        stream.append(ev)
        if i % BAD_EVERY == 0:
            stream.append(bad[i // BAD_EVERY])
        if i % RESEND_EVERY == 0:
            stream.append(ev)  # a producer retry: the same event twice

    producer = sup.Producer(bootstrap, topic_prefix)
    paused, sent_all = threading.Event(), threading.Event()
    send_s = max(60.0, len(stream) / RATE)  # paced so that the kills fall during the replay

    def produce() -> None:
        p = sup.Producer(bootstrap, topic_prefix)
        try:
            step = 20
            for k in range(0, len(stream), step):
                while paused.is_set():
                    time.sleep(0.2)
                p.events(stream[k:k + step])
                time.sleep(send_s * step / len(stream))
        finally:
            p.close()
            sent_all.set()

    t_start = time.monotonic()
    kills = broker_restarts = 0
    backlogs: list[tuple[int, int]] = []
    try:
        scorer = cluster.scorer(WORKER_ENV)
        workers = [cluster.worker(f"w{i}") for i in range(2)]
        for w in workers:
            w.env_extra = dict(WORKER_ENV)
            w.start()
        scorer.start()
        for w in workers:
            w.wait_healthy()
        producer.items(items)
        recs = reader("recommendations")
        thread = threading.Thread(target=produce, daemon=True)
        thread.start()
        changelog_topic = f"{topic_prefix}recstream-profiles-changelog"

        def ready(w: Any) -> bool:
            try:
                return w.alive() and w.get("/health", timeout_s=2)[0] == 200
            except OSError:
                return False

        gap_s = max(3.0, send_s / (KILLS + 1))  # kills spread across the replay
        while kills < KILLS:
            time.sleep(rnd.uniform(0.5, 1.5) * gap_s)
            recs.poll(0.1)
            victims = [w for w in workers if ready(w)] or [w for w in workers if w.alive()]
            if not victims:
                continue
            w = rnd.choice(victims)
            os.killpg(w.proc.pid, signal.SIGKILL)
            w.proc.wait(10)
            kills += 1
            time.sleep(rnd.uniform(0.0, 2.0))
            backlogs.append(persisted_backlog(w.data_dir, bootstrap, changelog_topic))
            w.start()  # same data dir: it resumes from RocksDB + the changelog's tail
            if kills == KILLS // 2:  # the broker, once, mid-replay (producer paused)
                paused.set()
                recs.close()
                readers.remove(recs)
                assert own_broker.stop(), "the broker was not running"
                time.sleep(3.0)
                own_broker.start(wait_s=90)
                broker_restarts += 1
                paused.clear()
                recs = reader("recommendations")
        chaos_s = time.monotonic() - t_start
        thread.join(timeout=send_s + 120)
        assert sent_all.is_set(), "the producer did not finish"
        for w in workers:
            if not w.alive():
                w.start()
            w.wait_healthy()

        # ---- every good event gets its recommendation; profiles converge
        want_ids = {ev["event_id"] for ev in good}
        # until every good event has one, or nothing new came for IDLE_S (the pipeline
        # stopped short), or FINAL_WAIT_S in all
        deadline, last_new = time.monotonic() + FINAL_WAIT_S, time.monotonic()
        while not want_ids <= recs.triggers():
            if recs.poll(0.5):
                last_new = time.monotonic()
            now = time.monotonic()
            if now - last_new > IDLE_S or now > deadline:
                missing_recs = want_ids - recs.triggers()
                pytest.fail(f"no recommendation for {len(missing_recs)} events "
                            f"({now - last_new:.0f}s without a new one)\n"
                            + diagnose(bootstrap, topic_prefix, key, missing_recs, sup))
        want = expected_profiles(items, good)
        stored = {u: pseudonym(key, u) for u in want}
        changelog = reader("recstream-profiles-changelog")
        try:
            changelog.wait_for(lambda rs: all((last_per_key(rs).get(stored[u]) or {}).get("n")
                                              == p["n"] for u, p in want.items()),
                               90, "every user's final profile in the changelog")
        except pytest.fail.Exception:
            last = last_per_key(changelog.records)
            off = {u: ((last.get(stored[u]) or {}).get("n"), p["n"]) for u, p in want.items()
                   if (last.get(stored[u]) or {}).get("n") != p["n"]}
            guard = sum(p.read_text(errors="replace").count("commit guard:")
                        for p in tmp_path.glob("*.log"))
            pytest.fail(f"{len(off)} users' final profiles have the wrong event count "
                        f"(user: (changelog n, expected n)): {list(off.items())[:10]}; "
                        f"{guard} commit guard warnings in the worker logs")
        changelog.drain(quiet_s=2.0)
        got = last_per_key(changelog.records)
        recs.drain(quiet_s=2.0)
        dead = reader("dead-letters")
        dead.drain(quiet_s=2.0)
        total_s = time.monotonic() - t_start
    finally:
        producer.close()
        for r in readers:
            r.close()
        cluster.stop_all()

    # ---- accounting
    window = Settings().profile.applied_ids
    mismatches = {u: d for u, p in want.items() if (d := profile_diff(got.get(stored[u]), p))}
    duplicates_applied = missing = 0
    for u, p in want.items():
        g = got.get(stored[u]) or {}
        n = int(g.get("n", 0))
        duplicates_applied += max(0, n - p["n"])
        missing += max(0, p["n"] - n)
        ids = list(g.get("ids") or ())
        duplicates_applied += len(ids) - len(set(ids))
        if p["n"] <= window:  # the window holds every applied id: check them one by one
            want_events = {event_pseudonym(key, e) for e in p.get("ids", ())}
            missing += len(want_events - set(ids))
    lettered = Counter()
    for r in dead.records:
        raw = orjson.loads(base64.b64decode(r.value["raw"]))
        lettered[raw["event_id"]] += 1
    bad_ids = {b["event_id"] for b in bad}
    missing += len(bad_ids - set(lettered))
    wrongly_lettered = set(lettered) & want_ids
    pairs = Counter((r.value["trigger_event_id"], r.value["variant"]) for r in recs.records)
    rec_dups = sum(n - 1 for n in pairs.values() if n > 1)
    to_read = sum(a for a, _ in backlogs)
    held = sum(b for _, b in backlogs)
    print(f"\nchaos: events={len(good)} kills={kills} broker_restarts={broker_restarts} "
          f"mismatches={len(mismatches)} duplicates_applied={duplicates_applied} "
          f"missing={missing} repeated_recommendations={rec_dups}")
    print(f"chaos detail: {len(stream)} records sent ({len(bad)} bad, "
          f"{len(stream) - len(good) - len(bad)} re-sent), {sum(lettered.values())} "
          f"dead letters for {len(lettered)} bad events, {len(recs.records)} "
          f"recommendations, {rec_dups} repeated (trigger, variant) records; restarts had "
          f"{to_read} of {held} changelog records to recover; chaos {chaos_s:.0f}s, "
          f"total {total_s:.0f}s")
    # streams/offsets.py logs each seek back to an unacked head record ("commit guard:")
    guard = sum(p.read_text(errors="replace").count("commit guard:")
                for p in tmp_path.glob("*.log"))
    print(f"chaos commit guard: {guard} re-seeks/absent-offset warnings in the worker logs")
    assert kills >= KILLS and broker_restarts == 1
    assert not mismatches, f"profiles differ from one clean pass: {list(mismatches.items())[:5]}"
    assert duplicates_applied == 0 and missing == 0
    assert not wrongly_lettered, f"good events dead-lettered: {sorted(wrongly_lettered)[:5]}"
    # transactional publication (worker.transactional_publish, the default): records and
    # input offsets commit together, so a read-committed reader sees each pair once
    assert rec_dups == 0, f"{rec_dups} repeated (trigger, variant) recommendations"
    # resumed, not rebuilt: the kept RocksDB left only the changelog's tail to read
    assert held > 0 and to_read < held, f"recovery reads {to_read} of {held} records"
