"""Online feedback: join impressions with the same user's later events, per window and variant.

An *impression* is one published recommendation record: user u saw the top-k items L at
event time t (the record's ``event_ts``, its trigger event's time). Its *relevant set* R is
the distinct items of u's events (clicks, purchases, ratings) with t ≤ ts ≤ t + W, the
trigger event itself excluded (W = ``join_window_s``). With hits H = L ∩ R:

- CTR@k = (impressions with |H| > 0) / impressions
- precision@k = mean over impressions of |H| / k
- recall@k = mean over impressions with R ≠ ∅ of |H| / |R|
- NDCG@k = mean over impressions with R ≠ ∅ of Σ_{i ∈ H} 1/log2(rank_i + 1) / IDCG,
  IDCG = Σ_{r=1}^{min(|R|, k)} 1/log2(r + 1) (binary relevance, ranks from 1)
- MAE / RMSE: |r − r̂| over (impression, recommended item) pairs where the item carries a
  ``predicted_rating`` r̂ and u rated it (latest rating r) within the join window. The
  blend score is not a rating, so today's records (no ``predicted_rating``) give null.
- coverage = distinct items in the impressions' top-k / catalogue size.
- ILD and novelty (when the caller passes the catalogue): mean over impressions (for ILD
  one in ``ild_every``, picked by a hash of the trigger id) of the top-k's intra-list
  diversity (1 − cosine of catalogue TF-IDF vectors, as in ``recstream
  eval``) and novelty (mean self-information against this partition's interaction counts
  so far); ``ild_sum``/``ild_lists``, ``novelty_sum``/``novelty_lists`` add up across
  partitions.

Impressions are bucketed by tumbling windows of ``window_s`` on t. Event time advances with
a per-partition watermark: the largest impression time seen (impressions of one partition
arrive in trigger order). An impression is final when watermark ≥ t + W + grace; a window
[s, s + T) is emitted, and forgotten, when watermark ≥ s + T + W + grace. An impression
whose window was already emitted is dropped (counted in :attr:`FeedbackJoin.late`). A user
keeps at most ``max_pending`` impressions waiting: a newer one makes the oldest final at once,
joined with the user's events so far (counted in :attr:`FeedbackJoin.early`); so a heavy
user's state, rewritten whole on every batch, stays bounded.

State lives in a get/set/delete store (a Faust table in the worker, a dict in tests) under
keys prefixed by the partition, so each partition's state is written and recovered with it:
``<p>/u/<user>`` (pending impressions, recent events) and ``<p>/meta`` (watermark, users
with pending impressions and their earliest deadline, open window accumulators).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping
from typing import Any, Protocol

import numpy as np

from recstream.core import learn
from recstream.core.diversity import item_vectors
from recstream.eval.metrics import intra_list_diversity, novelty
from recstream.settings import FeedbackSettings

SUMS = ("impressions", "clicked", "hits", "precision_sum", "relevant", "recall_sum",
        "ndcg_sum", "rated", "abs_err_sum", "sq_err_sum", "ild_sum", "ild_lists",
        "novelty_sum", "novelty_lists")


class Store(Protocol):
    def get(self, key: str) -> Any: ...
    def __setitem__(self, key: str, value: Any) -> None: ...
    def __delitem__(self, key: str) -> None: ...


def outcome(items: list[str], relevant: set[str], k: int) -> dict[str, float]:
    """One impression's contribution to the window sums (see the module docstring)."""
    ranks = [r for r, item in enumerate(items[:k], start=1) if item in relevant]
    out = {"impressions": 1, "clicked": int(bool(ranks)), "hits": len(ranks),
           "precision_sum": len(ranks) / k, "relevant": int(bool(relevant)),
           "recall_sum": 0.0, "ndcg_sum": 0.0}
    if relevant:
        ideal = sum(1 / math.log2(r + 1) for r in range(1, min(len(relevant), k) + 1))
        out["recall_sum"] = len(ranks) / len(relevant)
        out["ndcg_sum"] = sum(1 / math.log2(r + 1) for r in ranks) / ideal
    return out


def window_record(key: str, acc: Mapping[str, Any], partition: int, cfg: FeedbackSettings,
                  catalogue_size: int) -> dict[str, Any]:
    """The ``metrics`` record of one closed (window, variant) of one partition."""
    start, variant = key.split("|", 1)
    acc = {**dict.fromkeys(SUMS, 0), **acc}  # windows opened before a sum existed
    n, rel, rated = acc["impressions"], acc["relevant"], acc["rated"]
    return {
        "type": "feedback", "variant": variant, "partition": partition,
        "window_start": float(start), "window_end": float(start) + cfg.window_s,
        "k": cfg.k, "join_window_s": cfg.join_window_s, "grace_s": cfg.grace_s,
        **{s: acc[s] for s in SUMS},
        "ctr": acc["clicked"] / n if n else None,
        "precision": acc["precision_sum"] / n if n else None,
        "recall": acc["recall_sum"] / rel if rel else None,
        "ndcg": acc["ndcg_sum"] / rel if rel else None,
        "mae": acc["abs_err_sum"] / rated if rated else None,
        "rmse": math.sqrt(acc["sq_err_sum"] / rated) if rated else None,
        "recommended_items": sorted(acc["items"]),
        "catalogue_size": catalogue_size,
        "coverage": len(acc["items"]) / catalogue_size if catalogue_size else None,
        "ild": acc["ild_sum"] / acc["ild_lists"] if acc["ild_lists"] else None,
        "novelty": acc["novelty_sum"] / acc["novelty_lists"] if acc["novelty_lists"] else None,
    }


