"""``recstream consume``'s one-line form of a record (recstream/cli/consume.py)."""

from __future__ import annotations

from recstream.cli.consume import describe


def test_describe_shows_titles_and_falls_back_to_ids() -> None:
    record = {"user_id": "42", "trigger_event_id": "e-1", "degraded": False, "items": [
        {"item_id": "50", "title": "Star Wars (1977)", "score": 0.8, "reasons": ["a", "b"]},
        {"item_id": "7", "score": 0.5, "reasons": ["trending now"]}]}
    assert describe(record) == ("user 42 ← e-1: Star Wars (1977) (0.80: a), "
                                "7 (0.50: trending now)")
    assert describe({**record, "degraded": True}).startswith("user 42 ← e-1 DEGRADED: ")
