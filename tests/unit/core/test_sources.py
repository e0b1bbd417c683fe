"""Reused neighbour searches (recstream.core.candidates.SourceCache) and the per-event pick
from them (assemble), on the hand-made world in conftest.py."""

from __future__ import annotations

from recstream.core.candidates import SourceCache, generate
from recstream.core.tfidf import Profile
from recstream.settings import RecommendSettings

TS = 1_700_000_000.0  # conftest.py's event time


class Counted:
    """A search that counts its calls and returns the call number."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self) -> int:
        self.calls += 1
        return self.calls


def profile(events: int, terms: int) -> Profile:
    return Profile(counts={f"t{n}": 1.0 for n in range(terms)}, length=float(terms),
                   events=events)


def test_a_search_is_reused_until_refresh_events_more_events() -> None:
    cache: SourceCache[int] = SourceCache(RecommendSettings(refresh_events=4))
    search = Counted()
    got = [cache.get("u", profile(n, 100), search, now=0.0) for n in range(1, 10)]
    # searched at events 1, 5 and 9; the events in between reuse the last search
    assert got == [1, 1, 1, 1, 2, 2, 2, 2, 3]
    assert (cache.lookups, cache.searches) == (9, 3)


def test_a_profile_that_grew_or_a_search_that_aged_is_searched_again() -> None:
    cache: SourceCache[int] = SourceCache(RecommendSettings(refresh_events=100,
                                                            refresh_growth=0.25,
                                                            refresh_s=60))
    search = Counted()
    assert cache.get("u", profile(1, 8), search, now=0.0) == 1
    assert cache.get("u", profile(2, 10), search, now=1.0) == 1  # 10 ≤ 8 · 1.25
    assert cache.get("u", profile(3, 11), search, now=2.0) == 2  # 11 > 10
    assert cache.get("u", profile(4, 11), search, now=61.0) == 2  # 59 s after the search
    assert cache.get("u", profile(5, 11), search, now=62.0) == 3  # 60 s after it
    # an erased user who starts again has fewer events than at the search
    assert cache.get("u", profile(1, 11), search, now=63.0) == 4


def test_at_most_source_cache_users_are_kept_least_recent_first_out() -> None:
    cache: SourceCache[int] = SourceCache(RecommendSettings(source_cache_users=2))
    search = Counted()
    for user in ("a", "b", "a", "c"):  # c pushes out b, the least recently used
        cache.get(user, profile(1, 5), search, now=0.0)
    assert search.calls == 3
    cache.get("a", profile(1, 5), search, now=0.0)
    assert search.calls == 3  # a was kept
    cache.get("b", profile(1, 5), search, now=0.0)
    assert search.calls == 4  # b was not
    cache.forget("a")
    cache.get("a", profile(1, 5), search, now=0.0)
    assert search.calls == 5


def test_a_fresh_search_gives_the_candidates_of_no_cache(world) -> None:
    pipe = world()
    cache = SourceCache(pipe.rec_cfg)
    for user, prof in pipe.profiles.items():
        want = generate(user, prof, pipe.view, pipe.rec_cfg)
        assert generate(user, prof, pipe.view, pipe.rec_cfg, sources=cache) == want, user


def test_a_reused_search_never_offers_what_the_user_has_seen_since(world) -> None:
    pipe = world(refresh_events=100, refresh_growth=10.0)
    cache = SourceCache(pipe.rec_cfg)
    before = generate("u1", pipe.profiles["u1"], pipe.view, pipe.rec_cfg, sources=cache)
    assert {c.item_id: c.content > 0 for c in before.items}["B"]  # content: "hiking"
    pipe.ingest({"event_id": "e-new", "user_id": "u1", "item_id": "B", "ts": TS,
                 "kind": "clicks"})
    after = generate("u1", pipe.profiles["u1"], pipe.view, pipe.rec_cfg, sources=cache)
    assert cache.searches == 1  # the second call reused the first search
    assert "B" not in {c.item_id for c in after.items}
    assert not {c.item_id for c in after.items} & pipe.profiles["u1"].items.keys()
