"""Validation of input events (the clean stage's pure part).

An accepted event is normalised to ``{event_id, user_id, item_id, ts, kind, rating?, review?}``
with string ids and float epoch-second ``ts``. A rejected one raises :class:`Invalid` whose
``reason`` (one of :data:`REASONS`) is a machine-readable code for the dead-letter record.
Fields beyond the contract's are dropped, or rejected as ``unknown_field`` when
``Limits.allow_extra_fields`` is false (the contract is ``{event_id, user_id, item_id, ts,
...}``, so extra fields are accepted by default).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from recstream.settings import WorkerSettings

KINDS = ("clicks", "purchases", "ratings")
MAX_BYTES = 64 * 1024
MAX_REVIEW_CHARS = 20_000
REQUIRED = ("event_id", "user_id", "item_id", "ts")
OPTIONAL = {"clicks": ("review",), "purchases": ("review",), "ratings": ("rating", "review")}
MAX_ID_CHARS = 256
# Every reason parse() raises, in the order they are checked (the clean stage adds
# ``unknown_item``, and ``unprocessable`` for anything parse() did not foresee).
REASONS = ("oversized", "invalid_utf8", "malformed_json", "not_an_object", "missing_field",
           "unknown_field", "wrong_type", "empty_id", "oversized_id", "control_chars",
           "ts_out_of_range", "ts_in_future", "ts_too_old", "bad_rating")


class Invalid(ValueError):
    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Limits:
    now: float  # wall clock (s) the event is judged against
    max_future_s: float = 86400.0
    max_age_s: float = 0.0  # 0: any past time (after 1995-01-01) is accepted
    min_rating: float = 0.0
    max_rating: float = 10.0
    max_bytes: int = MAX_BYTES  # larger payloads are rejected before they are decoded
    allow_extra_fields: bool = True  # False: fields outside the contract -> unknown_field


def worker_limits(w: WorkerSettings, now: float) -> Limits:
    """The limits a worker with settings ``w`` applies at wall-clock time ``now`` (s)."""
    return Limits(now=now, max_future_s=w.max_future_s, max_age_s=w.max_event_age_s,
                  max_bytes=w.max_event_bytes, allow_extra_fields=not w.reject_unknown_fields)


EPOCH_MIN = 788918400.0  # 1995-01-01: older timestamps are unit mistakes (ms vs s)


def _ident(d: dict[str, Any], key: str) -> str:
    v = d[key]
    if isinstance(v, bool) or not isinstance(v, (str, int)):
        raise Invalid("wrong_type", f"{key} must be a string")
    s = str(v)
    if not s.strip():
        raise Invalid("empty_id", key)
    if len(s) > MAX_ID_CHARS:
        raise Invalid("oversized_id", key)
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in s):
        raise Invalid("control_chars", key)
    return s


def parse(raw: bytes | str | None, kind: str, limits: Limits) -> dict[str, Any]:
    """Validate one raw event of topic ``kind``; raise :class:`Invalid` with a reason.

    ``None`` (a record without a value, i.e. a tombstone) is ``malformed_json``.
    """
    if raw is None:
        raise Invalid("malformed_json", "no value (tombstone)")
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    if len(raw) > limits.max_bytes:
        raise Invalid("oversized", f"{len(raw)} bytes > {limits.max_bytes}")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise Invalid("invalid_utf8", str(e)) from None
    try:
        d = orjson.loads(raw)
    except orjson.JSONDecodeError as e:
        raise Invalid("malformed_json", str(e)) from None
    if not isinstance(d, dict):
        raise Invalid("not_an_object", type(d).__name__)
    for key in REQUIRED:
        if d.get(key) is None:
            raise Invalid("missing_field", key)
    if not limits.allow_extra_fields:
        extra = sorted(set(d) - set(REQUIRED) - set(OPTIONAL.get(kind, ())))
        if extra:
            raise Invalid("unknown_field", ", ".join(extra)[:200])
    out: dict[str, Any] = {k: _ident(d, k) for k in ("event_id", "user_id", "item_id")}
    ts = d["ts"]
    if isinstance(ts, bool) or not isinstance(ts, (int, float)):
        raise Invalid("wrong_type", "ts must be a number (epoch seconds)")
    ts = float(ts)
    if not math.isfinite(ts) or ts < EPOCH_MIN:
        raise Invalid("ts_out_of_range", f"ts={ts}")
    if ts > limits.now + limits.max_future_s:
        raise Invalid("ts_in_future", f"ts={ts}")
    if limits.max_age_s and ts < limits.now - limits.max_age_s:
        raise Invalid("ts_too_old", f"ts={ts}")
    out["ts"] = ts
    out["kind"] = kind
    if kind == "ratings":
        r = d.get("rating")
        if r is None:
            raise Invalid("missing_field", "rating")
        if isinstance(r, bool) or not isinstance(r, (int, float)):
            raise Invalid("wrong_type", "rating must be a number")
        if not math.isfinite(r) or not limits.min_rating <= r <= limits.max_rating:
            raise Invalid("bad_rating", f"rating={r}")
        out["rating"] = float(r)
    review = d.get("review")
    if review is not None:
        if not isinstance(review, str):
            raise Invalid("wrong_type", "review must be a string")
        if len(review) > MAX_REVIEW_CHARS:
            raise Invalid("oversized", "review")
        if any(ord(ch) < 32 and ch not in "\t\n\r" for ch in review):
            raise Invalid("control_chars", "review")
        out["review"] = review
    return out
