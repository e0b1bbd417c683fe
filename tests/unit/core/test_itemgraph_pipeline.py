"""The item graph inside the pipeline: index entries, candidates, blend and reasons."""

from __future__ import annotations

import random

import pytest

from recstream.core import itemgraph
from recstream.core.itemgraph import GRAPH_PREFIX, GraphConfig
from recstream.core.process import MemoryPipeline
from recstream.settings import ProfileSettings, RecommendSettings

ITEMS = [{"item_id": i, "title": t} for i, t in (
    ("A", "hiking boots"), ("B", "hiking poles"), ("C", "camping tent"),
    ("D", "gas cooker"), ("E", "chess board"))]


def pipeline(**rec: object) -> MemoryPipeline:
    cfg = RecommendSettings(**{"weight_cf": 0.0, "weight_content": 0.0, "weight_trending": 0.0,
                               "weight_llm": 0.0, **rec})
    pipe = MemoryPipeline(ProfileSettings(decay_half_life_s=0.0), cfg)
    pipe.add_items(ITEMS)
    return pipe


def ingest(pipe: MemoryPipeline, events: list[tuple[str, str, float]]) -> None:
    for n, (u, i, ts) in enumerate(events):
        pipe.ingest({"event_id": str(n), "user_id": u, "item_id": i, "ts": ts,
                     "kind": "clicks"})


def test_pipeline_graph_entries_equal_a_replay_of_the_same_events():
    rng = random.Random(4)
    events = [(f"u{rng.randrange(6)}", rng.choice("ABCDE"), float(t)) for t in range(120)]
    pipe = pipeline(graph_window=4, graph_decay=0.7, seq_window=2, seq_decay=0.5)
    ingest(pipe, events)
    ingest(pipe, events[:10])  # re-delivered events (same ids) change nothing
    want = itemgraph.replay(events, GraphConfig(4, 0.7, 2, 0.5, 100))
    got = {k: v for k, v in pipe.view.entries.items() if k.startswith(GRAPH_PREFIX)}
    assert got.keys() == want.keys()
    for k, e in want.items():
        assert got[k]["n"] == e["n"]
        assert got[k]["co"] == pytest.approx(e["co"]) and got[k]["nx"] == pytest.approx(e["nx"])


def test_sequence_and_cooccurrence_drive_the_list_and_name_the_source():
    # three users go A -> B -> C; u9 has just taken A: B is next in sequence after A, and C
    # co-occurs with A too (weaker: further back in the others' windows)
    pipe = pipeline(weight_cooc=1.0, weight_seq=1.0, graph_decay=0.5)
    ingest(pipe, [(u, i, float(t)) for u in ("u1", "u2", "u3")
                  for t, i in enumerate("ABC")] + [("u9", "A", 10.0)])
    recs = pipe.recommend("u9")
    assert [r["item_id"] for r in recs[:2]] == ["B", "C"]
    b = recs[0]
    assert b["signals"]["seq"] > 0 and b["signals"]["cooc"] > 0
    assert b["reasons"][0] == "next in sequence after hiking boots"
    assert "because you chose hiking boots" in b["reasons"][1]
    assert "A" not in [r["item_id"] for r in recs]  # seen


def test_a_signal_with_no_weight_gives_no_reason():
    pipe = pipeline(weight_cooc=0.0, weight_seq=0.0, weight_trending=1.0)
    ingest(pipe, [("u1", "A", 0.0), ("u1", "B", 1.0), ("u9", "A", 2.0)])
    recs = pipe.recommend("u9")
    assert recs and all("sequence" not in r for x in recs for r in x["reasons"])
