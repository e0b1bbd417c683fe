"""TLS/SASL settings reach every Kafka client recstream constructs (streams/security.py).

Each client class is replaced by a recorder in the module that constructs it, so these tests
check the arguments the real constructors would get, without a broker (the handshake itself
is tested against a SASL_SSL broker in tests/integration/test_security.py).
"""

from __future__ import annotations

import asyncio
import ssl
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from recstream.settings import SecuritySettings, Settings
from streams import security

PASSWORD = "s3cret-pw"


@pytest.fixture(scope="module")
def cafile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("ca")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    str(d / "ca.key"), "-out", str(d / "ca.pem"), "-days", "1", "-subj",
                    "/CN=unit test CA"], check=True, capture_output=True)
    return d / "ca.pem"


@pytest.fixture
def sec(cafile: Path) -> SecuritySettings:
    return SecuritySettings(protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-512",
                            sasl_username="bob", sasl_password=PASSWORD, ssl_cafile=cafile)


def assert_secured(kwargs: dict[str, Any]) -> None:
    assert kwargs["security_protocol"] == "SASL_SSL"
    assert kwargs["sasl_mechanism"] == "SCRAM-SHA-512"
    assert kwargs["sasl_plain_username"] == "bob"
    assert kwargs["sasl_plain_password"] == PASSWORD
    assert isinstance(kwargs["ssl_context"], ssl.SSLContext)


class Recorder:
    """Stands in for a client class: records constructor kwargs, then stops the caller."""

    calls: list[dict[str, Any]]

    def __init__(self, stop: bool = True) -> None:
        self.calls = []
        self.stop = stop

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        if self.stop:
            raise _Stop
        return _Fake()


class _Stop(Exception):
    pass


class _Fake:
    """Answers whatever a client is asked with nothing."""

    def __getattr__(self, name: str) -> Any:
        return lambda *a, **k: {} if name in ("poll",) else []


# --------------------------------------------------------------------------- settings


