"""MMR in the live rank stage and ILD / novelty on ``metrics``, through the real broker.

One worker (1 partition), two variants of equal share: ``diverse`` re-ranks with
``mmr_lambda`` 0.2, ``plain`` does not. The MovieLens sample's 300 ratings go in, then a
sentinel event ten days later closes every feedback window. Checked against what a user sees
in the published records, with the item vectors recomputed here from the same catalogue:

- ``plain`` lists are in blend-score order; every ``diverse`` list satisfies the greedy MMR
  choice at each position among its shown items, and some are not in score order;
- per variant, the windows' ``ild_sum`` / ``ild_lists`` add up to the ILD of that variant's
  published lists, and every window has a novelty.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from recstream.core.catalogue import Catalogue
from recstream.core.diversity import item_vectors
from recstream.eval.metrics import intra_list_diversity
from recstream.settings import VariantSettings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

LAM = 0.2
VARIANTS = [VariantSettings(name="plain", share=0.5),
            VariantSettings(name="diverse", share=0.5, mmr_lambda=LAM)]


def is_mmr_order(items: list[dict], vec: dict[str, np.ndarray]) -> bool:  # type: ignore[type-arg]
    """Each shown item's MMR gain, at its turn, is at least every later shown item's."""
    ids = [i["item_id"] for i in items]
    score = {i["item_id"]: float(i["score"]) for i in items}

    def sim(a: str, b: str) -> float:
        return float(vec[a] @ vec[b]) if a in vec and b in vec else 0.0

    for n, item in enumerate(ids):
        def gain(x: str, n: int = n) -> float:
            return LAM * score[x] - (1 - LAM) * max((sim(x, c) for c in ids[:n]), default=0.0)
        if any(gain(later) > gain(item) + 1e-5 for later in ids[n + 1:]):
            return False
    return True


def test_mmr_variant_and_diversity_metrics_live(cluster, producer, reader, ml_sample) -> None:
    w = cluster.worker()
    w.env_extra = {
        "RECSTREAM_TOPICS__PARTITIONS": "1",
        "RECSTREAM_AB__VARIANTS": json.dumps([v.model_dump() for v in VARIANTS]),
        "RECSTREAM_FEEDBACK__ILD_EVERY": "1",  # every list's ILD, to check each one
    }
    w.start().wait_healthy()
    recs, metrics = reader("recommendations"), reader("metrics")
    producer.items(ml_sample.items)
    producer.events(ml_sample.events)
    triggers = {e["event_id"] for e in ml_sample.events}
    recs.wait_for(lambda rs: len(triggers & {r.value["trigger_event_id"] for r in rs})
                  >= len(triggers), 180, "a recommendation per event")
    last = max(float(e["ts"]) for e in ml_sample.events)
    producer.events([{"event_id": "zz-flush", "user_id": "zz-flush",
                      "item_id": ml_sample.items[0]["item_id"], "ts": last + 10 * 86400}],
                    kind="clicks")
    metrics.wait_for(lambda rs: {"plain", "diverse"} <= {r.value["variant"] for r in rs}, 60,
                     "feedback windows of both variants")
    metrics.drain(3.0)

    catalogue = Catalogue()
    for it in ml_sample.items:
        catalogue.upsert(it)
    published = {r.value["trigger_event_id"]: r.value for r in recs.records
                 if r.value["trigger_event_id"] in triggers}
    ild = {"plain": [], "diverse": []}  # type: dict[str, list[float]]
    reordered = 0
    for rec in published.values():
        items = rec["items"]
        scores = [i["score"] for i in items]
        vec = item_vectors(catalogue, [i["item_id"] for i in items])
        if rec["variant"] == "plain":
            assert scores == sorted(scores, reverse=True)
        else:
            assert is_mmr_order(items, vec), rec
            reordered += scores != sorted(scores, reverse=True)
        if len(items) >= 2:
            width = next(iter(vec.values())).shape[0] if vec else 1
            rows = np.array([vec.get(i["item_id"], np.zeros(width)) for i in items])
            ild[rec["variant"]].append(intra_list_diversity(rows, normalize=False))
    assert reordered > 0  # MMR changed some lists
    windows = [r.value for r in metrics.records]
    for variant in ("plain", "diverse"):
        mine = [m for m in windows if m["variant"] == variant]
        assert sum(m["ild_lists"] for m in mine) == len(ild[variant])
        assert sum(m["ild_sum"] for m in mine) == pytest.approx(sum(ild[variant]), rel=1e-6)
        assert all(m["novelty"] is not None and m["novelty"] > 0 for m in mine)
    assert np.mean(ild["diverse"]) > np.mean(ild["plain"])
