"""Validation of raw input events (recstream/core/events.py)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recstream.core.events import (
    EPOCH_MIN,
    MAX_BYTES,
    MAX_REVIEW_CHARS,
    REASONS,
    Invalid,
    Limits,
    parse,
    worker_limits,
)
from recstream.settings import WorkerSettings

NOW = 1_700_000_000.0
LIMITS = Limits(now=NOW, max_future_s=86400.0, max_age_s=0.0, min_rating=0.0, max_rating=10.0)
BASE: dict[str, Any] = {"event_id": "e1", "user_id": "u1", "item_id": "i1", "ts": NOW - 60}


def raw(**changes: Any) -> bytes:
    d = {**BASE, **changes}
    return orjson.dumps({k: v for k, v in d.items() if v is not _DROP})


_DROP = object()


def reason(data: bytes | str, kind: str = "clicks", limits: Limits = LIMITS) -> str:
    with pytest.raises(Invalid) as err:
        parse(data, kind, limits)
    return err.value.reason


# --- accepted events ---------------------------------------------------------------------------


def test_good_click_is_normalised() -> None:
    out = parse(b'{"event_id": 17, "user_id": 42, "item_id": "B0001", "ts": 1699999999}',
                "clicks", LIMITS)
    assert out == {"event_id": "17", "user_id": "42", "item_id": "B0001",
                   "ts": 1699999999.0, "kind": "clicks"}
    assert type(out["ts"]) is float


def test_good_rating_with_review() -> None:
    out = parse(raw(rating=4, review="Great\tsound,\nwarm."), "ratings", LIMITS)
    assert out["rating"] == 4.0 and type(out["rating"]) is float
    assert out["review"] == "Great\tsound,\nwarm."
    assert out["kind"] == "ratings"


def test_rating_bounds_are_inclusive() -> None:
    assert parse(raw(rating=0), "ratings", LIMITS)["rating"] == 0.0
    assert parse(raw(rating=10.0), "ratings", LIMITS)["rating"] == 10.0


def test_str_input_is_accepted() -> None:
    assert parse(raw().decode(), "purchases", LIMITS)["kind"] == "purchases"


def test_unknown_fields_are_dropped() -> None:
    assert "extra" not in parse(raw(extra=[1, 2]), "clicks", LIMITS)


def test_ts_at_the_future_limit_is_accepted() -> None:
    # now + max_future_s exactly is allowed; one second more is not
    assert parse(raw(ts=NOW + 86400), "clicks", LIMITS)["ts"] == NOW + 86400
    assert reason(raw(ts=NOW + 86401)) == "ts_in_future"


# --- rejected events: one reason code each -----------------------------------------------------


@pytest.mark.parametrize("data", [b'{"event_id": 1,', b"", b"{'a': 1}", b"NaN"])
def test_malformed_json(data: bytes) -> None:
    assert reason(data) == "malformed_json"


@pytest.mark.parametrize("data", [b"[1, 2]", b'"x"', b"null", b"3"])
def test_not_an_object(data: bytes) -> None:
    assert reason(data) == "not_an_object"


@pytest.mark.parametrize("field", ["event_id", "user_id", "item_id", "ts"])
def test_missing_field(field: str) -> None:
    assert reason(raw(**{field: _DROP})) == "missing_field"
    assert reason(raw(**{field: None})) == "missing_field"  # null counts as missing


def test_rating_event_without_rating_is_missing_field() -> None:
    assert reason(raw(), "ratings") == "missing_field"


@pytest.mark.parametrize("changes", [
    {"user_id": ["u1"]}, {"item_id": {"id": 1}}, {"event_id": 1.5}, {"user_id": True},
    {"ts": "1699999999"}, {"ts": True}, {"review": 5},
])
def test_wrong_type(changes: dict[str, Any]) -> None:
    assert reason(raw(**changes)) == "wrong_type"


@pytest.mark.parametrize("rating", ["5", False])
def test_rating_of_wrong_type(rating: Any) -> None:
    assert reason(raw(rating=rating), "ratings") == "wrong_type"


@pytest.mark.parametrize("value", ["", "   "])
def test_empty_id(value: str) -> None:
    assert reason(raw(user_id=value)) == "empty_id"


@pytest.mark.parametrize("rating", [-1, 11, 1e308, -0.001])
def test_bad_rating(rating: float) -> None:
    assert reason(raw(rating=rating), "ratings") == "bad_rating"


def test_ts_in_future() -> None:
    assert reason(raw(ts=NOW * 1000)) == "ts_in_future"  # milliseconds by mistake


@pytest.mark.parametrize("ts", [0, -5, EPOCH_MIN - 1])
def test_ts_out_of_range(ts: float) -> None:
    assert reason(raw(ts=ts)) == "ts_out_of_range"


def test_ts_too_old_only_with_max_age() -> None:
    strict = Limits(now=NOW, max_age_s=3600.0)
    assert reason(raw(ts=NOW - 3601), limits=strict) == "ts_too_old"
    assert parse(raw(ts=NOW - 3600), "clicks", strict)["ts"] == NOW - 3600
    assert parse(raw(ts=EPOCH_MIN), "clicks", LIMITS)["ts"] == EPOCH_MIN  # max_age 0: any


def test_oversized_payload_and_review() -> None:
    assert reason(raw(pad="x" * MAX_BYTES)) == "oversized"
    assert reason(raw(review="y" * (MAX_REVIEW_CHARS + 1))) == "oversized"


def test_oversized_id() -> None:
    assert reason(raw(item_id="i" * 257)) == "oversized_id"


def test_invalid_utf8() -> None:
    assert reason(b"\xff") == "invalid_utf8"
    assert reason(b'{"event_id": "\xc3\x28"}') == "invalid_utf8"
    assert reason('{"user_id": "\ud800"}') == "invalid_utf8"  # lone surrogate in a str


@pytest.mark.parametrize("changes", [
    {"user_id": "a\x01b"}, {"item_id": "i\x7f"}, {"event_id": "e\n"}, {"review": "bad\x00"},
])
def test_control_chars(changes: dict[str, Any]) -> None:
    assert reason(raw(**changes)) == "control_chars"


def test_tombstone_is_malformed_json() -> None:
    assert reason(None) == "malformed_json"  # type: ignore[arg-type]


def test_oversized_limit_is_configurable() -> None:
    data = raw(pad="x" * 1000)
    assert parse(data, "clicks", LIMITS)["event_id"] == "e1"
    small = Limits(now=NOW, max_bytes=len(data) - 1)
    assert reason(data, limits=small) == "oversized"
    assert parse(data, "clicks", Limits(now=NOW, max_bytes=len(data)))["user_id"] == "u1"


STRICT = Limits(now=NOW, allow_extra_fields=False)


@pytest.mark.parametrize(("kind", "changes"), [
    ("clicks", {"extra": 1}), ("ratings", {"rating": 3, "Rating": 3}),
    ("clicks", {"rating": 3}),  # a rating on a click: probably sent to the wrong topic
    ("purchases", {"price": None}),
])
def test_unknown_field_when_strict(kind: str, changes: dict[str, Any]) -> None:
    data = raw(**changes)
    assert reason(data, kind, STRICT) == "unknown_field"
    assert parse(data, kind, LIMITS)["kind"] == kind  # the default ignores them


def test_strict_accepts_every_contract_field() -> None:
    assert parse(raw(review="ok"), "clicks", STRICT)["review"] == "ok"
    assert parse(raw(rating=5, review="ok"), "ratings", STRICT)["rating"] == 5.0


def test_worker_limits_follow_the_settings() -> None:
    w = WorkerSettings(max_future_s=10, max_event_age_s=20, max_event_bytes=1000,
                       reject_unknown_fields=True)
    lim = worker_limits(w, NOW)
    assert (lim.now, lim.max_future_s, lim.max_age_s, lim.max_bytes, lim.allow_extra_fields) \
        == (NOW, 10, 20, 1000, False)
    default = worker_limits(WorkerSettings(), NOW)
    assert default.max_bytes == MAX_BYTES and default.allow_extra_fields


@pytest.mark.parametrize("huge", [b"1e300", b"1000000000000000000000000000000", b"-1e300",
                                  b"9223372036854775807"])
def test_huge_rating_is_bad_rating(huge: bytes) -> None:
    data = raw(rating=1).replace(b'"rating":1', b'"rating":' + huge)
    assert reason(data, "ratings") == "bad_rating"


@pytest.mark.parametrize("literal", [b"NaN", b"Infinity", b"-Infinity", b"1e400"])
def test_non_finite_rating_is_not_json(literal: bytes) -> None:
    # what json.dumps(float("nan")) writes is not JSON: the event is malformed, not a rating
    data = raw(rating=1).replace(b'"rating":1', b'"rating":' + literal)
    assert reason(data, "ratings") == "malformed_json"


# --- properties --------------------------------------------------------------------------------


@settings(deadline=None)
@given(st.binary(max_size=300))
def test_parse_raises_only_invalid_on_arbitrary_bytes(data: bytes) -> None:
    try:
        out = parse(data, "ratings", LIMITS)
    except Invalid as e:
        assert e.reason in REASONS
    else:
        assert isinstance(out, dict)


_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                               max_size=3),
    max_leaves=8,
)


@settings(deadline=None)
@given(st.fixed_dictionaries({}, optional={k: _json for k in
                                          ("event_id", "user_id", "item_id", "ts", "rating",
                                           "review")}),
       st.sampled_from(["clicks", "purchases", "ratings"]))
def test_parse_raises_only_invalid_on_arbitrary_objects(d: dict[str, Any], kind: str) -> None:
    try:
        out = parse(orjson.dumps(d), kind, LIMITS)
    except Invalid as e:
        assert e.reason in REASONS
    else:
        assert {type(out[k]) for k in ("event_id", "user_id", "item_id")} == {str}
        assert type(out["ts"]) is float
        assert out["kind"] == kind
