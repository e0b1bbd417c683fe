"""streams.producer.EventProducer against the real broker."""

from __future__ import annotations

import pytest

from streams.producer import EventProducer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


def test_event_producer_sends_json_and_raw_bytes(kafka_broker: str, topic_prefix: str,
                                                 reader) -> None:
    topic = topic_prefix + "ratings"
    raw = b'{"not": "json'
    with EventProducer(kafka_broker) as producer:
        producer.send(topic, "u1", {"event_id": "e1", "user_id": "u1"})
        producer.send_raw(topic, "u2", raw)  # malformed input must go out byte for byte
    got = reader("ratings").wait_for(lambda rs: len(rs) >= 2, 30, "both records")
    assert {r.key: r.raw for r in got} == {"u1": b'{"event_id":"e1","user_id":"u1"}', "u2": raw}
