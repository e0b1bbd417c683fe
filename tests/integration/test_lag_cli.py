"""``recstream lag`` against the real broker: a running worker and a replay burst make the
group's lag rise, then drain to 0; ``--json`` rows carry the contract keys; the human table
follows ``kafka-consumer-groups --describe``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from ops_support import Burst, movielens_burst

from recstream.ops.lag import JSON_KEYS

pytestmark = [pytest.mark.integration, pytest.mark.timeout(150)]

REPO_ROOT = Path(__file__).resolve().parents[2]


def lag_cmd(bootstrap: str, prefix: str, *args: str) -> tuple[list[str], dict[str, str]]:
    env = {**os.environ, "RECSTREAM_TOPICS__PREFIX": prefix}
    env.pop("RECSTREAM_CONFIG", None)
    return [sys.executable, "-m", "recstream", "lag", "-b", bootstrap, *args], env


class Watch:
    """``recstream lag --watch 1 --json`` in the background; keeps every polled snapshot."""

    def __init__(self, bootstrap: str, prefix: str) -> None:
        cmd, env = lag_cmd(bootstrap, prefix, "--watch", "1", "--json", "--count", "90")
        self.proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.polls: list[list[dict[str, Any]]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.polls.append(json.loads(line))

    def wait(self, cond: Any, timeout_s: float, what: str) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for poll in list(self.polls):
                if cond(poll):
                    return poll
            if self.proc.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.2)
        err = self.proc.stderr.read() if self.proc.poll() is not None else ""
        pytest.fail(f"lag --watch never showed {what} in {timeout_s:.0f}s "
                    f"({len(self.polls)} polls; last {self.polls[-1:]}) {err}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def total(poll: list[dict[str, Any]]) -> int:
    return sum(r["lag"] for r in poll)


def test_lag_rises_during_a_replay_and_drains_to_zero(cluster, producer, big_sample) -> None:
    (worker,) = cluster.start(1)
    group = f"{cluster.prefix}recstream"
    producer.items(big_sample.items)
    watch = Watch(cluster.bootstrap, cluster.prefix)
    try:
        first = watch.wait(lambda p: len(p) > 0, 30, "any partition")
        assert {r["group"] for r in first} == {group}
        for row in first:
            assert tuple(row)[: len(JSON_KEYS)] == JSON_KEYS
        producer.events(big_sample.events)  # a burst: faster than the worker consumes
        peak = watch.wait(lambda p: total(p) > 0 and any(
            r["lag"] > 0 and r["lag_seconds"] and r["lag_seconds"] > 0 for r in p), 30,
            "lag (messages and seconds) above 0")
        ratings = [r for r in peak if r["topic"] == f"{cluster.prefix}ratings"]
        assert sum(r["end"] for r in ratings) >= 1, peak
        n_before = len(watch.polls)
        watch.wait(lambda p: watch.polls.index(p) > n_before and total(p) == 0
                   and all(r["committed"] is not None for r in p
                           if r["topic"] == f"{cluster.prefix}ratings"),
                   90, "lag drained to 0")
        drained = watch.polls[-1]
        consumed = [r for r in drained if r["end"] > 0]
        assert consumed and all(r["committed"] == r["end"] for r in consumed), drained
        rates = [r["rate"] for poll in watch.polls[n_before:] for r in poll if r["rate"]]
        assert rates and max(rates) > 0, "consume rate never above 0 while draining"
        assert all(r["status"] == "OK" for r in drained), drained
    finally:
        watch.stop()

    # one-shot human table, columns as kafka-consumer-groups --describe (plus ours)
    cmd, env = lag_cmd(cluster.bootstrap, cluster.prefix, "--samples", "2")
    out = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split()[1:3] == ["GROUP", group]
    assert "state=Stable" in lines[0] and "members=1" in lines[0] and "status=OK" in lines[0]
    header = lines[2].split()
    assert header[:6] == ["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET",
                          "LAG"]
    assert header[-4:] == ["STATUS", "CONSUMER-ID", "HOST", "CLIENT-ID"]
    rows = [ln.split() for ln in lines[3:] if ln.startswith(group)]
    assert len(rows) >= 4 and all(r[5] == "0" for r in rows)
    assert any("members:" in ln for ln in lines)
    assert worker.alive()


def test_lag_of_an_unknown_group_and_a_missing_pipeline(kafka_broker, topic_prefix) -> None:
    cmd, env = lag_cmd(kafka_broker, topic_prefix, "--json", "--samples", "1",
                       "--group", "no-such-group")
    out = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == []
    cmd, env = lag_cmd(kafka_broker, topic_prefix, "--samples", "1")
    out = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "--group" in out.stderr, out.stderr


@pytest.fixture(scope="module")
def big_sample() -> Burst:
    return movielens_burst()
