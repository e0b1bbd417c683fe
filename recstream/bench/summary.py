"""Latency, throughput and cost figures of a bench run (pure maths; units in the names)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from recstream.ops.stats import percentile


def parse_rate(text: str) -> float | None:
    """``"max"`` → None (as fast as possible); otherwise a positive events/s figure."""
    if text.strip().lower() == "max":
        return None
    try:
        rate = float(text)
    except ValueError:
        raise ValueError(f"--rate must be a number of events/s or 'max' (got {text!r})") from None
    if not rate > 0:
        raise ValueError(f"--rate must be > 0 (got {text!r})")
    return rate


def parse_counts(text: str) -> list[int]:
    """``"1000,100000,1e6"`` → ``[1000, 100000, 1000000]``; each must be ≥ 1."""
    out = []
    for part in text.split(","):
        part = part.strip().replace("_", "")
        try:
            value = float(part)
        except ValueError:
            raise ValueError(f"not a count: {part!r} (use e.g. 1000,100000,1000000)") from None
        if value < 1 or value != int(value):
            raise ValueError(f"counts must be whole numbers ≥ 1 (got {part!r})")
        out.append(int(value))
    return out


def latency_ms(latencies_s: Sequence[float]) -> dict[str, float | None]:
    """``{p50, p95, p99, max}`` in ms (2 decimals) of latencies in seconds; None if empty."""
    ordered = sorted(latencies_s)
    out: dict[str, float | None] = {}
    for name, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99), ("max", 1.0)):
        v = percentile(ordered, q)
        out[name] = None if v is None else round(v * 1000.0, 2)
    return out


@dataclass(frozen=True)
class Delivery:
    """What the measuring consumer saw: produce and arrival wall-clock times by event id (s)."""

    produced: Mapping[str, float]
    arrived: Mapping[str, float]
    degraded: frozenset[str] | set[str] = field(default_factory=frozenset)  # event ids

    @property
    def degraded_count(self) -> int:
        """Produced events whose recommendation came out ``degraded`` (no LLM score)."""
        return sum(1 for e in self.degraded if e in self.produced)

    @property
    def received(self) -> int:
        """Produced events whose recommendation arrived (duplicates and strangers ignored)."""
        return sum(1 for e in self.arrived if e in self.produced)

    @property
    def missing(self) -> int:
        return len(self.produced) - self.received

    def latencies_s(self) -> list[float]:
        return [t - self.produced[e] for e, t in self.arrived.items() if e in self.produced]

    def throughput_eps(self) -> float:
        """Received events / (first produce → last arrival); 0 when nothing arrived."""
        got = [t for e, t in self.arrived.items() if e in self.produced]
        if not got or not self.produced:
            return 0.0
        span = max(got) - min(self.produced.values())
        return len(got) / span if span > 0 else 0.0


def cpu_us_per_event(cpu_s: float, events: int) -> float | None:
    """Worker CPU time per processed event in µs (None when nothing was processed)."""
    return round(cpu_s / events * 1e6, 1) if events > 0 else None


def flatness(values: Sequence[float]) -> float | None:
    """Largest relative deviation from the mean (0.2 = ± 20 %); None for no values."""
    if not values:
        return None
    mean = sum(values) / len(values)
    return max(abs(v - mean) for v in values) / mean if mean else 0.0


def memory_growth(samples: Sequence[tuple[float, float]], warmup: float = 0.25,
                  points: int = 40) -> dict[str, Any] | None:
    """Resident memory over a run from ``(seconds, MiB)`` samples: ``after_warmup_mb`` (the
    first sample past ``warmup`` of the run's span), ``end_mb`` (the last), ``growth_pct``
    (end over after-warm-up, %) and ``timeline`` (at most ``points`` samples, evenly
    picked, first and last kept). None without two samples."""
    if len(samples) < 2:
        return None
    t0, t1 = samples[0][0], samples[-1][0]
    cut = t0 + warmup * (t1 - t0)
    base = next(mb for t, mb in samples if t >= cut)
    end = samples[-1][1]
    step = max(1, -(-(len(samples) - 1) // (points - 1)))
    timeline = [*samples[:-1:step], samples[-1]]
    return {"after_warmup_mb": base, "end_mb": end,
            "growth_pct": round((end - base) / base * 100.0, 1) if base else None,
            "timeline": [[round(t - t0, 1), mb] for t, mb in timeline]}


def bench_result(*, rate: float | None, delivery: Delivery, baseline_eps: float | None,
                 rss_mb: float | None, users: int, items: int, cpu_s: float | None,
                 scorer: bool) -> dict[str, Any]:
    """The JSON object ``recstream bench --json`` prints."""
    eps = delivery.throughput_eps()
    return {
        "rate": "max" if rate is None else rate,
        "events": len(delivery.produced),
        "throughput_eps": round(eps, 1),
        "baseline_eps": None if baseline_eps is None else round(baseline_eps, 1),
        "ratio": round(eps / baseline_eps, 4) if baseline_eps else None,
        "latency_ms": latency_ms(delivery.latencies_s()),
        "rss_mb": rss_mb,
        "users": users,
        "items": items,
        "received": delivery.received,
        "missing": delivery.missing,
        "degraded": delivery.degraded_count,
        "cpu_us_per_event": None if cpu_s is None else cpu_us_per_event(cpu_s,
                                                                          delivery.received),
        "scorer": scorer,
    }


def sweep_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """A Markdown table of sweep results (one row per user count) and the flatness line."""
    lines = ["| users | events | users seen | events/s | worker CPU µs/event | peak RSS MB |"
             " missing |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['users']:,} | {r['events']:,} | {r.get('users_seen', 0):,} | "
                     f"{r['throughput_eps']:,.1f} | {r['cpu_us_per_event'] or 0:,.0f} | "
                     f"{r['rss_mb'] or 0:,.0f} | {r['missing']:,} |")
    costs = [r["cpu_us_per_event"] for r in rows if r.get("cpu_us_per_event")]
    flat = flatness(costs)
    if flat is not None:
        lines.append(f"\ncost per event within ± {flat * 100:.0f} % of the mean "
                     f"({'flat' if flat <= 0.2 else 'NOT flat'} by the ± 20 % target)")
    return "\n".join(lines)
