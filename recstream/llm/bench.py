"""Measurements of the LLM scorer: micro-batched vs unbatched throughput over the same
requests, each request's own cost, latency at a request rate, and which user side ranks
better (leave-last-out on a dataset).

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
from concurrent.futures import ThreadPoolExecutor
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


Handler = MicroBatcher[ScoreRequest, dict[str, float]]


async def _timed(b: Handler, reqs: Sequence[ScoreRequest], concurrent: bool, repeats: int
                 ) -> tuple[float, int]:
    """(seconds, candidates scored) for ``reqs`` through ``b``, best of ``repeats``: all
    submitted at once, or each awaited before the next is sent."""
    best, scored = math.inf, 0
    for _ in range(repeats):
        t0 = time.perf_counter()
        if concurrent:
            got = await asyncio.gather(*(b.submit(r) for r in reqs))
        else:
            got = [await b.submit(r) for r in reqs]
        best, scored = min(best, time.perf_counter() - t0), sum(len(g) for g in got)
    return best, scored


async def _throughput(items: ItemEmbeddings, reqs: list[ScoreRequest], user_side: str,
                      max_batch: int, max_wait_ms: float, repeats: int = 3
                      ) -> dict[str, tuple[float, int]]:
    """(seconds, candidates scored) of the same requests three ways, each best of
    ``repeats`` after a warm-up request (the thread hop's pool exists before any timing):
    ``batched`` (sent concurrently, micro-batched), ``per_request`` (sent concurrently, one
    request per handler call: what a service without micro-batching does) and
    ``per_candidate`` (each candidate its own request, awaited one at a time: the lower
    bound the first bench compared with)."""
    def handler(rs: Sequence[ScoreRequest]) -> list[dict[str, float]]:
        return score_batch(rs, items, user_side)

    batched: Handler = MicroBatcher(handler, max_batch, max_wait_ms)
    single: Handler = MicroBatcher(handler, 1, 0.0)
    per_candidate = [ScoreRequest(f"{r.request_id}-{c}", r.user_id, [c], r.history, r.terms)
                     for r in reqs for c in r.items]
    try:
        await batched.submit(reqs[0])
        await single.submit(reqs[0])
        return {"batched": await _timed(batched, reqs, True, repeats),
                "per_request": await _timed(single, reqs, True, repeats),
                "per_candidate": await _timed(single, per_candidate, False, repeats)}
    finally:
        await batched.close()
        await single.close()


def _direct_ms(items: ItemEmbeddings, reqs: Sequence[ScoreRequest], user_side: str,
               repeats: int = 3) -> float:
    """Mean cost (ms) of one request scored alone by ``score_batch``, best of ``repeats``
    passes: no batcher, no queue, no hop per request (the work itself). The loop runs in one
    worker thread, as the service's handler does: on this loaded 2-core machine torch ran a
    forward pass ~10× slower on the main thread than on a worker thread."""
    def passes() -> float:
        score_batch([reqs[0]], items, user_side)  # warm-up
        best = math.inf
        for _ in range(repeats):
            t0 = time.perf_counter()
            for r in reqs:
                score_batch([r], items, user_side)
            best = min(best, time.perf_counter() - t0)
        return best

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(passes).result() / len(reqs) * 1000.0


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
                 max_wait_ms: float = 5.0, rate: float = 200.0, seed: int = 0,
                 repeats: int = 3) -> dict[str, Any]:
    """The ``recstream bench scorer`` figures over an already-embedded catalogue; the
    throughput phases and the direct cost are each the best of ``repeats``."""
    items.flush()
    ids = sorted(items.ids())
    rng = random.Random(seed)
    reqs = _requests(ids, requests, min(candidates, len(ids)), min(history, len(ids)), rng)
    runs = asyncio.run(_throughput(items, reqs, user_side, max_batch, max_wait_ms, repeats))
    direct = _direct_ms(items, reqs, user_side, repeats)
    lat = asyncio.run(_latency(items, _requests(ids, requests, min(candidates, len(ids)),
                                                min(history, len(ids)), rng),
                               user_side, max_batch, max_wait_ms, rate))
    cps = {k: scored / sec for k, (sec, scored) in runs.items()}
    enc = items.encoder
    return {"batched_cps": round(cps["batched"], 1),
            "per_request_cps": round(cps["per_request"], 1),
            "unbatched_cps": round(cps["per_candidate"], 1),
            "ratio": round(cps["batched"] / cps["per_request"], 2),
            "per_candidate_ratio": round(cps["batched"] / cps["per_candidate"], 2),
            "request_ms": {"direct": round(direct, 3),
                           "batched": round(runs["batched"][0] / len(reqs) * 1000, 3),
                           "per_request": round(runs["per_request"][0] / len(reqs) * 1000, 3)},
            "scored": {k: scored for k, (_, scored) in runs.items()},
            "seconds": {k: round(sec, 4) for k, (sec, _) in runs.items()},
            "latency_ms": {"p50": round(float(np.percentile(lat, 50)), 2),
                           "p99": round(float(np.percentile(lat, 99)), 2)},
            "device": getattr(enc, "device", "cpu"), "model": enc.name,
            "user_side": user_side, "requests": requests, "candidates_per_request": candidates,
            "rate_rps": rate, "max_batch": max_batch, "max_wait_ms": max_wait_ms,
            "repeats": repeats}


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