def test_plaintext_adds_nothing() -> None:
    assert security.aiokafka_kwargs(None) == {}
    assert security.kafka_python_kwargs(SecuritySettings()) == {}
    assert security.faust_credentials(SecuritySettings()) is None


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch, cafile: Path) -> None:
    monkeypatch.setenv("RECSTREAM_SECURITY__PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("RECSTREAM_SECURITY__SASL_MECHANISM", "SCRAM-SHA-256")
    monkeypatch.setenv("RECSTREAM_SECURITY__SASL_USERNAME", "alice")
    monkeypatch.setenv("RECSTREAM_SECURITY__SASL_PASSWORD", PASSWORD)
    monkeypatch.setenv("RECSTREAM_SECURITY__SSL_CAFILE", str(cafile))
    monkeypatch.setenv("RECSTREAM_SECURITY__SSL_CHECK_HOSTNAME", "false")
    s = Settings().security
    assert (s.protocol, s.sasl_mechanism, s.sasl_username) == ("SASL_SSL", "SCRAM-SHA-256",
                                                                "alice")
    assert PASSWORD not in repr(s)  # a SecretStr: never printed in logs or errors
    ctx = security.kafka_python_kwargs(s)["ssl_context"]
    assert ctx.check_hostname is False and ctx.verify_mode == ssl.CERT_REQUIRED
    assert [c["subject"] for c in ctx.get_ca_certs()] == [((("commonName", "unit test CA"),),)]


def test_sasl_without_credentials_is_refused() -> None:
    with pytest.raises(ValidationError, match="sasl_username and security.sasl_password"):
        SecuritySettings(protocol="SASL_PLAINTEXT", sasl_username="bob")
    with pytest.raises(ValidationError):
        SecuritySettings(protocol="SASL_SSL", sasl_mechanism="GSSAPI", sasl_username="b",
                         sasl_password="p")


def test_ssl_only_and_sasl_plaintext() -> None:
    tls = security.kafka_python_kwargs(SecuritySettings(protocol="SSL"))
    assert tls["security_protocol"] == "SSL" and "sasl_mechanism" not in tls
    assert tls["ssl_check_hostname"] is True
    plain = security.aiokafka_kwargs(SecuritySettings(
        protocol="SASL_PLAINTEXT", sasl_username="a", sasl_password="p"))
    assert plain["security_protocol"] == "SASL_PLAINTEXT" and "ssl_context" not in plain


def test_faust_credentials_become_the_same_aiokafka_arguments(sec: SecuritySettings) -> None:
    from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

    creds = security.faust_credentials(sec)
    auth = credentials_to_aiokafka_auth(creds)
    assert auth == security.aiokafka_kwargs(sec)
    tls_only = credentials_to_aiokafka_auth(
        security.faust_credentials(SecuritySettings(protocol="SSL")))
    assert tls_only["security_protocol"] == "SSL"


def test_explain_names_the_fix() -> None:
    import kafka.errors as kerrors

    sec = SecuritySettings(protocol="SASL_SSL", sasl_username="bob", sasl_password="x")
    msg = security.explain(kerrors.SaslAuthenticationFailedError("bad"), "h:1", sec)
    assert "rejected the SASL credentials" in msg and "user=bob" in msg and "x" not in msg.split(
        "user=bob")[1].split(")")[0]
    msg = security.explain(ssl.SSLCertVerificationError("CERTIFICATE_VERIFY_FAILED"), "h:1",
                           sec)
    assert "RECSTREAM_SECURITY__SSL_CAFILE" in msg


# --------------------------------------------------------------------------- clients


def test_every_client_gets_the_settings(monkeypatch: pytest.MonkeyPatch,
                                        sec: SecuritySettings) -> None:
    """Producer, admin, lag (admin + consumer), replay consumer, replica, scorer client,
    scorer service and the Faust app all construct their clients with the settings."""
    from kafka import TopicPartition

    import streams.admin
    import streams.lag
    import streams.producer
    import streams.replay
    import streams.replica
    import streams.scorer
    import streams.scoring

    seen: dict[str, list[dict[str, Any]]] = {}

    def record(module: Any, name: str, label: str, stop: bool = True) -> Recorder:
        r = Recorder(stop)
        seen[label] = r.calls
        monkeypatch.setattr(module, name, r)
        return r

    record(streams.producer, "KafkaProducer", "producer")
    with pytest.raises(_Stop):
        streams.producer.EventProducer("h:1", sec)

    record(streams.admin, "KafkaAdminClient", "admin")
    with pytest.raises(_Stop):
        streams.admin.partition_counts("h:1", ["t"], security=sec)

    record(streams.lag, "KafkaAdminClient", "lag admin", stop=False)
    record(streams.lag, "KafkaConsumer", "lag consumer", stop=False)
    lag = streams.lag.LagCollector("h:1", fetch_record_timeout_s=0.01, security=sec)
    lag._record_timestamps({TopicPartition("t", 0): 0})

    # the replay's consumer, then its producer (EventProducer, recorded above)
    record(streams.replay, "KafkaConsumer", "replay consumer", stop=False)
    record(streams.producer, "KafkaProducer", "replay producer")
    with pytest.raises(_Stop):
        streams.replay.replay_and_collect(Settings(security=sec), [], [])

    counts = {}

    def fake_counts(bootstrap: str, names: list[str], timeout_s: float = 10.0,
                    security: SecuritySettings | None = None) -> dict[str, int]:
        counts[len(counts)] = security
        return {n: 1 for n in names}

    for mod in (streams.replica, streams.scoring, streams.scorer):
        monkeypatch.setattr(mod, "partition_counts", fake_counts)
    record(streams.replica, "AIOKafkaConsumer", "replica")
    with pytest.raises(_Stop):
        asyncio.run(streams.replica.Replica("h:1", ["t"], lambda *a: None,
                                            security=sec).on_start())

    record(streams.scoring, "AIOKafkaConsumer", "scorer client")
    client = streams.scoring.ScoreClient(Settings().scorer, "h:1", None, "replies",
                                         security=sec)
    with pytest.raises(_Stop):
        asyncio.run(client.follow_replies())

    record(streams.scorer, "AIOKafkaConsumer", "scorer consumers")
    svc = object.__new__(streams.scorer.ScorerService)  # no model needed for its clients
    svc.s = Settings(security=sec)
    svc.names = streams.scorer.topic_names(svc.s)
    with pytest.raises(_Stop):
        asyncio.run(svc._follow_items(["h:1"]))
    with pytest.raises(_Stop):
        asyncio.run(svc._serve_requests(["h:1"]))

    for label, calls in seen.items():
        assert calls, f"{label}: no client was constructed"
        for kwargs in calls:
            assert_secured(kwargs)
    assert seen["lag consumer"] and seen["replay consumer"]
    assert len(seen["scorer consumers"]) == 2
    assert all(v is sec for v in counts.values() if v is not None)


def test_faust_app_gets_credentials_and_guarantee(sec: SecuritySettings, tmp_path: Path
                                                  ) -> None:
    from streams.app import create_pipeline

    s = Settings(security=sec, worker={"data_dir": tmp_path, "store": "memory://",
                                       "processing_guarantee": "exactly_once"},
                 privacy={"key": "unit-test-privacy-key-0123"})
    p = create_pipeline(s)
    creds = p.app.conf.broker_credentials
    assert creds.username == "bob" and creds.password == PASSWORD
    assert creds.protocol.value == "SASL_SSL" and creds.mechanism.value == "SCRAM-SHA-512"
    assert p.app.conf.processing_guarantee.value == "exactly_once"
    assert_secured(p.replica._client_kwargs)
