"""``recstream bench scorer --json`` on a tiny slice (real model, no broker)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ML100K = Path("/work/shared/datasets/ml-100k")


@pytest.mark.timeout(180)
def test_bench_scorer_json_contract() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "recstream", "bench", "scorer", "--json", "--dataset",
         str(ML100K), "--items", "40", "--requests", "20", "--candidates", "10",
         "--rate", "100"], capture_output=True, text=True, timeout=170)
    assert proc.returncode == 0, proc.stderr[-2000:]
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    assert {"batched_cps", "unbatched_cps", "ratio", "latency_ms", "device", "model"} <= set(res)
    assert res["model"] == "all-MiniLM-L6-v2" and res["device"] in ("cpu", "cuda")
    assert res["batched_cps"] > res["unbatched_cps"] > 0
    assert res["ratio"] == pytest.approx(res["batched_cps"] / res["unbatched_cps"], rel=0.01)
    assert 0 < res["latency_ms"]["p50"] <= res["latency_ms"]["p99"]


def test_scorer_bad_model_is_one_line(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "recstream", "scorer", "--model",
                           str(tmp_path), "-b", "127.0.0.1:1"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "no Hugging Face model at" in proc.stderr
