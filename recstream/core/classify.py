"""Zero-shot classification of an item's text into the catalogue's known categories.

An item that arrives without tags (genres, categories) gets the known category names whose
embedding is nearest to the embedding of its text (title + description): cosine similarity
with unit vectors from the sentence encoder (default all-MiniLM-L6-v2), no training. The
inferred names become the item's tags, so its terms (and content matching) include them.
Accuracy on MovieLens 100K genres is measured by benchmarks/zero_shot_genres.py
(EVALUATION.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

Encode = Callable[[Sequence[str]], np.ndarray]  # texts -> unit vectors, shape (n, dim)


class ZeroShotClassifier:
    """``classify(text, labels)`` → the ``top`` labels nearest the text, best first.

    Label embeddings are cached by name, so a growing label set costs one encoder call per
    new name. The encoder is given as a function so tests can pass a fake one and the
    worker can load the model lazily (on the first untagged item).
    """

    def __init__(self, encode: Encode, top: int = 1, template: str = "{}") -> None:
        self.encode = encode
        self.top = top
        self.template = template  # e.g. "a {} movie": how a label name is phrased
        self._labels: dict[str, np.ndarray] = {}

    def _label_vectors(self, labels: Sequence[str]) -> np.ndarray:
        new = [lab for lab in labels if lab not in self._labels]
        if new:
            for lab, v in zip(new, self.encode([self.template.format(n) for n in new]),
                              strict=True):
                self._labels[lab] = np.asarray(v, dtype=np.float32)
        return np.stack([self._labels[lab] for lab in labels])

    def scores(self, texts: Sequence[str], labels: Sequence[str]) -> np.ndarray:
        """Cosine of each text (rows) to each label (columns)."""
        return np.asarray(self.encode(list(texts)), dtype=np.float32) @ self._label_vectors(
            labels).T

    def classify_many(self, texts: Sequence[str], labels: Sequence[str]) -> list[list[str]]:
        if not labels or not texts:
            return [[] for _ in texts]
        ordered = sorted(labels)  # ties break by name, whatever the caller's order
        sims = self.scores(texts, ordered)
        k = min(self.top, len(ordered))
        return [[ordered[j] for j in np.argsort(-row, kind="stable")[:k]] for row in sims]

    def __call__(self, text: str, labels: Sequence[str]) -> list[str]:
        return self.classify_many([text], labels)[0]


def lazy_encoder(model: str = "", device: str = "cpu") -> Encode:
    """An :data:`Encode` that loads the sentence encoder (``model`` directory, '' = the
    bundled all-MiniLM-L6-v2) on its first call, so a worker that never needs it never
    pays for it."""
    loaded: list = []

    def encode(texts: Sequence[str]) -> np.ndarray:
        if not loaded:
            from recstream.llm.model import Encoder

            loaded.append(Encoder(model or None, device=device))
        return loaded[0].encode(texts)

    return encode
