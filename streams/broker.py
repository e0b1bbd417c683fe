"""A local single-node Apache Kafka broker (KRaft, broker+controller in one JVM).

Used by ``recstream up`` / ``recstream broker start`` and by the integration tests. The jars
come from ``scripts/setup.sh`` (``<home>/lib``). Every file lives under ``BrokerSettings.home``
and is keyed by the client port, so several brokers (demo, tests) can coexist::

    <home>/lib/*.jar                      Kafka 3.9.1 + dependencies
    <home>/data/<port>/                   log.dirs (formatted once: meta.properties)
    <home>/run/broker-<port>.pid          pid of the running JVM
    <home>/run/broker-<port>.log          the JVM's stdout/stderr (log4j console output)
    <home>/run/broker-<port>.properties   generated server.properties
    <home>/run/broker-<port>.log4j.properties

The broker binds 127.0.0.1 only. The JVM runs in its own session, so a Ctrl-C on the parent
is handled by the parent (which calls :meth:`LocalBroker.stop`), not delivered to Java.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recstream.settings import BrokerSettings
from streams.admin import broker_ready

log = logging.getLogger(__name__)

KAFKA_VERSION = "3.9.1"
SCALA_VERSION = "2.13"
HOST = "127.0.0.1"
_LOG_TAIL_LINES = 40
_LOG_ROTATE_BYTES = 20 * 1024 * 1024

_LOG4J = """\
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.kafka.network.RequestChannel$=WARN
log4j.logger.kafka.authorizer.logger=WARN
log4j.logger.org.apache.kafka.raft=INFO
log4j.logger.state.change.logger=WARN
"""


class BrokerError(RuntimeError):
    """The local broker could not be started, found, or stopped."""


def _new_cluster_id() -> str:
    """A Kafka ``Uuid`` string (URL-safe base64 of 16 random bytes, no padding)."""
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cid.startswith("-"):  # Kafka avoids these too (they look like CLI flags)
            return cid


def _pid_is_kafka(pid: int) -> bool:
    """True when ``pid`` is a live (non-zombie) Kafka broker JVM."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists but belongs to someone else; fall through to /proc
    proc = Path("/proc") / str(pid)
    if not proc.exists():
        return True  # no procfs (macOS): trust the signal check
    try:
        cmdline = (proc / "cmdline").read_bytes()
    except OSError:
        return False
    # A zombie has an empty cmdline; a recycled pid runs something else.
    return b"kafka.Kafka" in cmdline


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


SCRAM_MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-512")


@dataclass(frozen=True)
class SaslSslListener:
    """A second client listener, ``SASL_SSL://127.0.0.1:port``, beside the PLAINTEXT one.

    ``keystore_pem`` holds the broker's private key (PKCS#8, unencrypted) followed by its
    certificate chain (Kafka's ``ssl.keystore.type=PEM``). ``plain_users`` are checked by
    the PLAIN login module of the broker's JAAS config; ``scram_users`` get SCRAM-SHA-256
    and -512 credentials written into the metadata log when the storage is formatted
    (``kafka-storage format --add-scram``), so they apply to a fresh data directory only.
    """

    port: int
    keystore_pem: Path
    plain_users: Mapping[str, str] = field(default_factory=dict)
    scram_users: Mapping[str, str] = field(default_factory=dict)

    @property
    def bootstrap(self) -> str:
        return f"{HOST}:{self.port}"

    def properties(self) -> dict[str, str]:
        pre = "listener.name.sasl_ssl."
        users = " ".join(f'user_{u}="{pw}"' for u, pw in self.plain_users.items())
        return {
            "sasl.enabled.mechanisms": ",".join(("PLAIN", *SCRAM_MECHANISMS)),
            pre + "ssl.keystore.type": "PEM",
            pre + "ssl.keystore.location": str(self.keystore_pem),
            pre + "ssl.client.auth": "none",
            pre + "plain.sasl.jaas.config":
                f"org.apache.kafka.common.security.plain.PlainLoginModule required {users};",
            **{f"{pre}{m.lower()}.sasl.jaas.config":
               "org.apache.kafka.common.security.scram.ScramLoginModule required;"
               for m in SCRAM_MECHANISMS},
        }

    def format_args(self) -> list[str]:
        return [arg for u, pw in self.scram_users.items() for m in SCRAM_MECHANISMS
                for arg in ("--add-scram", f"{m}=[name={u},password={pw}]")]


