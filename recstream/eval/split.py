"""``split``: rating prediction, MAE and RMSE.

MovieLens 100K uses its five predefined folds u1..u5 (base trains, test tests) and reports
the mean over the folds; any other dataset uses one per-user temporal 80/20 split. Each fold
replays its training ratings once; every test user's neighbours are found once with the
production settings, and every variant predicts from the same signals (see ``rating``),
except ``default``: with ``rating.enabled`` it predicts with the streaming rating model
(:mod:`recstream.core.rating`), fed the same training ratings in the same order.
Surprise peers fit and predict the identical lists.
"""

from __future__ import annotations

from collections.abc import Sequence

from recstream.core.candidates import neighbours
from recstream.core.rating import RatingModel
from recstream.datasets import ml100k_folds
from recstream.datasets.model import DatasetError, Interaction
from recstream.eval.job import Job, Outcome
from recstream.eval.metrics import mae, rmse
from recstream.eval.peers import rating_peers
from recstream.eval.rating import ContentKNN, Means, combine, signal_predictions
from recstream.eval.replay import Replay
from recstream.eval.splits import by_user, temporal_split

Fold = tuple[list[Interaction], list[Interaction]]


def folds(job: Job, notes: list[str]) -> list[Fold]:
    """ML-100K's five folds (restricted to the dataset's users, see ``--limit-users``), or
    one per-user temporal 80/20 split (also for a 100K-format folder without fold files)."""
    if job.dataset.format == "ml100k" and job.path is not None:
        try:
            given = ml100k_folds(job.path)
        except DatasetError:
            notes.append("no u1..u5 fold files in the folder: used a per-user temporal 80/20 "
                         "split instead")
        else:
            users = {x.user_id for x in job.dataset.interactions}
            return [([x for x in tr if x.user_id in users], [x for x in te if x.user_id in users])
                    for tr, te in given]
    return [temporal_split(job.dataset.interactions)]


def run(job: Job, given: Sequence[Fold] | None = None) -> Outcome:
    """Mean over folds of every variant's (and peer's) MAE and RMSE."""
    if any(x.rating is None for x in job.dataset.interactions):
        raise ValueError("split needs ratings; this dataset has interactions without one "
                         "(use --protocol loo or prequential)")
    notes: list[str] = []
    chosen = list(given) if given is not None else folds(job, notes)
    if not any(test for _, test in chosen):
        raise ValueError("split left no test ratings: every user has a single interaction")
    per_fold = [_fold(job, train, test, n) for n, (train, test) in enumerate(chosen, 1)]
    out = Outcome(unavailable=per_fold[0].unavailable, notes=notes)
    for name in per_fold[0].results:
        metrics = per_fold[0].results[name]
        out.results[name] = {m: sum(f.results[name][m] for f in per_fold) / len(per_fold)
                             for m in metrics}
        out.results[name]["folds"] = float(len(per_fold))
    return out


def _fold(job: Job, train: list[Interaction], test: list[Interaction], n: int) -> Outcome:
    replay = Replay(job.dataset.items, job.dataset.format, job.profile, job.recommend)
    model = RatingModel(job.rating) if job.rating.enabled and "default" in job.variants else None
    tick = job.reporter.stage(f"fold {n}: replay training", len(train))
    for i, x in enumerate(train, 1):
        replay.ingest(x)
        if model is not None:
            model.update(x.user_id, x.item_id, x.rating, x.ts)  # type: ignore[arg-type]
        if i % 500 == 0 or i == len(train):
            tick(i)
    means = Means(train)
    content = ContentKNN(replay.view)
    actual: list[float] = []
    predicted: dict[str, list[float]] = {name: [] for name in job.variants}
    own = dict.fromkeys(job.variants, 0)
    raw_sum: list[float] = []
    groups = by_user(test)
    tick = job.reporter.stage(f"fold {n}: predict", len(groups))
    for done, (user, rows) in enumerate(groups.items(), 1):
        profile = replay.profile(user)
        nbrs = neighbours(user, profile, replay.view, job.recommend)
        for x in rows:
            preds = signal_predictions(nbrs, profile.items, content, means, x.item_id)
            actual.append(float(x.rating))  # type: ignore[arg-type]
            fb = means.fallback(user, x.item_id)
            raw_sum.append(preds["seed_sum"] if preds["seed_sum"] is not None else fb)
            for name, cfg in job.variants.items():
                if name == "default" and model is not None:
                    # biases alone for a user or item new to the model; support: both known
                    p = model.predict(user, x.item_id)
                    own[name] += model.knows(user, x.item_id)
                else:
                    p = combine(preds, cfg)
                    own[name] += p is not None
                predicted[name].append(means.clip(p if p is not None else fb))
        tick(done)
    out = Outcome()
    for name, ps in predicted.items():
        out.results[name] = {"mae": mae(actual, ps), "rmse": rmse(actual, ps),
                             "support": own[name] / len(actual), "predictions": len(actual)}
        if job.variants[name].cf_form == "seed" and job.variants[name].weight_cf > 0:
            out.results[name]["mae_unmapped"] = mae(actual, raw_sum)
            out.results[name]["rmse_unmapped"] = rmse(actual, raw_sum)
    if job.peers:
        factories, out.unavailable = rating_peers()
        truth = [float(x.rating) for x in test]  # type: ignore[arg-type]
        for name, make in factories.items():
            from recstream.eval.peers.surprise_peers import predict

            tick = job.reporter.stage(f"fold {n}: {name}", 1)
            ps = predict(make(), train, test, means.scale)
            tick(1)
            out.results[name] = {"mae": mae(truth, ps), "rmse": rmse(truth, ps),
                                 "support": 1.0, "predictions": len(test)}
    return out
