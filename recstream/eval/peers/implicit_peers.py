"""implicit's ALS, BPR and item-kNN as full-catalogue scorers on binary interactions.

Library defaults with fixed seeds and one thread (deterministic; the 2-core machine is
shared), 64 factors for the factor models. A model scores every catalogue position; callers
mask seen items and rank exactly like the pipeline's variants.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence

import numpy as np
from implicit.cpu.als import AlternatingLeastSquares
from implicit.cpu.bpr import BayesianPersonalizedRanking
from implicit.nearest_neighbours import CosineRecommender
from scipy.sparse import csr_matrix
from threadpoolctl import threadpool_limits


def matrix(rows: Mapping[int, Sequence[int]], n_users: int, n_items: int) -> csr_matrix:
    """Binary user × item matrix from each user's item positions."""
    indptr = [0]
    indices: list[int] = []
    for u in range(n_users):
        indices.extend(sorted(set(rows.get(u, ()))))
        indptr.append(len(indices))
    data = np.ones(len(indices), dtype=np.float32)
    return csr_matrix((data, indices, indptr), shape=(n_users, n_items))


class ImplicitPeer:
    """One implicit model: ``fit`` on all interactions so far, ``scores`` for a user given
    the user's current items (which may have grown since the fit)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.model: object | None = None
        self.fitted: csr_matrix | None = None

    def fit(self, rows: Mapping[int, Sequence[int]], n_users: int, n_items: int) -> None:
        m = matrix(rows, n_users, n_items)
        with warnings.catch_warnings(), threadpool_limits(1, "blas"):
            # implicit warns about OpenBLAS threads and converts its own COO matrices
            warnings.simplefilter("ignore")
            model = self._model()
            model.fit(m, show_progress=False)  # type: ignore[attr-defined]
        self.model, self.fitted = model, m

    def _model(self) -> object:
        if self.kind == "als":
            return AlternatingLeastSquares(factors=64, iterations=15, random_state=0,
                                           num_threads=1)
        if self.kind == "bpr":
            return BayesianPersonalizedRanking(factors=64, iterations=100, random_state=0,
                                               num_threads=1)
        return CosineRecommender(K=100, num_threads=1)

    def scores(self, user: int, items: Sequence[int]) -> np.ndarray:
        """A score for every item position (higher is better)."""
        assert self.model is not None and self.fitted is not None
        n_items = self.fitted.shape[1]
        row = matrix({0: items}, 1, n_items)
        if self.kind == "itemknn":
            sim = self.model.similarity  # type: ignore[attr-defined]
            return np.asarray((row @ sim).toarray(), dtype=np.float64).ravel()
        items_f = np.asarray(self.model.item_factors, dtype=np.float64)  # type: ignore[attr-defined]
        fitted = self.fitted[user].indices if user < self.fitted.shape[0] else []
        if self.kind == "als":
            known = len(fitted) and list(fitted) == sorted(set(items))
            uf = (self.model.user_factors[user] if known  # type: ignore[attr-defined]
                  else self.model.recalculate_user(0, row))  # type: ignore[attr-defined]
        elif len(fitted):
            uf = self.model.user_factors[user]  # type: ignore[attr-defined]
        else:  # BPR cannot fold a user in; an unseen user gets the item biases (popularity)
            uf = np.zeros(items_f.shape[1])
            uf[-1] = 1.0
        return items_f @ np.asarray(uf, dtype=np.float64).ravel()


FACTORIES: dict[str, Callable[[], ImplicitPeer]] = {
    "implicit_als": lambda: ImplicitPeer("als"),
    "implicit_bpr": lambda: ImplicitPeer("bpr"),
    "implicit_itemknn": lambda: ImplicitPeer("itemknn"),
}
