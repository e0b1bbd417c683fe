"""``prequential``: test-then-train over the stream.

Events are replayed in (ts, user, item) order. Before an event of a user who already has at
least one interaction is ingested, the user's current top-k (seen items excluded, exactly as
the pipeline would publish it) is taken for every variant and peer; a hit is the event's item
in that list. Metrics: HR@k, NDCG@k, MRR@k (reciprocal rank within the list), coverage of the
lists, and the number of evaluated events.

Bounds for large streams, both deterministic: ``sample_every`` evaluates only every n-th
eligible event (every event is still ingested), ``max_events`` replays only a prefix.
``judge_from`` counts only events from that stream index on (a held-out tail: settings
chosen on the events before it are judged on the rest; learners still learn throughout).
The streaming peer ``cooc_knn`` learns every event right after it is judged, like the
pipeline; the others cannot learn per event: they are refit on everything seen so far every
``refit_every`` events (default: 20 refits over the stream) and once before the first
evaluated event; between refits ALS folds the
user's current items in and item-kNN reads them directly, while BPR keeps its last fit
(a user new since then scores by item bias).

Each user's CF/content signals are reused between searches as the workers reuse them
(:class:`recstream.core.candidates.SourceCache`, ``recommend.refresh_*``, with event time as
the clock); ``RECSTREAM_RECOMMEND__REFRESH_EVENTS=1`` searches at every judged event.

Beside accuracy: ``ild`` and ``novelty`` of each list (novelty against the counts of the
stream so far) and the cold-start buckets: events whose item had fewer than
``NEW_ITEM_BELOW`` earlier interactions (``new_items``) and a user's first
``NEW_USER_EVENTS`` judged events, i.e. with 1 to 3 earlier interactions (``new_users``).

Learned variants (``job.learned``: ``learned``, and ``default`` with ``learn.enabled``) rank
with their own :class:`recstream.core.learn.Learner`, started from the variant's weights:
at each judged event the shown top-k (with ε-greedy exploration seeded by the event id, and
each item's scaled signals) is an impression, the event labels it exactly as the feedback
join labels a final impression (the event's item, if shown, is taken when clicked or rated
≥ 4; the other shown items are not), and the learner learns the batch before the next event.
Unlike production there is no join window: the label is the next event only, and the
learner sees only judged events' impressions (every n-th with ``sample_every``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from recstream.core import feedback, learn
from recstream.core.candidates import SourceCache
from recstream.core.diversity import ranked_list
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
    metrics_of_list,
    top_ids,
)
from recstream.eval.replay import Replay, to_event
from recstream.eval.signals import (
    ItemSpace,
    UserSignals,
    candidates,
    graph_signals,
    top_k,
    user_signals,
)
from recstream.settings import RecommendSettings

REFITS = 20


def run(job: Job) -> Outcome:
    ds, k = job.dataset, job.k
    stream = ds.interactions[:job.max_events] if job.max_events else ds.interactions
    half_lives = {cfg.trending_half_life_s for cfg in job.variants.values()}
    replay = Replay(ds.items, ds.format, job.profile, job.recommend, half_lives)
    space = ItemSpace(replay.catalogue_ids)
    forms = sorted({cfg.cf_form for cfg in job.variants.values()})
    avg = {name: Averages(len(space)) for name in job.variants}
    out = Outcome()
    peers, out.unavailable = ranking_peers() if job.peers else ({}, {})
    models = {name: make() for name, make in peers.items()}
    streaming = {name for name, m in models.items() if getattr(m, "streaming", False)}
    for name in streaming:  # learn every event as it is ingested: never refit
        models[name].fit({}, 0, len(space))
    peer_avg = {name: Averages(len(space)) for name in models}
    cold = {name: ColdStart(len(space), "events") for name in [*avg, *peer_avg]}
    # before judge_from the variants still rank (learners learn from those lists) into
    # scratch accumulators that are never reported; peers are not asked
    scratch_avg = {name: Averages(len(space)) for name in job.variants}
    scratch_cold = {name: ColdStart(len(space), "events") for name in job.variants}
    ctx = _Context(ItemVectors(replay.view.catalogue, space.ids), len(space),
                   LLMSignal(job.embeddings, space.ids, job.llm_history)
                   if job.embeddings else None,
                   {name: learn.Learner(job.learn, learn.prior_weights(cfg))
                    for name, cfg in job.variants.items() if name in job.learned},
                   job.recommend)
    timelines: dict[str, list[float]] = {name: [] for name in avg}
    uidx: dict[str, int] = {}
    rows: dict[int, list[int]] = {}
    refit_every = job.refit_every or max(1, len(stream) // REFITS)
    fitted = False
    eligible = 0
    tick = job.reporter.stage("replay + evaluate", len(stream))
    for n, x in enumerate(stream):
        evaluate = bool(replay.counts.get(x.user_id)) and eligible % job.sample_every == 0
        if models and ((evaluate and not fitted) or (n and n % refit_every == 0)):
            for name, m in models.items():
                if name not in streaming:
                    m.fit(rows, len(uidx), len(space))
            fitted = True
        if replay.counts.get(x.user_id):
            if evaluate and n < job.judge_from:
                _evaluate(job, replay, x, forms, half_lives, scratch_avg, ctx, scratch_cold,
                          (False, False), None)
            elif evaluate:
                flags = (replay.item_counts.get(x.item_id, 0) < NEW_ITEM_BELOW,
                         replay.counts[x.user_id] <= NEW_USER_EVENTS)
                _evaluate(job, replay, x, forms, half_lives, avg, ctx, cold, flags,
                          timelines if job.timeline else None)
                u = uidx[x.user_id]
                seen = rows[u]
                for name, m in models.items():
                    ranked = _peer_top(m, u, seen, space, k)
                    metrics = metrics_of_list(ranked, x.item_id, k)
                    cold[name].add(*flags, metrics, ranked)
                    peer_avg[name].add({**metrics, **ctx.lists.describe(
                        ranked, replay.item_counts, replay.total)}, ranked)
            eligible += 1
        replay.ingest(x)
        u = uidx.setdefault(x.user_id, len(uidx))
        rows.setdefault(u, []).append(space.pos[x.item_id])
        for name in streaming:
            models[name].observe(u, space.pos[x.item_id])
        if n % 200 == 0 or n == len(stream) - 1:
            tick(n + 1)
    for name, a in {**avg, **peer_avg}.items():
        out.results[name] = {**a.result(), "events": float(a.n)}
        if job.cold_start:
            out.cold_start[name] = cold[name].result()
    if job.timeline:
        out.timelines = timelines
    for name, learner in ctx.learners.items():
        st = learner.state()
        out.learned[name] = {"weights": {s: round(v, 4) for s, v in st["weights"].items()},
                             "served": st["served"],
                             "learned_weights": {s: round(v, 4)
                                                 for s, v in st["learned_weights"].items()},
                             "prior": learner.prior, "version": st["version"],
                             "examples": st["examples"], "positives": st["positives"],
                             "explored": ctx.explored[name],
                             "guard": {a: {"reward": round(g["reward"], 4),
                                           "lists": g["lists"]}
                                       for a, g in st["guard"].items()},
                             "switches": st["switches"],
                             "served_share": {a: round(c / max(1, sum(
                                 ctx.served[name].values())), 4)
                                 for a, c in sorted(ctx.served[name].items())}}
    if ctx.learners:
        out.notes.append(f"learned ({', '.join(ctx.learners)}): one impression per judged "
                         f"event, labelled by that event, learned right after it; "
                         f"ε = {job.learn.epsilon:g}, seed {job.learn.seed!r}, guard "
                         + (f"on (arms {', '.join(next(iter(ctx.learners.values())).arms)}, "
                            f"margin {job.learn.guard_margin:g}, half-life "
                            f"{job.learn.guard_half_life:g})" if job.learn.guard else "off"))
    if job.judge_from:
        out.notes.append(f"judged from event {job.judge_from} on: the events before it were "
                         "ingested (and ranked for the learners) but not counted")
    if job.sample_every > 1 or job.max_events:
        out.notes.append(f"bounded run: {len(stream)} of {len(ds.interactions)} events replayed, "
                         f"every {job.sample_every}. eligible event evaluated")
    if models:
        out.notes.append(f"peers fit before the first evaluated event and refit every "
                         f"{refit_every} events")
    return out


class _Context:
    """What every judged event reads besides the replay: item vectors (diversity, MMR),
    list statistics and the LLM signal (None: not evaluated)."""

    def __init__(self, vectors: ItemVectors, catalogue_size: int,
                 llm: LLMSignal | None, learners: dict[str, learn.Learner],
                 rec: RecommendSettings) -> None:
        self.sources: SourceCache[UserSignals] = SourceCache(
            rec.model_copy(update={"source_cache_users": 1 << 30}))
        self.vectors = vectors
        self.lists = ListStats(vectors, catalogue_size)
        self.llm = llm
        self.learners = learners  # learned variant -> its blend model
        self.explored = dict.fromkeys(learners, 0)  # learned variant -> explored slots
        # learned variant -> guard arm -> judged events it served
        self.served: dict[str, dict[str, int]] = {name: {} for name in learners}


def _evaluate(job: Job, replay: Replay, x: Interaction, forms: list[str],
              half_lives: set[float], avg: dict[str, Averages], ctx: _Context,
              cold: dict[str, ColdStart], flags: tuple[bool, bool],
              timelines: dict[str, list[float]] | None) -> None:
    profile = replay.profile(x.user_id)
    # the workers' reuse of a search (SourceCache): searched again only when due, by the
    # profile and by event time (judged events only: with sample_every > 1 a search may be
    # fresher than a worker's)
    sig = ctx.sources.get(x.user_id, profile, lambda: user_signals(
        x.user_id, profile, replay.view, job.recommend, forms=forms), now=x.ts)
    sig.cooc, sig.seq, sig.sources = graph_signals(profile, replay.view, job.recommend, sig)
    if ctx.llm is not None:
        sig.llm = ctx.llm.scores(profile) or {}
    trending = {h: replay.trending(h) for h in half_lives}
    catalogue = replay.view.catalogue
    for name, cfg in job.variants.items():
        if name in ctx.learners:
            ranked = _learned_top(job, ctx, name, x, candidates(
                sig, trending[cfg.trending_half_life_s], profile.items, catalogue, cfg),
                profile.items, catalogue, cfg)
        else:
            ranked = top_k(sig, trending[cfg.trending_half_life_s], profile.items, catalogue,
                           cfg, job.k, ctx.vectors.mmr)
        metrics = metrics_of_list(ranked, x.item_id, job.k)
        cold[name].add(*flags, metrics, ranked)
        avg[name].add({**metrics, **ctx.lists.describe(ranked, replay.item_counts,
                                                       replay.total)}, ranked)
        if timelines is not None:
            timelines[name].append(metrics["hr"])


def _learned_top(job: Job, ctx: _Context, name: str, x: Interaction, cands: list[Any],
                 seen: Any, catalogue: Any, cfg: Any) -> list[str]:
    """A learned variant's list, then its impression fed back to its learner, as in
    production: the rank stage's list (``ranked_list``: current learned weights, MMR when
    λ < 1, ε-greedy exploration seeded by the event id) with each shown item's scaled
    signals; the judged event, in the feedback join's form, labels them
    (``learn.examples``: 1 for a shown item the user took, 0 for the others)."""
    learner = ctx.learners[name]
    event = to_event(x, job.dataset.format)
    items = ranked_list(cands, learner.weights(), job.k, seen, catalogue=catalogue,
                        mmr_lambda=cfg.mmr_lambda, epsilon=job.learn.epsilon,
                        rng=learn.exploration_rng(job.learn.seed, event["event_id"]),
                        features=True)
    ctx.explored[name] += sum(bool(i.get("explore")) for i in items)
    ctx.served[name][learner.served] = ctx.served[name].get(learner.served, 0) + 1
    learner.update(learn.examples(feedback.shown_features(items),
                                  [feedback.joined_event(event)]), ts=x.ts)
    return [i["item_id"] for i in items]


def _peer_top(model: Any, user: int, seen: list[int], space: ItemSpace, k: int) -> list[str]:
    """The peer's top-k unseen items, ties by item id."""
    mask = np.ones(len(space), dtype=bool)
    mask[seen] = False
    return top_ids(space, model.scores(user, seen), mask, k)
