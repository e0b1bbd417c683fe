"""Item-embedding records, the workers' replica index, and local scores equal to the scorer's."""

from __future__ import annotations

import struct
from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recstream.llm.embeddings import EmbeddingIndex, decode, encode, mean_scores
from recstream.llm.scoring import ItemEmbeddings, ScoreRequest, score_batch


class RandomEncoder:
    """Unit vectors drawn from a seed per text: 384-d like MiniLM, so the dot products have
    the scorer's real float32 rounding."""

    name, dim = "rand-384", 384

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        out = np.stack([np.random.default_rng(abs(hash(t)) % 2**32).standard_normal(self.dim)
                        for t in texts]).astype(np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


N_ITEMS = 40


def scorer_cache() -> ItemEmbeddings:
    items = ItemEmbeddings(RandomEncoder())
    for i in range(N_ITEMS):
        items.upsert({"item_id": str(i), "title": f"item {i}", "tags": [f"t{i % 5}"]})
    items.flush()
    return items


def replicate(items: ItemEmbeddings, model: str = "rand-384", ts: float = 1.0
              ) -> EmbeddingIndex:
    """What a worker holds after reading everything the scorer published."""
    index = EmbeddingIndex(capacity=4)  # small: the test grows it several times
    for item_id, vec, digest in items.take_fresh():
        index.apply(item_id, encode(vec, model, ts, bytes.fromhex(digest)))
    return index


def test_record_round_trip_keeps_the_exact_float32_vector() -> None:
    v = RandomEncoder().encode(["x"])[0]
    rec = decode(encode(v, "all-MiniLM-L6-v2", 123.5, b"\x01" * 8))
    assert rec.model == "all-MiniLM-L6-v2" and rec.ts == 123.5 and rec.digest == b"\x01" * 8
    assert rec.vector.dtype == np.float32 and np.array_equal(rec.vector, v)
    assert len(encode(v, "m", 0.0)) == 4 + 8 + 4 + 8 + 2 + 1 + 4 * 384


@pytest.mark.parametrize("value", [b"", b"RSE1", b"XXXX" + b"\0" * 40,
                                   encode(np.ones(4, np.float32), "m", 0.0)[:-1]])
def test_malformed_records_are_refused_and_skipped(value: bytes) -> None:
    with pytest.raises((ValueError, struct.error)):
        decode(value)
    index = EmbeddingIndex()
    index.apply("1", value)
    assert "1" not in index and index.ignored == 1


def test_index_updates_removes_and_reuses_rows() -> None:
    index = EmbeddingIndex(capacity=2)
    vecs = {str(i): np.full(3, i, np.float32) for i in range(5)}
    for i, v in vecs.items():
        index.apply(i, encode(v, "m", float(i)))
    assert len(index) == 5 and index.matrix.shape[0] >= 5
    for i, v in vecs.items():
        assert np.array_equal(index.vector(i), v)
    index.apply("2", None)  # tombstone
    assert "2" not in index and index.rows(["1", "2"]) is None
    index.apply("9", encode(np.full(3, 9, np.float32), "m", 9.0))
    assert index.matrix.shape[0] == 8  # the freed row was reused, no growth beyond 8
    index.apply("1", encode(np.full(3, 7, np.float32), "m", 10.0))  # changed text
    assert np.array_equal(index.vector("1"), np.full(3, 7, np.float32))
    assert np.array_equal(index.vector("9"), np.full(3, 9, np.float32))
    assert index.rows(["0", "1", "9"]) is not None


def test_never_mixes_models_whatever_the_read_order() -> None:
    old = encode(np.ones(3, np.float32), "old", 1.0)
    new = encode(np.ones(4, np.float32), "new", 2.0)
    a = EmbeddingIndex()
    a.apply("1", old)
    a.apply("2", old)
    a.apply("3", new)  # the scorer switched models: the old vectors go
    assert a.model == "new" and a.dim == 4 and len(a) == 1 and "1" not in a
    b = EmbeddingIndex()  # another partition read first: the leftover is ignored
    b.apply("3", new)
    b.apply("1", old)
    assert b.model == "new" and len(b) == 1 and b.ignored == 1
    assert mean_scores(b, [("1", 1.0)], ["3"]) is None  # item 1 has no new-model vector


def test_local_mean_scores_equal_the_scorers() -> None:
    items = scorer_cache()
    index = replicate(items)
    assert len(index) == N_ITEMS
    rng = np.random.default_rng(7)
    requests = []
    for r in range(50):
        ids = [str(i) for i in rng.permutation(N_ITEMS)]
        history = [(i, float(rng.choice([0.5, 1.0, 2.5, 3.0, -1.0]))) for i in ids[:12]]
        requests.append(ScoreRequest(f"r{r}", "u", ids[12:], history))
    want = score_batch(requests, items, "mean")
    for req, expected in zip(requests, want, strict=True):
        got = mean_scores(index, req.history, req.items)
        assert got is not None and set(got) == set(expected)
        assert any(v > 0 for v in got.values())
        for item_id, score in expected.items():
            assert got[item_id] == pytest.approx(score, abs=2e-6)


@settings(max_examples=60, deadline=None)
@given(history=st.lists(st.tuples(st.integers(0, N_ITEMS - 1),
                                  st.floats(-2, 5, allow_nan=False)), max_size=8),
       cands=st.lists(st.integers(0, N_ITEMS - 1), min_size=1, max_size=10))
def test_local_scores_match_the_scorer_for_any_history(history: list[tuple[int, float]],
                                                        cands: list[int]) -> None:
    items = scorer_cache()
    index = replicate(items)
    hist = [(str(i), w) for i, w in history]
    ids = [str(i) for i in cands]
    [expected] = score_batch([ScoreRequest("r", "u", ids, hist)], items, "mean")
    got = mean_scores(index, hist, ids)
    assert got is not None and set(got) == set(expected)
    assert all(got[i] == pytest.approx(expected[i], abs=2e-6) for i in expected)


def test_a_missing_vector_means_ask_the_scorer_never_a_guess() -> None:
    items = scorer_cache()
    index = replicate(items)
    index.apply("5", None)
    assert mean_scores(index, [("5", 1.0), ("6", 1.0)], ["7"]) is None  # history item
    assert mean_scores(index, [("6", 1.0)], ["7", "5"]) is None  # candidate
    assert mean_scores(index, [("5", -1.0), ("6", 1.0)], ["7"]) is not None  # weight ≤ 0
    assert mean_scores(index, [("6", -1.0)], ["7"]) == {}  # the scorer's empty answer
    assert mean_scores(EmbeddingIndex(), [("6", 1.0)], ["7"]) is None


def test_scorer_cache_hands_out_each_fresh_vector_once() -> None:
    items = scorer_cache()
    assert len(items.take_fresh()) == N_ITEMS and items.take_fresh() == []
    assert not items.upsert({"item_id": "3", "title": "item 3", "tags": ["t3"]})  # same text
    items.upsert({"item_id": "4", "title": "renamed"})
    items.upsert({"item_id": "5", "title": "gone"})
    items.flush()
    items.remove("5")
    assert [i for i, _, _ in items.take_fresh()] == ["4"]


def test_a_restarted_scorer_reuses_what_it_published_for_unchanged_texts() -> None:
    first = scorer_cache()
    published = {i: decode(encode(v, "rand-384", 1.0, bytes.fromhex(d)))
                 for i, v, d in first.take_fresh()}
    again = ItemEmbeddings(RandomEncoder())
    for item_id, rec in published.items():
        again.preload(item_id, rec.digest.hex(), rec.vector)
    for i in range(N_ITEMS - 1):  # the last item left the catalogue while it was down
        title = "changed" if i == 0 else f"item {i}"
        again.upsert({"item_id": str(i), "title": title, "tags": [f"t{i % 5}"]})
    assert again.pending == 1 and again.flush() == 1  # only the changed text is embedded
    assert [i for i, _, _ in again.take_fresh()] == ["0"]
    assert again.unclaimed() == [str(N_ITEMS - 1)]
    assert np.array_equal(again.get("5"), first.get("5"))
    [want] = score_batch([ScoreRequest("r", "u", ["3", "4"], [("5", 1.0)])], first, "mean")
    [got] = score_batch([ScoreRequest("r", "u", ["3", "4"], [("5", 1.0)])], again, "mean")
    assert got == want


@pytest.mark.parametrize(("cfg", "local"), [({}, True), ({"user_side": "text"}, False),
                                            ({"mode": "pairwise"}, False),
                                            ({"local_mean": False}, False)])
def test_workers_score_locally_only_for_the_bi_mean_side(cfg: dict, local: bool) -> None:
    from recstream.settings import ScorerSettings
    from streams.scoring import ScoreClient

    client = ScoreClient(ScorerSettings(enabled=True, **cfg), "127.0.0.1:1", None, "replies")
    assert client.local is local
    assert (client.replicate_embeddings("emb") is not None) is local
    assert client.local_scores(["1"], [("2", 1.0)]) is None  # nothing replicated yet
    items = scorer_cache()
    for item_id, vec, digest in items.take_fresh():
        client.embeddings.apply(item_id, encode(vec, "rand-384", 1.0, bytes.fromhex(digest)))
    got = client.local_scores(["1", "3"], [("2", 1.0)])
    assert (got == mean_scores(client.embeddings, [("2", 1.0)], ["1", "3"])) if local \
        else got is None
