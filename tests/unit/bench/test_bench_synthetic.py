"""The synthetic bench workload: shape, skew and determinism."""

from __future__ import annotations

from collections import Counter

import numpy as np
import orjson
import pytest

from recstream.bench.synthetic import (
    GENRES,
    make_items,
    make_workload,
    send_offsets,
    zipf_cdf,
    zipf_sample,
)
from recstream.core.events import Limits, parse


def test_zipf_cdf_is_a_cdf_with_rank_one_most_likely() -> None:
    cdf = zipf_cdf(4, 1.0)
    # weights 1, 1/2, 1/3, 1/4 over their sum 25/12
    assert cdf == pytest.approx([12 / 25, 18 / 25, 22 / 25, 1.0])


def test_zipf_sample_follows_the_law() -> None:
    rng = np.random.default_rng(0)
    ranks = zipf_sample(zipf_cdf(100, 1.0), 200_000, rng)
    counts = Counter(ranks.tolist())
    assert ranks.min() >= 0 and ranks.max() <= 99
    assert counts[0] / counts[1] == pytest.approx(2.0, rel=0.05)  # p ∝ 1/rank
    assert counts[0] / counts[9] == pytest.approx(10.0, rel=0.15)


def test_items_have_titles_descriptions_and_their_genre_tag() -> None:
    items = make_items(40, seed=3)
    assert [it["item_id"] for it in items] == [f"i{i}" for i in range(40)]
    for i, it in enumerate(items):
        assert it["tags"][0] == GENRES[i % len(GENRES)]
        assert len(it["tags"]) == len(set(it["tags"]))
        assert 2 <= len(it["title"].split()) <= 4
        assert it["tags"][0] in it["description"]


def test_workload_events_pass_validation_and_reference_known_items() -> None:
    w = make_workload(2000, n_users=300, n_items=200, seed=1)
    ids = {it["item_id"] for it in w.items}
    assert len(w.events) == 2000
    assert len({e["event_id"] for _, e in w.events}) == 2000
    limits = Limits(now=2e9)
    for kind, ev in w.events:
        assert ev["item_id"] in ids
        parsed = parse(orjson.dumps({**ev, "ts": 1.7e9}), kind, limits)
        assert parsed["user_id"] == ev["user_id"]
        assert ("rating" in ev) == (kind == "ratings")
    kinds = Counter(k for k, _ in w.events)
    assert kinds["clicks"] > kinds["ratings"] > kinds["purchases"] > 0


def test_user_activity_and_item_popularity_are_skewed() -> None:
    w = make_workload(20_000, n_users=5000, n_items=1000, seed=2)
    users = Counter(e["user_id"] for _, e in w.events)
    items = Counter(e["item_id"] for _, e in w.events)
    top_user_share = sum(c for _, c in users.most_common(50)) / 20_000
    top_item_share = sum(c for _, c in items.most_common(10)) / 20_000
    assert top_user_share > 0.2  # 1 % of users make > 20 % of events
    assert top_item_share > 0.1
    assert w.users_seen == len(users) < 5000


def test_users_mostly_stay_in_their_favourite_genre() -> None:
    w = make_workload(20_000, n_users=50, n_items=320, seed=4)
    genre = {it["item_id"]: it["tags"][0] for it in w.items}
    per_user: dict[str, Counter[str]] = {}
    for _, e in w.events:
        per_user.setdefault(e["user_id"], Counter())[genre[e["item_id"]]] += 1
    heavy = [c for c in per_user.values() if sum(c.values()) >= 200]
    assert heavy
    for c in heavy:
        assert c.most_common(1)[0][1] / sum(c.values()) > 0.6


def test_same_seed_same_workload_other_seed_differs() -> None:
    a, b = make_workload(500, 100, 50, seed=7), make_workload(500, 100, 50, seed=7)
    assert a == b
    assert make_workload(500, 100, 50, seed=8).events != a.events


def test_send_offsets_pace_the_rate() -> None:
    assert send_offsets(4, 2.0).tolist() == [0.0, 0.5, 1.0, 1.5]
    assert send_offsets(3, None).tolist() == [0.0, 0.0, 0.0]
    with pytest.raises(ValueError):
        send_offsets(3, 0.0)
    with pytest.raises(ValueError):
        make_workload(10, 0, 10)
