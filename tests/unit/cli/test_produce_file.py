"""``recstream produce --file``: every line is validated as a worker would before anything
is sent (the broker side, nothing sent, is in tests/integration/test_bad_input.py)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from recstream.cli import UserError
from recstream.cli.produce import Kind, read_jsonl
from recstream.core.events import Limits

GOOD = {"event_id": "e1", "user_id": "u1", "item_id": "i1", "ts": 1.7e9}


def write(tmp_path: Path, *lines: bytes) -> str:
    f = tmp_path / "events.jsonl"
    f.write_bytes(b"\n".join(lines) + b"\n")
    return str(f)


def line(**changes: object) -> bytes:
    return json.dumps({**GOOD, **changes}).encode()


def test_good_lines_are_kept_with_their_kind(tmp_path: Path) -> None:
    path = write(tmp_path, line(), b"", line(event_id="e2", rating=4))
    assert read_jsonl(path, None) == [("clicks", GOOD),
                                      ("ratings", {**GOOD, "event_id": "e2", "rating": 4})]
    assert [k for k, _ in read_jsonl(path, Kind.purchases)] == ["purchases", "purchases"]


@pytest.mark.parametrize(("bad", "reason"), [
    (b"{not json", "malformed_json"),
    (b'{"event_id": "\xff"}', "invalid_utf8"),
    (b"[1]", "not_an_object"),
    (line(user_id=None), "missing_field"),
    (line(ts="yesterday"), "wrong_type"),
    (line(item_id=" "), "empty_id"),
    (line(user_id="u\u0007"), "control_chars"),
    (line(rating=-1), "bad_rating"),
    (line(rating=1e300), "bad_rating"),
    (line(ts=time.time() + 10 * 86400), "ts_in_future"),
    (line(ts=12), "ts_out_of_range"),
    (line(pad="x" * 70_000), "oversized"),
])
def test_one_bad_line_rejects_the_file_saying_which_and_why(tmp_path: Path, bad: bytes,
                                                            reason: str) -> None:
    path = write(tmp_path, line(), bad, line(event_id="e3"))
    with pytest.raises(UserError) as err:
        read_jsonl(path, None)
    msg = str(err.value)
    assert msg.startswith("1 invalid line(s)") and "nothing sent" in msg, msg
    assert f"line 2: {reason}" in msg, msg
    assert "\n" not in msg


def test_the_worker_limits_apply(tmp_path: Path) -> None:
    path = write(tmp_path, line(extra=1), line(pad="x" * 500))
    assert len(read_jsonl(path, None)) == 2  # default: extra fields ignored, 64 KiB limit
    strict = Limits(time.time(), allow_extra_fields=False, max_bytes=300)
    with pytest.raises(UserError) as err:
        read_jsonl(path, None, strict)
    assert "line 1: unknown_field: extra" in str(err.value)
    assert "line 2: oversized" in str(err.value)


def test_many_bad_lines_are_counted_and_the_first_five_shown(tmp_path: Path) -> None:
    path = write(tmp_path, *[b"{" for _ in range(8)])
    with pytest.raises(UserError) as err:
        read_jsonl(path, None)
    msg = str(err.value)
    assert msg.startswith("8 invalid line(s)") and "line 5:" in msg and "line 6:" not in msg
    assert "3 more" in msg


def test_cli_honours_the_strict_field_setting(tmp_path: Path) -> None:
    path = write(tmp_path, line(extra=1))
    proc = subprocess.run([sys.executable, "-m", "recstream", "produce", "--file", path],
                          capture_output=True, text=True, timeout=60,
                          env={"RECSTREAM_BOOTSTRAP": "127.0.0.1:1", "PATH": "/usr/bin:/bin",
                               "RECSTREAM_WORKER__REJECT_UNKNOWN_FIELDS": "true"})
    assert proc.returncode == 2, proc
    assert "line 1: unknown_field: extra" in proc.stderr and "Traceback" not in proc.stderr
