"""The feedback agent and A/B variants through the real broker, with exact expected metrics.

One worker (1 partition, so one watermark), two variants A and B of equal share, windows of
600 s, join window 300 s, grace 0, k = 10. Four users (two per variant, by the hash); each
sends one rating at t_u (impression 1), then one click at t_u + 60 (impression 2): users
``c*`` click the top item of impression 1, users ``n*`` an item it did not recommend. A
sentinel event at T0 + 1000 advances the watermark past T0 + 600 + 300 and closes [T0, T0+600).

Expected per variant (1 clicker + 1 non-clicker): 4 impressions, 1 clicked, CTR 1/4,
precision@10 = (1/10) / 4, recall 1/2 and NDCG 1/2 over the 2 impressions with later events.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time

import pytest

from recstream.core import ab
from recstream.settings import VariantSettings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

VARIANTS = [VariantSettings(name="A", share=0.5),
            VariantSettings(name="B", share=0.5, weight_trending=1.0)]
WINDOW_S, JOIN_S = 600.0, 300.0


def pick_users() -> dict[str, str]:
    """user -> variant: a clicker and a non-clicker in each variant."""
    out: dict[str, str] = {}
    for role in ("c", "n"):
        for want in ("A", "B"):
            i = 0
            while ab.assign(f"{role}{want}{i}", VARIANTS).name != want:
                i += 1
            out[f"{role}{want}{i}"] = want
    return out


def test_feedback_metrics_per_variant_are_exact(cluster, producer, reader, ml_sample) -> None:
    started = time.monotonic()
    w = cluster.worker()
    w.env_extra = {
        "RECSTREAM_TOPICS__PARTITIONS": "1",
        "RECSTREAM_AB__VARIANTS": json.dumps([v.model_dump() for v in VARIANTS]),
        "RECSTREAM_FEEDBACK__WINDOW_S": str(WINDOW_S),
        "RECSTREAM_FEEDBACK__JOIN_WINDOW_S": str(JOIN_S),
        "RECSTREAM_FEEDBACK__GRACE_S": "0",
    }
    w.start().wait_healthy()
    recs, metrics = reader("recommendations"), reader("metrics")
    producer.items(ml_sample.items)
    t0 = math.floor((time.time() - 7200) / WINDOW_S) * WINDOW_S
    users = pick_users()
    items = [it["item_id"] for it in ml_sample.items]
    first = {u: {"event_id": f"{u}-1", "user_id": u, "item_id": items[n], "ts": t0 + 10 * n,
                 "rating": 4.0} for n, u in enumerate(users)}
    producer.events(first.values())
    by_trigger = {ev["event_id"]: u for u, ev in first.items()}
    recs.wait_for(lambda rs: set(by_trigger) <= {r.value["trigger_event_id"] for r in rs},
                  45, "a recommendation for each user's first event")
    shown = {by_trigger[r.value["trigger_event_id"]]: r.value for r in recs.records
             if r.value["trigger_event_id"] in by_trigger}
    assert {u: shown[u]["variant"] for u in users} == users
    clicks = []
    for u, ev in first.items():
        top = [i["item_id"] for i in shown[u]["items"]]
        assert top, f"no items recommended to {u}"
        item = top[0] if u.startswith("c") else next(
            i for i in items if i not in top and i != ev["item_id"])
        clicks.append({"event_id": f"{u}-2", "user_id": u, "item_id": item,
                       "ts": ev["ts"] + 60})
    producer.events(clicks, kind="clicks")
    recs.wait_for(lambda rs: {c["event_id"] for c in clicks}
                  <= {r.value["trigger_event_id"] for r in rs}, 30, "second impressions")
    producer.events([{"event_id": "zz-flush", "user_id": "zz-flush", "item_id": items[0],
                      "ts": t0 + 1000}], kind="clicks")
    metrics.wait_for(lambda rs: {"A", "B"} <= {r.value["variant"] for r in rs}, 30,
                     "feedback windows of both variants")
    metrics.drain(1.0)
    got = {r.value["variant"]: r.value for r in metrics.records}
    assert len(metrics.records) == 2 and set(got) == {"A", "B"}
    for v in ("A", "B"):
        m = got[v]
        assert (m["window_start"], m["window_end"], m["k"]) == (t0, t0 + WINDOW_S, 10)
        assert (m["impressions"], m["clicked"], m["hits"], m["relevant"]) == (4, 1, 1, 2)
        assert m["ctr"] == pytest.approx(0.25)
        assert m["precision"] == pytest.approx(0.1 / 4)
        assert m["recall"] == pytest.approx(0.5) and m["ndcg"] == pytest.approx(0.5)
        assert m["mae"] is None and m["catalogue_size"] == len(items)
    status, summary = w.get("/dashboard/api/summary")  # the dashboard's CTR/precision panel
    assert status == 200
    assert sorted((f["variant"], f["window_start"], f["impressions"], f["ctr"])
                  for f in summary["feedback"]) == [("A", t0, 4, 0.25), ("B", t0, 4, 0.25)]
    env = {**os.environ, **w.env_extra, "RECSTREAM_TOPICS__PREFIX": cluster.prefix}
    cmd = [sys.executable, "-m", "recstream", "ab", "report", "-b", cluster.bootstrap]
    out = subprocess.run([*cmd, "--json"], env=env, capture_output=True, text=True, check=True)
    rows = json.loads(out.stdout)["variants"]
    assert (rows["A"]["impressions"], rows["A"]["clicked"], rows["A"]["ctr"]) == (4, 1, 0.25)
    assert rows["B"]["p_value"] == pytest.approx(1.0) and not rows["B"]["significant"]
    text = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    assert "B vs A" in text and "NOT significant" in text
    assert time.monotonic() - started < 90
