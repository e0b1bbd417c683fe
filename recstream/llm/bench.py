"""Measurements of the LLM scorer: batched vs one-request-per-candidate throughput, latency at
a request rate, and which user side ranks better (leave-last-out on a dataset).

Runs the service's own code path (MicroBatcher → score_batch over cached item embeddings)
in-process, without Kafka, so the figures are the scorer's, not the broker's.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from recstream.core.text import term_counts
from recstream.llm.batching import MicroBatcher
from recstream.llm.scoring import ItemEmbeddings, ScoreRequest, score_batch


def _requests(ids: Sequence[str], n: int, k: int, history: int, rng: random.Random
              ) -> list[ScoreRequest]:
    return [ScoreRequest(str(i), f"u{i}", rng.sample(list(ids), k),
                         [(x, 1.0) for x in rng.sample(list(ids), history)],
                         ["drama", "war", "love"]) for i in range(n)]


async def _throughput(items: ItemEmbeddings, reqs: list[ScoreRequest], user_side: str,
                      max_batch: int, max_wait_ms: float) -> tuple[float, float]:
    """(batched candidates/s, unbatched candidates/s) over the same candidates."""
    def handler(rs: Sequence[ScoreRequest]) -> list[dict[str, float]]:
        return score_batch(rs, items, user_side)

    batched: MicroBatcher[ScoreRequest, dict[str, float]] = MicroBatcher(
        handler, max_batch, max_wait_ms)
    single: MicroBatcher[ScoreRequest, dict[str, float]] = MicroBatcher(handler, 1, 0.0)
    n_cands = sum(len(r.items) for r in reqs)
    try:
        t0 = time.perf_counter()
        await asyncio.gather(*(batched.submit(r) for r in reqs))
        batched_s = time.perf_counter() - t0
        per_candidate = [ScoreRequest(f"{r.request_id}-{c}", r.user_id, [c], r.history, r.terms)
                         for r in reqs for c in r.items]
        t0 = time.perf_counter()
        for r in per_candidate:  # one request per candidate, answered one at a time
            await single.submit(r)
        single_s = time.perf_counter() - t0
    finally:
        await batched.close()
        await single.close()
    return n_cands / batched_s, n_cands / single_s


async def _latency(items: ItemEmbeddings, reqs: list[ScoreRequest], user_side: str,
                   max_batch: int, max_wait_ms: float, rate: float) -> list[float]:
    """Latency (ms) of each request submitted open-loop at ``rate`` requests/s."""
    b: MicroBatcher[ScoreRequest, dict[str, float]] = MicroBatcher(
        lambda rs: score_batch(rs, items, user_side), max_batch, max_wait_ms)
    lat: list[float] = []

    async def one(r: ScoreRequest) -> None:
        t0 = time.perf_counter()
        await b.submit(r)
        lat.append((time.perf_counter() - t0) * 1000)

    tasks = []
    start = time.perf_counter()
    try:
        for i, r in enumerate(reqs):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(r)))
        await asyncio.gather(*tasks)
    finally:
        await b.close()
    return lat


def bench_scorer(items: ItemEmbeddings, user_side: str = "mean", requests: int = 200,
                 candidates: int = 30, history: int = 20, max_batch: int = 64,
                 max_wait_ms: float = 5.0, rate: float = 200.0, seed: int = 0
                 ) -> dict[str, Any]:
    """The ``recstream bench scorer`` figures over an already-embedded catalogue."""
    items.flush()
    ids = sorted(items.ids())
    rng = random.Random(seed)
    reqs = _requests(ids, requests, min(candidates, len(ids)), min(history, len(ids)), rng)
    b_cps, u_cps = asyncio.run(_throughput(items, reqs, user_side, max_batch, max_wait_ms))
    lat = asyncio.run(_latency(items, _requests(ids, requests, min(candidates, len(ids)),
                                                min(history, len(ids)), rng),
                               user_side, max_batch, max_wait_ms, rate))
    enc = items.encoder
    return {"batched_cps": round(b_cps, 1), "unbatched_cps": round(u_cps, 1),
            "ratio": round(b_cps / u_cps, 2),
            "latency_ms": {"p50": round(float(np.percentile(lat, 50)), 2),
                           "p99": round(float(np.percentile(lat, 99)), 2)},
            "device": getattr(enc, "device", "cpu"), "model": enc.name,
            "user_side": user_side, "requests": requests, "candidates_per_request": candidates,
            "rate_rps": rate, "max_batch": max_batch, "max_wait_ms": max_wait_ms}


def leave_last_out(items: ItemEmbeddings, interactions: Sequence[Any], users: int = 300,
                   negatives: int = 99, history: int = 20, k: int = 10, seed: int = 0
                   ) -> dict[str, dict[str, float]]:
    """HR@k, NDCG@k and MRR of each user side: per user (``users`` sampled), the last
    interaction is the target, ranked by LLM score among ``negatives`` random unseen items;
    the user side sees the ``history`` interactions before it (weights: rating, or 1)."""
    items.flush()
    by_user: dict[str, list[Any]] = {}
    for x in interactions:  # time order
        by_user.setdefault(x.user_id, []).append(x)
    rng = random.Random(seed)
    eligible = sorted(u for u, xs in by_user.items() if len(xs) > 5)
    chosen = rng.sample(eligible, min(users, len(eligible)))
    ids = sorted(items.ids())
    reqs, targets = [], []
    for u in chosen:
        xs = by_user[u]
        target, past = xs[-1].item_id, xs[:-1][-history:]
        seen = {x.item_id for x in xs}
        cands = [target, *rng.sample([i for i in ids if i not in seen], negatives)]
        weights = [(x.item_id, float(x.rating or 1.0)) for x in past]
        terms = Counter[str]()
        for x in past:
            for t, c in term_counts([items.titles.get(x.item_id, "")]).items():
                terms[t] += c * (x.rating or 1.0)
        reqs.append(ScoreRequest(u, u, cands, weights, [t for t, _ in terms.most_common(10)]))
        targets.append(target)
    out = {}
    for side in ("mean", "text"):
        hits, rr, dcg = 0, 0.0, 0.0
        for r, t, scores in zip(reqs, targets, score_batch(reqs, items, side), strict=True):
            ranked = sorted(r.items, key=lambda i: (-scores.get(i, 0.0), i))
            pos = ranked.index(t) + 1
            hits += pos <= k
            dcg += 1 / math.log2(pos + 1) if pos <= k else 0.0  # one relevant item: IDCG 1
            rr += 1 / pos
        out[side] = {f"HR@{k}": round(hits / len(reqs), 4),
                     f"NDCG@{k}": round(dcg / len(reqs), 4), "MRR": round(rr / len(reqs), 4)}
    return out
