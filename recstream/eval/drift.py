"""Drift report: how prequential HR@k of ``default`` changes with profile time decay and the
session signal (``profile.decay_half_life_s``, ``profile.session_events`` /
``profile.session_boost``).

Each grid point reruns the prequential protocol for ``default`` alone with those profile
settings (everything else as loaded); besides the overall HR@k and NDCG@k it reports HR@k per
tenth of the judged events (in stream order), so a setting that helps late in the replay,
when profiles are long, shows up as a rising line.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from recstream.eval import prequential
from recstream.eval.job import Job

DAY = 86400.0
#: (decay half-life s, session events, session boost): off first, then each knob alone, then
#: the two together.
GRID: tuple[tuple[float, int, float], ...] = (
    (0.0, 0, 0.0), (30 * DAY, 0, 0.0), (7 * DAY, 0, 0.0), (1 * DAY, 0, 0.0),
    (0.0, 5, 1.0), (0.0, 10, 1.0), (0.0, 5, 3.0), (7 * DAY, 5, 1.0),
)
SEGMENTS = 10


def segment_means(values: list[float], segments: int) -> list[float]:
    """Mean of ``values`` over ``segments`` consecutive, near-equal slices (fewer when there
    are fewer values)."""
    n = len(values)
    parts = min(segments, n)
    out = []
    for s in range(parts):
        chunk = values[s * n // parts:(s + 1) * n // parts]
        out.append(sum(chunk) / len(chunk))
    return out


def run(job: Job, grid: tuple[tuple[float, int, float], ...] = GRID,
        variant: str = "default") -> dict[str, Any]:
    """The ``drift`` part of the ``--json`` document."""
    cfg = job.variants[variant]
    rows = []
    tick = job.reporter.stage("drift grid", len(grid))
    for n, (half_life, events, boost) in enumerate(grid, 1):
        profile = job.profile.model_copy(update={"decay_half_life_s": half_life,
                                                 "session_events": events,
                                                 "session_boost": boost})
        sub = replace(job, profile=profile, variants={variant: cfg}, peers=False,
                      cold_start=False, timeline=True)
        out = prequential.run(sub)
        r = out.results[variant]
        rows.append({"decay_half_life_s": half_life, "session_events": events,
                     "session_boost": boost, "hr": round(r["hr"], 6),
                     "ndcg": round(r["ndcg"], 6), "events": r["events"],
                     "hr_by_segment": [round(v, 6) for v in
                                       segment_means(out.timelines[variant], SEGMENTS)]})
        tick(n)
    return {"variant": variant, "segments": SEGMENTS, "rows": rows}
