"""A worker that restarts with an empty data dir recovers its tables from their changelogs:
profiles come back unchanged, neither rebuilt from scratch nor double-counted."""

from __future__ import annotations

import math
import shutil
import time
from typing import Any

import orjson
import pytest
from conftest import TEST_PRIVACY_KEY

from recstream.core.events import Limits, parse
from recstream.core.privacy import pseudonym
from recstream.core.process import MemoryPipeline
from recstream.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

TOL = 1e-9


def expected_profiles(items: list[dict[str, Any]], events: list[dict[str, Any]]
                      ) -> dict[str, dict[str, Any]]:
    """Profiles (as stored: ``Profile.to_dict()``) after ``events``, computed in memory."""
    s = Settings()
    mp = MemoryPipeline(s.profile, s.recommend)
    mp.add_items(items)
    limits = Limits(time.time())
    for ev in events:  # the clean stage's normalisation, then the profile stage's update
        mp.ingest(parse(orjson.dumps(ev), "ratings", limits))
    return {u: p.to_dict() for u, p in mp.profiles.items()}


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=TOL, abs_tol=TOL)


def profile_diff(got: dict[str, Any] | None, want: dict[str, Any]) -> str | None:
    """None when equal within TOL, else a short description of the difference."""
    if got is None:
        return "missing"
    if got.get("n") != want["n"]:
        return f"events n={got.get('n')} want {want['n']}"
    if not close(got["len"], want["len"]):
        return f"length {got['len']!r} want {want['len']!r}"
    if not close(got["ts"], want["ts"]):
        return f"ts {got['ts']!r} want {want['ts']!r}"
    if set(got["items"]) != set(want["items"]):
        return f"items {sorted(got['items'])} want {sorted(want['items'])}"
    if any(not close(got["items"][i], v) for i, v in want["items"].items()):
        return "item values differ"
    if set(got["c"]) != set(want["c"]):
        return f"terms differ: {sorted(set(got['c']) ^ set(want['c']))[:10]}"
    bad = [t for t, v in want["c"].items() if not close(got["c"][t], v)]
    return f"counts differ for {bad[:10]}" if bad else None


def last_per_key(records: list[Any]) -> dict[str, Any]:
    return {r.key: r.value for r in records}  # topic order per partition = per key


def stored_key(user_id: str) -> str:
    """The changelog key of ``user_id``'s profile: its pseudonym under the workers' key."""
    return pseudonym(TEST_PRIVACY_KEY.encode(), user_id)


def by_raw_user(records: list[Any], users: Any) -> dict[str, Any]:
    """Last changelog value per raw user id of ``users`` (None if it has none)."""
    last = last_per_key(records)
    return {u: last.get(stored_key(u)) for u in users}


def test_restart_recovers_profiles_from_the_changelog(cluster, producer, reader,
                                                      ml_sample) -> None:
    worker = cluster.worker("worker").start()
    worker.wait_healthy()
    prefix = producer.prefix
    recs = reader("recommendations")
    changelog = reader(f"{prefix}recstream-profiles-changelog")
    producer.items(ml_sample.items)
    producer.events(ml_sample.events)
    want = expected_profiles(ml_sample.items, ml_sample.events)

    triggers = {ev["event_id"] for ev in ml_sample.events}
    recs.wait_for(lambda rs: triggers <= {r.value["trigger_event_id"] for r in rs}, 90,
                  "a recommendation for each replayed event")
    changelog.wait_for(
        lambda rs: all((by_raw_user(rs, want).get(u) or {}).get("n") == p["n"]
                       for u, p in want.items()),
        30, "every user's profile in the changelog")
    before = by_raw_user(changelog.records, want)
    diffs = {u: d for u, p in want.items() if (d := profile_diff(before.get(u), p))}
    assert not diffs, f"worker profiles differ from MemoryPipeline: {diffs}"

    # Stop (SIGTERM) and lose the local state: it must come back from the changelog.
    started_stop = time.monotonic()
    code = worker.stop()
    assert not worker.alive()
    assert not worker.killed, "the worker ignored SIGTERM for 20 s and had to be killed"
    stop_s = time.monotonic() - started_stop
    print(f"worker stopped by SIGTERM in {stop_s:.1f}s with exit code {code}")
    shutil.rmtree(worker.data_dir)
    worker.start()
    worker.wait_healthy()

    by_user = ml_sample.by_user()
    user = max(by_user, key=lambda u: (len(by_user[u]), u))
    seen = {ev["item_id"] for ev in by_user[user]}
    item = next(it["item_id"] for it in ml_sample.items if it["item_id"] not in seen)
    extra = {"event_id": f"{prefix}after-restart", "user_id": user, "item_id": item,
             "ts": max(ev["ts"] for ev in by_user[user]) + 60.0, "rating": 3.0}
    producer.events([extra])
    want_after = expected_profiles(ml_sample.items, [*ml_sample.events, extra])
    recs.wait_for(lambda rs: extra["event_id"] in {r.value["trigger_event_id"] for r in rs},
                  60, "the recommendation for the event sent after the restart")
    changelog.wait_for(
        lambda rs: (last_per_key(rs).get(stored_key(user)) or {}).get("ts") == extra["ts"], 30,
        f"{user}'s profile after the restart")
    changelog.drain(quiet_s=2.0)
    after = by_raw_user(changelog.records, want_after)
    diff = profile_diff(after[user], want_after[user])
    assert diff is None, (f"{user}'s profile after restart + 1 event: {diff} "
                          f"(n={after[user]['n']}; before restart n={before[user]['n']})")
    others = {u: d for u, p in want_after.items()
              if u != user and (d := profile_diff(after.get(u), p))}
    assert not others, f"other users' profiles changed across the restart: {others}"
    # Exactly one recommendation per event: nothing was replayed into a second record.
    triggers_seen = [r.value["trigger_event_id"] for r in recs.drain(quiet_s=1.0)]
    assert len(triggers_seen) == len(set(triggers_seen)), "events re-triggered after restart"

    # The latest-recommendation table was recovered too.
    other = next(u for u, rs in recs.by_user().items() if u != user)
    status, body = worker.get(f"/recommendations/{other}")
    assert status == 200, body
    assert body == recs.by_user()[other][-1]
