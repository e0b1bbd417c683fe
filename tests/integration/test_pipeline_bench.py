"""``recstream bench --json`` against the session broker: the issue's keys, every event
answered by a recommendation, the figures checked against the recommendations topic the
bench left behind (read here, committed records only), a worker killed mid-run showing up
as missing events and open percentiles, and no process left behind."""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import TopicReader

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
    assert res["latency_not_reached"] == []
    firsts = _first_records(kafka_broker, res)
    assert len(firsts) == 300  # distinct events answered, as the topic holds them
    _check_against_topic(res, firsts)
    # the bare loop does no work per record: it must outrun the pipeline by far
    assert res["baseline_eps"] > 5 * res["throughput_eps"] > 0
    assert res["rss_mb"] > 50  # a worker's peak RSS, read while it ran
    assert res["scorer"] is True
    left = subprocess.run(["pgrep", "-f", f"recstream (worker|scorer) -b {kafka_broker}"],
                          capture_output=True, text=True).stdout
    assert left == "", f"bench left processes behind: {left}"


def _first_records(bootstrap: str, res: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The first committed recommendation per trigger event on the topic the run used."""
    r = TopicReader(bootstrap, f"{res['topic_prefix']}recommendations")
    try:
        r.drain(quiet_s=3.0)
    finally:
        r.close()
    out: dict[str, dict[str, Any]] = {}
    for rec in sorted(r.records, key=lambda x: x.value["published_ts"]):
        out.setdefault(rec.value["trigger_event_id"], rec.value)
    return out


def _check_against_topic(res: dict[str, Any], firsts: dict[str, dict[str, Any]]) -> None:
    """Figures a broken bench would get wrong, from the records themselves: each event's
    first record was published before the bench could read it, and the event's ``ts`` is
    its send, so the bench's span is at least first send → last publish, and every
    latency at least publish − send (max rate, where latency starts at the send)."""
    assert res["received"] == len(firsts)
    assert res["degraded"] == sum(1 for v in firsts.values() if v["degraded"])
    span = max(v["published_ts"] for v in firsts.values()) - min(
        v["event_ts"] for v in firsts.values())
    assert 0 < res["throughput_eps"] <= len(firsts) / span + 0.1  # printed to 0.1
    pub = sorted((v["published_ts"] - v["event_ts"]) * 1000 for v in firsts.values())
    lat = res["latency_ms"]
    assert 0 < lat["p50"] <= lat["p95"] <= lat["p99"] <= lat["max"]
    assert lat["max"] >= pub[-1] - 0.01
    if res["missing"] == 0:
        assert lat["p50"] >= statistics.median(pub) - 0.01


def _bench_children(pid: int, what: str) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid), "-f", f"recstream {what}"],
                         capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def test_a_worker_killed_mid_run_shows_as_missing(kafka_broker: str, tmp_path: Path) -> None:
    """SIGKILL the bench's worker once its first records are out: the bench must end on its
    own, count the unanswered events as missing, and report the percentiles they fall on
    as not reached, with the last events censored at the idle wait (≥ 5 s)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECSTREAM_")}
    cmd = [sys.executable, "-m", "recstream", "bench", "-b", kafka_broker, "--events", "400",
           "--rate", "40", "--users", "50", "--items", "100", "--no-scorer", "--no-ceiling",
           "--idle-s", "5", "--max-wait-s", "30", "--json"]
    errf = (tmp_path / "bench.err").open("w+")
    bench = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                             stderr=errf, text=True)
    try:
        deadline = time.monotonic() + 240
        while not (workers := _bench_children(bench.pid, "worker")):
            assert bench.poll() is None and time.monotonic() < deadline, "no worker started"
            time.sleep(0.5)
        environ = Path(f"/proc/{workers[0]}/environ").read_bytes().split(b"\0")
        prefix = next(e.split(b"=", 1)[1].decode() for e in environ
                      if e.startswith(b"RECSTREAM_TOPICS__PREFIX="))
        r = TopicReader(kafka_broker, f"{prefix}recommendations")
        try:
            r.wait_for(lambda recs: len(recs) >= 20, timeout_s=240, what="20 records")
        finally:
            r.close()
        os.killpg(workers[0], signal.SIGKILL)  # the worker leads its own session
        stdout, _ = bench.communicate(timeout=120)
    finally:
        if bench.poll() is None:
            bench.kill()
            bench.wait()
    errf.seek(0)
    assert bench.returncode == 0, errf.read()[-3000:]
    res = json.loads(stdout)
    assert res["events"] == 400
    assert 20 <= res["received"] < 400 and res["missing"] == 400 - res["received"] > 0
    assert res["missing_share"] == pytest.approx(res["missing"] / 400, abs=1e-4)
    assert "max" in res["latency_not_reached"]
    if res["missing"] > 4:  # more than 1 %: p99 falls on an unanswered event
        assert "p99" in res["latency_not_reached"]
    assert res["latency_ms"]["max"] >= 5000  # the last send waited the idle 5 s at least
    _check_against_topic(res, _first_records(kafka_broker, res))


def test_sigterm_stops_what_the_bench_started(tmp_path: Path) -> None:
    """``timeout 600 recstream bench`` cut short: the bench's own broker and its worker are
    stopped, not left running (they were, until SIGTERM unwound like Ctrl-C)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECSTREAM_")}
    cmd = [sys.executable, "-m", "recstream", "bench", "--events", "100000", "--rate", "50",
           "--users", "50", "--items", "100", "--no-scorer", "--no-ceiling", "--json"]
    errf = (tmp_path / "bench.err").open("w+")
    bench = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL,
                             stderr=errf)
    try:
        deadline = time.monotonic() + 240
        while not _bench_children(bench.pid, "worker"):
            assert bench.poll() is None and time.monotonic() < deadline, "no worker started"
            time.sleep(0.5)
        started = subprocess.run(["pgrep", "-P", str(bench.pid)], capture_output=True,
                                 text=True).stdout.split()
        assert len(started) >= 2  # the broker (java) and the worker
        bench.send_signal(signal.SIGTERM)
        bench.wait(90)
    finally:
        if bench.poll() is None:
            bench.kill()
            bench.wait()
    errf.seek(0)
    assert bench.returncode == 128 + signal.SIGTERM, errf.read()[-2000:]
    left = [p for p in started if Path(f"/proc/{p}").exists()
            and "zombie" not in Path(f"/proc/{p}/status").read_text().lower()]
    assert not left, f"left running after SIGTERM: {left}"


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
