"""Dynamic int8 vs fp32 MiniLM on this CPU: ranking quality and speed, in one run.

    .venv/bin/python benchmarks/scorer_quantize.py [DATASET] [USERS] [MODEL_DIR]

For each precision (``scorer.quantize`` none / int8): embeds the whole catalogue (texts/s),
then leave-last-out on the same sampled users (the last interaction ranked by the LLM score
among 99 random unseen items; HR@10, NDCG@10, MRR for the ``mean`` and ``text`` user sides),
and the cosine between each item's fp32 and int8 vectors. Speed is also measured on the same
512 texts, alternating fp32 / int8 three times (best of three), so a busy shared CPU biases
neither. Prints one JSON object.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from recstream.datasets import item_record, load_dataset
from recstream.llm.bench import leave_last_out
from recstream.llm.model import Encoder
from recstream.llm.scoring import ItemEmbeddings
from recstream.llm.texts import item_text


def main() -> None:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/datasets/ml-100k")
    users = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    model = sys.argv[3] if len(sys.argv) > 3 else None
    ds = load_dataset(path)
    encoders = {q: Encoder(model, device="cpu", quantize=q) for q in ("none", "int8")}
    caches, out = {}, {}
    for q, enc in encoders.items():
        items = ItemEmbeddings(enc)
        for it in ds.items:
            items.upsert(item_record(it))
        t0 = time.perf_counter()
        items.flush()
        catalogue_s = time.perf_counter() - t0
        caches[q] = items
        out[q] = {"model": enc.name, "catalogue_texts_per_s": round(len(items) / catalogue_s, 1),
                  **leave_last_out(items, ds.interactions, users=users)}
    texts = [item_text(item_record(it)) for it in ds.items[:512]]
    best = {q: float("inf") for q in encoders}
    for _ in range(3):
        for q, enc in encoders.items():
            t0 = time.perf_counter()
            enc.encode(texts)
            best[q] = min(best[q], time.perf_counter() - t0)
    for q in encoders:
        out[q]["texts_per_s_best_of_3"] = round(len(texts) / best[q], 1)
    ids = caches["none"].ids()
    cos = np.array([float(caches["none"].get(i) @ caches["int8"].get(i)) for i in ids])
    print(json.dumps({"dataset": str(path), "users": users, "items": len(ids),
                      "torch_threads": torch.get_num_threads(), **out,
                      "speedup_int8": round(out["int8"]["texts_per_s_best_of_3"]
                                            / out["none"]["texts_per_s_best_of_3"], 2),
                      "cosine_fp32_int8": {"mean": round(float(cos.mean()), 4),
                                           "min": round(float(cos.min()), 4),
                                           "p5": round(float(np.percentile(cos, 5)), 4)}},
                     indent=1))


if __name__ == "__main__":
    main()
