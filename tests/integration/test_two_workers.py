"""Two workers (one app id / consumer group, separate web ports and data dirs) share the
4 partitions: every active user gets recommendations, and either worker's HTTP endpoint
answers for any user (Faust's table_route forwards to the partition's owner)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from conftest import TEST_PRIVACY_KEY
from kafka.partitioner.default import murmur2

from recstream.core.privacy import pseudonym

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

PARTITIONS = 4


def partition_of(user: str) -> int:
    """The partition of raw user id ``user``: the clean stage keys events by the user's
    pseudonym (under the workers' privacy key), so kafka-python's and aiokafka's murmur2 of
    the pseudonym, and the rank stage publishes on that partition too."""
    key = pseudonym(TEST_PRIVACY_KEY.encode(), user)
    return (murmur2(key.encode("utf-8")) & 0x7FFFFFFF) % PARTITIONS


def owners(workers: list[Any], table_topic: str) -> dict[int, set[str]]:
    """Partition -> worker URLs that claim it, from each worker's ``/router/`` view."""
    out: dict[int, set[str]] = {}
    for w in workers:
        status, body = w.get("/router/")
        if status != 200 or not isinstance(body, dict):
            continue
        for url, tables in body.items():
            for part in (tables or {}).get(table_topic, []):
                out.setdefault(int(part), set()).add(url.rstrip("/"))
    return out


def wait_for_split(workers: list[Any], table_topic: str, timeout_s: float = 60
                   ) -> dict[int, str]:
    """Wait until the group's assignment gives each worker some partitions, and every
    partition one owner; returns partition -> owner URL."""
    deadline = time.monotonic() + timeout_s
    last: dict[int, set[str]] = {}
    urls = {w.url for w in workers}
    while time.monotonic() < deadline:
        last = owners(workers, table_topic)
        single = {p: next(iter(us)) for p, us in last.items() if len(us) == 1}
        if len(single) == PARTITIONS and set(single.values()) == urls:
            return single
        time.sleep(0.5)
    pytest.fail(f"partitions of {table_topic} not split over both workers within "
                f"{timeout_s:.0f}s: {last} (workers {sorted(urls)})")


def replay(cluster, producer, reader, ml_sample) -> tuple[list[Any], Any, dict[int, str]]:
    workers = [cluster.worker().start() for _ in range(2)]
    for w in workers:
        w.wait_healthy()
    split = wait_for_split(workers, f"{producer.prefix}recstream-latest_recommendations"
                                    "-changelog")
    recs = reader("recommendations")
    producer.items(ml_sample.items)
    producer.events(ml_sample.events)
    active = ml_sample.users_with(2)
    recs.wait_for(lambda rs: active <= {r.value["user_id"] for r in rs}, 90,
                  f"a recommendation for each of {len(active)} users")
    triggers = {ev["event_id"] for ev in ml_sample.events}
    recs.wait_for(lambda rs: triggers <= {r.value["trigger_event_id"] for r in rs}, 60,
                  "a recommendation for each replayed event")
    return workers, recs, split


def test_two_workers_share_the_partitions(cluster, producer, reader, ml_sample) -> None:
    workers, recs, split = replay(cluster, producer, reader, ml_sample)
    by_user = ml_sample.by_user()
    # Both workers own users of this replay, and each user's records come from its partition.
    assert {split[partition_of(u)] for u in by_user} == {w.url for w in workers}
    for r in recs.records:
        assert r.partition == partition_of(r.value["user_id"])
        assert r.value["trigger_event_id"] in {ev["event_id"] for ev in by_user[r.key]}
    triggers = [r.value["trigger_event_id"] for r in recs.drain(quiet_s=1.0)]
    assert len(triggers) == len(set(triggers)), "an event triggered two records"
    assert all(w.alive() for w in workers)


def test_either_worker_answers_http_for_any_user(cluster, producer, reader,
                                                 ml_sample) -> None:
    workers, recs, split = replay(cluster, producer, reader, ml_sample)
    latest = {u: rs[-1] for u, rs in recs.by_user().items()}
    users = sorted(latest)
    # Users of each partition, so every worker is asked about users it does not own.
    sample = []
    for part in range(PARTITIONS):
        sample += [u for u in users if partition_of(u) == part][:3]
    failures = []
    for user in sample:
        for w in workers:
            status, body = w.get(f"/recommendations/{user}")
            owner = split[partition_of(user)]
            where = "owner" if owner == w.url else f"non-owner (owner {owner})"
            if status != 200 or not isinstance(body, dict) or body.get("user_id") != user:
                failures.append(f"{w.name} {where} user {user}: {status} {str(body)[:200]}")
            elif body != latest[user]:
                failures.append(f"{w.name} {where} user {user}: stale record "
                                f"{body.get('trigger_event_id')} != "
                                f"{latest[user]['trigger_event_id']}")
    assert not failures, "\n".join(failures)
    for w in workers:
        status, body = w.get("/recommendations/no-such-user-17")
        assert status == 404 and isinstance(body, dict) and "error" in body, (w.name, body)
