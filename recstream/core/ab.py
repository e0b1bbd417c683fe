"""A/B testing: stable assignment of users to variants, and the two-proportion z-test.

A user's bucket is the first 8 bytes of sha256(user id) read as an integer over 2^64: a
number in [0, 1) that is the same in every process, worker and Python version (unlike
``hash()``). Variants own consecutive slices of [0, 1) in their configured order, each as
wide as its share, so changing one variant's share only moves users at the slice edges.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

from recstream.settings import RecommendSettings, VariantSettings

SIGNAL_WEIGHTS = ("cf", "content", "trending", "llm", "cooc", "seq")


def bucket(user_id: str) -> float:
    """The user's stable position in [0, 1)."""
    digest = hashlib.sha256(user_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def assign(user_id: str, variants: Sequence[VariantSettings]) -> VariantSettings:
    """The variant whose slice of [0, 1) holds the user's bucket (shares sum to 1, as
    :class:`~recstream.settings.ABSettings` checks; rounding leftovers go to the last)."""
    b, edge = bucket(user_id), 0.0
    for v in variants:
        edge += v.share
        if b < edge:
            return v
    return variants[-1]


def weights(base: RecommendSettings, variant: VariantSettings) -> dict[str, float]:
    """Blend weights of ``variant``: its overrides on top of the base ``recommend`` weights."""
    out = {}
    for s in SIGNAL_WEIGHTS:
        own = getattr(variant, f"weight_{s}")
        out[s] = float(own) if own is not None else float(getattr(base, f"weight_{s}"))
    return out


@dataclass(frozen=True)
class ZTest:
    """Two-proportion z-test of B's rate against A's (pooled standard error)."""

    rate_a: float
    rate_b: float
    z: float
    p_value: float  # two-sided

    def significant(self, alpha: float = 0.05) -> bool:
        return self.p_value < alpha


def two_proportion_z(successes_a: int, n_a: int, successes_b: int, n_b: int) -> ZTest:
    """z = (p_b − p_a) / √(p̂(1 − p̂)(1/n_a + 1/n_b)), p̂ the pooled rate; p = erfc(|z|/√2).

    With an empty group, or no variance (both rates 0 or both 1), z = 0 and p = 1: there is
    no evidence of a difference.
    """
    pa = successes_a / n_a if n_a else 0.0
    pb = successes_b / n_b if n_b else 0.0
    if not n_a or not n_b:
        return ZTest(pa, pb, 0.0, 1.0)
    pooled = (successes_a + successes_b) / (n_a + n_b)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    if se == 0:
        return ZTest(pa, pb, 0.0, 1.0)
    z = (pb - pa) / se
    return ZTest(pa, pb, z, math.erfc(abs(z) / math.sqrt(2)))


def compare(records: Sequence[dict], order: Sequence[str] = ()) -> dict:
    """Per-variant totals of feedback ``metrics`` records and z-tests of CTR against the
    baseline: the first variant of ``order`` that has impressions, else the first by name.

    Records of one (window, variant) from several partitions are additive, so totals are
    plain sums; CTR = clicked / impressions, precision@k = hits / (k · impressions).
    """
    totals: dict[str, dict] = {}
    for r in records:
        if r.get("type") != "feedback":
            continue
        t = totals.setdefault(r["variant"], {"impressions": 0, "clicked": 0, "hits": 0,
                                             "slots": 0, "windows": set()})
        t["impressions"] += r["impressions"]
        t["clicked"] += r["clicked"]
        t["hits"] += r["hits"]
        t["slots"] += r["k"] * r["impressions"]
        t["windows"].add(r["window_start"])
    names = [v for v in order if v in totals] + sorted(v for v in totals if v not in order)
    out: dict = {"baseline": names[0] if names else None, "variants": {}}
    for name in names:
        t = totals[name]
        row = {"impressions": t["impressions"], "clicked": t["clicked"],
               "ctr": t["clicked"] / t["impressions"] if t["impressions"] else None,
               "precision": t["hits"] / t["slots"] if t["slots"] else None,
               "windows": len(t["windows"])}
        if name != names[0]:
            base = totals[names[0]]
            z = two_proportion_z(base["clicked"], base["impressions"], t["clicked"],
                                 t["impressions"])
            row.update(z=z.z, p_value=z.p_value, significant=z.significant())
        out["variants"][name] = row
    return out
