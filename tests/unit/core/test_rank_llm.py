"""The LLM signal in the blend (recstream/core/rank.py)."""

from __future__ import annotations

import pytest

from recstream.core.candidates import Candidate
from recstream.core.rank import blend

W = {"cf": 0.5, "content": 0.3, "trending": 0.2, "llm": 0.5}


def test_llm_signal_is_blended_and_explained() -> None:
    cands = [Candidate("X", cf=2.0, llm=0.2), Candidate("Y", cf=1.0, llm=0.8)]
    out = blend(cands, W, 10)
    # X: 0.5·2/2 + 0.5·0.2/0.8 = 0.625; Y: 0.5·1/2 + 0.5·0.8/0.8 = 0.75
    assert [r["item_id"] for r in out] == ["Y", "X"]
    assert [r["score"] for r in out] == pytest.approx([0.75, 0.625])
    assert out[0]["signals"]["llm"] == 0.8
    assert "language model" in out[0]["reasons"][0]
    assert not any("language model" in r for r in out[1]["reasons"])


def test_without_llm_scores_the_signal_is_absent() -> None:
    out = blend([Candidate("X", cf=1.0)], W, 10)
    assert "llm" not in out[0]["signals"] and out[0]["score"] == pytest.approx(0.5)