class LocalBroker:
    """Start, stop and inspect one local Kafka broker described by ``BrokerSettings``.

    ``extra_properties`` are merged over the generated ``server.properties``; ``sasl_ssl``
    adds a SASL_SSL client listener (:class:`SaslSslListener`). The PLAINTEXT listener on
    ``cfg.port`` is what readiness checks, inter-broker traffic and ``bootstrap`` use, so it
    always stays; clients that must authenticate use ``sasl_ssl.bootstrap``.
    """

    def __init__(self, cfg: BrokerSettings, extra_properties: dict[str, str] | None = None,
                 java: str | None = None, sasl_ssl: SaslSslListener | None = None) -> None:
        self.cfg = cfg
        self.extra_properties = dict(extra_properties or {})
        self.sasl_ssl = sasl_ssl
        self.java = java or os.environ.get("RECSTREAM_JAVA") or self._find_java()
        self._proc: subprocess.Popen[bytes] | None = None

    # -- paths ---------------------------------------------------------------------------
    @property
    def home(self) -> Path:
        return Path(self.cfg.home)

    @property
    def lib_dir(self) -> Path:
        return self.home / "lib"

    @property
    def data_dir(self) -> Path:
        return self.home / "data" / str(self.cfg.port)

    @property
    def run_dir(self) -> Path:
        return self.home / "run"

    @property
    def pid_file(self) -> Path:
        return self.run_dir / f"broker-{self.cfg.port}.pid"

    @property
    def log_file(self) -> Path:
        return self.run_dir / f"broker-{self.cfg.port}.log"

    @property
    def properties_file(self) -> Path:
        return self.run_dir / f"broker-{self.cfg.port}.properties"

    @property
    def log4j_file(self) -> Path:
        return self.run_dir / f"broker-{self.cfg.port}.log4j.properties"

    @property
    def bootstrap(self) -> str:
        return f"{HOST}:{self.cfg.port}"

    # -- configuration ---------------------------------------------------------------------
    def server_properties(self) -> dict[str, str]:
        """The broker configuration written to ``server.properties``."""
        port, cport = self.cfg.port, self.cfg.controller_port
        props = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@{HOST}:{cport}",
            "listeners": f"PLAINTEXT://{HOST}:{port},CONTROLLER://{HOST}:{cport}",
            "advertised.listeners": f"PLAINTEXT://{HOST}:{port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": str(self.data_dir),
            "num.partitions": "4",
            "default.replication.factor": "1",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "8",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "8",
            "group.initial.rebalance.delay.ms": "0",
            "num.network.threads": "2",
            "num.io.threads": "4",
            "num.recovery.threads.per.data.dir": "1",
            "log.retention.hours": "168",
        }
        if self.sasl_ssl is not None:
            extra = f"SASL_SSL://{self.sasl_ssl.bootstrap}"
            props["listeners"] += "," + extra
            props["advertised.listeners"] += "," + extra
            props["listener.security.protocol.map"] += ",SASL_SSL:SASL_SSL"
            props.update(self.sasl_ssl.properties())
        props.update(self.extra_properties)
        return props

    def jvm_command(self) -> list[str]:
        """The ``java`` command line that runs the broker."""
        return [
            self.java,
            f"-Xmx{self.cfg.heap_mb}m",
            f"-Xms{min(self.cfg.heap_mb, 128)}m",
            "-XX:+UseSerialGC",
            "-XX:MaxMetaspaceSize=256m",
            "-XX:+ExitOnOutOfMemoryError",
            "-Xss512k",
            "-Djava.awt.headless=true",
            "-Djava.net.preferIPv4Stack=true",
            f"-Dlog4j.configuration=file:{self.log4j_file}",
            f"-Dkafka.logs.dir={self.run_dir}",
            "-cp",
            f"{self.lib_dir}/*",
            "kafka.Kafka",
            str(self.properties_file),
        ]

    # -- lifecycle -------------------------------------------------------------------------
    def pid(self) -> int | None:
        """The pid of this port's running broker (own child or from the pid file), else None."""
        if self._proc is not None:
            if self._proc.poll() is None:
                return self._proc.pid
            self._proc = None
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if _pid_is_kafka(pid) else None

    def is_ready(self, timeout_s: float = 2.0) -> bool:
        """True when the broker process runs and answers a metadata request."""
        return self.pid() is not None and broker_ready(self.bootstrap, timeout_s)

    def status(self) -> dict[str, Any]:
        """``{"running", "pid", "bootstrap", "version", "data_dir"}`` of this broker."""
        pid = self.pid()
        return {
            "running": pid is not None,
            "pid": pid,
            "bootstrap": self.bootstrap,
            "version": KAFKA_VERSION,
            "data_dir": str(self.data_dir),
        }

    def start(self, wait_s: float = 60) -> int:
        """Start the broker (no-op if it already runs) and wait until it serves clients.

        Returns the JVM's pid. Raises :class:`BrokerError` when the jars are missing, a port
        is taken by another process, or the broker is not ready within ``wait_s`` (the
        JVM is then stopped and the error carries the last lines of its log).
        """
        existing = self.pid()
        if existing is not None:
            log.info("event=broker_already_running port=%d pid=%d", self.cfg.port, existing)
            self._wait_ready(existing, wait_s)
            return existing

        self._check_jars()
        ports = [self.cfg.port, self.cfg.controller_port]
        if self.sasl_ssl is not None:
            ports.append(self.sasl_ssl.port)
        for port in ports:
            if not _port_free(port):
                raise BrokerError(f"port {HOST}:{port} is already in use by another process; "
                                  "choose another broker port/controller_port")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._write_config()
        self._format_storage()
        self._rotate_log()

        with open(self.log_file, "ab") as out:
            self._proc = subprocess.Popen(
                self.jvm_command(), stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, cwd=self.run_dir, start_new_session=True)
        pid = self._proc.pid
        self.pid_file.write_text(f"{pid}\n")
        log.info("event=broker_starting port=%d controller_port=%d pid=%d data_dir=%s",
                 self.cfg.port, self.cfg.controller_port, pid, self.data_dir)
        try:
            self._wait_ready(pid, wait_s)
        except BaseException:
            self.stop()
            raise
        log.info("event=broker_ready bootstrap=%s pid=%d", self.bootstrap, pid)
        return pid

    def stop(self, timeout_s: float = 20) -> bool:
        """Stop the broker: SIGTERM, then SIGKILL after ``timeout_s``.

        Returns True if a running broker was stopped, False if none was running. The pid
        file is removed either way.
        """
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        log.info("event=broker_stopping port=%d pid=%d", self.cfg.port, pid)
        self._signal(pid, signal.SIGTERM)
        if not self._wait_exit(pid, timeout_s):
            log.warning("event=broker_kill port=%d pid=%d after_s=%.0f", self.cfg.port, pid,
                        timeout_s)
            self._signal(pid, signal.SIGKILL)
            self._wait_exit(pid, 10)
        self._proc = None
        self.pid_file.unlink(missing_ok=True)
        log.info("event=broker_stopped port=%d pid=%d", self.cfg.port, pid)
        return True

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        """The last ``lines`` lines of the broker log ('' if there is none)."""
        try:
            with open(self.log_file, "rb") as fh:
                fh.seek(0, os.SEEK_END)
                fh.seek(max(0, fh.tell() - 64 * 1024))
                text = fh.read().decode("utf-8", "replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    # -- internals -------------------------------------------------------------------------
    @staticmethod
    def _find_java() -> str:
        java_home = os.environ.get("JAVA_HOME")
        if java_home and (Path(java_home) / "bin" / "java").exists():
            return str(Path(java_home) / "bin" / "java")
        return shutil.which("java") or "java"

    def _check_jars(self) -> None:
        jar = self.lib_dir / f"kafka_{SCALA_VERSION}-{KAFKA_VERSION}.jar"
        if not jar.is_file():
            raise BrokerError(f"Kafka jars not found in {self.lib_dir}; run scripts/setup.sh")
        if shutil.which(self.java) is None and not Path(self.java).is_file():
            raise BrokerError(f"java not found ({self.java!r}); install Java 17+ or set "
                              "JAVA_HOME")

    def _write_config(self) -> None:
        lines = [f"{k}={v}" for k, v in self.server_properties().items()]
        self.properties_file.write_text("# generated by streams.broker; edits are lost\n"
                                        + "\n".join(lines) + "\n")
        self.log4j_file.write_text(_LOG4J)

    def _format_storage(self) -> None:
        if (self.data_dir / "meta.properties").exists():
            return
        cmd = [self.java, "-Xmx256m", "-XX:+UseSerialGC",
               f"-Dlog4j.configuration=file:{self.log4j_file}", "-cp", f"{self.lib_dir}/*",
               "kafka.tools.StorageTool", "format", "--ignore-formatted",
               "-t", _new_cluster_id(), "-c", str(self.properties_file)]
        if self.sasl_ssl is not None:
            cmd += self.sasl_ssl.format_args()
        log.info("event=broker_format data_dir=%s", self.data_dir)
        res = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                             timeout=120, check=False)
        if res.returncode != 0:
            raise BrokerError(f"formatting {self.data_dir} failed (exit {res.returncode}):\n"
                              f"{(res.stdout + res.stderr).strip()[-4000:]}")

    def _rotate_log(self) -> None:
        with contextlib.suppress(OSError):
            if self.log_file.stat().st_size > _LOG_ROTATE_BYTES:
                self.log_file.replace(self.log_file.with_suffix(".log.1"))

    def _wait_ready(self, pid: int, wait_s: float) -> None:
        deadline = time.monotonic() + wait_s
        while True:
            if self.pid() != pid:
                code = self._proc.returncode if self._proc is not None else None
                raise BrokerError(f"Kafka broker (pid {pid}) exited during startup "
                                  f"(exit {code}); last log lines of {self.log_file}:\n"
                                  f"{self.log_tail()}")
            if broker_ready(self.bootstrap, timeout_s=2.0):
                return
            if time.monotonic() >= deadline:
                raise BrokerError(f"Kafka broker at {self.bootstrap} not ready after "
                                  f"{wait_s:.0f}s; last log lines of {self.log_file}:\n"
                                  f"{self.log_tail()}")
            time.sleep(0.25)

    def _signal(self, pid: int, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)

    def _wait_exit(self, pid: int, timeout_s: float) -> bool:
        """Wait for ``pid`` to exit (reaping it if it is our child); True if it did."""
        deadline = time.monotonic() + timeout_s
        while True:
            if self._proc is not None and self._proc.pid == pid:
                try:
                    self._proc.wait(timeout=max(0.0, min(0.2, deadline - time.monotonic())))
                    return True
                except subprocess.TimeoutExpired:
                    pass
            elif not _pid_is_kafka(pid):
                return True
            else:
                time.sleep(0.1)
            if time.monotonic() >= deadline:
                return False
