"""The item catalogue and its term -> items index (recstream/core/catalogue.py)."""

from __future__ import annotations

import pytest

from recstream.core.catalogue import Catalogue, item_from_record


def test_item_from_record_counts_title_description_and_tags() -> None:
    item = item_from_record({"item_id": 7, "title": "Red Wine",
                             "description": "A red wine from France",
                             "tags": ["wine", "French"]})
    # title: red wine; description: red wine france ("a", "from" are stopwords);
    # tags: wine, french  ->  red 2, wine 3, france 1, french 1; length 7
    assert item.item_id == "7"  # ids are strings
    assert item.title == "Red Wine"
    assert item.tags == ("wine", "French")
    assert item.terms == {"red": 2.0, "wine": 3.0, "france": 1.0, "french": 1.0}
    assert item.length == 7.0
    assert item.tfs() == pytest.approx({"red": 2 / 7, "wine": 3 / 7, "france": 1 / 7,
                                        "french": 1 / 7})


def test_description_given_as_a_list_is_joined() -> None:
    item = item_from_record({"item_id": "x", "title": "Riesling",
                             "description": ["Dry white", "crisp finish"]})
    # riesling 1, dry 1, white 1, crisp 1, finish 1
    assert item.terms == {"riesling": 1, "dry": 1, "white": 1, "crisp": 1, "finish": 1}
    assert item.length == 5.0


def test_record_without_text_has_no_terms() -> None:
    item = item_from_record({"item_id": "x", "title": None, "description": None,
                             "tags": None})
    assert item.terms == {}
    assert item.length == 0.0
    assert item.tfs() == {}
    assert item.title == ""


def test_upsert_indexes_terms() -> None:
    cat = Catalogue()
    cat.upsert({"item_id": "1", "title": "red wine"})
    cat.upsert({"item_id": "2", "title": "white wine"})
    assert len(cat) == 2
    assert "1" in cat and "3" not in cat
    assert cat.by_term == {"red": {"1"}, "white": {"2"}, "wine": {"1", "2"}}
    assert cat.get("2").terms == {"white": 1, "wine": 1}
    assert cat.get("3") is None


def test_upsert_replaces_an_items_terms_in_the_index() -> None:
    cat = Catalogue()
    cat.upsert({"item_id": "1", "title": "red wine"})
    cat.upsert({"item_id": "2", "title": "white wine"})
    cat.upsert({"item_id": "1", "title": "green tea"})
    assert len(cat) == 2
    # "red" had only item 1: gone; "wine" keeps item 2 only
    assert cat.by_term == {"white": {"2"}, "wine": {"2"}, "green": {"1"}, "tea": {"1"}}
    assert cat.get("1").title == "green tea"


def test_remove_cleans_empty_terms_and_keeps_shared_ones() -> None:
    cat = Catalogue()
    cat.upsert({"item_id": "1", "title": "red wine"})
    cat.upsert({"item_id": "2", "title": "white wine"})
    cat.remove("1")
    assert "1" not in cat
    assert cat.by_term == {"white": {"2"}, "wine": {"2"}}
    cat.remove("1")  # unknown: no-op
    cat.remove("2")
    assert cat.by_term == {}
    assert len(cat) == 0


def test_items_with_terms_is_the_union() -> None:
    cat = Catalogue()
    cat.upsert({"item_id": "1", "title": "red wine"})
    cat.upsert({"item_id": "2", "title": "white wine"})
    cat.upsert({"item_id": "3", "title": "green tea"})
    assert cat.items_with_terms(["red", "tea"]) == {"1", "3"}
    assert cat.items_with_terms(["wine"]) == {"1", "2"}
    assert cat.items_with_terms(["coffee"]) == set()
    assert cat.items_with_terms([]) == set()
