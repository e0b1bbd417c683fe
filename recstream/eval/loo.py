"""``loo``: leave-one-out top-N with full ranking.

Per user, interactions by (ts, item id); the last is the test item, the rest train (users
with fewer than 2 are skipped). All training interactions are replayed once, in stream order;
then every test user is scored once: the user's signals are computed with the production
settings and blended per variant over every catalogue item the user has not interacted with
in training (no sampled negatives). Peers score the identical candidates.

Beside accuracy: ``ild`` and ``novelty`` of each top-k list (:mod:`recstream.eval.lists`;
novelty against the training counts) and the cold-start buckets: test items with fewer than
``NEW_ITEM_BELOW`` training interactions (``new_items``) and users with at most
``NEW_USER_EVENTS`` training interactions (``new_users``, the test event is among their
first judged ones). A variant with ``mmr_lambda`` < 1 is judged on its MMR-re-ranked top-k
(taken from its best ``MMR_POOL`` candidates), like prequential.
"""

from __future__ import annotations

import numpy as np

from recstream.datasets.model import Interaction
from recstream.eval.job import Job, Outcome
from recstream.eval.lists import ItemVectors, ListStats
from recstream.eval.llm import LLMSignal
from recstream.eval.peers import ranking_peers
from recstream.eval.ranking import (
    NEW_ITEM_BELOW,
    NEW_USER_EVENTS,
    Averages,
    ColdStart,
    metrics_full,
    metrics_of_list,
    top_ids,
)
from recstream.eval.replay import Replay
from recstream.eval.signals import ItemSpace, full_scores, user_signals
from recstream.eval.splits import loo_split

MMR_POOL = 100


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
    cold = {name: ColdStart(len(space), "users") for name in job.variants}
    vectors = ItemVectors(replay.view.catalogue, space.ids)
    lists = ListStats(vectors, len(space))
    llm = LLMSignal(job.embeddings, space.ids, job.llm_history) if job.embeddings else None
    tick = job.reporter.stage("rank users", len(users))
    for n, user in enumerate(users, 1):
        profile = replay.profile(user)
        sig = user_signals(user, profile, replay.view, job.recommend, content_pool=len(space))
        if llm is not None:
            sig.llm = llm.scores(profile) or {}
        item = test[user].item_id
        target = space.pos.get(item)
        new_item = replay.item_counts.get(item, 0) < NEW_ITEM_BELOW
        new_user = replay.counts.get(user, 0) <= NEW_USER_EVENTS
        for name, cfg in job.variants.items():
            scores = full_scores(space, sig, popularity[cfg.trending_half_life_s], masks[user],
                                 cfg)
            if cfg.mmr_lambda < 1.0:
                pool = top_ids(space, scores, masks[user], MMR_POOL)
                shown = vectors.mmr([(i, float(scores[space.pos[i]])) for i in pool], k,
                                    cfg.mmr_lambda)
                metrics = metrics_of_list(shown, item, k)
            else:
                shown = top_ids(space, scores, masks[user], k)
                metrics = metrics_full(scores, masks[user], target, k)
            cold[name].add(new_item, new_user, metrics, shown)
            avg[name].add({**metrics, **lists.describe(shown, replay.item_counts,
                                                       replay.total)}, shown)
        tick(n)
    for name, a in avg.items():
        out.results[name] = {**a.result(), "users": float(a.n)}
        if job.cold_start:
            out.cold_start[name] = cold[name].result()
    repeats = sum(1 for u in users if not masks[u][space.pos[test[u].item_id]])
    if repeats:
        out.notes.append(f"{repeats} users' test item was already among their training items "
                         "(a repeat interaction): counted as misses for every method")
    if job.peers:
        out.merge(_peers(job, train, test, users, space, masks, replay, lists))
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
           space: ItemSpace, masks: dict[str, np.ndarray], replay: Replay,
           lists: ListStats) -> Outcome:
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
        cold = ColdStart(len(space), "users")
        tick = job.reporter.stage(name, len(users))
        for n, user in enumerate(users, 1):
            u = uidx[user]
            item = test[user].item_id
            scores = peer.scores(u, rows.get(u, []))
            metrics = metrics_full(scores, masks[user], space.pos.get(item), job.k)
            shown = top_ids(space, scores, masks[user], job.k)
            cold.add(replay.item_counts.get(item, 0) < NEW_ITEM_BELOW,
                     replay.counts.get(user, 0) <= NEW_USER_EVENTS, metrics, shown)
            avg.add({**metrics, **lists.describe(shown, replay.item_counts, replay.total)},
                    shown)
            tick(n)
        out.results[name] = {**avg.result(), "users": float(avg.n)}
        if job.cold_start:
            out.cold_start[name] = cold.result()
    return out
