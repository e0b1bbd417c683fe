"""Shared pytest fixtures: a real local Kafka broker for the integration tests.

The broker uses the jars fetched by ``scripts/setup.sh`` into ``<repo>/.kafka/lib``. It is
never skipped: without the jars the fixture errors with a message saying what to run.
"""

from __future__ import annotations

import shutil
import signal
import socket
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from types import FrameType

import pytest

from recstream.settings import BrokerSettings
from streams.broker import LocalBroker

REPO_ROOT = Path(__file__).resolve().parents[1]
KAFKA_HOME = REPO_ROOT / ".kafka"


def free_ports(count: int) -> list[int]:
    """``count`` distinct loopback TCP ports that are free right now."""
    with ExitStack() as stack:
        socks = [stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
                 for _ in range(count)]
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in socks]


def fresh_broker(home: Path = KAFKA_HOME, heap_mb: int = 512) -> LocalBroker:
    """A LocalBroker on a fresh free port pair with an empty data directory."""
    port, controller_port = free_ports(2)
    broker = LocalBroker(BrokerSettings(home=home, port=port, controller_port=controller_port,
                                        heap_mb=heap_mb))
    shutil.rmtree(broker.data_dir, ignore_errors=True)
    return broker


def cleanup_broker(broker: LocalBroker, keep_log: bool) -> None:
    """Stop ``broker`` and delete its data and generated files (the log only if not kept)."""
    broker.stop()
    shutil.rmtree(broker.data_dir, ignore_errors=True)
    for path in (broker.properties_file, broker.log4j_file, broker.pid_file):
        path.unlink(missing_ok=True)
    if not keep_log:
        broker.log_file.unlink(missing_ok=True)


def _sigterm_to_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@pytest.fixture(scope="session")
def kafka_broker(request: pytest.FixtureRequest) -> Iterator[str]:
    """Bootstrap address (``127.0.0.1:PORT``) of a single-node Kafka 3.9 broker for the session.

    The broker runs on a free port pair with data in ``.kafka/data/<port>`` (wiped first) and
    is stopped at the end whatever happens; SIGTERM on pytest becomes an interrupt so the
    teardown still runs.
    """
    broker = fresh_broker()
    previous = signal.signal(signal.SIGTERM, _sigterm_to_interrupt)
    try:
        broker.start(wait_s=90)
        yield broker.bootstrap
    finally:
        cleanup_broker(broker, keep_log=request.session.testsfailed > 0)
        signal.signal(signal.SIGTERM, previous)


@pytest.fixture
def topic_prefix() -> str:
    """A fresh topic/app-id prefix (``t<8 hex>-``) so tests never share topics."""
    return f"t{uuid.uuid4().hex[:8]}-"
