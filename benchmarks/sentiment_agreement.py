"""Which review-sentiment scorer agrees better with the star ratings: VADER or zero-shot MiniLM.

    .venv/bin/python benchmarks/sentiment_agreement.py [REVIEWS_FILE] [--device cpu|cuda]

Reads an Amazon 2018 reviews file (default: the Magazine Subscriptions 5-core), scores every
review with a text (``summary`` + ``reviewText``, as the loader joins them) with both methods
of recstream/core/sentiment.py and prints JSON: Spearman ρ between score and stars over all
reviews, and, on the reviews with a clear polarity (≥ 4 stars positive, ≤ 2 negative,
3-star reviews left out), accuracy and balanced accuracy of "score ≥ threshold ⇒ positive"
and recall / precision of the negative class (what the profile stage acts on). Thresholds:
VADER −0.05 (its documented convention), zero-shot 0; the zero-shot score's best-possible
threshold on this data is reported too (an optimistic ceiling, chosen on the test data), and
``curve`` gives negative precision / recall at several thresholds for each method (a false
"negative" subtracts a liked item's terms, so the profile stage wants precision).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

from recstream.core.sentiment import VADER_NEGATIVE, Vader, ZeroShot
from recstream.datasets.amazon import amazon_interactions
from recstream.llm.model import Encoder

DEFAULT = Path("/work/shared/datasets/amazon2018-magazine-subscriptions-5core/"
               "Magazine_Subscriptions_5.json.gz")


def polarity(scores: np.ndarray, stars: np.ndarray, threshold: float) -> dict[str, float]:
    clear = (stars >= 4) | (stars <= 2)
    s, pos = scores[clear], stars[clear] >= 4
    pred_pos = s >= threshold
    tpr = float((pred_pos & pos).sum() / max(pos.sum(), 1))
    tnr = float((~pred_pos & ~pos).sum() / max((~pos).sum(), 1))
    neg_pred = ~pred_pos
    return {"n_clear": int(clear.sum()), "n_negative": int((~pos).sum()),
            "accuracy": float((pred_pos == pos).mean()), "balanced_accuracy": (tpr + tnr) / 2,
            "negative_recall": tnr,
            "negative_precision": float((neg_pred & ~pos).sum() / max(neg_pred.sum(), 1))}


def best_threshold(scores: np.ndarray, stars: np.ndarray) -> tuple[float, float]:
    """The threshold with the highest balanced accuracy (a ceiling, fitted on this data)."""
    best = (-1.0, 0.0)
    for t in np.quantile(scores, np.linspace(0.01, 0.99, 99)):
        b = polarity(scores, stars, float(t))["balanced_accuracy"]
        best = max(best, (b, float(t)))
    return best[1], best[0]


def curve(scores: np.ndarray, stars: np.ndarray, thresholds: list[float]) -> dict[str, dict]:
    out = {}
    for t in thresholds:
        p = polarity(scores, stars, t)
        out[f"{t:g}"] = {k: round(p[k], 4) for k in ("negative_precision", "negative_recall",
                                                     "balanced_accuracy")}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("reviews", nargs="?", type=Path, default=DEFAULT)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    rows = [(x.review, x.rating) for x in amazon_interactions(args.reviews)
            if x.review and x.rating is not None]
    texts = [t for t, _ in rows]
    stars = np.array([r for _, r in rows], dtype=float)
    out: dict = {"reviews": str(args.reviews), "n": len(rows),
                 "stars": {str(k): int((stars == k).sum()) for k in range(1, 6)}}

    t0 = time.perf_counter()
    vader = Vader()
    v = np.array([vader(t) for t in texts])
    out["vader"] = {"seconds": round(time.perf_counter() - t0, 2),
                    "curve": curve(v, stars, [-0.5, -0.3, -0.05, 0.0, 0.3]),
                    "spearman": float(spearmanr(v, stars).statistic),
                    "threshold": VADER_NEGATIVE, **polarity(v, stars, VADER_NEGATIVE)}

    t0 = time.perf_counter()
    enc = Encoder(device=args.device)
    z = ZeroShot(enc.encode).many(texts)
    t, b = best_threshold(z, stars)
    out["zero_shot_minilm"] = {"seconds": round(time.perf_counter() - t0, 2),
                               "model": enc.name, "device": enc.device,
                               "spearman": float(spearmanr(z, stars).statistic),
                               "threshold": 0.0, **polarity(z, stars, 0.0),
                               "best_threshold": round(t, 4),
                               "best_balanced_accuracy": b,
                               "curve": curve(z, stars, [-0.1, -0.07, -0.05, -0.03, 0.0])}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
