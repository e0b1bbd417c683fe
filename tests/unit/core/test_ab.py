"""A/B assignment (stable, shares honoured), variant weights and the two-proportion z-test."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from recstream.core import ab
from recstream.settings import ABSettings, RecommendSettings, Settings, VariantSettings

THREE = [VariantSettings(name="a", share=0.5), VariantSettings(name="b", share=0.3),
         VariantSettings(name="c", share=0.2)]


@given(st.text(min_size=1, max_size=40))
def test_assignment_is_stable_and_in_range(user: str) -> None:
    assert 0.0 <= ab.bucket(user) < 1.0
    assert ab.assign(user, THREE).name == ab.assign(user, THREE).name


def test_assignment_is_the_same_in_another_process() -> None:
    users = [f"user-{i}" for i in range(50)]
    code = ("from recstream.core import ab; from recstream.settings import VariantSettings as V;"
            "vs=[V(name='a',share=0.5),V(name='b',share=0.3),V(name='c',share=0.2)];"
            f"print(','.join(ab.assign(u, vs).name for u in {users!r}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={"PYTHONHASHSEED": "123"}).stdout.strip()
    assert out.split(",") == [ab.assign(u, THREE).name for u in users]


def test_shares_are_matched_over_100k_users() -> None:
    n = 100_000
    counts = {"a": 0, "b": 0, "c": 0}
    for i in range(n):
        counts[ab.assign(str(i), THREE).name] += 1
    for v in THREE:  # 5 standard deviations of a binomial share: fails ~1 in 10^6 seeds
        assert abs(counts[v.name] / n - v.share) < 5 * math.sqrt(v.share * (1 - v.share) / n)


def test_shares_not_summing_to_one_are_rejected_clearly() -> None:
    with pytest.raises(ValidationError, match=r"shares must sum to 1 \(got 0.9: a=0.5, b=0.4\)"):
        ABSettings(variants=[VariantSettings(name="a", share=0.5),
                             VariantSettings(name="b", share=0.4)])
    with pytest.raises(ValidationError, match="unique"):
        ABSettings(variants=[VariantSettings(name="a", share=0.5),
                             VariantSettings(name="a", share=0.5)])


def test_default_is_one_variant_with_the_recommend_weights(monkeypatch) -> None:
    monkeypatch.delenv("RECSTREAM_AB__VARIANTS", raising=False)
    s = Settings()
    assert [(v.name, v.share) for v in s.ab.variants] == [("default", 1.0)]
    assert ab.assign("anyone", s.ab.variants).name == "default"
    assert ab.weights(s.recommend, s.ab.variants[0]) == {
        "cf": 0.5, "content": 0.35, "trending": 0.15, "llm": 0.3, "cooc": 1.0, "seq": 0.5}


def test_variant_overrides_only_its_weights_and_parses_from_env(monkeypatch) -> None:
    monkeypatch.setenv("RECSTREAM_AB__VARIANTS", '[{"name": "ctl", "share": 0.5}, '
                       '{"name": "trend", "share": 0.5, "weight_trending": 0.9}]')
    vs = Settings().ab.variants
    assert ab.weights(RecommendSettings(), vs[1]) == {
        "cf": 0.5, "content": 0.35, "trending": 0.9, "llm": 0.3, "cooc": 1.0, "seq": 0.5}


def test_two_proportion_z_by_hand() -> None:
    # 100/1000 vs 130/1000: pooled 0.115, se = sqrt(.115*.885*(2/1000)) = 0.014267
    t = ab.two_proportion_z(100, 1000, 130, 1000)
    assert t.z == pytest.approx(0.03 / math.sqrt(0.115 * 0.885 * 0.002))
    assert t.z == pytest.approx(2.1028, abs=1e-4)
    assert t.p_value == pytest.approx(0.03548, abs=1e-4)
    assert t.significant()
    small = ab.two_proportion_z(1, 10, 2, 10)
    assert not small.significant() and small.p_value > 0.5
    assert ab.two_proportion_z(0, 0, 3, 10).p_value == 1.0
    assert ab.two_proportion_z(0, 10, 0, 10).p_value == 1.0
