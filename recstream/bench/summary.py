"""Latency, throughput and cost figures of a bench run (pure maths; units in the names)."""

from __future__ import annotations

import math
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


PERCENTILES = (("p50", 0.5), ("p95", 0.95), ("p99", 0.99), ("max", 1.0))


def latency_ms(latencies_s: Sequence[float], censored_s: Sequence[float] = ()
               ) -> dict[str, float | None]:
    """``{p50, p95, p99, max}`` in ms (2 decimals) over answered events' latencies and the
    unanswered events' ``censored_s`` (how long each had waited when the bench stopped, a
    lower bound of its latency); None if there are none at all."""
    ordered = sorted([*latencies_s, *censored_s])
    out: dict[str, float | None] = {}
    for name, q in PERCENTILES:
        v = percentile(ordered, q)
        out[name] = None if v is None else round(v * 1000.0, 2)
    return out


def not_reached(latencies_s: Sequence[float], censored_s: Sequence[float]) -> list[str]:
    """The percentiles (names as in :func:`latency_ms`) that the unanswered events leave
    open: the figure counting them at ``censored_s`` (a lower bound) differs from the one
    counting them as never answered (an upper bound, infinite when the percentile falls on
    one of them). From about 1 % of the events unanswered, p99 is not reached."""
    if not censored_s:
        return []
    lower = sorted([*latencies_s, *censored_s])
    n = len(lower)
    answered = sorted(latencies_s)
    upper = [*answered, *([math.inf] * len(censored_s))]
    # ceil(pos) past the answered ones: the percentile touches a never-answered event
    return [name for name, q in PERCENTILES
            if math.ceil(q * (n - 1)) >= len(answered)
            or percentile(upper, q) != percentile(lower, q)]


@dataclass(frozen=True)
class Delivery:
    """What the measuring consumer saw, by event id (wall-clock seconds).

    ``produced``: when each event was actually sent; ``scheduled``: when it was due at the
    requested rate (empty at max rate, where each event's clock starts at its send), so a
    sender that falls behind cannot hide queueing; ``arrived``: the first record naming the
    event; ``degraded``: events whose first record was published without the LLM score;
    ``ended``: when the bench stopped waiting (what had not arrived is censored there).
    """

    produced: Mapping[str, float]
    arrived: Mapping[str, float]
    scheduled: Mapping[str, float] = field(default_factory=dict)
    degraded: frozenset[str] = frozenset()
    ended: float | None = None

    @property
    def received(self) -> int:
        """Produced events whose recommendation arrived (duplicates and strangers ignored)."""
        return sum(1 for e in self.arrived if e in self.produced)

    @property
    def missing(self) -> int:
        return len(self.produced) - self.received

    @property
    def degraded_count(self) -> int:
        """Answered events whose (first) recommendation came without the LLM score."""
        return sum(1 for e in self.degraded if e in self.produced and e in self.arrived)

    def start(self, event_id: str) -> float:
        """Where an event's latency starts: its scheduled send, else its actual send."""
        return self.scheduled.get(event_id, self.produced[event_id])

    def latencies_s(self) -> list[float]:
        return [t - self.start(e) for e, t in self.arrived.items() if e in self.produced]

    def censored_s(self) -> list[float]:
        """How long each unanswered event had waited when the bench stopped (lower bounds
        of their latencies); empty without ``ended``."""
        if self.ended is None:
            return []
        return [max(0.0, self.ended - self.start(e)) for e in self.produced
                if e not in self.arrived]

    def sender_behind_s(self) -> float:
        """Largest lag of an actual send behind its schedule (0 at max rate)."""
        lags = [self.produced[e] - t for e, t in self.scheduled.items() if e in self.produced]
        return max(0.0, *lags) if lags else 0.0

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
    """The JSON object ``recstream bench --json`` prints.

    ``latency_ms`` counts every event: the unanswered ones at the time they had waited when
    the bench stopped, so a figure in ``latency_not_reached`` is only a lower bound.
    ``degraded`` counts answered events published without the LLM score."""
    eps = delivery.throughput_eps()
    got = delivery.received
    lats = delivery.latencies_s()
    return {
        "rate": "max" if rate is None else rate,
        "events": len(delivery.produced),
        "throughput_eps": round(eps, 1),
        "baseline_eps": None if baseline_eps is None else round(baseline_eps, 1),
        "ratio": round(eps / baseline_eps, 4) if baseline_eps else None,
        "latency_ms": latency_ms(lats, delivery.censored_s()),
        "latency_not_reached": not_reached(lats, delivery.censored_s()),
        "rss_mb": rss_mb,
        "users": users,
        "items": items,
        "received": got,
        "missing": delivery.missing,
        "missing_share": round(delivery.missing / len(delivery.produced), 4)
        if delivery.produced else 0.0,
        "degraded": delivery.degraded_count,
        "degraded_share": round(delivery.degraded_count / got, 4) if got else 0.0,
        "sender_behind_ms": round(delivery.sender_behind_s() * 1000.0, 1),
        "cpu_us_per_event": None if cpu_s is None else cpu_us_per_event(cpu_s, got),
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


def run_text(res: Mapping[str, Any]) -> str:
    """The human summary of one ``recstream bench`` run (the JSON object's figures)."""
    lat, open_ = res["latency_ms"], set(res.get("latency_not_reached") or ())

    def pct(name: str) -> str:
        v = lat[name]
        if v is None:
            return f"{name} —"
        return f"{name} ≥ {v:,} (not reached)" if name in open_ else f"{name} {v:,}"

    behind = res.get("sender_behind_ms") or 0.0
    return (
        f"events {res['events']:,} at {res['rate']} events/s, {res['users']:,} users, "
        f"{res['items']:,} items, scorer {'on' if res['scorer'] else 'off'}\n"
        f"  pipeline   {res['throughput_eps']:>10,.1f} events/s "
        f"({res['received']:,} recommendations, {res['missing']:,} missing = "
        f"{res['missing_share'] * 100:.1f} %)\n"
        f"  degraded   {res['degraded']:>10,} recommendations without the LLM score "
        f"({res['degraded_share'] * 100:.1f} % of those received)\n"
        f"  ceiling    {res['baseline_eps'] or 0:>10,.1f} events/s (bare aiokafka "
        f"consume→produce)\n"
        f"  ratio      {res['ratio'] or 0:>10.3f}\n"
        f"  latency ms {'  '.join(pct(n) for n in ('p50', 'p95', 'p99', 'max'))}"
        f"  (from each event's {'send' if res['rate'] == 'max' else 'scheduled send'}; "
        f"missing events count at their wait so far)"
        + (f"\n  sender     fell up to {behind:,.0f} ms behind the requested rate"
           if behind >= 100 else "") + "\n"
        f"  workers    {res['workers']}: {res['cpu_us_per_event'] or 0:,.0f} µs CPU/event, "
        f"peak RSS {res['rss_mb']} MB" + (
            f"; RSS {mem['after_warmup_mb']} MB after warm-up (a quarter of the run), "
            f"{mem['end_mb']} MB at the end ({mem['growth_pct']:+} %)"
            if (mem := res.get("memory")) else ""))
