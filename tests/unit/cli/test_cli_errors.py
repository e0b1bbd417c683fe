"""User mistakes: one clear line, a non-zero exit, no traceback (no broker needed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "recstream", *args], input=stdin,
                          capture_output=True, text=True, timeout=60,
                          env={"RECSTREAM_BOOTSTRAP": "127.0.0.1:1", "PATH": "/usr/bin:/bin"})


def assert_user_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode == 2, proc
    assert "Traceback" not in proc.stderr
    line = proc.stderr.strip()
    assert line.startswith("error: ") and "\n" not in line, line
    for needle in needles:
        assert needle in line, line


def test_produce_needs_exactly_one_source() -> None:
    assert_user_error(run("produce"), "--dataset", "--file")


def test_produce_missing_dataset_says_which_path(tmp_path: Path) -> None:
    assert_user_error(run("produce", "--dataset", str(tmp_path / "nope")), "nope")


def test_produce_file_rejects_bad_lines_with_line_numbers(tmp_path: Path) -> None:
    good = {"event_id": "e1", "user_id": "u1", "item_id": "i1", "ts": 1.7e9}
    lines = [json.dumps(good), "{not json", json.dumps({**good, "user_id": ""}),
             json.dumps({**good, "rating": 99})]
    f = tmp_path / "events.jsonl"
    f.write_text("\n".join(lines) + "\n")
    proc = run("produce", "--file", str(f))
    # nothing is sent: the file is rejected before any broker is contacted
    assert_user_error(proc, "3 invalid line(s)", "line 2", "line 3", "empty_id", "line 4",
                      "bad_rating", "nothing sent")


def test_produce_file_from_stdin_is_validated_too() -> None:
    assert_user_error(run("produce", "--file", "-", stdin="[1, 2]\n"), "not_an_object")


def test_produce_valid_file_without_broker_says_how_to_start_one(tmp_path: Path) -> None:
    f = tmp_path / "ok.jsonl"
    f.write_text(json.dumps({"event_id": "e", "user_id": "u", "item_id": "i", "ts": 1.7e9}))
    assert_user_error(run("produce", "--file", str(f)), "no Kafka broker", "recstream up")


@pytest.mark.parametrize("rate", ["0", "-5"])
def test_produce_rejects_non_positive_rate(tmp_path: Path, rate: str) -> None:
    assert_user_error(run("produce", "--file", "-", "--rate", rate), "--rate")


def test_invalid_setting_from_environment_is_one_line() -> None:
    proc = subprocess.run([sys.executable, "-m", "recstream", "consume"], capture_output=True,
                          text=True, timeout=60,
                          env={"RECSTREAM_TOPICS__PARTITIONS": "zero", "PATH": "/usr/bin"})
    assert_user_error(proc, "topics.partitions")


def test_recommend_without_a_worker_says_how_to_reach_one() -> None:
    assert_user_error(run("recommend", "196", "--url", "http://127.0.0.1:1"),
                      "no worker answers at http://127.0.0.1:1", "--bootstrap-server")
