"""Review sentiment: a score in [-1, 1] (negative < 0 < positive) for a review text.

Two scorers, measured against the Magazine star ratings in benchmarks/sentiment_agreement.py
(figures in EVALUATION.md):

- :class:`Vader` — VADER's compound score (Hutto & Gilbert 2014): a rule-based lexicon that
  ships inside the ``vaderSentiment`` package, no model, ~1 ms a review.
- :class:`ZeroShot` — the sentence encoder (default all-MiniLM-L6-v2) with no training:
  cos(review, positive prototypes) − cos(review, negative prototypes), prototypes being
  short sentences such as "this is great" / "this is terrible" (mean of their unit vectors).

Zero-shot agrees clearly better with the stars (Spearman 0.50 vs 0.19 on Magazine), but it is
one transformer forward pass per review inside the profile stage's event loop (tens of ms on
a CPU, against ~1 ms), so the default (``profile.review_sentiment``) is 'vader' and
'zero_shot' is one setting away, for workers that can afford it.

Both are plain callables ``str -> float``; no Kafka, no I/O beyond loading the lexicon or model.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import numpy as np

from recstream.settings import ProfileSettings

#: VADER's own convention: compound ≤ −0.05 is negative, ≥ 0.05 positive.
VADER_NEGATIVE = -0.05

POSITIVE_PROTOTYPES = ("this is great", "I love it, excellent", "very good, highly recommended")
NEGATIVE_PROTOTYPES = ("this is terrible", "I hate it, awful", "very bad, a waste of money")

Encode = Callable[[Sequence[str]], np.ndarray]  # texts -> unit vectors, shape (n, dim)


class Vader:
    """VADER compound score in [-1, 1]; an empty text scores 0."""

    def __init__(self) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self._analyzer = SentimentIntensityAnalyzer()

    def __call__(self, text: str) -> float:
        if not text or not text.strip():
            return 0.0
        return float(self._analyzer.polarity_scores(text)["compound"])


class ZeroShot:
    """cos(text, mean positive prototype) − cos(text, mean negative prototype), in [-2, 2]
    in principle and a few tenths in practice; ``encode`` returns unit vectors."""

    def __init__(self, encode: Encode, positive: Sequence[str] = POSITIVE_PROTOTYPES,
                 negative: Sequence[str] = NEGATIVE_PROTOTYPES) -> None:
        self.encode = encode
        self.direction = _unit(encode(list(positive)).mean(axis=0)) - _unit(
            encode(list(negative)).mean(axis=0))

    def __call__(self, text: str) -> float:
        return float(self.many([text])[0])

    def many(self, texts: Sequence[str]) -> np.ndarray:
        """Scores of many texts (one encoder call, batched by the encoder)."""
        return np.asarray(self.encode(list(texts)), dtype=np.float64) @ self.direction


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


@functools.cache
def vader() -> Vader:
    """The process's one VADER analyser (loading the lexicon takes ~50 ms)."""
    return Vader()


@functools.cache
def zero_shot() -> ZeroShot:
    """The process's zero-shot scorer over the bundled encoder (loaded on first use)."""
    from recstream.core.classify import lazy_encoder

    return ZeroShot(lazy_encoder())


def review_sentiment(text: str | None, method: str) -> float:
    """The score the profile stage uses for a review ('vader': VADER's compound;
    'zero_shot': :class:`ZeroShot`), or 0 (neutral) when there is no text or ``method`` is
    'off'."""
    if not text or method == "off":
        return 0.0
    if method == "vader":
        return vader()(text)
    if method == "zero_shot":
        return zero_shot()(text)
    raise ValueError(f"unknown review sentiment method {method!r}; use 'zero_shot', 'vader' "
                     "or 'off'")


def negative_review(text: str | None, cfg: ProfileSettings) -> bool:
    """Whether the profile stage treats this review as negative (its event then lowers the
    user's interest in the item's terms): score < ``cfg.negative_review_below``."""
    return bool(text) and review_sentiment(text, cfg.review_sentiment) < cfg.negative_review_below
