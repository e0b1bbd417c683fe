"""Titles and source-naming reasons (recstream/core/explain.py)."""

from __future__ import annotations

from recstream.core.candidates import Candidate, generate
from recstream.core.catalogue import Catalogue
from recstream.core.explain import (
    TITLE_MAX_CHARS,
    describe,
    latest_items,
    short_title,
    source_item,
)
from recstream.core.process import MemoryPipeline
from recstream.core.rank import blend
from recstream.settings import ProfileSettings, RecommendSettings


def catalogue(*records: dict) -> Catalogue:
    cat = Catalogue()
    for r in records:
        cat.upsert(r)
    return cat


def test_short_title_folds_whitespace_and_cuts_long_titles() -> None:
    assert short_title("Star  Wars\n(1977)") == "Star Wars (1977)"
    long = "word " * 100
    cut = short_title(long)
    assert len(cut) == TITLE_MAX_CHARS and cut.endswith("…")
    assert short_title("abcdef", limit=4) == "abc…"


def test_source_item_is_the_latest_holding_the_most_terms() -> None:
    cat = catalogue({"item_id": "x", "title": "Alien", "tags": ["scifi", "horror"]},
                    {"item_id": "y", "title": "Solaris", "tags": ["scifi"]},
                    {"item_id": "z", "title": "Dumbo", "tags": ["animation"]})
    latest = latest_items({"x": 4.0, "z": 3.0, "y": 5.0}, cat)  # seen x, z, then y
    assert [i for i, _ in latest] == ["y", "z", "x"]
    assert source_item(["horror", "scifi"], latest) == "x"  # both terms
    assert source_item(["scifi"], latest) == "y"  # a tie: the latest
    assert source_item(["jazz"], latest) is None
    # items gone from the catalogue are skipped; only the n latest count
    assert [i for i, _ in latest_items({"x": 1.0, "gone": 1.0}, cat)] == ["x"]
    assert [i for i, _ in latest_items({"x": 1.0, "z": 1.0, "y": 1.0}, cat, n=2)] == ["y", "z"]


def test_describe_adds_titles_and_names_the_users_item_behind_a_content_match() -> None:
    cat = catalogue({"item_id": "a", "title": "Alien (1979)", "tags": ["scifi", "horror"]},
                    {"item_id": "b", "title": "Aliens (1986)", "tags": ["scifi", "horror"]},
                    {"item_id": "c", "title": "Dumbo (1941)", "tags": ["animation"]})
    cands = [Candidate("b", content=0.9, terms=["horror", "scifi"]),
             Candidate("c", trending=3.0)]
    items = blend(cands, {"content": 0.35, "trending": 0.15}, 10, seen={"a": 4.0})
    out = describe(items, cands, {"a": 4.0}, cat)
    assert [(i["item_id"], i["title"]) for i in out] == [("b", "Aliens (1986)"),
                                                         ("c", "Dumbo (1941)")]
    assert list(out[0])[:2] == ["item_id", "title"]
    assert out[0]["reasons"] == ["matches your interest in horror, scifi, as in Alien (1979)"]
    assert out[1]["reasons"] == ["trending now"]  # nothing of the user's to name


def test_an_item_gone_from_the_catalogue_keeps_an_empty_title() -> None:
    items = [{"item_id": "gone", "score": 1.0, "reasons": ["trending now"], "signals": {}}]
    assert describe(items, [], {}, Catalogue())[0]["title"] == ""


def test_the_first_users_list_reads_as_a_person_would() -> None:
    # one user, two events: the smoothed idf keeps a content match (recstream/core/tfidf.py)
    p = MemoryPipeline(ProfileSettings(), RecommendSettings(top_n=2))
    p.add_items([{"item_id": "1", "title": "Toy Story (1995)", "tags": ["animation", "comedy"]},
                 {"item_id": "2", "title": "Heat (1995)", "tags": ["action", "crime"]},
                 {"item_id": "3", "title": "Aladdin (1992)", "tags": ["animation", "musical"]},
                 {"item_id": "4", "title": "Casino (1995)", "tags": ["crime", "drama"]}])
    for n, item in enumerate(["1", "2"]):
        p.ingest({"event_id": f"e{n}", "user_id": "u", "item_id": item, "ts": 1e9 + n,
                  "kind": "clicks"})
    profile = p.profiles["u"]
    cands = generate("u", profile, p.view, p.rec_cfg)
    items = describe(p.recommend("u"), cands.items, profile.items, p.view.catalogue)
    got = {i["title"]: i["reasons"] for i in items}
    assert got.keys() == {"Aladdin (1992)", "Casino (1995)"}
    assert got["Aladdin (1992)"] == ["matches your interest in animation, as in Toy Story (1995)"]
    # "1995" is a title term of both clicked items, so it weighs most; Heat holds it and crime
    assert got["Casino (1995)"] == ["matches your interest in 1995, crime, as in Heat (1995)"]
