"""The item graph through the real broker: a user who took X is offered what other users took
with X and after X, with X named in the reason (issue 17, item 7)."""

from __future__ import annotations

import time

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

ITEMS = [{"item_id": "X", "title": "Alpha Centauri"},
         {"item_id": "Y", "title": "Bravo Delta"},
         {"item_id": "Z", "title": "Charlie Echo"},
         {"item_id": "W", "title": "Foxtrot Golf"}]


def test_a_user_who_took_x_gets_what_came_with_and_after_x(cluster, producer,
                                                           reader) -> None:
    cluster.start(1)
    recs = reader("recommendations")
    producer.items(ITEMS)
    t0 = time.time() - 3600
    events = []
    for n in range(6):  # six users take X, then Y; two of them also take W, unrelated to X
        user = f"u{n}"
        events += [{"event_id": f"{user}-x", "user_id": user, "item_id": "X", "ts": t0 + n},
                   {"event_id": f"{user}-y", "user_id": user, "item_id": "Y",
                    "ts": t0 + n + 0.5}]
    events += [{"event_id": f"w{n}", "user_id": f"w{n}", "item_id": "W", "ts": t0 + 10 + n}
               for n in range(4)]  # W is the most popular single item
    producer.events(events, kind="clicks")
    recs.wait_for(lambda rs: {e["event_id"] for e in events}
                  <= {r.value["trigger_event_id"] for r in rs}, 90, "every warm-up record")
    time.sleep(3.0)  # the index agent's graph entries reach this worker's replica
    producer.events([{"event_id": "fan-x", "user_id": "fan", "item_id": "X",
                      "ts": t0 + 100}], kind="clicks")
    recs.wait_for(lambda rs: any(r.value["trigger_event_id"] == "fan-x" for r in rs), 60,
                  "the new user's record")
    record = next(r.value for r in recs.records if r.value["trigger_event_id"] == "fan-x")
    by_id = {i["item_id"]: i for i in record["items"]}
    assert "X" not in by_id  # seen
    y = by_id["Y"]
    assert y["signals"]["cooc"] > 0 and y["signals"]["seq"] > 0
    assert any("Alpha Centauri" in reason for reason in y["reasons"]), y["reasons"]
    # W was taken by others, never with X: no graph signal and no graph reason
    w = by_id.get("W")
    if w is not None:
        assert w["signals"].get("cooc", 0.0) == 0.0
        assert not any("Alpha Centauri" in reason for reason in w["reasons"])
    # the item graph outranks popularity here: Y, which came with X, is above W
    ranked = [i["item_id"] for i in record["items"]]
    assert ranked.index("Y") < ranked.index("W") if "W" in ranked else True
