"""Outages the pipeline must ride out (issue 6, item 4).

- Scorer down -> degraded recommendations keep coming, then recover by themselves:
  ``test_scorer.py::test_degraded_without_scorer_and_recovers_when_it_starts`` (no scorer at
  first, one started, then stopped again; records keep flowing, marked ``degraded``).
- A worker's RocksDB directory deleted -> its tables come back from their changelogs:
  ``test_restart.py::test_restart_recovers_profiles_from_the_changelog``.
- The broker stopped for 30 s and started again (same port, same data): here. The test runs its
  own broker, so stopping it disturbs no other test.
"""

from __future__ import annotations

import shutil
import socket
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from test_restart import expected_profiles, last_per_key, profile_diff

from recstream.settings import BrokerSettings
from streams.broker import LocalBroker

pytestmark = [pytest.mark.integration, pytest.mark.timeout(420)]

KAFKA_HOME = Path(__file__).resolve().parents[2] / ".kafka"
OUTAGE_S = 30.0


def support(config: pytest.Config) -> ModuleType:
    """tests/integration/conftest.py as loaded by pytest (Cluster, Producer, TopicReader)."""
    want = Path(__file__).with_name("conftest.py")
    for plugin in config.pluginmanager.get_plugins():
        if Path(getattr(plugin, "__file__", None) or "/") == want:
            return plugin  # type: ignore[no-any-return]
    raise RuntimeError(f"{want} is not loaded")


def free_port_pair() -> tuple[int, int]:
    """Two distinct free loopback ports (client, controller)."""
    with socket.socket() as a, socket.socket() as b:
        a.bind(("127.0.0.1", 0))
        b.bind(("127.0.0.1", 0))
        return a.getsockname()[1], b.getsockname()[1]


@pytest.fixture
def own_broker(request: pytest.FixtureRequest) -> Iterator[LocalBroker]:
    """A broker for this test only, on free ports; stopped and wiped afterwards."""
    port, cport = free_port_pair()
    broker = LocalBroker(BrokerSettings(home=KAFKA_HOME, port=port, controller_port=cport,
                                        heap_mb=512))
    shutil.rmtree(broker.data_dir, ignore_errors=True)
    try:
        broker.start(wait_s=90)
        yield broker
    finally:
        broker.stop()
        shutil.rmtree(broker.data_dir, ignore_errors=True)
        for path in (broker.properties_file, broker.log4j_file, broker.pid_file):
            path.unlink(missing_ok=True)
        if request.session.testsfailed == 0:
            broker.log_file.unlink(missing_ok=True)


def test_broker_outage_loses_nothing(own_broker: LocalBroker, topic_prefix: str,
                                     tmp_path: Path, request: pytest.FixtureRequest,
                                     ml_sample: Any) -> None:
    sup = support(request.config)
    cluster = sup.Cluster(own_broker.bootstrap, topic_prefix, tmp_path)
    request.node._recstream_cluster = cluster  # worker logs in the report on failure
    producer = sup.Producer(own_broker.bootstrap, topic_prefix)
    readers: list[Any] = []

    def reader(name: str) -> Any:
        r = sup.TopicReader(own_broker.bootstrap, topic_prefix + name)
        readers.append(r)
        return r

    try:
        worker = cluster.worker("worker").start()
        worker.wait_healthy()
        by_user = ml_sample.by_user()
        before = [ev for evs in by_user.values() for ev in evs[: len(evs) // 2]]
        after = [ev for evs in by_user.values() for ev in evs[len(evs) // 2:]]
        recs = reader("recommendations")
        producer.items(ml_sample.items)
        producer.events(before)
        ids_before = {ev["event_id"] for ev in before}
        recs.wait_for(lambda rs: ids_before <= {r.value["trigger_event_id"] for r in rs}, 120,
                      "recommendations before the outage")
        time.sleep(2.0)  # one commit interval: the inputs' offsets are committed
        recs.close()
        readers.remove(recs)

        t0 = time.monotonic()
        assert own_broker.stop(), "the broker was not running"
        time.sleep(OUTAGE_S)
        assert worker.alive(), f"the worker died during the outage\n{worker.log_tail()}"
        own_broker.start(wait_s=90)  # same port, same data directory
        restarted_s = time.monotonic() - t0

        producer.close()  # a fresh producer: the old one's connections died with the broker
        producer = sup.Producer(own_broker.bootstrap, topic_prefix)
        producer.events(after)
        recs = reader("recommendations")
        changelog = reader("recstream-profiles-changelog")
        want_ids = ids_before | {ev["event_id"] for ev in after}
        t1 = time.monotonic()
        recs.wait_for(lambda rs: want_ids <= {r.value["trigger_event_id"] for r in rs}, 180,
                      "a recommendation for every event, before and after the outage")
        recovered_s = time.monotonic() - t1
        assert worker.alive(), "the worker exited"
        want = expected_profiles(ml_sample.items, [*before, *after])
        # Profiles are matched by content, not key: stored keys may be pseudonyms.
        want_n = sorted(p["n"] for p in want.values())
        changelog.wait_for(lambda rs: sorted((v or {}).get("n", 0) for v in
                                             last_per_key(rs).values()) == want_n,
                           60, "every profile complete")
        changelog.drain(quiet_s=2.0)
        got = list(last_per_key(changelog.records).values())
        unmatched = [u for u, p in want.items()
                     if not any(profile_diff(g, p) is None for g in got)]
        assert not unmatched, (f"profiles of {unmatched} differ from one clean pass over "
                               "the same events after the outage")
        recs.drain(quiet_s=1.0)
        triggers = Counter(r.value["trigger_event_id"] for r in recs.records)
        assert set(triggers) == want_ids
        twice = sorted(t for t, n in triggers.items() if n > 1)
        print(f"\nbroker outage: down {OUTAGE_S:.0f}s (back after {restarted_s:.0f}s), "
              f"{len(want_ids)} events ({len(before)} before, {len(after)} after), all "
              f"recommended {recovered_s:.0f}s after the restart, {len(twice)} re-triggered, "
              f"{len(want)} profiles equal to a clean pass")
        assert not twice, f"events recommended twice across the outage: {twice[:5]}"
        assert worker.wait_healthy(timeout_s=30)["ready"] is True
    finally:
        for r in readers:
            r.close()
        producer.close()
        cluster.stop_all()
