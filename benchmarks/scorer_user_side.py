"""Which LLM user side ranks better: leave-last-out on MovieLens 100K (or any dataset).

    .venv/bin/python benchmarks/scorer_user_side.py [DATASET] [USERS]

Per sampled user the last interaction is the target, ranked by the LLM score among 99 random
unseen items; prints HR@10 and MRR of the ``mean`` and ``text`` user sides as JSON.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from recstream.datasets import item_record, load_dataset
from recstream.llm.bench import leave_last_out
from recstream.llm.model import Encoder
from recstream.llm.scoring import ItemEmbeddings


def main() -> None:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/datasets/ml-100k")
    users = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    ds = load_dataset(path)
    items = ItemEmbeddings(Encoder(device="cpu"))
    for it in ds.items:
        items.upsert(item_record(it))
    t0 = time.perf_counter()
    res = leave_last_out(items, ds.interactions, users=users)
    print(json.dumps({"dataset": str(path), "users": users, "items": len(items),
                      "seconds": round(time.perf_counter() - t0, 1), **res}))


if __name__ == "__main__":
    main()
