"""Validation of input events (the clean stage's pure part).

An accepted event is normalised to ``{event_id, user_id, item_id, ts, kind, rating?, review?}``
with string ids and float epoch-second ``ts``. A rejected one raises :class:`Invalid` whose
``reason`` is a machine-readable code for the dead-letter record.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import orjson

KINDS = ("clicks", "purchases", "ratings")
MAX_BYTES = 64 * 1024
MAX_REVIEW_CHARS = 20_000
REQUIRED = ("event_id", "user_id", "item_id", "ts")
MAX_ID_CHARS = 256


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


def parse(raw: bytes | str, kind: str, limits: Limits) -> dict[str, Any]:
    """Validate one raw event of topic ``kind``; raise :class:`Invalid` with a reason."""
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogatepass")
    if len(raw) > MAX_BYTES:
        raise Invalid("oversized", f"{len(raw)} bytes > {MAX_BYTES}")
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
