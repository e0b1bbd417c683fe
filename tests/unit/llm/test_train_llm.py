"""``recstream train-llm`` on a small MovieLens 100K slice: a loadable model, honest recall."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from recstream.datasets import Dataset, load_dataset
from recstream.llm.model import Encoder
from recstream.llm.train import (
    Example,
    TrainConfig,
    evaluate,
    recall_at_k,
    temporal_split,
    train_llm,
)

ML100K = Path("/work/shared/datasets/ml-100k")


@pytest.fixture(scope="module")
def small() -> Dataset:
    """12 users, their last 6 interactions each, and only the items those touch."""
    ds = load_dataset(ML100K)
    users = sorted({x.user_id for x in ds.interactions}, key=int)[:12]
    keep = []
    for u in users:
        keep += [x for x in ds.interactions if x.user_id == u][-6:]
    keep.sort(key=lambda x: (x.ts, x.user_id, x.item_id))
    touched = {x.item_id for x in keep}
    return Dataset("ml-slice", ds.format, [it for it in ds.items if it.item_id in touched], keep)


def test_the_split_holds_out_each_users_last_item_and_never_trains_on_it(small: Dataset
                                                                          ) -> None:
    split = temporal_split(small, TrainConfig(pairs_per_user=3))
    last = {}
    for x in small.interactions:
        last[x.user_id] = x  # time order: the last one wins
    assert len(split.test) == 12
    for ex in split.test:
        assert ex.target == last[ex.user_id].item_id
        assert len(ex.history) == 5 and ex.target not in {i for i, _ in ex.history}
    assert len(split.train) == 12 * 2  # min_history 3: positions 3 and 4
    for ex in split.train:
        held = last[ex.user_id].item_id
        assert ex.target != held and held not in {i for i, _ in ex.history}
        assert len(ex.history) < 5  # a strict prefix of the pre-test history
    assert len(temporal_split(small, TrainConfig(limit_users=7)).test) == 7


def test_recall_at_k_hand_worked() -> None:
    ids = ["a", "b", "c", "d"]
    vecs = np.eye(4, dtype=np.float32)
    q = np.array([[0.9, 0.8, 0.1, 0.0], [0.9, 0.8, 0.1, 0.0]], dtype=np.float32)
    exs = [Example("u", "", [], "b"),  # b is 2nd of 4: a hit at k=2, a miss at k=1
           Example("v", "", [("a", 1.0)], "b")]  # a excluded as seen: b is 1st
    assert recall_at_k(ids, vecs, q, exs, k=1) == 0.5
    assert recall_at_k(ids, vecs, q, exs, k=2) == 1.0


@pytest.mark.timeout(300)  # ~25 s on an idle 2-core CPU; others share it
def test_training_saves_a_model_the_scorer_loads_and_reports_held_out_recall(
        small: Dataset, tmp_path: Path) -> None:
    cfg = TrainConfig(batch_size=8, pairs_per_user=1, lr=1e-4, max_length=64, device="cpu")
    test = temporal_split(small, cfg).test
    base = Encoder(device="cpu", max_length=64)
    want_before = evaluate(base, small, test)
    seen: list[tuple[str, int, int]] = []
    res = train_llm(small, tmp_path / "ft", cfg,
                    progress=lambda ph, d, t, info: seen.append((ph, d, t)))
    assert res.steps == 2 and res.train_pairs == 12 and res.eval_users == 12  # ceil(12/8)
    assert [s for s in seen if s[0] == "train"][-1] == ("train", 2, 2)
    assert len(res.losses) == 2 and all(np.isfinite(res.losses))
    # the saved directory is a Hugging Face model the scorer's encoder loads
    assert (tmp_path / "ft" / "config.json").is_file()
    enc = Encoder(tmp_path / "ft", device="cpu", max_length=64)
    assert enc.name == "ft" and enc.dim == 384
    v = enc.encode(["Star Wars (1977). Action, Sci-Fi"])
    assert v.shape == (1, 384) and np.isclose(np.linalg.norm(v), 1.0, atol=1e-5)
    assert not np.allclose(v, base.encode(["Star Wars (1977). Action, Sci-Fi"]), atol=1e-4)
    # before/after are the held-out recall of the base / saved model on the same split
    assert res.before == want_before
    assert res.after == evaluate(enc, small, test)
    for r in (res.before, res.after):
        assert 0.0 <= r["recall@10"] <= 1.0 and 0.0 <= r["recall@10_mean"] <= 1.0


@pytest.mark.timeout(120)
def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "recstream", "train-llm", "--dataset",
                           str(tmp_path / "missing")], capture_output=True, text=True,
                          timeout=110)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().startswith("error:") and len(proc.stderr.strip().splitlines()) == 1
    # a dataset without enough history per user
    proc = subprocess.run([sys.executable, "-m", "recstream", "train-llm", "--json",
                           "--dataset", "tests/fixtures/datasets/ml100k_tiny", "--out",
                           str(tmp_path / "m")], capture_output=True, text=True, timeout=110)
    assert proc.returncode == 2 and "no user with" in proc.stderr, proc.stderr[-1000:]
    assert proc.stdout.strip() == ""


def write_ml_slice(out: Path, users: int, per_user: int) -> None:
    """An ML-100K folder of the first ``users`` users' last ``per_user`` ratings."""
    out.mkdir()
    rows = [line.split(b"\t") for line in (ML100K / "u.data").read_bytes().splitlines()]
    by_user: dict[bytes, list[list[bytes]]] = {}
    for r in sorted(rows, key=lambda r: int(r[3])):
        by_user.setdefault(r[0], []).append(r)
    keep = [r for u in sorted(by_user, key=int)[:users] for r in by_user[u][-per_user:]]
    (out / "u.data").write_bytes(b"\n".join(b"\t".join(r) for r in keep) + b"\n")
    touched = {r[1] for r in keep}
    items = [x for x in (ML100K / "u.item").read_bytes().splitlines()
             if x.split(b"|")[0] in touched]
    (out / "u.item").write_bytes(b"\n".join(items) + b"\n")
    (out / "u.genre").write_bytes((ML100K / "u.genre").read_bytes())


@pytest.mark.timeout(300)
def test_cli_trains_shows_progress_and_prints_json(tmp_path: Path) -> None:
    write_ml_slice(tmp_path / "ml", users=8, per_user=6)
    proc = subprocess.run([sys.executable, "-m", "recstream", "train-llm", "--json",
                           "--dataset", str(tmp_path / "ml"), "--out", str(tmp_path / "m"),
                           "--pairs-per-user", "1", "--batch-size", "4", "--device", "cpu"],
                          capture_output=True, text=True, timeout=290)
    assert proc.returncode == 0, proc.stderr[-2000:]
    res = json.loads(proc.stdout)
    assert res["steps"] == 2 and res["train_pairs"] == 8 and res["eval_users"] == 8
    assert set(res["before"]) == set(res["after"]) == {"recall@10", "recall@10_mean"}
    assert res["device"] == "cpu" and Path(res["out"]) == tmp_path / "m"
    assert (tmp_path / "m" / "model.safetensors").is_file()
    assert (tmp_path / "m" / "tokenizer.json").is_file()
