"""The local Kafka broker: lifecycle, topic administration and client protocol compatibility."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
from contextlib import ExitStack
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient

from recstream.settings import BrokerSettings
from streams.admin import delete_topics, ensure_topics, wait_for_broker
from streams.broker import BrokerError, LocalBroker

pytestmark = pytest.mark.integration

KAFKA_HOME = Path(__file__).resolve().parents[2] / ".kafka"


def _free_ports(count: int) -> list[int]:
    with ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in socks]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ")[-1].startswith("Z"))


def test_local_broker_start_status_stop_round_trip() -> None:
    port, cport = _free_ports(2)
    broker = LocalBroker(BrokerSettings(home=KAFKA_HOME, port=port, controller_port=cport,
                                        heap_mb=384))
    shutil.rmtree(broker.data_dir, ignore_errors=True)
    assert broker.status()["running"] is False
    try:
        pid = broker.start(wait_s=90)
        status = broker.status()
        assert status == {"running": True, "pid": pid, "bootstrap": f"127.0.0.1:{port}",
                          "version": "3.9.1", "data_dir": str(KAFKA_HOME / "data" / str(port))}
        assert broker.is_ready()
        assert int(broker.pid_file.read_text()) == pid
        assert (broker.data_dir / "meta.properties").is_file()
        # A second handle on the same port finds the running broker instead of starting one.
        other = LocalBroker(broker.cfg)
        assert other.start(wait_s=10) == pid
        assert other.status()["pid"] == pid

        assert broker.stop() is True
        assert broker.status() == {**status, "running": False, "pid": None}
        assert not broker.pid_file.exists()
        assert not _alive(pid)
        assert not broker.is_ready()
        assert broker.stop() is False
    finally:
        broker.stop(timeout_s=5)
        shutil.rmtree(broker.data_dir, ignore_errors=True)
        for path in (broker.log_file, broker.properties_file, broker.log4j_file):
            path.unlink(missing_ok=True)


def test_missing_jars_give_a_clear_error(tmp_path: Path) -> None:
    broker = LocalBroker(BrokerSettings(home=tmp_path, port=1, controller_port=2))
    with pytest.raises(BrokerError, match=r"Kafka jars not found in .*run scripts/setup.sh"):
        broker.start()


def test_ensure_topics_creates_partitioned_topics(kafka_broker: str, topic_prefix: str) -> None:
    wait_for_broker(kafka_broker, timeout_s=10)
    names = [f"{topic_prefix}clicks", f"{topic_prefix}items"]
    specs = [(names[0], 4, {}), (names[1], 4, {"cleanup.policy": "compact"})]

    assert sorted(ensure_topics(kafka_broker, specs)) == sorted(names)
    assert ensure_topics(kafka_broker, specs) == []  # idempotent

    with KafkaAdminClient(bootstrap_servers=kafka_broker) as admin:
        described = {t["name"]: t for t in admin.describe_topics(names)}
    assert {n: len(described[n]["partitions"]) for n in names} == {n: 4 for n in names}

    assert delete_topics(kafka_broker, names) == names
    assert delete_topics(kafka_broker, names) == []


async def _aiokafka_round_trip(bootstrap: str, topic: str) -> bytes:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"from-aiokafka", key=b"u1")
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=f"{topic}-aio",
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        while True:
            msg = await asyncio.wait_for(consumer.getone(), timeout=20)
            if msg.value == b"from-aiokafka":
                return msg.value
    finally:
        await consumer.stop()


async def _faust_send(bootstrap: str, app_id: str, topic_name: str) -> int:
    import faust

    app = faust.App(app_id, broker=f"kafka://{bootstrap}", store="memory://",
                    autodiscover=False, web_enabled=False)
    topic = app.topic(topic_name, key_type=bytes, value_type=bytes, value_serializer="raw",
                      partitions=4)
    await app.producer.start()
    try:
        await topic.maybe_declare()  # faust's own CreateTopics path
        metadata = await app.producer.send_and_wait(topic_name, b"u2", b"from-faust", None,
                                                    None, None)
        return metadata.offset
    finally:
        await app.producer.stop()


def test_python_clients_speak_to_the_broker(kafka_broker: str, topic_prefix: str) -> None:
    topic = f"{topic_prefix}compat"
    ensure_topics(kafka_broker, [(topic, 4, {})])

    # kafka-python 3.x
    producer = KafkaProducer(bootstrap_servers=kafka_broker)
    try:
        producer.send(topic, key=b"u0", value=b"from-kafka-python").get(timeout=20)
    finally:
        producer.close()
    consumer = KafkaConsumer(topic, bootstrap_servers=kafka_broker, group_id=f"{topic}-kp",
                             auto_offset_reset="earliest", consumer_timeout_ms=20_000)
    try:
        value = next((m.value for m in consumer if m.value == b"from-kafka-python"), None)
    finally:
        consumer.close()
    assert value == b"from-kafka-python"

    # aiokafka 0.14
    assert asyncio.run(_aiokafka_round_trip(kafka_broker, topic)) == b"from-aiokafka"

    # faust-streaming 0.15: declare a topic and produce through the app's producer.
    faust_topic = f"{topic_prefix}faust"
    assert asyncio.run(_faust_send(kafka_broker, f"{topic_prefix}app", faust_topic)) >= 0
    with KafkaAdminClient(bootstrap_servers=kafka_broker) as admin:
        (described,) = admin.describe_topics([faust_topic])
    assert len(described["partitions"]) == 4
