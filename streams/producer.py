"""Producing recstream's input records with kafka-python (used by ``recstream produce``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from kafka import KafkaProducer


class EventProducer:
    """Sends items (key item id) and events (key user id) as JSON."""

    def __init__(self, bootstrap: str, **client_kwargs: Any) -> None:
        self._producer = KafkaProducer(
            bootstrap_servers=bootstrap.split(","), linger_ms=5, acks=1,
            key_serializer=lambda k: k.encode("utf-8"), value_serializer=orjson.dumps,
            **client_kwargs)

    def send(self, topic: str, key: str, value: Mapping[str, Any]) -> None:
        self._producer.send(topic, key=key, value=value)

    def send_raw(self, topic: str, key: str, value: bytes) -> None:
        self._producer.send(topic, key=key, value=value)  # type: ignore[arg-type]

    def flush(self, timeout_s: float = 60) -> None:
        self._producer.flush(timeout=timeout_s)

    def close(self) -> None:
        self._producer.close(timeout=10)

    def __enter__(self) -> EventProducer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.flush()
        self.close()
