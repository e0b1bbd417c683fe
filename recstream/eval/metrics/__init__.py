"""Evaluation metrics, one small module each (hand-checked in tests/unit/eval).

Ranking metrics take a ranked list of item ids, the set of relevant items and a cut-off k;
the ``*_at_rank`` forms take the 1-based rank of a single relevant item (None: not ranked),
which is what leave-one-out and prequential evaluation produce. :func:`expected_over_ties`
averages a rank form over a block of tied scores.
"""

from recstream.eval.metrics.coverage import coverage
from recstream.eval.metrics.f1 import f1, f1_at_k, f1_at_rank
from recstream.eval.metrics.hit import hit, hit_at_rank
from recstream.eval.metrics.ild import intra_list_diversity
from recstream.eval.metrics.mae import mae
from recstream.eval.metrics.mrr import reciprocal_rank, reciprocal_rank_at_rank
from recstream.eval.metrics.ndcg import ndcg, ndcg_at_rank
from recstream.eval.metrics.novelty import novelty, self_information
from recstream.eval.metrics.precision import precision, precision_at_rank
from recstream.eval.metrics.recall import recall, recall_at_rank
from recstream.eval.metrics.rmse import rmse
from recstream.eval.metrics.ties import expected_over_ties

__all__ = [
    "coverage",
    "expected_over_ties",
    "f1",
    "f1_at_k",
    "f1_at_rank",
    "hit",
    "hit_at_rank",
    "intra_list_diversity",
    "mae",
    "ndcg",
    "ndcg_at_rank",
    "novelty",
    "precision",
    "precision_at_rank",
    "recall",
    "recall_at_rank",
    "reciprocal_rank",
    "reciprocal_rank_at_rank",
    "rmse",
    "self_information",
]
