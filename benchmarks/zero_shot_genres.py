"""How well zero-shot classification recovers hidden MovieLens genres from the item text.

    .venv/bin/python benchmarks/zero_shot_genres.py [ML100K_FOLDER] [--device cpu|cuda]

Every ML-100K movie's genres are hidden; recstream/core/classify.py picks the nearest of the
18 genre names ("unknown" left out) for its text, which in ML-100K is the title only (with
the year), so this is a hard, lower-bound setting. Prints JSON: top-1 accuracy (the picked
genre is one of the movie's genres), top-3 hit rate (any of the 3 picked is), for two
phrasings of the label ("{genre}" and "a {genre} movie"), and in the same run the baseline
of always answering the most frequent genre(s).
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

from recstream.core.catalogue import item_text
from recstream.core.classify import ZeroShotClassifier
from recstream.datasets.movielens import ml100k_items
from recstream.llm.model import Encoder

DEFAULT = Path("/work/shared/datasets/ml-100k")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("folder", nargs="?", type=Path, default=DEFAULT)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    items = [it for it in ml100k_items(args.folder) if set(it.tags) - {"unknown"}]
    truth = [set(it.tags) - {"unknown"} for it in items]
    labels = sorted({g for t in truth for g in t})
    texts = [item_text({"title": it.title, "description": it.description}) for it in items]
    freq = Counter(g for t in truth for g in t)
    common = [g for g, _ in freq.most_common(3)]
    out: dict = {"folder": str(args.folder), "movies": len(items), "genres": len(labels),
                 "baseline_most_frequent": {
                     "genres": common,
                     "top1_accuracy": sum(common[0] in t for t in truth) / len(truth),
                     "top3_hit_rate": sum(bool(t & set(common)) for t in truth) / len(truth)}}
    enc = Encoder(device=args.device)
    for template in ("{}", "a {} movie"):
        t0 = time.perf_counter()
        clf = ZeroShotClassifier(enc.encode, top=3, template=template)
        picked = clf.classify_many(texts, labels)
        out[f"zero_shot '{template}'"] = {
            "top1_accuracy": sum(p[0] in t for p, t in zip(picked, truth, strict=True))
            / len(truth),
            "top3_hit_rate": sum(bool(set(p) & t) for p, t in zip(picked, truth, strict=True))
            / len(truth),
            "predicted_top1": dict(Counter(p[0] for p in picked).most_common(5)),
            "seconds": round(time.perf_counter() - t0, 2)}
    out["model"], out["device"] = enc.name, enc.device
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
