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


def test_bench_spreads_partitions_over_workers(kafka_broker: str) -> None:
    """``--workers 2``: two worker processes in one group, each given events partitions
    before the run starts (the bench waits for it), and together they answer every event."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECSTREAM_")}
    cmd = [sys.executable, "-m", "recstream", "bench", "-b", kafka_broker, "--events", "200",
           "--rate", "max", "--users", "50", "--items", "100", "--workers", "2",
           "--no-scorer", "--no-ceiling", "--json"]
    out = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                         timeout=280)
    assert out.returncode == 0, out.stderr[-3000:]
    res = json.loads(out.stdout)
    assert res["workers"] == 2 and len(res["worker_rss_mb"]) == len(res["worker_cpu_s"]) == 2
    assert all(r > 50 for r in res["worker_rss_mb"])
    assert res["rss_mb"] == pytest.approx(sum(res["worker_rss_mb"]), abs=0.2)
    assert res["received"] == 200 and res["missing"] == 0, res
    assert res["baseline_eps"] is None and res["ratio"] is None
    mem = res["memory"]  # sampled while the run went on, the two workers' RSS summed
    assert len(mem["timeline"]) >= 2 and mem["end_mb"] > 100
