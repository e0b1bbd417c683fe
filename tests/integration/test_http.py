"""``GET /recommendations/{user_id}`` on a worker's web port, through the real broker."""

from __future__ import annotations

import pytest

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
