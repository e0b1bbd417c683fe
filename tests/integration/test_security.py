"""The pipeline over TLS + SASL: a local broker with a SASL_SSL listener whose certificate is
signed by a CA generated here, a worker authenticating with SCRAM-SHA-512, the producer with
PLAIN, and ``recstream consume`` / ``recstream lag`` reading back over the same listener. A
wrong password or an untrusted broker certificate is one clear line, not a hang or a
traceback.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Cluster, free_port

from recstream.settings import BrokerSettings, SecuritySettings
from streams.broker import LocalBroker, SaslSslListener
from streams.producer import EventProducer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

REPO_ROOT = Path(__file__).resolve().parents[2]
USERS = {"alice": "alice-plain-pw", "bob": "bob-scram-pw"}
EVENTS = 40


def make_pki(d: Path) -> dict[str, Path]:
    """A throw-away CA and a broker certificate for 127.0.0.1 signed by it (openssl CLI);
    the broker keystore is the PKCS#8 key followed by the chain (Kafka's PEM keystore)."""
    d.mkdir(parents=True, exist_ok=True)

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=d)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
            "ca.pem", "-days", "2", "-subj", "/CN=recstream test CA")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "broker.key", "-out",
            "broker.csr", "-subj", "/CN=127.0.0.1")
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl("x509", "-req", "-in", "broker.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "broker.pem", "-days", "2", "-extfile", "san.ext")
    openssl("pkcs8", "-topk8", "-nocrypt", "-in", "broker.key", "-out", "broker.p8")
    keystore = d / "broker-keystore.pem"
    keystore.write_text("".join((d / f).read_text() for f in ("broker.p8", "broker.pem",
                                                              "ca.pem")))
    return {"ca": d / "ca.pem", "keystore": keystore}


@pytest.fixture(scope="module")
def secure_broker(tmp_path_factory: pytest.TempPathFactory
                  ) -> Iterator[tuple[str, Path]]:
    """(SASL_SSL bootstrap, CA file) of a fresh broker: PLAIN user alice, SCRAM user bob."""
    pki = make_pki(tmp_path_factory.mktemp("pki"))
    ports: set[int] = set()
    while len(ports) < 3:
        ports.add(free_port())
    port, controller_port, sasl_port = sorted(ports)
    broker = LocalBroker(
        BrokerSettings(home=REPO_ROOT / ".kafka", port=port, controller_port=controller_port),
        sasl_ssl=SaslSslListener(sasl_port, pki["keystore"],
                                 plain_users={"alice": USERS["alice"]},
                                 scram_users={"bob": USERS["bob"]}))
    shutil.rmtree(broker.data_dir, ignore_errors=True)
    try:
        broker.start(wait_s=90)
        yield broker.sasl_ssl.bootstrap, pki["ca"]
    finally:
        broker.stop()
        shutil.rmtree(broker.data_dir, ignore_errors=True)
        for path in (broker.properties_file, broker.log4j_file, broker.log_file):
            path.unlink(missing_ok=True)


def env_for(ca: Path, user: str, mechanism: str, password: str | None = None,
            cafile: bool = True) -> dict[str, str]:
    env = {"RECSTREAM_SECURITY__PROTOCOL": "SASL_SSL",
           "RECSTREAM_SECURITY__SASL_MECHANISM": mechanism,
           "RECSTREAM_SECURITY__SASL_USERNAME": user,
           "RECSTREAM_SECURITY__SASL_PASSWORD": password or USERS[user]}
    if cafile:
        env["RECSTREAM_SECURITY__SSL_CAFILE"] = str(ca)
    return env


def recstream(args: list[str], env: dict[str, str], timeout_s: float = 90
              ) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, **env, "PYTHONPATH": str(REPO_ROOT)}
    full.pop("RECSTREAM_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "recstream", *args], env=full, text=True,
                          capture_output=True, timeout=timeout_s, cwd=REPO_ROOT)


def test_replay_over_sasl_ssl(secure_broker, topic_prefix, tmp_path, ml_sample) -> None:
    bootstrap, ca = secure_broker
    scram = env_for(ca, "bob", "SCRAM-SHA-512")
    cluster = Cluster(bootstrap, topic_prefix, tmp_path)
    worker = cluster.worker("secure")
    worker.env_extra = scram
    try:
        worker.start().wait_healthy()
        events = ml_sample.events[:EVENTS]
        producer_sec = SecuritySettings(protocol="SASL_SSL", sasl_mechanism="PLAIN",
                                        sasl_username="alice", sasl_password=USERS["alice"],
                                        ssl_cafile=ca)
        with EventProducer(bootstrap, producer_sec) as producer:
            for item in ml_sample.items:
                producer.send(topic_prefix + "items", str(item["item_id"]), item)
            producer.flush()
            for ev in events:
                producer.send(topic_prefix + "ratings", ev["user_id"], ev)

        env = {**env_for(ca, "bob", "SCRAM-SHA-256"), "RECSTREAM_TOPICS__PREFIX": topic_prefix}
        out = recstream(["consume", "recommendations", "--from-beginning", "--json",
                         "--max-messages", str(EVENTS), "--timeout", "60",
                         "--bootstrap-server", bootstrap], env)
        assert out.returncode == 0, out.stderr[-2000:]
        records = [json.loads(line) for line in out.stdout.splitlines()]
        assert {r["trigger_event_id"] for r in records} == {e["event_id"] for e in events}
        assert all(r["items"] for r in records)

        lag = recstream(["lag", "--json", "--samples", "1", "--bootstrap-server", bootstrap],
                        env)
        assert lag.returncode == 0, lag.stderr[-2000:]
        rows = json.loads(lag.stdout)
        assert any(r["topic"] == topic_prefix + "ratings" for r in rows)
    finally:
        cluster.stop_all()
    assert not worker.killed, worker.log_tail()


@pytest.mark.parametrize(("mechanism", "user"), [("PLAIN", "alice"), ("SCRAM-SHA-512", "bob")])
def test_wrong_password_is_one_clear_line(secure_broker, mechanism, user) -> None:
    bootstrap, ca = secure_broker
    out = recstream(["consume", "--max-messages", "1", "--bootstrap-server", bootstrap],
                    env_for(ca, user, mechanism, password="not-the-password"))
    assert out.returncode != 0
    assert "Traceback" not in out.stderr
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, out.stderr
    assert "SASL" in lines[0] and f"user={user}" in lines[0]
    assert "RECSTREAM_SECURITY__SASL_PASSWORD" in lines[0]
    assert "not-the-password" not in out.stderr


def test_untrusted_broker_certificate_is_one_clear_line(secure_broker) -> None:
    bootstrap, ca = secure_broker
    out = recstream(["consume", "--max-messages", "1", "--bootstrap-server", bootstrap],
                    env_for(ca, "alice", "PLAIN", cafile=False))
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert "not trusted" in out.stderr and "RECSTREAM_SECURITY__SSL_CAFILE" in out.stderr
