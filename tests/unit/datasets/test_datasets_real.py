"""Smoke tests on the real datasets in ``../shared/datasets`` (skipped where absent).

The data is read in place and never copied into the repository.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from recstream.datasets import detect_format, interaction_event, load_dataset, ml100k_folds

SHARED = Path(__file__).resolve().parents[3] / ".." / "shared" / "datasets"
ML100K = SHARED / "ml-100k"
AMAZON = SHARED / "amazon2018-magazine-subscriptions-5core"

needs_ml100k = pytest.mark.skipif(not ML100K.is_dir(), reason=f"{ML100K} not present")
needs_amazon = pytest.mark.skipif(not AMAZON.is_dir(), reason=f"{AMAZON} not present")


@needs_ml100k
def test_ml100k_real() -> None:
    ds = load_dataset(ML100K)
    assert detect_format(ML100K) == ds.format == "ml100k"
    assert len(ds.interactions) == 100_000
    assert len(ds.items) == 1682
    assert len({i.user_id for i in ds.interactions}) == 943
    first = ds.interactions[0]
    assert (first.user_id, first.item_id, first.rating) == ("259", "255", 4.0)
    assert first.ts == 874724710.0
    assert ds.interactions[-1].ts == 893286638.0
    assert {i.item_id for i in ds.interactions} <= {it.item_id for it in ds.items}
    assert next(it for it in ds.items if it.item_id == "543").title == "Misérables, Les (1995)"
    events = {interaction_event(i, "ratings", "ml-100k")["event_id"] for i in ds.interactions}
    assert len(events) == 100_000  # one rating per (user, item) in ML-100K


@needs_ml100k
def test_ml100k_real_folds_and_limit() -> None:
    folds = ml100k_folds(ML100K)
    assert [(len(b), len(t)) for b, t in folds] == [(80_000, 20_000)] * 5
    ds = load_dataset(ML100K, limit=1000)
    assert len(ds.interactions) == 1000
    assert {it.item_id for it in ds.items} == {i.item_id for i in ds.interactions}


@needs_amazon
def test_amazon_magazine_real() -> None:
    reviews = AMAZON / "Magazine_Subscriptions_5.json.gz"
    with gzip.open(reviews, "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    with gzip.open(AMAZON / "meta_Magazine_Subscriptions.json.gz", "rt", encoding="utf-8") as fh:
        meta = [json.loads(line) for line in fh]
    meta_asins = {m["asin"] for m in meta}
    reviewed = {r["asin"] for r in rows}

    ds = load_dataset(AMAZON)
    assert ds.format == "amazon2018"
    assert len(ds.interactions) == len(rows) == 2375
    assert len(ds.items) == len(reviewed) == 157
    item_ids = {it.item_id for it in ds.items}
    assert {i.item_id for i in ds.interactions} <= item_ids == reviewed
    assert len(reviewed - meta_asins) == 6  # reviewed items without metadata keep title ""
    assert all("<" not in it.title and "&amp;" not in it.title for it in ds.items)
    # The README counts 146 non-empty descriptions; one of them is a list of empty strings.
    with_text = {m["asin"] for m in meta if any(d.strip() for d in m.get("description") or [])}
    assert sum(1 for it in ds.items if it.description) == len(with_text & reviewed) == 145
    assert ds.interactions[0].ts == min(r["unixReviewTime"] for r in rows)
    assert all(i.review for i in ds.interactions)
    assert load_dataset(reviews).interactions == ds.interactions
