"""Choose the rating model's settings on validation slices of the training data only.

For each training set (ML-100K u1..u5.base; the Magazine 5-core's temporal training part)
the last 20 % of every user's training ratings (``splits.temporal_split``, the protocol's
own per-user split) validate and the rest is streamed through ``RatingModel`` once, in
stream order; the test folds are never read. Prints one JSON line per setting: validation
RMSE per dataset and their mean.

    PYTHONPATH=. .venv/bin/python benchmarks/rating_tune.py [ML100K_DIR] [MAGAZINE_DIR] \
        [--grid 'factors=32,64 reg=0.02,0.05'] [--folds 5]
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import random
import sys
import time

from recstream.core.rating import RatingModel
from recstream.datasets import load_dataset, ml100k_folds
from recstream.eval.splits import temporal_split
from recstream.settings import RatingSettings


def random_split(rows: list, share: float = 0.2, seed: int = 0) -> tuple[list, list]:
    """A seeded random ``share`` of ``rows`` validates (the way u1..u5 were drawn); the rest
    trains, in stream order."""
    held = set(random.Random(seed).sample(range(len(rows)), round(share * len(rows))))
    return ([x for n, x in enumerate(rows) if n not in held],
            [x for n, x in enumerate(rows) if n in held])


def validation_sets(ml: str, magazine: str, folds: int, holdout: str) -> dict[str, list]:
    out: dict[str, list] = {}
    for n, (train, _) in enumerate(ml100k_folds(ml)[:folds], 1):
        out[f"ml-100k/u{n}"] = random_split(train) if holdout == "random" else \
            temporal_split(train)
    if magazine:
        train, _ = temporal_split(load_dataset(magazine).interactions)
        out["magazine"] = temporal_split(train)
    return out


def score(cfg: RatingSettings, train: list, valid: list) -> float:
    model = RatingModel(cfg)
    for x in train:
        model.update(x.user_id, x.item_id, x.rating, x.ts)
    se = sum((x.rating - model.predict(x.user_id, x.item_id)) ** 2 for x in valid)
    return math.sqrt(se / len(valid))


def _cast(base: RatingSettings, key: str, value: str) -> object:
    current = getattr(base, key)
    if isinstance(current, bool):
        return value.lower() in ("1", "true", "yes")
    return value if isinstance(current, str) else type(current)(value)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("ml100k", nargs="?", default="../shared/datasets/ml-100k")
    ap.add_argument("magazine", nargs="?",
                    default="../shared/datasets/amazon2018-magazine-subscriptions-5core")
    ap.add_argument("--grid", default="", help="space-separated field=v1,v2 lists")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--holdout", choices=("random", "temporal"), default="random",
                    help="ML-100K validation slice: a random 20 %% of each training fold "
                    "(as its test folds were drawn) or each user's last 20 %%")
    args = ap.parse_args()
    sets = validation_sets(args.ml100k, args.magazine, args.folds, args.holdout)
    axes = [(k, [_cast(RatingSettings(), k, v) for v in vs.split(",")])
            for k, vs in (a.split("=") for a in args.grid.split())]
    for values in itertools.product(*(vs for _, vs in axes)):
        cfg = RatingSettings(**dict(zip([k for k, _ in axes], values, strict=True)))
        started = time.monotonic()
        rmse = {name: score(cfg, tr, va) for name, (tr, va) in sets.items()}
        ml = [v for k, v in rmse.items() if k.startswith("ml-100k")]
        row = {**dict(zip([k for k, _ in axes], values, strict=True)),
               "ml100k": sum(ml) / len(ml), "magazine": rmse.get("magazine"),
               "seconds": round(time.monotonic() - started, 1)}
        print(json.dumps(row), flush=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
