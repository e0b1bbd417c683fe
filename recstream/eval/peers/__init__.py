"""Classic peers run on the identical split in the same run (optional extra ``peers``).

``rating_peers`` (Surprise SVD, SVD++, KNNBasic) serve ``split``; ``ranking_peers`` (implicit's
ALS, BPR and item-kNN, and the streaming co-occurrence kNN ``cooc_knn``) serve ``loo`` and
``prequential``. A peer whose library is missing is
reported as unavailable with the reason instead of failing the run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

INSTALL_HINT = "pip install 'recstream[peers]'"


def rating_peers() -> tuple[dict[str, Callable[[], Any]], dict[str, str]]:
    """Factories of Surprise algorithms by report name, and the unavailable ones."""
    try:
        from recstream.eval.peers.surprise_peers import FACTORIES
    except ImportError as e:
        reason = f"scikit-surprise is not installed ({e.name}); {INSTALL_HINT}"
        return {}, dict.fromkeys(("surprise_svd", "surprise_svdpp", "surprise_knn"), reason)
    return dict(FACTORIES), {}


def ranking_peers() -> tuple[dict[str, Callable[[], Any]], dict[str, str]]:
    """Factories of implicit models and the streaming co-occurrence kNN (no extra library)
    by report name, and the unavailable ones."""
    from recstream.eval.peers.cooc_knn import CoocKnnPeer

    own: dict[str, Callable[[], Any]] = {"cooc_knn": CoocKnnPeer}
    try:
        from recstream.eval.peers.implicit_peers import FACTORIES
    except ImportError as e:
        reason = f"implicit is not installed ({e.name}); {INSTALL_HINT}"
        return own, dict.fromkeys(("implicit_als", "implicit_bpr", "implicit_itemknn"), reason)
    return {**FACTORIES, **own}, {}
