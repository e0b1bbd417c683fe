"""``recstream eval`` end to end on the fixture datasets, through the real command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "datasets"
METRICS = {"mae", "rmse", "hr", "ndcg", "mrr", "precision", "recall", "f1", "coverage", "ild",
           "novelty"}
COUNTS = {"users", "events", "predictions", "folds", "support", "mae_unmapped",
          "rmse_unmapped"}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "recstream", "eval", *args],
                          capture_output=True, text=True, timeout=300,
                          env={"PATH": "/usr/bin:/bin"})


@pytest.mark.parametrize("protocol", ["split", "loo", "prequential"])
@pytest.mark.parametrize("dataset", ["ml100k_tiny", "mlcsv_tiny", "amazon_tiny"])
def test_json_document_shape(dataset: str, protocol: str) -> None:
    """--no-llm: the shape without loading the encoder (tested below with it)."""
    proc = run("--dataset", str(FIXTURES / dataset), "--protocol", protocol, "--k", "3",
               "--json", "--no-llm")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    ranking = protocol != "split"
    streaming = protocol == "prequential"  # only there can the learned blend learn
    assert list(doc) == ["dataset", "protocol", "k", "results", *(["cold_start"] * ranking),
                         *(["learned"] * streaming), "seconds"]
    assert (doc["dataset"], doc["protocol"], doc["k"]) == (dataset, protocol, 3)
    assert isinstance(doc["seconds"], float)
    assert list(doc["results"]) == ["popularity", "cf_seed", "cf", "content", "cooc", "seq",
                                    "hybrid", "hybrid_llm", "fixed", "no_cooc", "no_seq",
                                    "no_graph", "learned", "default"]
    assert set(doc["results"]["hybrid_llm"]) == {"unavailable"}
    skip = {"hybrid_llm"} | ({"learned"} if not streaming else set())
    if streaming:
        assert list(doc["learned"]) == ["learned", "default"]  # learn.enabled by default
        assert doc["learned"]["learned"]["version"] == doc["results"]["learned"]["events"]
    else:
        assert set(doc["results"]["learned"]) == {"unavailable"}
    want = {"mae", "rmse"} if protocol == "split" else \
        METRICS - {"mae", "rmse", "ild"}  # a one-item list has no ILD: absent, not 0
    for name, metrics in doc["results"].items():
        if name in skip:
            continue
        assert want <= set(metrics) <= METRICS | COUNTS, name
        assert all(isinstance(v, float) for v in metrics.values())
    if ranking:
        assert list(doc["cold_start"]) == [n for n in doc["results"] if n not in skip]
        for buckets in doc["cold_start"].values():
            assert set(buckets) == {"new_items", "new_users"}


def test_llm_variants_with_the_encoder() -> None:
    """The bundled MiniLM encodes the catalogue: hybrid_llm is measured, default uses it."""
    proc = run("--dataset", str(FIXTURES / "amazon_tiny"), "--protocol", "prequential",
               "--variants", "hybrid,hybrid_llm,default")
    assert proc.returncode == 0, proc.stderr
    assert "LLM signal: all-MiniLM-L6-v2" in proc.stdout
    assert "hybrid_llm unavailable" not in proc.stdout
    assert "new items HR@10" in proc.stdout  # the cold-start table
    proc = run("--dataset", str(FIXTURES / "amazon_tiny"), "--protocol", "loo", "--json",
               "--variants", "hybrid_llm,default")
    results = json.loads(proc.stdout)["results"]
    assert {"hr", "ndcg", "ild", "novelty"} <= set(results["hybrid_llm"])


def test_drift_report_and_its_chart(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="--plot needs the optional extra recstream[peers]")
    png = tmp_path / "bars.png"
    proc = run("--dataset", str(FIXTURES / "amazon_tiny"), "--protocol", "prequential",
               "--variants", "default", "--drift", "--no-llm", "--json", "--plot", str(png))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    rows = doc["drift"]["rows"]
    assert rows[0]["decay_half_life_s"] == 0 and rows[0]["session_events"] == 0
    assert rows[0]["hr"] == doc["results"]["default"]["hr"]  # the grid's "off" point
    assert (tmp_path / "bars-drift.png").read_bytes()[:4] == b"\x89PNG"
    proc = run("--dataset", str(FIXTURES / "amazon_tiny"), "--protocol", "loo", "--drift")
    assert proc.returncode == 2 and "--drift reports the prequential protocol only" in \
        proc.stderr


def test_peers_and_variant_selection() -> None:
    proc = run("--dataset", str(FIXTURES / "amazon_tiny"), "--protocol", "loo",
               "--variants", "cf,default", "--peers", "--json", "--no-llm")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    results = doc["results"]
    assert list(results) == ["cf", "default", "implicit_als", "implicit_bpr",
                             "implicit_itemknn", "cooc_knn"]
    assert set(doc["cold_start"]) <= set(results)
    assert "hr" in results["cooc_knn"]  # needs no extra library
    # each peer is either measured or says why not (the optional extra may be missing)
    for name in ("implicit_als", "implicit_bpr", "implicit_itemknn"):
        assert "hr" in results[name] or "not installed" in results[name]["unavailable"]


def test_human_table() -> None:
    proc = run("--dataset", str(FIXTURES / "mlcsv_tiny"), "--protocol", "loo", "--no-llm")
    assert proc.returncode == 0, proc.stderr
    assert "HR@10" in proc.stdout and "hybrid_llm unavailable: --no-llm" in proc.stdout
    assert "ILD" in proc.stdout and "novelty" in proc.stdout


def test_plot_writes_a_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="--plot needs the optional extra recstream[peers]")
    png = tmp_path / "bars.png"
    proc = run("--dataset", str(FIXTURES / "mlcsv_tiny"), "--protocol", "split", "--json",
               "--plot", str(png))
    assert proc.returncode == 0, proc.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(("args", "needle"), [
    (["--through-kafka", "-b", "127.0.0.1:1"], "no Kafka broker answers at 127.0.0.1:1"),
    (["--variants", "cf,bogus"], "unknown variant(s) bogus"),
    (["--sample-every", "0"], "--sample-every"),
])
def test_user_errors_are_one_line(args: list[str], needle: str) -> None:
    proc = run("--dataset", str(FIXTURES / "amazon_tiny"), "--protocol", "prequential",
               *args)
    assert proc.returncode == 2, proc
    assert "Traceback" not in proc.stderr
    assert needle in proc.stderr


def test_missing_dataset_is_a_user_error(tmp_path: Path) -> None:
    proc = run("--dataset", str(tmp_path / "nope"), "--protocol", "loo")
    assert proc.returncode == 2 and "nope" in proc.stderr and "Traceback" not in proc.stderr
