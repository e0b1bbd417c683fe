"""Item-embedding cache, user sides, scoring and micro-batching with a fake encoder."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import numpy as np
import pytest

from recstream.llm.batching import MicroBatcher, run_all
from recstream.llm.scoring import ItemEmbeddings, ScoreRequest, mean_user_vector, score_batch
from recstream.llm.texts import item_text, user_text


class FakeEncoder:
    """Deterministic 3-d 'embeddings': counts of the words space / love / toy, normalised."""

    name, dim = "fake", 3

    def __init__(self) -> None:
        self.calls: list[int] = []

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        self.calls.append(len(texts))
        out = np.array([[t.lower().count(w) + 1e-3 for w in ("space", "love", "toy")]
                        for t in texts], dtype=np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def catalogue() -> ItemEmbeddings:
    items = ItemEmbeddings(FakeEncoder())
    for i, title in enumerate(["Space war", "Space trek", "Love story", "Love actually",
                               "Toy story"]):
        items.upsert({"item_id": str(i), "title": title})
    return items


def test_texts() -> None:
    assert item_text({"item_id": "1", "title": "Dumbo", "tags": ["a", "b"],
                      "description": "x"}) == "Dumbo. a, b. x"
    assert user_text(["jazz"], ["Dumbo"]) == "jazz. Dumbo"
    assert user_text([], ["Dumbo"]) == "Dumbo"


def test_items_are_embedded_once_per_text_change() -> None:
    items = catalogue()
    assert items.flush() == 5 and items.encoder.calls == [5]
    assert not items.upsert({"item_id": "0", "title": "Space war"})  # unchanged: no work
    assert items.flush() == 0 and items.encoder.calls == [5]
    assert items.upsert({"item_id": "0", "title": "Love war"})
    assert items.flush() == 1


def test_mean_user_side_ranks_by_history() -> None:
    items = catalogue()
    items.flush()
    u = mean_user_vector([("0", 1.0), ("9", 5.0)], items)  # unknown item 9 ignored
    assert u is not None and np.isclose(np.linalg.norm(u), 1.0)
    [scores] = score_batch([ScoreRequest("r", "u", ["1", "2", "4", "9"], [("0", 1.0)])], items)
    assert scores["1"] > scores["2"] and scores["9"] == 0.0
    assert all(0.0 <= s <= 1.0 for s in scores.values())
    [empty] = score_batch([ScoreRequest("r", "u", ["1"], [])], items)
    assert empty == {}  # no known history: no LLM signal


def test_text_user_side_is_one_forward_pass_per_batch() -> None:
    items = catalogue()
    items.flush()
    reqs = [ScoreRequest(str(i), f"u{i}", ["1", "3"], [], ["love" if i % 2 else "space"])
            for i in range(10)]
    out = score_batch(reqs, items, "text")
    assert items.encoder.calls == [5, 10]  # catalogue, then all 10 user texts at once
    assert out[0]["1"] > out[0]["3"] and out[1]["3"] > out[1]["1"]
    with pytest.raises(ValueError):
        score_batch(reqs, items, "nope")


def test_microbatcher_bounds_batch_size_and_keeps_order() -> None:
    seen: list[int] = []

    def handler(xs: Sequence[int]) -> list[int]:
        seen.append(len(xs))
        return [x * 2 for x in xs]

    async def go() -> list[int]:
        b: MicroBatcher[int, int] = MicroBatcher(handler, max_batch=4, max_wait_ms=50)
        try:
            return await run_all(b, list(range(10)))
        finally:
            await b.close()

    assert asyncio.run(go()) == [x * 2 for x in range(10)]
    assert sum(seen) == 10 and max(seen) <= 4 and len(seen) < 10
