"""What the demo tells about a replay: which users to follow, and a summary of everything
published (benchmarks/demo_story.py does the Kafka side). Pure: no Kafka.

Freshness of a record is ``published_ts`` − the produce time of its trigger event (wall
clock, both on this machine): queueing, processing and scoring included.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from recstream.ops.stats import percentiles


@dataclass(frozen=True, slots=True)
class Followed:
    """A user the demo follows: the event it shows and the one just before it."""

    user_id: str
    before_event: str  # the user's previous event id: its record is the list "before"
    event: str  # the followed event id: its record is the list "after"
    item_id: str  # what the followed event interacted with
    history: int  # the user's events before the followed one


def pick_followed(events: Sequence[Mapping[str, Any]], users: int = 3, min_history: int = 10,
                  skip_first: float = 0.3, min_rating: float = 4.0) -> list[Followed]:
    """``users`` users with at least ``min_history`` earlier events, each followed at their
    last event of the replay that shows a liking (a rating of at least ``min_rating``; an
    event without a rating counts), so the list has a reason to move. ``events`` are in
    replay order; the followed events fall after the first ``skip_first`` share of the
    replay, when the pipeline holds other users too. The users with the longest histories
    come first, ties by user id."""
    position: dict[str, list[int]] = {}
    for n, ev in enumerate(events):
        position.setdefault(str(ev["user_id"]), []).append(n)
    start = int(len(events) * skip_first)
    chosen = []
    for user, idx in position.items():
        liked = [k for k in range(min_history, len(idx)) if idx[k] >= start
                 and float(events[idx[k]].get("rating", min_rating)) >= min_rating]
        if liked:
            k = liked[-1]
            chosen.append((-k, user, idx[k - 1], idx[k]))
    chosen.sort()
    return [Followed(user, str(events[b]["event_id"]), str(events[a]["event_id"]),
                     str(events[a]["item_id"]), -neg)
            for neg, user, b, a in chosen[:users]]


def seen_before(events: Iterable[Mapping[str, Any]]) -> dict[str, set[str]]:
    """Event id -> the items its user had interacted with up to and including it."""
    history: dict[str, set[str]] = {}
    out = {}
    for ev in events:
        items = history.setdefault(str(ev["user_id"]), set())
        items.add(str(ev["item_id"]))
        out[str(ev["event_id"])] = set(items)
    return out


def summarise(records: Sequence[Mapping[str, Any]], produced: Mapping[str, float],
              seen: Mapping[str, set[str]], slo_ms: float = 250.0) -> dict[str, Any]:
    """Everything published for a replay of the events in ``produced`` (event id -> produce
    time, s) with ``seen`` (:func:`seen_before`): records, their coverage of the events,
    recommended items the user had already seen, the degraded share, freshness p50/p99 (ms)
    and the share within ``slo_ms``."""
    mine = [r for r in records if r.get("trigger_event_id") in produced]
    triggers = {r["trigger_event_id"] for r in mine}
    fresh = [(float(r["published_ts"]) - produced[r["trigger_event_id"]]) * 1000.0
             for r in mine]
    pct = percentiles(fresh, (0.5, 0.99))
    kinds = Counter("degraded" if r.get("degraded") else "ok" for r in mine)
    return {
        "events": len(produced), "records": len(mine),
        "coverage": round(len(triggers) / max(len(produced), 1), 4),
        "empty_records": sum(not r.get("items") for r in mine),
        "seen_item_violations": sum(i["item_id"] in seen.get(r["trigger_event_id"], ())
                                    for r in mine for i in r.get("items") or ()),
        "degraded_share": round(kinds["degraded"] / max(len(mine), 1), 4),
        "freshness_ms": {k: None if v is None else round(v, 1) for k, v in pct.items()},
        "within_slo": round(sum(f <= slo_ms for f in fresh) / max(len(fresh), 1), 4),
        "slo_ms": slo_ms,
    }
