"""Kafka administration helpers: broker readiness, topic creation and deletion.

Readiness uses a dependency-free probe (a raw ``Metadata`` v1 request over a socket), so
polling a booting broker neither spawns client threads nor floods the log; a TLS or SASL
listener cannot answer it, so there readiness is a real login (``streams.security``). Topic
management uses kafka-python's ``KafkaAdminClient`` (kafka-python 3.x API). Every function
takes ``security`` (``SecuritySettings``; None means PLAINTEXT).
"""

from __future__ import annotations

import logging
import socket
import struct
import time
from collections.abc import Iterable, Sequence

import kafka.errors as kerrors
from kafka.admin import KafkaAdminClient

from recstream.settings import SecuritySettings
from streams.security import check_connection, kafka_python_kwargs

log = logging.getLogger(__name__)

#: (name, partitions, topic configs) as accepted by :func:`ensure_topics`.
TopicSpec = tuple[str, int, dict[str, str]]

_METADATA_API_KEY = 3
_METADATA_VERSION = 1  # supported by every broker from 0.10 to 4.x
_CLIENT_ID = b"recstream-probe"


def parse_bootstrap(bootstrap: str) -> list[tuple[str, int]]:
    """Split ``"host:port[,host:port...]"`` (an optional ``kafka://`` prefix is accepted)."""
    out: list[tuple[str, int]] = []
    for part in bootstrap.split(","):
        part = part.strip().removeprefix("kafka://")
        if not part:
            continue
        host, sep, port = part.rpartition(":")
        if not sep or not port.isdigit():
            raise ValueError(f"bad bootstrap address {part!r}; expected host:port")
        out.append((host.strip("[]") or "127.0.0.1", int(port)))
    if not out:
        raise ValueError(f"empty bootstrap {bootstrap!r}")
    return out


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("broker closed the connection")
        buf += chunk
    return bytes(buf)


def probe_brokers(host: str, port: int, timeout_s: float = 2.0) -> int:
    """Send one ``Metadata`` request (no topics) and return how many brokers the answer lists.

    A KRaft broker lists itself only once it has caught up with the metadata log and is
    serving requests, so ``> 0`` means clients can use it. Raises ``OSError`` (refused,
    timeout, closed connection) when the broker does not answer.
    """
    correlation_id = 1
    header = struct.pack(">hhih", _METADATA_API_KEY, _METADATA_VERSION, correlation_id,
                         len(_CLIENT_ID)) + _CLIENT_ID
    body = struct.pack(">i", 0)  # v1: empty topic array = no topics (null would mean all)
    payload = header + body
    with socket.create_connection((host, port), timeout=timeout_s) as sock:
        sock.settimeout(timeout_s)
        sock.sendall(struct.pack(">i", len(payload)) + payload)
        (size,) = struct.unpack(">i", _recv_exact(sock, 4))
        if size < 8:
            raise ConnectionError(f"short metadata response ({size} bytes)")
        resp = _recv_exact(sock, size)
    got_corr, n_brokers = struct.unpack(">ii", resp[:8])
    if got_corr != correlation_id:
        raise ConnectionError(f"unexpected correlation id {got_corr}")
    return max(n_brokers, 0)


def _secured(security: SecuritySettings | None) -> bool:
    return security is not None and security.protocol != "PLAINTEXT"


def broker_ready(bootstrap: str, timeout_s: float = 2.0,
                 security: SecuritySettings | None = None) -> bool:
    """True when any bootstrap address answers a metadata request listing at least one broker
    (for TLS/SASL: accepts our login and answers one)."""
    if _secured(security):
        try:
            check_connection(bootstrap, security, timeout_s)
        except ConnectionError:
            return False
        return True
    for host, port in parse_bootstrap(bootstrap):
        try:
            if probe_brokers(host, port, timeout_s) > 0:
                return True
        except OSError:
            continue
    return False


def wait_for_broker(bootstrap: str, timeout_s: float = 60.0, interval_s: float = 0.25,
                    security: SecuritySettings | None = None) -> None:
    """Block until the cluster at ``bootstrap`` serves metadata; ``TimeoutError`` otherwise
    (for TLS/SASL its message says why: rejected login, untrusted certificate, ...)."""
    if _secured(security):
        try:
            check_connection(bootstrap, security, timeout_s)
        except ConnectionError as exc:
            raise TimeoutError(str(exc)) from exc
        return
    addrs = parse_bootstrap(bootstrap)
    deadline = time.monotonic() + timeout_s
    last_error = "no answer"
    while True:
        for host, port in addrs:
            try:
                if probe_brokers(host, port, min(2.0, max(timeout_s, 0.1))) > 0:
                    log.debug("event=broker_ready bootstrap=%s", bootstrap)
                    return
                last_error = f"{host}:{port} lists no brokers yet"
            except OSError as exc:
                last_error = f"{host}:{port}: {exc!r}"
        if time.monotonic() >= deadline:
            raise TimeoutError(f"Kafka at {bootstrap} not ready after {timeout_s:.0f}s "
                               f"({last_error})")
        time.sleep(interval_s)


