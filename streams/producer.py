"""Producing recstream's input records with kafka-python (used by ``recstream produce``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from kafka import KafkaProducer

from recstream.settings import SecuritySettings
from streams.security import kafka_python_kwargs


class EventProducer:
    """Sends items (key item id) and events (key user id) as JSON."""

    def __init__(self, bootstrap: str, security: SecuritySettings | None = None,
                 **client_kwargs: Any) -> None:
        # encoding happens here, not in client serializers, so raw bytes can be sent as-is
        self._producer = KafkaProducer(bootstrap_servers=bootstrap.split(","), linger_ms=5,
                                       acks=1, **kafka_python_kwargs(security),
                                       **client_kwargs)

    def send(self, topic: str, key: str, value: Mapping[str, Any]) -> None:
        self._producer.send(topic, key=key.encode("utf-8"), value=orjson.dumps(value))

    def send_raw(self, topic: str, key: str, value: bytes) -> None:
        """Send bytes exactly as given (e.g. to test how the pipeline treats bad input)."""
        self._producer.send(topic, key=key.encode("utf-8"), value=value)

    def flush(self, timeout_s: float = 60) -> None:
        self._producer.flush(timeout=timeout_s)

    def close(self) -> None:
        self._producer.close(timeout=10)

    def __enter__(self) -> EventProducer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.flush()
        self.close()
