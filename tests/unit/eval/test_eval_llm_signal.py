"""The LLM signal in the harness: hand-checkable with a fake encoder of fixed vectors, equal to
the rank agent's path (score_batch then blend), and cached on disk."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from recstream.core.candidates import generate
from recstream.core.rank import blend
from recstream.core.tfidf import Profile
from recstream.datasets import item_record
from recstream.datasets.model import Dataset
from recstream.eval import loo, variants
from recstream.eval.job import Job
from recstream.eval.llm import CachedEncoder, LLMSignal, history, item_embeddings
from recstream.eval.replay import Replay
from recstream.eval.signals import ItemSpace, UserSignals, full_scores, top_k, user_signals
from recstream.llm.scoring import ScoreRequest, score_batch
from recstream.settings import Settings

#: fixed unit vectors per item title
FIXED = {"A": [1.0, 0.0], "B": [0.6, 0.8], "C": [0.0, 1.0], "D": [-1.0, 0.0]}


class FixedEncoder:
    name, dim = "fixed", 2

    def __init__(self) -> None:
        self.texts = 0

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        self.texts += len(texts)
        return np.array([FIXED[t] for t in texts], dtype=np.float32)


def records() -> list[dict[str, object]]:
    return [{"item_id": i.lower(), "title": i} for i in FIXED]


def test_scores_by_hand() -> None:
    items = item_embeddings(records(), FixedEncoder())
    signal = LLMSignal(items, ["a", "b", "c", "d"], history_items=2)
    p = Profile(items={"c": 5.0, "a": 1.0})  # insertion order: c then a
    # user = normalise(5·C + 1·A) = (1, 5)/√26; cos with A, B, C, D
    u = np.array([1.0, 5.0]) / np.sqrt(26)
    want = [u @ FIXED["A"], u @ FIXED["B"], u @ FIXED["C"], 0.0]  # D: −0.196 clipped to 0
    got = signal.scores(p)
    assert got is not None
    assert [got[i] for i in "abcd"] == pytest.approx(want, abs=1e-6)
    # only the latest history_items count: with 1, the user is A alone
    one = LLMSignal(items, ["a", "b", "c", "d"], history_items=1).scores(p)
    assert one is not None and [one[i] for i in "abcd"] == pytest.approx([1, 0.6, 0, 0])
    assert history(p, 1) == [("a", 1.0)]
    assert signal.scores(Profile()) is None  # no history: the scorer returns nothing


def test_full_scores_blend_the_llm_signal_by_hand() -> None:
    space = ItemSpace(["a", "b", "c"])
    sig = UserSignals(cf={"weighted": {"a": 2.0, "b": 1.0}}, content={"c": 0.5},
                      llm={"a": 0.2, "b": 0.4, "c": 0.1})
    cfg = Settings().recommend.model_copy(update={"weight_cf": 1.0, "weight_content": 1.0,
                                                  "weight_trending": 0.0, "weight_llm": 0.5})
    mask = np.array([True, True, True])
    got = full_scores(space, sig, np.zeros(3), mask, cfg)
    # cf / 2, content / 0.5, llm / 0.4 · 0.5
    assert got == pytest.approx([1.0 + 0.25, 0.5 + 0.5, 1.0 + 0.125])
    off = cfg.model_copy(update={"weight_llm": 0.0})
    assert full_scores(space, sig, np.zeros(3), mask, off) == pytest.approx([1.0, 0.5, 1.0])


def test_top_k_equals_the_rank_agents_path(small_world: Dataset) -> None:
    """generate → scorer scores of the candidates (score_batch) → blend, as agents/rank.py
    does, against the harness's shared-signal top_k, for hybrid_llm and default."""
    s = Settings()
    base = s.recommend.model_copy(update={"per_source": 4, "top_n": 6})
    replay = Replay(small_world.items, "amazon2018", s.profile, base)
    for row in small_world.interactions[:-40]:
        replay.ingest(row)

    class WordEncoder:
        name, dim = "words", 3

        def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
            out = np.array([[t.count(w) + 0.1 for w in ("alpine", "jazz", "space")]
                            for t in texts], dtype=np.float32)
            return out / np.linalg.norm(out, axis=1, keepdims=True)

    items = item_embeddings([item_record(i) for i in small_world.items], WordEncoder())
    space = ItemSpace(replay.catalogue_ids)
    signal = LLMSignal(items, space.ids, s.scorer.history_items)
    trending = replay.trending(base.trending_half_life_s)
    for name in ("hybrid_llm", "default"):
        cfg = variants.catalogue(base)[name].settings(base)
        assert cfg.weight_llm > 0
        for user in sorted(replay.pipeline.profiles):
            profile = replay.profile(user)
            cands = generate(user, profile, replay.view, cfg).items
            hist = list(profile.items.items())[-s.scorer.history_items:]
            [llm] = score_batch([ScoreRequest("r", user, [c.item_id for c in cands], hist)],
                                items)
            for c in cands:
                c.llm = llm.get(c.item_id, 0.0)
            w = {"cf": cfg.weight_cf, "content": cfg.weight_content,
                 "trending": cfg.weight_trending, "llm": cfg.weight_llm,
                 "cooc": cfg.weight_cooc, "seq": cfg.weight_seq}
            want = [r["item_id"] for r in blend(cands, w, cfg.top_n, profile.items)]
            sig = user_signals(user, profile, replay.view, base)
            sig.llm = signal.scores(profile) or {}
            got = top_k(sig, trending, profile.items, replay.view.catalogue, cfg, cfg.top_n)
            assert got == want, (name, user)


def test_cached_encoder_encodes_each_text_once(tmp_path: Path) -> None:
    inner = FixedEncoder()
    loads: list[int] = []

    def load() -> FixedEncoder:
        loads.append(1)
        return inner

    first = CachedEncoder("fixed/v1", load, tmp_path)
    assert first.encode(["A", "B", "A"]) == pytest.approx(
        np.array([FIXED["A"], FIXED["B"], FIXED["A"]]))
    assert inner.texts == 2 and loads == [1]
    again = CachedEncoder("fixed/v1", load, tmp_path)  # a rerun: everything from disk
    assert again.encode(["B", "A"]) == pytest.approx(np.array([FIXED["B"], FIXED["A"]]))
    assert loads == [1] and again.hits == 2 and again.misses == 0
    other = CachedEncoder("fixed/v2", load, tmp_path)  # another model: its own file
    other.encode(["C"])
    assert loads == [1, 1] and sorted(p.name for p in tmp_path.iterdir()) == [
        "embeddings-fixed_v1.npz", "embeddings-fixed_v2.npz"]


def test_loo_measures_hybrid_llm(small_world: Dataset) -> None:
    s = Settings()
    runs, missing = variants.select(["hybrid", "hybrid_llm", "default"], s.recommend)
    assert not missing
    items = item_embeddings([item_record(i) for i in small_world.items], WordsByGenre())
    out = loo.run(Job(small_world, s.profile, s.recommend, runs, k=5, embeddings=items))
    assert set(out.results) == {"hybrid", "hybrid_llm", "default"}
    # the genre-aligned fake embedding carries taste: adding it must change the ranking
    assert out.results["hybrid_llm"] != out.results["hybrid"]
    kept, gone = variants.without_llm(runs, "--no-llm")
    assert set(kept) == {"hybrid", "default"} and gone == {"hybrid_llm": "--no-llm"}
    assert kept["default"].weight_llm == 0.0


class WordsByGenre:
    name, dim = "genre", 3

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        out = np.array([[t.count(w) + 0.01 for w in ("alpine", "jazz", "space")]
                        for t in texts], dtype=np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True)