def _admin(bootstrap: str, timeout_s: float, security: SecuritySettings | None
           ) -> KafkaAdminClient:
    ms = int(max(timeout_s, 1.0) * 1000)
    return KafkaAdminClient(bootstrap_servers=bootstrap, client_id="recstream-admin",
                            bootstrap_timeout_ms=ms, request_timeout_ms=ms,
                            **kafka_python_kwargs(security))


def _partition_counts(admin: KafkaAdminClient, names: Iterable[str]) -> dict[str, int]:
    """Partition count of each existing topic among ``names`` (missing topics are absent)."""
    out: dict[str, int] = {}
    for topic in admin.describe_topics(list(names)):
        if topic.get("error_code", 0) == 0 and topic.get("name"):
            out[topic["name"]] = len(topic.get("partitions") or [])
    return out


def partition_counts(bootstrap: str, names: Iterable[str], timeout_s: float = 10.0,
                     security: SecuritySettings | None = None) -> dict[str, int]:
    """Partition count of each existing topic among ``names`` (missing topics are absent)."""
    admin = _admin(bootstrap, timeout_s, security)
    try:
        return _partition_counts(admin, names)
    finally:
        admin.close()


def ensure_topics(bootstrap: str, topics: Sequence[TopicSpec], timeout_s: float = 30.0,
                  security: SecuritySettings | None = None) -> list[str]:
    """Create the missing topics (replication factor 1) and wait until all are usable.

    ``topics`` holds ``(name, partitions, configs)`` triples. Existing topics are left alone
    (a partition-count mismatch is logged, not changed); a concurrent creation by another
    process is not an error. Returns the names this call created. Raises ``TimeoutError``
    when the topics do not get a leader for every partition within ``timeout_s``.
    """
    if not topics:
        return []
    wait_for_broker(bootstrap, timeout_s, security=security)
    specs = {name: (partitions, dict(configs)) for name, partitions, configs in topics}
    created: list[str] = []
    admin = _admin(bootstrap, timeout_s, security)
    try:
        existing = set(admin.list_topics())
        missing = {n: s for n, s in specs.items() if n not in existing}
        if missing:
            request = {
                name: {"num_partitions": partitions, "replication_factor": 1,
                       "configs": configs}
                for name, (partitions, configs) in missing.items()
            }
            result = admin.create_topics(request, timeout_ms=int(timeout_s * 1000),
                                         raise_errors=False)
            for item in result.get("topics", []):
                error = kerrors.for_code(item.get("error_code", 0))
                if error is kerrors.NoError:
                    created.append(item["name"])
                elif error is not kerrors.TopicAlreadyExistsError:
                    raise error(f"creating topic {item['name']!r}: "
                                f"{item.get('error_message') or error.__name__}")
            log.info("event=topics_created bootstrap=%s topics=%s", bootstrap,
                     ",".join(sorted(created)) or "-")
        try:
            admin.wait_for_topics(list(specs), timeout_ms=int(timeout_s * 1000))
        except kerrors.KafkaTimeoutError as exc:
            raise TimeoutError(str(exc)) from exc
        for name, count in _partition_counts(admin, specs).items():
            if count != specs[name][0]:
                log.warning("event=topic_partition_mismatch topic=%s have=%d want=%d",
                            name, count, specs[name][0])
    finally:
        admin.close()
    return created


def delete_topics(bootstrap: str, names: Iterable[str], timeout_s: float = 30.0,
                  security: SecuritySettings | None = None) -> list[str]:
    """Delete the named topics that exist and wait until metadata no longer lists them.

    Unknown names are ignored. Returns the names that were deleted.
    """
    wanted = list(dict.fromkeys(names))
    if not wanted:
        return []
    admin = _admin(bootstrap, timeout_s, security)
    try:
        present = [n for n in wanted if n in set(admin.list_topics())]
        if not present:
            return []
        result = admin.delete_topics(present, timeout_ms=int(timeout_s * 1000),
                                     raise_errors=False)
        for item in result.get("topics", []):
            error = kerrors.for_code(item.get("error_code", 0))
            if error not in (kerrors.NoError, kerrors.UnknownTopicOrPartitionError):
                raise error(f"deleting topic {item.get('name')!r}: {error.__name__}")
        deadline = time.monotonic() + timeout_s
        while set(present) & set(admin.list_topics()):
            if time.monotonic() >= deadline:
                raise TimeoutError(f"topics still listed after {timeout_s:.0f}s: {present}")
            time.sleep(0.1)
        log.info("event=topics_deleted bootstrap=%s topics=%s", bootstrap, ",".join(present))
        return present
    finally:
        admin.close()
