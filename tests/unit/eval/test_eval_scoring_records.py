"""Prequential scoring of published records (recstream/eval/through_kafka.py), by hand."""

from __future__ import annotations

import pytest

from recstream.eval.through_kafka import score_records


def rec(*items: str, variant: str = "default") -> dict:
    return {"variant": variant, "items": [{"item_id": i} for i in items]}


def test_each_event_is_judged_by_the_record_of_the_users_previous_event() -> None:
    stream = [("e1", "u", "a"), ("e2", "u", "b"), ("e3", "u", "c"), ("f1", "v", "x"),
              ("f2", "v", "y")]
    records = {"e1": rec("b", "z"),  # before e2: b at rank 1 -> hit, ndcg 1, mrr 1
               "e2": rec("z", "c"),  # before e3: c at rank 2 -> hit, ndcg 1/log2(3), mrr 1/2
               # e3 has no successor; f1's record is missing (dead-lettered): f2 not judged
               "e3": rec("q")}
    out = score_records(stream, records, catalogue_size=10, k=2)
    assert set(out) == {"default"}
    r = out["default"]
    assert r["events"] == 2
    assert r["hr"] == pytest.approx(1.0)
    assert r["mrr"] == pytest.approx((1 + 0.5) / 2)
    assert r["ndcg"] == pytest.approx((1 + 1 / 1.5849625007211562) / 2)
    assert r["coverage"] == pytest.approx(3 / 10)  # b, z, c shown


def test_variants_are_scored_apart_and_k_cuts_the_list() -> None:
    stream = [("a1", "u", "i"), ("a2", "u", "j"), ("b1", "w", "i"), ("b2", "w", "k")]
    records = {"a1": rec("x", "j", variant="A"), "b1": rec("k", variant="B")}
    out = score_records(stream, records, catalogue_size=5, k=1)
    assert out["A"]["hr"] == 0.0 and out["A"]["events"] == 1  # j is 2nd, k = 1
    assert out["B"]["hr"] == 1.0
