"""Prequential: test before train, exactly the eligible events, and the bounds."""

from __future__ import annotations

from recstream.datasets.model import Dataset, Interaction, Item
from recstream.eval import prequential, variants
from recstream.eval.job import Job
from recstream.settings import Settings


def job(ds: Dataset, **kw: object) -> Job:
    s = Settings()
    runs, _ = variants.select(["cf", "default"], s.recommend)
    return Job(ds, s.profile, s.recommend, runs, k=5, **kw)  # type: ignore[arg-type]


def eligible(ds: Dataset) -> int:
    seen: set[str] = set()
    n = 0
    for x in ds.interactions:
        n += x.user_id in seen
        seen.add(x.user_id)
    return n


def test_every_event_of_a_returning_user_is_evaluated(small_world: Dataset) -> None:
    out = prequential.run(job(small_world))
    want = eligible(small_world)
    assert want == len(small_world.interactions) - 30
    for r in out.results.values():
        assert r["events"] == want
        assert 0 <= r["ndcg"] <= r["hr"] <= 1
        assert r["mrr"] <= r["hr"]


def test_sample_every_and_max_events_bound_the_run(small_world: Dataset) -> None:
    out = prequential.run(job(small_world, sample_every=3))
    n = eligible(small_world)
    assert out.results["cf"]["events"] == (n + 2) // 3
    first = Dataset("w", "amazon2018", small_world.items, small_world.interactions[:100])
    out = prequential.run(job(small_world, max_events=100))
    assert out.results["cf"]["events"] == eligible(first)
    assert any("bounded run" in n for n in out.notes)


def test_each_event_is_predicted_from_the_state_before_it() -> None:
    """Five users go p then q; user a does too, last. Predicted before ingestion, each
    second event's q is unseen and (from the second user on) the most popular unseen item:
    a hit at k=1. Had q been ingested first it would be seen and excluded: a miss. The
    first user's q has no popularity yet: the one miss (its list is the content matches, all
    at score 0 for popularity, ties by id: n, which nobody takes, comes first)."""
    items = [Item(i, f"thing {i}", "", ("stuff",)) for i in ("n", "p", "q", "r", "s")]
    rows = []
    for n, u in enumerate(("b", "c", "d", "e", "f", "a")):
        rows += [Interaction(u, "p", 100.0 * n, 5.0), Interaction(u, "q", 100.0 * n + 1, 5.0)]
    ds = Dataset("pq", "amazon2018", items, rows)
    s = Settings()
    runs, _ = variants.select(["popularity"], s.recommend)
    out = prequential.run(Job(ds, s.profile, s.recommend, runs, k=1))
    assert out.results["popularity"]["events"] == 6  # each user's second event only
    assert out.results["popularity"]["hr"] == 5 / 6


def test_judge_from_counts_only_the_tail(small_world: Dataset) -> None:
    cut = 150
    out = prequential.run(job(small_world, judge_from=cut, timeline=True))
    seen = {x.user_id for x in small_world.interactions[:cut]}
    tail = 0
    for x in small_world.interactions[cut:]:
        tail += x.user_id in seen
        seen.add(x.user_id)
    assert 0 < out.results["cf"]["events"] == tail
    assert any("judged from event 150" in n for n in out.notes)
    # every event is still ingested (and ranked for the learner): the tail's hits are the
    # full run's last ones, for the learned default too
    full = prequential.run(job(small_world, timeline=True))
    for name in ("cf", "default"):
        assert out.timelines[name] == full.timelines[name][-tail:]
