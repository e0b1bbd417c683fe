"""``loo``: leave-one-out top-N with full ranking.

Per user, interactions by (ts, item id); the last is the test item, the rest train (users
with fewer than 2 are skipped). All training interactions are replayed once, in stream order;
then every test user is scored once: the user's signals are computed with the production
settings and blended per variant over every catalogue item the user has not interacted with
in training (no sampled negatives). Peers score the identical candidates.
"""

from __future__ import annotations

import numpy as np

from recstream.datasets.model import Interaction
from recstream.eval.job import Job, Outcome
from recstream.eval.peers import ranking_peers
from recstream.eval.ranking import Averages, metrics_full, top_ids
from recstream.eval.replay import Replay
from recstream.eval.signals import ItemSpace, full_scores, user_signals
from recstream.eval.splits import loo_split


def run(job: Job) -> Outcome:
    ds, k = job.dataset, job.k
    train, test = loo_split(ds.interactions)
    half_lives = {cfg.trending_half_life_s for cfg in job.variants.values()}
    replay = Replay(ds.items, ds.format, job.profile, job.recommend, half_lives)
    tick = job.reporter.stage("replay training", len(train))
    for n, x in enumerate(train, 1):
        replay.ingest(x)
        if n % 500 == 0 or n == len(train):
            tick(n)
    space = ItemSpace(replay.catalogue_ids)
    popularity = {h: space.dense(replay.popularity_all(h)) for h in half_lives}
    users = sorted(test)
    masks = {u: candidates(space, replay.profile(u).items) for u in users}
    out = Outcome()
    avg = {name: Averages(len(space)) for name in job.variants}
    tick = job.reporter.stage("rank users", len(users))
    for n, user in enumerate(users, 1):
        sig = user_signals(user, replay.profile(user), replay.view, job.recommend,
                           content_pool=len(space))
        target = space.pos.get(test[user].item_id)
        for name, cfg in job.variants.items():
            scores = full_scores(space, sig, popularity[cfg.trending_half_life_s], masks[user],
                                 cfg)
            avg[name].add(metrics_full(scores, masks[user], target, k),
                          top_ids(space, scores, masks[user], k))
        tick(n)
    for name, a in avg.items():
        out.results[name] = {**a.result(), "users": float(a.n)}
    repeats = sum(1 for u in users if not masks[u][space.pos[test[u].item_id]])
    if repeats:
        out.notes.append(f"{repeats} users' test item was already among their training items "
                         "(a repeat interaction): counted as misses for every method")
    if job.peers:
        out.merge(_peers(job, train, test, users, space, masks))
    return out


def candidates(space: ItemSpace, seen: dict[str, float] | set[str]) -> np.ndarray:
    """Every catalogue position except the user's own training items."""
    mask = np.ones(len(space), dtype=bool)
    for i in seen:
        p = space.pos.get(i)
        if p is not None:
            mask[p] = False
    return mask


def _peers(job: Job, train: list[Interaction], test: dict[str, Interaction], users: list[str],
           space: ItemSpace, masks: dict[str, np.ndarray]) -> Outcome:
    factories, missing = ranking_peers()
    out = Outcome(unavailable=missing)
    uidx = {u: n for n, u in enumerate(sorted({x.user_id for x in train} | set(users)))}
    rows: dict[int, list[int]] = {}
    for x in train:
        rows.setdefault(uidx[x.user_id], []).append(space.pos[x.item_id])
    for name, make in factories.items():
        peer = make()
        peer.fit(rows, len(uidx), len(space))
        avg = Averages(len(space))
        tick = job.reporter.stage(name, len(users))
        for n, user in enumerate(users, 1):
            u = uidx[user]
            scores = peer.scores(u, rows.get(u, []))
            avg.add(metrics_full(scores, masks[user], space.pos.get(test[user].item_id), job.k),
                    top_ids(space, scores, masks[user], job.k))
            tick(n)
        out.results[name] = {**avg.result(), "users": float(avg.n)}
    return out
