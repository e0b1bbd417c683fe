"""``recstream bench --json`` against the session broker: the issue's keys, every event
answered by a recommendation, the ceiling measured, and no process left behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

REPO_ROOT = Path(__file__).resolve().parents[2]
KEYS = {"rate", "events", "throughput_eps", "baseline_eps", "ratio", "latency_ms", "rss_mb",
        "users", "items"}


def test_bench_json_accounts_for_every_event(kafka_broker: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECSTREAM_")}
    cmd = [sys.executable, "-m", "recstream", "bench", "-b", kafka_broker, "--events", "300",
           "--rate", "max", "--users", "100", "--items", "200", "--json"]
    out = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                         timeout=280)
    assert out.returncode == 0, out.stderr[-3000:]
    res = json.loads(out.stdout)
    assert res.keys() >= KEYS
    assert res["rate"] == "max" and res["events"] == 300
    assert (res["users"], res["items"]) == (100, 200)
    assert res["received"] == 300 and res["missing"] == 0, res
    assert res["throughput_eps"] > 0 and res["baseline_eps"] > 0
    # the three figures are printed rounded (ratio to 4 places, rates to 0.1 events/s)
    assert res["ratio"] == pytest.approx(res["throughput_eps"] / res["baseline_eps"],
                                         rel=0.01, abs=1e-4)
    lat = res["latency_ms"]
    assert 0 < lat["p50"] <= lat["p95"] <= lat["p99"] <= lat["max"]
    assert res["rss_mb"] > 50  # a worker's peak RSS, read while it ran
    assert res["scorer"] is True
    left = subprocess.run(["pgrep", "-f", f"recstream (worker|scorer) -b {kafka_broker}"],
                          capture_output=True, text=True).stdout
    assert left == "", f"bench left processes behind: {left}"


def test_bench_rejects_a_bad_rate() -> None:
    out = subprocess.run([sys.executable, "-m", "recstream", "bench", "--rate", "fast"],
                         cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "--rate must be a number of events/s or 'max'" in out.stderr
    assert "Traceback" not in out.stderr
