"""Event and catalogue records built from dataset rows match the stream contract."""

from __future__ import annotations

import json

import pytest

from recstream.datasets import Interaction, Item, interaction_event, item_record


def test_ratings_event_with_review() -> None:
    inter = Interaction("7", "42", 881250949.0, 4.0, "Great\nLoved it")
    event = interaction_event(inter, "ratings", "ml-100k")
    assert event == {
        "event_id": "ml-100k:7:42:881250949:ratings",
        "user_id": "7",
        "item_id": "42",
        "ts": 881250949.0,
        "rating": 4.0,
        "review": "Great\nLoved it",
    }
    assert json.loads(json.dumps(event)) == event


def test_ratings_event_without_review_has_no_review_key() -> None:
    event = interaction_event(Interaction("7", "42", 10.0, 3.0), "ratings", "s")
    assert "review" not in event and event["rating"] == 3.0


@pytest.mark.parametrize("kind", ["clicks", "purchases"])
def test_click_and_purchase_events_carry_no_rating(kind: str) -> None:
    event = interaction_event(Interaction("7", "42", 10.0, 3.0, "text"), kind, "s")
    assert set(event) == {"event_id", "user_id", "item_id", "ts"}
    assert event["event_id"] == f"s:7:42:10:{kind}"


def test_event_id_is_deterministic_and_keeps_fractional_seconds() -> None:
    inter = Interaction("u", "i", 12.5)
    first = interaction_event(inter, "clicks", "src")
    assert first == interaction_event(inter, "clicks", "src")
    assert first["event_id"] == "src:u:i:12.5:clicks"
    assert isinstance(first["ts"], float)


def test_bad_kind_and_missing_rating() -> None:
    with pytest.raises(ValueError, match="unknown event kind 'views'"):
        interaction_event(Interaction("u", "i", 1.0, 1.0), "views", "s")
    with pytest.raises(ValueError, match="has no rating"):
        interaction_event(Interaction("u", "i", 1.0), "ratings", "s")


def test_item_record() -> None:
    record = item_record(Item("B002", "Cats & Dogs", "Weekly.", ("Pets", "Cats")))
    assert record == {
        "item_id": "B002",
        "title": "Cats & Dogs",
        "description": "Weekly.",
        "tags": ["Pets", "Cats"],
    }
    assert json.loads(json.dumps(record)) == record
