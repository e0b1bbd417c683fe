"""Zero-shot categories for untagged items (recstream/core/classify.py, catalogue.py) and cold
start of a brand-new item from its text alone (MemoryPipeline)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from recstream.core.catalogue import Catalogue
from recstream.core.classify import ZeroShotClassifier
from recstream.core.process import MemoryPipeline
from recstream.settings import ProfileSettings, RecommendSettings

TS = 1_700_000_000.0
#: the fake encoder's world: each axis is a category, these words point along it
AXES = {"jazz": ("jazz", "saxophone", "trumpet", "bebop"),
        "horror": ("horror", "zombie", "haunted", "scream"),
        "cooking": ("cooking", "recipes", "kitchen", "bake")}


def fake_encode(texts: Sequence[str]) -> np.ndarray:
    out = []
    for t in texts:
        words = t.lower().split()
        v = np.array([sum(w in ws for w in words) for ws in AXES.values()] + [0.1])
        out.append(v / np.linalg.norm(v))
    return np.array(out)


def test_classifier_picks_the_nearest_label_names() -> None:
    clf = ZeroShotClassifier(fake_encode, top=1)
    labels = ["cooking", "horror", "jazz"]
    assert clf("a haunted house and a zombie", labels) == ["horror"]
    assert clf("bebop saxophone session", labels) == ["jazz"]
    assert ZeroShotClassifier(fake_encode, top=2)("zombie recipes kitchen", labels) == [
        "cooking", "horror"]
    assert clf("anything", []) == []


def test_label_embeddings_are_cached() -> None:
    calls: list[int] = []

    def counting(texts: Sequence[str]) -> np.ndarray:
        calls.append(len(texts))
        return fake_encode(texts)

    clf = ZeroShotClassifier(counting)
    clf("zombie", ["horror", "jazz"])
    clf("trumpet", ["horror", "jazz"])
    clf("bake", ["horror", "jazz", "cooking"])
    assert calls == [1, 2, 1, 1, 1]  # text, both labels; text; text, only the new label


def test_catalogue_tags_untagged_items_only_with_a_classifier() -> None:
    cat = Catalogue(classifier=ZeroShotClassifier(fake_encode))
    cat.upsert({"item_id": "1", "title": "Kind of Blue", "tags": ["jazz"]})
    cat.upsert({"item_id": "2", "title": "Night of the Living Dead", "tags": ["horror"]})
    new = cat.upsert({"item_id": "3", "title": "Blue Train",
                      "description": "a hard bop saxophone and trumpet record"})
    assert new.tags == ("jazz",) and "jazz" in new.terms and cat.inferred == {"3": ("jazz",)}
    assert set(cat.categories) == {"jazz", "horror"}  # inferred tags are not categories
    given = cat.upsert({"item_id": "3", "title": "Blue Train", "tags": ["bebop"]})
    assert given.tags == ("bebop",) and cat.inferred == {}
    cat.remove("1")
    assert set(cat.categories) == {"horror", "bebop"}
    plain = Catalogue()  # the setting is off: no classifier, tags stay empty
    plain.upsert({"item_id": "1", "title": "Kind of Blue", "tags": ["jazz"]})
    assert plain.upsert({"item_id": "3", "title": "saxophone"}).tags == ()


def pipeline(classifier: ZeroShotClassifier | None) -> MemoryPipeline:
    p = MemoryPipeline(ProfileSettings(), RecommendSettings(theta=0.0))
    p.view.catalogue.classifier = classifier
    p.add_items([
        {"item_id": "k", "title": "Kind of Blue", "tags": ["jazz"]},
        {"item_id": "s", "title": "A Love Supreme", "tags": ["jazz"]},
        {"item_id": "n", "title": "Night of the Living Dead", "tags": ["horror"]},
        {"item_id": "c", "title": "The Joy of Baking", "tags": ["cooking"]},
    ])
    for n, (user, item) in enumerate([("fan", "k"), ("fan", "s"), ("ghoul", "n"),
                                      ("chef", "c")]):
        p.ingest({"event_id": f"e{n}", "user_id": user, "item_id": item, "ts": TS + n,
                  "kind": "clicks"})
    return p


def test_a_brand_new_item_with_text_only_is_recommended_to_the_matching_user() -> None:
    p = pipeline(None)
    p.add_items([{"item_id": "new", "title": "Giant Steps",
                  "description": "Kind hearted jazz: a love letter"}])  # shares fan's terms
    recs = p.recommend("fan")
    assert recs and recs[0]["item_id"] == "new"  # nobody has interacted with it yet
    assert any("matches your interest" in r for r in recs[0]["reasons"])
    assert "new" not in [r["item_id"] for r in p.recommend("chef")]


def test_inferred_category_makes_an_untagged_item_match_by_content() -> None:
    record = {"item_id": "new", "title": "Coltrane Train",
              "description": "hard bop saxophone trumpet"}  # no word shared with fan's items
    without = pipeline(None)
    without.add_items([record])
    plain = {r["item_id"]: r for r in without.recommend("fan")}
    assert plain.get("new", {}).get("signals", {}).get("content", 0.0) == 0.0  # no match
    with_clf = pipeline(ZeroShotClassifier(fake_encode))
    with_clf.add_items([record])
    assert with_clf.view.catalogue.inferred == {"new": ("jazz",)}
    recs = with_clf.recommend("fan")
    assert recs[0]["item_id"] == "new" and recs[0]["signals"]["content"] > 0
    assert any("jazz" in r for r in recs[0]["reasons"])  # matched through the inferred tag
    assert "new" not in [r["item_id"] for r in with_clf.recommend("ghoul")]
