"""The LLM scorer through the real broker: answers by key, batches, degraded mode and recovery.

Small on purpose (tens of items, a few users): the 2-core CI machine encodes ~100 texts/s.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from streams.producer import EventProducer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

ITEMS = [
    {"item_id": "1", "title": "Star Wars (1977)", "tags": ["Action", "Sci-Fi", "War"]},
    {"item_id": "2", "title": "Alien (1979)", "tags": ["Horror", "Sci-Fi", "Thriller"]},
    {"item_id": "3", "title": "Sleepless in Seattle (1993)", "tags": ["Comedy", "Romance"]},
    {"item_id": "4", "title": "The Empire Strikes Back (1980)", "tags": ["Sci-Fi", "War"]},
    {"item_id": "5", "title": "When Harry Met Sally (1989)", "tags": ["Comedy", "Romance"]},
    {"item_id": "6", "title": "Toy Story (1995)", "tags": ["Animation", "Children's"]},
]


def request(user: str, history: list[str]) -> dict[str, Any]:
    return {"request_id": uuid.uuid4().hex, "user_id": user, "items": ["2", "3", "4", "5"],
            "history": [[i, 1.0] for i in history], "terms": ["space", "war"],
            "ts": time.time()}


def test_scorer_answers_by_key_and_batches_concurrent_requests(
        cluster, producer, reader, topic_prefix, kafka_broker) -> None:
    app_id = f"{topic_prefix}recstream"
    producer.items(ITEMS)
    scorer = cluster.scorer({"RECSTREAM_SCORER__USER_SIDE": "text",  # a forward pass per batch
                             "RECSTREAM_SCORER__MAX_WAIT_MS": "100"}).start()
    health = scorer.wait_healthy(timeout_s=120)
    assert health["model"] == "all-MiniLM-L6-v2" and health["items"] == len(ITEMS)
    replies = reader(f"{app_id}-score-replies")
    # the group joins at the log end: wait until a probe is answered before the burst
    p = EventProducer(kafka_broker)
    try:
        deadline = time.monotonic() + 60
        probes = 0
        while not replies.poll(0.5) and time.monotonic() < deadline:
            p.send(f"{app_id}-score-requests", "probe", request("probe", ["1"]))
            p.flush()
            probes += 1
        assert replies.records, "the scorer never answered a probe"
        # probes sent before the first answer may still be in flight: count from when the
        # scorer has seen all of them, so the burst's requests are counted alone
        while scorer.get("/health")[1]["requests"] < probes and time.monotonic() < deadline:
            time.sleep(0.2)
        before = scorer.get("/health")[1]
        n = 16
        reqs = [request(f"u{i}", ["1", "4"] if i % 2 else ["3", "5"]) for i in range(n)]
        for r in reqs:
            p.send(f"{app_id}-score-requests", r["user_id"], r)
        p.flush()
    finally:
        p.close()
    want = {r["request_id"] for r in reqs}
    got = replies.wait_for(lambda rs: want <= {x.value["request_id"] for x in rs}, 60,
                           "every request answered")
    by_id = {x.value["request_id"]: x for x in got}
    for r in reqs:
        rec = by_id[r["request_id"]]
        assert rec.key == r["user_id"] and rec.value["model"] == "all-MiniLM-L6-v2"
        assert set(rec.value["scores"]) == set(r["items"])
        assert all(0.0 <= s <= 1.0 for s in rec.value["scores"].values())
    sci_fi = by_id[reqs[1]["request_id"]].value["scores"]  # history: Star Wars, Empire
    romance = by_id[reqs[0]["request_id"]].value["scores"]  # history: Sleepless, Harry & Sally
    assert sci_fi["2"] > sci_fi["5"] and romance["5"] > romance["2"]
    after = scorer.get("/health")[1]
    passes = after["forward_passes"] - before["forward_passes"]
    batches = after["batches"] - before["batches"]
    assert after["requests"] - before["requests"] == n
    assert 1 <= passes < n and batches < n, (passes, batches)
    status, text = scorer.get("/metrics")  # Prometheus: batch sizes and latency histograms
    series = {line.split(" ")[0]: float(line.split(" ")[-1]) for line in text.splitlines()
              if line and not line.startswith("#")}
    assert status == 200  # one scrape is consistent with itself (late probes may still land)
    assert series["recstream_scorer_batch_size_count"] == series["recstream_scorer_batches_total"]
    assert series["recstream_scorer_batch_size_sum"] == series["recstream_scorer_requests_total"]
    assert (series["recstream_scorer_request_seconds_count"]
            == series["recstream_scorer_replies_total"] >= after["replies"])
    assert series["recstream_scorer_batch_seconds_sum"] > 0
    assert series["recstream_scorer_forward_passes_total"] >= after["forward_passes"]


def test_degraded_without_scorer_and_recovers_when_it_starts(
        cluster, producer, reader, ml_sample) -> None:
    env = {"RECSTREAM_SCORER__ENABLED": "true", "RECSTREAM_SCORER__TIMEOUT_MS": "1500"}
    w = cluster.worker()
    w.env_extra = env
    users = sorted(ml_sample.users_with(6))[:6]
    by_user = ml_sample.by_user()
    wanted = {ev["item_id"] for u in users for ev in by_user[u]}
    producer.items([i for i in ml_sample.items if i["item_id"] in wanted])
    w.start().wait_healthy()
    recs = reader("recommendations")

    def send_round(k: int) -> set[str]:
        evs = [by_user[u][k] for u in users]
        producer.events(evs)
        return {e["event_id"] for e in evs}

    first = send_round(0)
    got = recs.wait_for(lambda rs: first <= {r.value["trigger_event_id"] for r in rs}, 60,
                        "records without a scorer")
    assert all(r.value["degraded"] for r in got), "no scorer: every record is degraded"
    assert all(r.value["model_version"] == "tfidf-cf-1" for r in got)

    scorer = cluster.scorer(env).start()
    scorer.wait_healthy(timeout_s=120)
    fresh: list[dict[str, Any]] = []
    for k in range(1, 6):  # until the circuit closes (the scorer's group joins at the end)
        ids = send_round(k)
        got = recs.wait_for(lambda rs, ids=ids: ids <= {r.value["trigger_event_id"]
                                                        for r in rs}, 60, f"round {k}")
        fresh = [r.value for r in got if r.value["trigger_event_id"] in ids]
        if not any(v["degraded"] for v in fresh):
            break
    assert fresh and not any(v["degraded"] for v in fresh), "scoring never resumed"
    assert all(v["model_version"] == "tfidf-cf-1+all-MiniLM-L6-v2" for v in fresh)
    items = [it for v in fresh for it in v["items"]]
    assert items and all("llm" in it["signals"] for it in items)
    assert any(0 < it["signals"]["llm"] <= 1 for it in items)
    assert any(any("language model" in r for r in it["reasons"]) for it in items)

    scorer.stop()  # down again: records keep coming, degraded, without a gap
    ids = send_round(5)
    got = recs.wait_for(lambda rs: ids <= {r.value["trigger_event_id"] for r in rs}, 60,
                        "records after the scorer stopped")
    assert all(r.value["degraded"] for r in got if r.value["trigger_event_id"] in ids)
