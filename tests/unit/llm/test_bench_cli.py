"""``recstream bench scorer`` on a tiny slice (real model, no broker): the JSON, and its
figures against what the command's run time and an independent timing allow."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from recstream.datasets import item_record, load_dataset
from recstream.llm.bench import _requests, bench_scorer
from recstream.llm.model import Encoder
from recstream.llm.scoring import ItemEmbeddings, score_batch

ML100K = Path("/work/shared/datasets/ml-100k")


@pytest.mark.timeout(180)
def test_bench_scorer_json_contract() -> None:
    t0 = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "recstream", "bench", "scorer", "--json", "--dataset",
         str(ML100K), "--items", "40", "--requests", "20", "--candidates", "10",
         "--rate", "100"], capture_output=True, text=True, timeout=170)
    wall_s = time.monotonic() - t0
    assert proc.returncode == 0, proc.stderr[-2000:]
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    assert {"batched_cps", "per_request_cps", "unbatched_cps", "ratio", "per_candidate_ratio",
            "request_ms", "latency_ms", "device", "model"} <= set(res)
    assert res["model"] == "all-MiniLM-L6-v2" and res["device"] in ("cpu", "cuda")
    n = 20 * 10
    # every phase scored every candidate of every request, none dropped
    assert res["scored"] == {"batched": n, "per_request": n, "per_candidate": n}
    # the three phases ran inside the command: the time their rates imply fits in its run
    assert sum(n / res[k] for k in ("batched_cps", "per_request_cps", "unbatched_cps")
               ) < wall_s
    # one request per candidate makes ten handler calls (thread hops) where one would do
    assert res["per_request_cps"] > res["unbatched_cps"] > 0
    assert res["batched_cps"] > 0
    # a request through the service costs at least the work itself
    ms = res["request_ms"]
    assert 0 < ms["direct"] <= 1.5 * ms["per_request"]
    assert 0 < res["latency_ms"]["p50"] <= res["latency_ms"]["p99"]


@pytest.mark.timeout(180)
def test_batched_rate_is_bounded_by_scoring_everything_at_once() -> None:
    """The bench's batched figure, against this test's own timing of the same amount of work
    in one ``score_batch`` call (the cheapest it can be done, best of three): a bench that
    overstated its rates (a timer that stops early, candidates counted twice) exceeds it."""
    items = ItemEmbeddings(Encoder(device="cpu"))
    for it in load_dataset(ML100K).items[:60]:
        items.upsert(item_record(it))
    res = bench_scorer(items, "mean", requests=100, candidates=20, rate=200.0)
    reqs = _requests(sorted(items.ids()), 100, 20, 20, random.Random(1))
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        score_batch(reqs, items, "mean")
        best = min(best, time.perf_counter() - t0)
    ceiling_cps = 100 * 20 / best
    assert res["batched_cps"] <= 3 * ceiling_cps, (res, ceiling_cps)
    assert res["per_request_cps"] <= 3 * ceiling_cps, (res, ceiling_cps)
    assert res["request_ms"]["direct"] >= best / 100 * 1000 / 3


def test_scorer_bad_model_is_one_line(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "recstream", "scorer", "--model",
                           str(tmp_path), "-b", "127.0.0.1:1"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "no Hugging Face model at" in proc.stderr
