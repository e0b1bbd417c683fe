"""CPU per event of the default LLM signal in the worker: computed locally from replicated
item embeddings (recstream/llm/embeddings.py) vs the worker's share of the round trip.

    .venv/bin/python benchmarks/llm_local.py [--items 1000] [--candidates 90] [--history 20]

Random unit vectors of the given dimension stand in for the catalogue (the arithmetic does
not depend on the values). Per event: ``mean_scores`` (local), and for the round trip the
work the worker itself does besides Kafka's client: JSON-encode the request and decode a
reply of that size; plus ``score_batch`` for one request (what the scorer spends on it).
Prints µs of CPU per event (``time.process_time``, best of ``--repeats``) as JSON.
"""

from __future__ import annotations

import argparse
import json
import time
import uuid

import numpy as np
import orjson

from recstream.llm.embeddings import EmbeddingIndex, encode, mean_scores
from recstream.llm.scoring import ItemEmbeddings, ScoreRequest, score_batch


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=1000)
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument("--candidates", type=int, default=90)
    ap.add_argument("--history", type=int, default=20)
    ap.add_argument("--events", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    vecs = rng.standard_normal((a.items, a.dim)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    ids = [str(i) for i in range(a.items)]
    index = EmbeddingIndex()
    cache = ItemEmbeddings(None)
    for i, v in zip(ids, vecs, strict=True):
        index.apply(i, encode(v, "bench", 1.0))
        cache._vecs[i] = v  # the scorer's cache, filled without an encoder
    events = []
    for _ in range(a.events):
        pick = rng.choice(a.items, a.candidates + a.history, replace=False)
        events.append(([ids[k] for k in pick[:a.candidates]],
                       [(ids[k], float(rng.integers(1, 6))) for k in pick[a.candidates:]]))

    def best(fn) -> float:  # type: ignore[no-untyped-def]
        times = []
        for _ in range(a.repeats):
            t0 = time.process_time()
            for cands, hist in events:
                fn(cands, hist)
            times.append((time.process_time() - t0) / len(events) * 1e6)
        return round(min(times), 1)

    def round_trip(cands: list[str], hist: list[tuple[str, float]]) -> None:
        orjson.dumps({"request_id": uuid.uuid4().hex, "user_id": "u", "items": cands,
                      "history": hist, "terms": ["t"] * 10, "ts": time.time()})
        orjson.loads(orjson.dumps({"request_id": "r", "user_id": "u", "model": "m",
                                   "scores": dict.fromkeys(cands, 0.123456)}))

    def scorer(cands: list[str], hist: list[tuple[str, float]]) -> None:
        score_batch([ScoreRequest("r", "u", cands, hist)], cache, "mean")

    print(json.dumps({"items": a.items, "dim": a.dim, "candidates": a.candidates,
                      "history": a.history, "us_per_event": {
                          "local_mean_scores": best(lambda c, h: mean_scores(index, h, c)),
                          "round_trip_worker_json": best(round_trip),
                          "scorer_score_batch_1": best(scorer)}}))


if __name__ == "__main__":
    main()
