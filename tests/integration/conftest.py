"""Fixtures for pipeline tests: recstream workers as subprocesses, producers and readers.

Every test gets a fresh ``topic_prefix`` (tests/conftest.py), which isolates its topics and
its Faust app id / consumer group (``<prefix>recstream``). Workers are started with
``python -m recstream worker`` exactly as an operator would, log to a file under the test's
tmp dir, and are always stopped (SIGTERM, then SIGKILL of the whole process group after 20 s)
when the test ends, whatever happened; a failing test shows the tail of every worker's log.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from streams.producer import EventProducer

REPO_ROOT = Path(__file__).resolve().parents[2]

ML100K = Path("/work/shared/datasets/ml-100k")
STOP_TIMEOUT_S = 20.0
HEALTH_TIMEOUT_S = 90.0
LOG_TAIL_LINES = 80
TEST_PRIVACY_KEY = "test-privacy-key-0123456789abcdef"  # workers refuse to run without one

_LIVE: set[subprocess.Popen[bytes]] = set()  # every worker not yet reaped, for atexit
_HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: no proxy


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _kill_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)  # the worker leads its own session/process group


def _die_with_parent() -> None:  # runs in the child before exec (Linux): if pytest is
    with contextlib.suppress(Exception):  # SIGKILLed, the kernel kills the worker too
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


@atexit.register
def _kill_leftovers() -> None:  # last resort if a fixture teardown never ran
    for proc in list(_LIVE):
        if proc.poll() is None:
            _kill_group(proc, signal.SIGKILL)
        with contextlib.suppress(Exception):
            proc.wait(5)


# --------------------------------------------------------------------------------- workers
@dataclass
class Worker:
    """One ``recstream worker`` subprocess."""

    bootstrap: str
    prefix: str
    web_port: int
    data_dir: Path
    log_path: Path
    name: str = "worker"
    proc: subprocess.Popen[bytes] | None = None
    killed: bool = False  # the last stop() needed SIGKILL (SIGTERM was not enough)
    env_extra: dict[str, str] = field(default_factory=dict)
    role: str = "worker"  # or "scorer": `recstream scorer` (web_port serves its /health)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def start(self) -> Worker:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        env = {**os.environ, "RECSTREAM_TOPICS__PREFIX": self.prefix,
               "RECSTREAM_PRIVACY__KEY": TEST_PRIVACY_KEY, **self.env_extra}
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO_ROOT), env.get("PYTHONPATH")) if p)
        env.pop("RECSTREAM_CONFIG", None)
        cmd = [sys.executable, "-m", "recstream", "worker", "--bootstrap-server",
               self.bootstrap, "--web-port", str(self.web_port), "--data-dir",
               str(self.data_dir), "--loglevel", "warning"]
        if self.role == "scorer":
            cmd = [sys.executable, "-m", "recstream", "scorer", "--bootstrap-server",
                   self.bootstrap, "--web-port", str(self.web_port), "--loglevel", "info"]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            log.write(f"\n===== start {time.strftime('%H:%M:%S')} {' '.join(cmd)}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True,
                                         preexec_fn=_die_with_parent)
        _LIVE.add(self.proc)
        return self

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def get(self, path: str, timeout_s: float = 10.0) -> tuple[int, Any]:
        """(status, parsed JSON body or text) of ``GET path`` on this worker."""
        try:
            with _HTTP.open(self.url + path, timeout=timeout_s) as resp:
                status, body = resp.status, resp.read()
        except urllib.error.HTTPError as e:
            status, body = e.code, e.read()
        try:
            return status, json.loads(body)
        except ValueError:
            return status, body.decode("utf-8", "replace")

    def wait_healthy(self, timeout_s: float = HEALTH_TIMEOUT_S) -> dict[str, Any]:
        """Poll ``GET /health`` until it says ``{"ready": true}``; fail with the log tail."""
        deadline = time.monotonic() + timeout_s
        last: Any = "no answer"
        while time.monotonic() < deadline:
            if not self.alive():
                pytest.fail(f"{self.name} exited with code "
                            f"{self.proc.returncode if self.proc else None} before it was "
                            f"healthy\n{self.log_tail()}")
            try:
                status, body = self.get("/health", timeout_s=2)
                if status == 200 and isinstance(body, dict) and body.get("ready") is True:
                    return body
                last = (status, body)
            except (OSError, urllib.error.URLError) as e:
                last = repr(e)
            time.sleep(0.25)
        pytest.fail(f"{self.name} not healthy after {timeout_s:.0f}s (last: {last})\n"
                    f"{self.log_tail()}")

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> int | None:
        """SIGTERM, wait, SIGKILL the process group after ``timeout_s``; returns exit code."""
        proc = self.proc
        if proc is None:
            return None
        if proc.poll() is None:
            self.killed = False
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.killed = True
                _kill_group(proc, signal.SIGKILL)
                proc.wait(10)
        _LIVE.discard(proc)
        return proc.returncode

    def log_tail(self, lines: int = LOG_TAIL_LINES) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return f"--- {self.name}: no log at {self.log_path}"
        return f"--- {self.name} log tail ({self.log_path}):\n" + "\n".join(text[-lines:])


@dataclass
class Cluster:
    """Starts workers for one test (same prefix) and cleans them up."""

    bootstrap: str
    prefix: str
    tmp_path: Path
    workers: list[Worker] = field(default_factory=list)

    def worker(self, name: str | None = None, data_dir: Path | None = None) -> Worker:
        """A new (not started) worker on a free web port with its own data dir."""
        n = len(self.workers)
        name = name or f"worker{n}"
        used = {w.web_port for w in self.workers}
        port = free_port()
        while port in used:
            port = free_port()
        w = Worker(bootstrap=self.bootstrap, prefix=self.prefix, web_port=port,
                   data_dir=data_dir or self.tmp_path / f"data-{name}",
                   log_path=self.tmp_path / f"{name}.log", name=name)
        self.workers.append(w)
        return w

    def scorer(self, env: dict[str, str] | None = None) -> Worker:
        """A new (not started) ``recstream scorer`` on a free port, stopped with the rest."""
        s = self.worker(name=f"scorer{len(self.workers)}")
        s.role, s.env_extra = "scorer", dict(env or {})
        return s

    def start(self, count: int = 1) -> list[Worker]:
        """Start ``count`` workers and wait until all are healthy."""
        ws = [self.worker().start() for _ in range(count)]
        for w in ws:
            w.wait_healthy()
        return ws

    def stop_all(self) -> None:
        for w in self.workers:
            w.stop()

    def log_tails(self) -> str:
        return "\n".join(w.log_tail() for w in self.workers)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    rep = outcome.get_result()
    cluster: Cluster | None = getattr(item, "_recstream_cluster", None)
    if cluster is not None and rep.failed and cluster.workers:
        rep.sections.append((f"recstream worker logs ({rep.when})", cluster.log_tails()))


@pytest.fixture
def cluster(kafka_broker: str, topic_prefix: str, tmp_path: Path,
            request: pytest.FixtureRequest) -> Iterator[Cluster]:
    """Start workers with ``cluster.start(n)``; all are stopped when the test ends."""
    c = Cluster(kafka_broker, topic_prefix, tmp_path)
    request.node._recstream_cluster = c
    try:
        yield c
    finally:
        c.stop_all()


# --------------------------------------------------------------------------------- data
@dataclass
class Sample:
    """A slice of MovieLens 100K: items (records) and rating events in time order."""

    items: list[dict[str, Any]]
    events: list[dict[str, Any]]

    def by_user(self) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for ev in self.events:
            out.setdefault(ev["user_id"], []).append(ev)
        return out

    def users_with(self, min_events: int) -> set[str]:
        return {u for u, evs in self.by_user().items() if len(evs) >= min_events}


def movielens_sample(users: int = 50, per_user: int = 6) -> Sample:
    """The first ``per_user`` ratings of the first ``users`` users of MovieLens 100K (in time
    order), with every catalogue item they reference plus the rest of the catalogue.

    Spreads ~300 events over many users (the dataset's first 300 events by time belong to
    only 6 users), so that every partition and both workers of a pair own some of them.
    """
    from recstream.datasets import interaction_event, item_record, load_dataset

    ds = load_dataset(ML100K)
    per: dict[str, int] = {}
    chosen = []
    for x in ds.interactions:  # (ts, user, item) order
        if x.user_id not in per and len(per) >= users:
            continue
        if per.get(x.user_id, 0) < per_user:
            per[x.user_id] = per.get(x.user_id, 0) + 1
            chosen.append(x)
    events = [interaction_event(x, "ratings", ds.format) for x in chosen]
    return Sample(items=[item_record(i) for i in ds.items], events=events)


@pytest.fixture(scope="session")
def ml_sample() -> Sample:
    return movielens_sample()


class Producer:
    """Sends items and events to a prefix's input topics (kafka-python via EventProducer)."""

    def __init__(self, bootstrap: str, prefix: str) -> None:
        self.prefix = prefix
        self._p = EventProducer(bootstrap)
        # Raw bytes (malformed input) through a plain client: EventProducer.send_raw cannot
        # send bytes (its JSON value serializer rejects them; see test_producer.py).
        self._raw = KafkaProducer(bootstrap_servers=bootstrap.split(","), linger_ms=5)

    def topic(self, base: str) -> str:
        return self.prefix + base

    def items(self, records: Iterable[dict[str, Any]]) -> None:
        for r in records:
            self._p.send(self.topic("items"), str(r["item_id"]), r)
        self._p.flush()

    def events(self, events: Iterable[dict[str, Any]], kind: str = "ratings") -> None:
        for ev in events:
            self._p.send(self.topic(kind), str(ev["user_id"]), ev)
        self._p.flush()

    def raw(self, kind: str, key: str, value: bytes) -> None:
        self._raw.send(self.topic(kind), key=key.encode("utf-8"), value=value)
        self._raw.flush()

    def close(self) -> None:
        self._p.close()
        self._raw.close(timeout=10)


