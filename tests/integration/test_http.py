"""``GET /recommendations/{user_id}`` on a worker's web port, through the real broker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


def test_latest_recommendation_over_http(cluster, producer, reader, ml_sample) -> None:
    (worker,) = cluster.start(1)
    recs = reader("recommendations")
    producer.items(ml_sample.items)
    producer.events(ml_sample.events)
    triggers = {ev["event_id"] for ev in ml_sample.events}
    recs.wait_for(lambda rs: triggers <= {r.value["trigger_event_id"] for r in rs}, 90,
                  "a recommendation for each replayed event")
    latest = {u: rs[-1] for u, rs in recs.by_user().items()}
    with_items = sorted(u for u, r in latest.items() if r["items"])
    assert with_items, "no user has a non-empty recommendation"
    for user in with_items[:5]:
        status, body = worker.get(f"/recommendations/{user}")
        assert status == 200, body
        assert isinstance(body, dict)
        assert body["user_id"] == user
        assert body["items"], body
        assert body == latest[user], "HTTP must serve the latest record of the topic"


def test_unknown_user_is_404_with_json_error(cluster, producer, reader, ml_sample) -> None:
    (worker,) = cluster.start(1)
    producer.items(ml_sample.items[:50])
    status, body = worker.get("/recommendations/no-such-user-17")
    assert status == 404
    assert isinstance(body, dict) and "error" in body, body


def run_cli(*args: str, prefix: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RECSTREAM_TOPICS__PREFIX": prefix,
           "PYTHONPATH": os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get(
               "PYTHONPATH")) if p)}
    env.pop("RECSTREAM_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "recstream", *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_records_carry_titles_and_recommend_reads_them(cluster, producer, reader,
                                                       ml_sample, kafka_broker,
                                                       topic_prefix) -> None:
    (worker,) = cluster.start(1)
    recs = reader("recommendations")
    producer.items(ml_sample.items)
    events = ml_sample.events[:120]
    producer.events(events)
    triggers = {ev["event_id"] for ev in events}
    recs.wait_for(lambda rs: triggers <= {r.value["trigger_event_id"] for r in rs}, 90,
                  "a recommendation for each replayed event")
    titles = {i["item_id"]: i["title"] for i in ml_sample.items}
    published = [it for r in recs.values() for it in r["items"]]
    assert published, "no recommended items at all"
    # every published item carries the catalogue's title, so a reader needs no lookup
    assert all(it["title"] == titles[it["item_id"]][:120] for it in published)
    user, latest = max(((u, rs[-1]) for u, rs in recs.by_user().items()),
                       key=lambda kv: len(kv[1]["items"]))

    shown = run_cli("recommend", user, "--url", worker.url, "--explain", prefix=topic_prefix)
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0].startswith(f"user {user}: {len(latest['items'])} recommendations, "
                               "computed "), lines[0]
    first = latest["items"][0]
    assert lines[1].startswith(f" 1. {first['title']}  ({first['score']:.2f})  "), lines[1]
    assert first["reasons"][0] in lines[1]
    assert lines[2].startswith("    signals: "), lines[2]

    # straight from the topic, no worker involved: the same latest record
    direct = run_cli("recommend", user, "--json", "-b", kafka_broker, prefix=topic_prefix)
    assert direct.returncode == 0, direct.stderr
    got = json.loads(direct.stdout)
    assert got["items"] == latest["items"]
    assert got["trigger_event_id"] == latest["trigger_event_id"]
    assert got["age_s"] >= 0

    for where in (["--url", worker.url], ["-b", kafka_broker]):
        unknown = run_cli("recommend", "no-such-user-17", *where, prefix=topic_prefix)
        assert unknown.returncode == 2
        assert unknown.stdout == ""
        err = unknown.stderr.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: unknown user no-such-user-17"), err
