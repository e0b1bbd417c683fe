"""How ``recstream recommend`` prints a record (recstream/cli/recommend.py)."""

from __future__ import annotations

from recstream.cli.recommend import ago, render

RECORD = {"user_id": "42", "variant": "default", "trigger_event_id": "e-9",
          "published_ts": 1000.0, "degraded": False,
          "items": [{"item_id": "50", "title": "Star Wars (1977)", "score": 0.8234,
                     "reasons": ["3 similar users liked it", "also trending"],
                     "signals": {"cf": 4.1, "content": 0.0, "trending": 12.0}},
                    {"item_id": "7", "title": "", "score": 0.5,
                     "reasons": ["trending now"], "signals": {"trending": 9.0}}]}


def test_ago_reads_as_a_person_says_it() -> None:
    assert ago(0.0123) == "12 ms"
    assert ago(4.25) == "4.2 s"
    assert ago(185) == "3 min"
    assert ago(2 * 3600 + 5 * 60) == "2 h 5 min"
    assert ago(3 * 86400) == "3 days"
    assert ago(-1) == "0 ms"  # a worker clock slightly ahead


def test_render_shows_rank_title_score_first_reason_and_age() -> None:
    lines = render(RECORD, now=1002.5)
    assert lines == [
        "user 42: 2 recommendations, computed 2.5 s ago (variant default, trigger e-9)",
        " 1. Star Wars (1977)  (0.82)  3 similar users liked it",
        " 2. item 7  (0.50)  trending now",  # no title known: the id
    ]


def test_explain_adds_every_reason_and_the_signals() -> None:
    lines = render({**RECORD, "degraded": True}, now=1000.4, explain=True)
    assert "computed 400 ms ago" in lines[0] and "DEGRADED" in lines[0]
    assert lines[1] == " 1. Star Wars (1977)  (0.82)  3 similar users liked it; also trending"
    assert lines[2] == "    signals: cf 4.1  content 0  trending 12  (item 50)"
