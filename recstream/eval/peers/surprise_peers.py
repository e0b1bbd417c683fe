"""Surprise rating predictors (library defaults, fixed seeds) on our own train/test lists."""

from __future__ import annotations

from collections.abc import Sequence

import surprise

from recstream.datasets.model import Interaction


def _svd() -> surprise.AlgoBase:
    return surprise.SVD(random_state=0)


def _svdpp() -> surprise.AlgoBase:
    return surprise.SVDpp(random_state=0, cache_ratings=True)


def _knn() -> surprise.AlgoBase:
    return surprise.KNNBasic(verbose=False)  # user-based, MSD similarity, k=40


FACTORIES = {"surprise_svd": _svd, "surprise_svdpp": _svdpp, "surprise_knn": _knn}


def predict(algo: surprise.AlgoBase, train: Sequence[Interaction], test: Sequence[Interaction],
            scale: tuple[float, float]) -> list[float]:
    """Fit ``algo`` on ``train`` and predict each test rating (clipped to ``scale`` by
    Surprise; unknown users or items get its default, the global mean)."""
    data = surprise.Dataset(surprise.Reader(rating_scale=scale))
    trainset = data.construct_trainset([(x.user_id, x.item_id, x.rating, None) for x in train])
    algo.fit(trainset)
    return [float(algo.predict(x.user_id, x.item_id, r_ui=x.rating).est) for x in test]