@pytest.fixture
def producer(kafka_broker: str, topic_prefix: str) -> Iterator[Producer]:
    p = Producer(kafka_broker, topic_prefix)
    try:
        yield p
    finally:
        p.close()


@dataclass
class Record:
    topic: str
    partition: int
    offset: int
    key: str | None
    value: Any  # parsed JSON (None for a tombstone)
    raw: bytes | None


class TopicReader:
    """Reads a topic from the beginning (no consumer group) and keeps every record."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.topic = topic
        self.records: list[Record] = []
        self._c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                enable_auto_commit=False, auto_offset_reset="earliest",
                                isolation_level="read_committed")
        self._assigned = False

    def _assign(self) -> bool:
        parts = self._c.partitions_for_topic(self.topic)
        if not parts:
            return False
        tps = [TopicPartition(self.topic, p) for p in sorted(parts)]
        self._c.assign(tps)
        self._c.seek_to_beginning(*tps)
        self._assigned = True
        return True

    def poll(self, timeout_s: float = 0.2) -> list[Record]:
        """Read what is available now (waiting at most ``timeout_s``); returns new records."""
        if not self._assigned and not self._assign():
            time.sleep(timeout_s)
            return []
        new = []
        for tp, msgs in self._c.poll(timeout_ms=int(timeout_s * 1000),
                                     max_records=10_000).items():
            for m in msgs:
                try:
                    value = orjson.loads(m.value) if m.value is not None else None
                except orjson.JSONDecodeError:  # raw bad input is kept in .raw
                    value = None
                new.append(Record(tp.topic, tp.partition, m.offset,
                                  m.key.decode("utf-8") if m.key is not None else None,
                                  value, m.value))
        self.records.extend(new)
        return new

    def wait_for(self, condition: Callable[[list[Record]], bool], timeout_s: float,
                 what: str = "condition") -> list[Record]:
        """Read until ``condition(all records so far)`` holds; fail after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while True:
            self.poll()
            if condition(self.records):
                return self.records
            if time.monotonic() > deadline:
                pytest.fail(f"timed out after {timeout_s:.0f}s waiting for {what} on "
                            f"{self.topic} ({len(self.records)} records read)")

    def drain(self, quiet_s: float = 2.0) -> list[Record]:
        """Read until nothing new arrives for ``quiet_s`` seconds."""
        last = time.monotonic()
        while time.monotonic() - last < quiet_s:
            if self.poll(0.3):
                last = time.monotonic()
        return self.records

    def values(self) -> list[Any]:
        return [r.value for r in self.records]

    def by_user(self) -> dict[str, list[dict[str, Any]]]:
        """Record values per ``user_id``, in topic order (one user = one partition)."""
        out: dict[str, list[dict[str, Any]]] = {}
        for r in self.records:
            out.setdefault(r.value["user_id"], []).append(r.value)
        return out

    def triggers(self) -> set[str]:
        return {r.value["trigger_event_id"] for r in self.records}

    def close(self) -> None:
        self._c.close()


@pytest.fixture
def reader(kafka_broker: str, topic_prefix: str) -> Iterator[Callable[[str], TopicReader]]:
    """``reader("recommendations")`` reads ``<prefix>recommendations`` from the beginning;
    a name containing the prefix already is used as given."""
    opened: list[TopicReader] = []

    def make(name: str) -> TopicReader:
        topic = name if name.startswith(topic_prefix) else topic_prefix + name
        r = TopicReader(kafka_broker, topic)
        opened.append(r)
        return r

    try:
        yield make
    finally:
        for r in opened:
            r.close()