def joined_event(ev: Mapping[str, Any]) -> dict[str, Any]:
    """What the join keeps of a validated event (user_id, item_id, ts, kind, event_id,
    rating?): the form :func:`recstream.core.learn.examples` labels."""
    e = {"id": ev["event_id"], "item": ev["item_id"], "ts": float(ev["ts"]),
         "kind": ev.get("kind")}
    if ev.get("rating") is not None:
        e["rating"] = float(ev["rating"])
    return e


def shown_features(items: list[Mapping[str, Any]]) -> dict[str, dict[str, float]]:
    """item id → the rank stage's scaled signals (``features``) of a record's shown items:
    what the learned blend trains on (:func:`recstream.core.learn.examples`)."""
    return {i["item_id"]: i["features"] for i in items if i.get("features")}


class FeedbackJoin:
    """The join of one partition over ``store``; feed it records in arrival order."""

    def __init__(self, cfg: FeedbackSettings, store: Store, partition: int) -> None:
        self.cfg, self.store, self.partition = cfg, store, partition
        self.late = 0  # impressions dropped because their window had been emitted
        self.early = 0  # impressions made final before their window ended (max_pending)
        # learned-blend training examples of impressions made final; the caller drains it
        self.examples: list[learn.Example] = []
        # interactions per item of this partition's events since the worker started (the
        # novelty reference; kept in memory, so a restarted worker counts afresh)
        self.counts: dict[str, int] = {}
        self.total = 0

    def _key(self, user: str) -> str:
        return f"{self.partition}/u/{user}"

    def _meta(self) -> dict[str, Any]:
        return self.store.get(f"{self.partition}/meta") or {"wm": None, "due": {}, "win": {}}

    def _horizon(self) -> float:  # how far behind the watermark a record can still matter
        c = self.cfg
        return c.window_s + c.join_window_s + c.grace_s

    def _start(self, ts: float) -> float:
        return math.floor(ts / self.cfg.window_s) * self.cfg.window_s

    def event(self, ev: Mapping[str, Any]) -> None:
        """A validated event (user_id, item_id, ts, kind, event_id, rating?) of the user."""
        meta = self._meta()
        ts = float(ev["ts"])
        if meta["wm"] is not None and ts < meta["wm"] - self._horizon():
            return  # no impression that can still be counted is this old
        key = self._key(ev["user_id"])
        st = self.store.get(key) or {"imps": [], "events": []}
        if any(e["id"] == ev["event_id"] for e in st["events"]):
            return
        self.store[key] = {**st, "events": [*st["events"], joined_event(ev)]}
        self.counts[ev["item_id"]] = self.counts.get(ev["item_id"], 0) + 1
        self.total += 1

    def impression(self, rec: Mapping[str, Any], catalogue_size: int,
                   catalogue: Any = None) -> list[dict[str, Any]]:
        """A recommendation record; returns the ``metrics`` records of windows it closes.
        With the ``catalogue`` (``view.catalogue``) each impression's top-k also gets its
        intra-list diversity and novelty (:meth:`describe`)."""
        c, meta = self.cfg, self._meta()
        ts, user = float(rec["event_ts"]), str(rec["user_id"])
        if meta["wm"] is not None and self._start(ts) + self._horizon() <= meta["wm"]:
            self.late += 1
            return []
        top = rec["items"][:c.k]
        imp = {"ts": ts, "variant": rec.get("variant", "default"),
               "trigger": rec.get("trigger_event_id"), "items": [i["item_id"] for i in top]}
        pred = {i["item_id"]: float(i["predicted_rating"]) for i in top
                if i.get("predicted_rating") is not None}
        if pred:
            imp["pred"] = pred
        feats = shown_features(top)
        if feats:  # the rank stage's scaled signals: the learned blend trains on them
            imp["x"] = feats
        if catalogue is not None:
            imp.update(self.describe(imp["items"], catalogue, catalogue_size,
                                     ild=zlib.crc32(str(imp["trigger"]).encode())
                                     % c.ild_every == 0))
        key = self._key(user)
        st = self.store.get(key) or {"imps": [], "events": []}
        if not any(i["trigger"] == imp["trigger"] for i in st["imps"]):  # replayed record
            imps = [*st["imps"], imp]
            while len(imps) > c.max_pending:  # the oldest is final now, with what came
                oldest = min(range(len(imps)), key=lambda n: imps[n]["ts"])
                self._count(imps.pop(oldest), st["events"], meta)
                self.early += 1
            self.store[key] = {**st, "imps": imps}
            deadline = ts + c.join_window_s + c.grace_s
            meta["due"][user] = min(meta["due"].get(user, deadline), deadline)
        meta["wm"] = ts if meta["wm"] is None else max(meta["wm"], ts)
        records = self._advance(meta, catalogue_size)
        self.store[f"{self.partition}/meta"] = meta
        return records

    def describe(self, items: list[str], catalogue: Any, catalogue_size: int,
                 ild: bool = True) -> dict[str, float]:
        """``ild`` (when ``ild``): mean pairwise 1 − cosine of the items' TF-IDF vectors under
        the catalogue's idf (:func:`recstream.core.diversity.item_vectors`, the eval harness's
        scale; an item without a vector is at distance 1), for lists of ≥ 2 catalogue items;
        ``nov``: mean −log2((n_i + 1) / (N + |catalogue|)) over the list, n_i / N this
        partition's interactions so far (:attr:`counts`)."""
        out: dict[str, float] = {}
        known = [i for i in items if i in catalogue] if ild else []
        if len(known) >= 2:
            vecs = item_vectors(catalogue, known)
            width = next((len(v) for v in vecs.values()), 1)
            rows = np.array([vecs.get(i, np.zeros(width)) for i in known])
            out["ild"] = intra_list_diversity(rows, normalize=False)
        if items and catalogue_size:
            out["nov"] = novelty(items, self.counts, self.total, catalogue_size)
        return out

    def _advance(self, meta: dict[str, Any], catalogue_size: int) -> list[dict[str, Any]]:
        c, wm = self.cfg, meta["wm"]
        for user, deadline in list(meta["due"].items()):
            if deadline <= wm:
                nxt = self._finalise(user, meta)
                if nxt is None:
                    del meta["due"][user]
                else:
                    meta["due"][user] = nxt
        out = []
        for key in sorted(meta["win"], key=lambda k: float(k.split("|", 1)[0])):
            if float(key.split("|", 1)[0]) + self._horizon() <= wm:
                out.append(window_record(key, meta["win"].pop(key), self.partition, c,
                                         catalogue_size))
        return out

    def _count(self, imp: Mapping[str, Any], events: list[Mapping[str, Any]],
               meta: dict[str, Any]) -> None:
        """Add a final impression, joined with ``events`` (the user's), to its window."""
        c = self.cfg
        inside = sorted((e for e in events if e["id"] != imp["trigger"]
                         and imp["ts"] <= e["ts"] <= imp["ts"] + c.join_window_s),
                        key=lambda e: e["ts"])
        acc = meta["win"].setdefault(f"{self._start(imp['ts'])}|{imp['variant']}",
                                     {**dict.fromkeys(SUMS, 0), "items": {}})
        if "x" in imp:
            self.examples.extend(learn.examples(imp["x"], inside))
        for name, v in outcome(imp["items"], {e["item"] for e in inside}, c.k).items():
            acc[name] = acc.get(name, 0) + v
        for name, v in (("ild", imp.get("ild")), ("novelty", imp.get("nov"))):
            if v is not None:
                acc[f"{name}_sum"] = acc.get(f"{name}_sum", 0) + v
                acc[f"{name}_lists"] = acc.get(f"{name}_lists", 0) + 1
        if isinstance(acc["items"], list):  # a window stored before items were keys
            acc["items"] = dict.fromkeys(acc["items"], 1)
        acc["items"].update(dict.fromkeys(imp["items"], 1))  # keys: the distinct items
        ratings = {e["item"]: e["rating"] for e in inside if "rating" in e}
        for item, predicted in imp.get("pred", {}).items():
            if item in ratings:
                err = ratings[item] - predicted
                acc["rated"] = acc.get("rated", 0) + 1
                acc["abs_err_sum"] = acc.get("abs_err_sum", 0) + abs(err)
                acc["sq_err_sum"] = acc.get("sq_err_sum", 0) + err * err

    def _finalise(self, user: str, meta: dict[str, Any]) -> float | None:
        """Count the user's final impressions; returns the next pending deadline or None."""
        c, wm, key = self.cfg, meta["wm"], self._key(user)
        stored = self.store.get(key)
        st = stored or {"imps": [], "events": []}
        keep = []
        for imp in st["imps"]:
            if imp["ts"] + c.join_window_s + c.grace_s > wm:
                keep.append(imp)
            else:
                self._count(imp, st["events"], meta)
        events = [e for e in st["events"] if e["ts"] >= wm - self._horizon()]
        if keep or events:
            self.store[key] = {"imps": keep, "events": events}
        elif stored is not None:
            del self.store[key]
        return min((i["ts"] + c.join_window_s + c.grace_s for i in keep), default=None)
