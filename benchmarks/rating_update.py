"""Per-rating cost of the streaming rating model (recstream/core/rating.py), in process.

Streams synthetic ratings (``--users`` × ``--items``, uniformly drawn pairs, ratings 1..5)
through ``RatingModel.update`` with the given settings and reports CPU µs per update
(``time.process_time`` over the ratings after a warm-up, median of ``--runs``), µs per
``predict``, and the model's state size. The cost is O((1 + replay) · factors): it does not
grow with users, items or ratings seen, which ``--users`` / ``--items`` let one check.

    PYTHONPATH=. .venv/bin/python benchmarks/rating_update.py [--ratings 30000] \
        [--users 1000] [--items 1000] [--factors 64] [--replay 20] [--buffer 20000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

from recstream.core.rating import RatingModel
from recstream.settings import RatingSettings


def run(cfg: RatingSettings, users: int, items: int, n: int, warm: int, seed: int
        ) -> tuple[float, float, RatingModel]:
    rng = np.random.default_rng(seed)
    us, its = rng.integers(0, users, n + warm), rng.integers(0, items, n + warm)
    rs = rng.integers(1, 6, n + warm).astype(float)
    keys_u = [f"u{x}" for x in us]
    keys_i = [f"i{x}" for x in its]
    model = RatingModel(cfg)
    for k in range(warm):
        model.update(keys_u[k], keys_i[k], rs[k], float(k))
    started = time.process_time()
    for k in range(warm, warm + n):
        model.update(keys_u[k], keys_i[k], rs[k], float(k))
    update_us = (time.process_time() - started) / n * 1e6
    started = time.process_time()
    for k in range(n):
        model.predict(keys_u[k], keys_i[k])
    return update_us, (time.process_time() - started) / n * 1e6, model


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ratings", type=int, default=30000)
    ap.add_argument("--warm", type=int, default=20000)
    ap.add_argument("--users", type=int, default=1000)
    ap.add_argument("--items", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=3)
    for field in ("factors", "replay", "buffer"):
        ap.add_argument(f"--{field}", type=int, default=getattr(RatingSettings(), field))
    args = ap.parse_args()
    cfg = RatingSettings(factors=args.factors, replay=args.replay, buffer=args.buffer)
    runs = [run(cfg, args.users, args.items, args.ratings, args.warm, seed)
            for seed in range(args.runs)]
    model = runs[-1][2]
    state = (model.users.bias.nbytes + model.users.vec.nbytes + model.items.bias.nbytes
             + model.items.vec.nbytes + model.buf_u.nbytes + model.buf_i.nbytes
             + model.buf_r.nbytes)
    print(json.dumps({"factors": cfg.factors, "replay": cfg.replay, "buffer": cfg.buffer,
                      "users": args.users, "items": args.items, "ratings": args.ratings,
                      "update_us": round(statistics.median(r[0] for r in runs), 1),
                      "predict_us": round(statistics.median(r[1] for r in runs), 1),
                      "state_mib": round(state / 2**20, 2)}))


if __name__ == "__main__":
    main()
