"""`recstream up` starts broker + worker and SIGTERM stops everything it started."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def free_pair() -> int:
    for _ in range(50):
        p = free_port()
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", p + 1))
            except OSError:
                continue
        return p
    raise RuntimeError("no free port pair")


def pids_matching(pattern: str) -> list[int]:
    out = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def test_up_runs_broker_and_worker_and_sigterm_stops_all(tmp_path: Path) -> None:
    port, web = free_pair(), free_port()
    env = {**os.environ, "RECSTREAM_WORKER__DATA_DIR": str(tmp_path / "state"),
           "RECSTREAM_TOPICS__PREFIX": f"up{port}-"}
    log = (tmp_path / "up.log").open("wb")
    up = subprocess.Popen([sys.executable, "-m", "recstream", "up", "--port", str(port),
                           "--web-port", str(web), "--fresh"], stdout=log,
                          stderr=subprocess.STDOUT, env=env)
    try:
        deadline, health = time.monotonic() + 120, {}
        while time.monotonic() < deadline and not health.get("ready"):
            assert up.poll() is None, (tmp_path / "up.log").read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{web}/health", timeout=1) as r:
                    health = json.load(r)
            except OSError:
                time.sleep(1)
        assert health.get("ready"), (tmp_path / "up.log").read_text()[-3000:]
        status = subprocess.run([sys.executable, "-m", "recstream", "broker", "status",
                                 "--port", str(port), "--json"], capture_output=True,
                                text=True, env=env, timeout=60)
        assert json.loads(status.stdout)["running"] is True
        assert "recstream is up" in (tmp_path / "up.log").read_text()
        assert pids_matching(f"web-port {web}"), "worker process not found"
    finally:
        up.send_signal(signal.SIGTERM)
        up.wait(60)
        log.close()
    assert pids_matching(f"web-port {web}") == []
    assert pids_matching(f"broker-{port}") == []
    status = subprocess.run([sys.executable, "-m", "recstream", "broker", "status", "--port",
                             str(port), "--json"], capture_output=True, text=True, env=env)
    assert status.returncode == 1 and json.loads(status.stdout)["running"] is False
