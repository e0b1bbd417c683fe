"""The classic peers, on hand-checked data: implicit's item-kNN, ALS (with fold-in) and BPR,
Surprise's predictions, and the protocols feeding them exactly what the variants get.

The peer libraries are imported here unguarded: without the ``peers`` extra these tests
fail, they do not pass by skipping.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np
import pytest
import surprise

from recstream.datasets.model import Dataset, Interaction
from recstream.eval import loo, prequential, split, variants
from recstream.eval.job import Job
from recstream.eval.peers import implicit_peers, surprise_peers
from recstream.eval.peers.implicit_peers import ImplicitPeer, matrix
from recstream.settings import Settings

# two taste blocks over six items: users 0-2 hold items 0-2, users 3-5 items 3-5, and user 3
# also item 0 (so item 0 is the most popular, with 4 users)
BLOCKS = {0: [0, 1, 2], 1: [0, 1, 2], 2: [2, 1, 0, 0], 3: [0, 3, 4, 5], 4: [3, 4, 5],
          5: [3, 4, 5]}


def test_matrix_is_binary_with_one_entry_per_item() -> None:
    m = matrix(BLOCKS, 7, 6).toarray()
    assert m.shape == (7, 6) and set(np.unique(m)) == {0.0, 1.0}
    assert m[2].tolist() == [1, 1, 1, 0, 0, 0]  # user 2's repeat of item 0 counts once
    assert m[3].tolist() == [1, 0, 0, 1, 1, 1]
    assert m[6].sum() == 0  # a user without rows
    assert m.sum(axis=0).tolist() == [4, 3, 3, 3, 3, 3]


def test_itemknn_scores_are_summed_cosines() -> None:
    """Binary cosine between items i, j is |users(i) ∩ users(j)| / sqrt(|users(i)|·|users(j)|):
    items 0 and 1 share 3 users of 4 and 3 (0.866), items 0 and 3 one (1 / sqrt(12) = 0.289),
    items 1 and 2 all three (1). A user holding items 0 and 1 scores item j with
    cos(0, j) + cos(1, j)."""
    peer = ImplicitPeer("itemknn")
    peer.fit(BLOCKS, 6, 6)
    s = peer.scores(0, [0, 1])
    c01, c03 = 3 / np.sqrt(12), 1 / np.sqrt(12)
    assert s[2] == pytest.approx(c01 + 1.0, abs=1e-4)
    assert s[3] == pytest.approx(c03, abs=1e-4) and s[5] == pytest.approx(c03, abs=1e-4)
    # the items the user is given now count, not the fitted row: a user moved to the other
    # block scores that block
    s = peer.scores(0, [3, 4])
    assert s[5] == pytest.approx(2.0, abs=1e-4) and s[1] == pytest.approx(0.0, abs=1e-4)


def test_als_folds_in_new_and_changed_users() -> None:
    peer = ImplicitPeer("als")
    peer.fit(BLOCKS, 6, 6)
    fitted = peer.scores(4, [3, 4, 5])  # a fitted user, unchanged: its learnt factors
    assert min(fitted[3:]) > 0.9 and max(fitted[1:3]) < 0.1
    new = peer.scores(9, [3, 4])  # never fitted: folded in from its items
    assert new[5] > 0.4 and new[5] > 10 * max(abs(new[1]), abs(new[2]))
    changed = peer.scores(0, [3, 4])  # fitted in the first block, now holds the second
    assert changed[5] > 0.4 and changed[5] > 10 * max(abs(changed[1]), abs(changed[2]))
    assert peer.scores(0, [0, 1])[2] > 0.3  # and the first block when it holds that


def test_bpr_learns_tastes_and_scores_a_new_user_by_item_bias(small_world: Dataset) -> None:
    ids = sorted(i.item_id for i in small_world.items)
    pos = {i: n for n, i in enumerate(ids)}
    users = sorted({x.user_id for x in small_world.interactions})
    rows: dict[int, list[int]] = {}
    for x in small_world.interactions:
        rows.setdefault(users.index(x.user_id), []).append(pos[x.item_id])
    peer = ImplicitPeer("bpr")
    peer.fit(rows, len(users), len(ids))
    # conftest's world: user n mostly holds items of genre n % 3 (item m is genre m % 3)
    for u, name in enumerate(users):
        s = peer.scores(u, rows[u])
        genre = int(name[1:]) % 3
        mine = [pos[i] for i in ids if int(i[1:]) % 3 == genre]
        other = [pos[i] for i in ids if int(i[1:]) % 3 != genre]
        assert s[mine].mean() > s[other].mean(), name
    # BPR cannot fold a user in: an unseen one gets the item biases (the last factor)
    bias = np.asarray(peer.model.item_factors)[:, -1]  # type: ignore[attr-defined]
    assert peer.scores(len(users) + 3, [0, 1]) == pytest.approx(bias)


def _ratings(rows: Sequence[tuple[str, str, float]]) -> list[Interaction]:
    return [Interaction(u, i, float(n), r) for n, (u, i, r) in enumerate(rows)]


def test_surprise_predictions_by_hand() -> None:
    """User-based kNN (MSD similarity): a and b agree on x and y, and only b rated z (5), so
    a's prediction for z is b's rating; the unknown user and item get the train mean."""
    train = _ratings([("a", "x", 4), ("a", "y", 2), ("b", "x", 4), ("b", "y", 2),
                      ("b", "z", 5), ("c", "x", 1)])
    test = _ratings([("a", "z", 3), ("nobody", "x", 3), ("a", "nothing", 3)])
    got = surprise_peers.predict(surprise_peers.FACTORIES["surprise_knn"](), train, test,
                                 (1.0, 5.0))
    mean = (4 + 2 + 4 + 2 + 5 + 1) / 6
    assert got == pytest.approx([5.0, mean, mean])
    svd = surprise_peers.predict(surprise_peers.FACTORIES["surprise_svd"](), train, test,
                                 (1.0, 5.0))
    assert all(1.0 <= p <= 5.0 for p in svd) and svd[1] == pytest.approx(mean, abs=0.6)


class Recording(ImplicitPeer):
    """The real implicit peer, remembering what it was fitted on and asked to score."""

    fits: list[Counter[tuple[int, int]]]
    scored: list[tuple[int, list[int]]]

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.fits, self.scored = [], []

    def fit(self, rows: Mapping[int, Sequence[int]], n_users: int, n_items: int) -> None:
        self.fits.append(Counter((u, i) for u, items in rows.items() for i in items))
        super().fit(rows, n_users, n_items)

    def scores(self, user: int, items: Sequence[int]) -> np.ndarray:
        self.scored.append((user, list(items)))
        return super().scores(user, items)


KINDS = {"implicit_als": "als", "implicit_bpr": "bpr", "implicit_itemknn": "itemknn"}


def recording(monkeypatch: pytest.MonkeyPatch, module: object) -> dict[str, Recording]:
    """Make ``module``'s protocol use recording peers; they land in the returned dict."""
    assert {n: f().kind for n, f in implicit_peers.FACTORIES.items()} == KINDS
    made: dict[str, Recording] = {}

    def make(name: str) -> Recording:
        made[name] = Recording(KINDS[name])
        return made[name]

    monkeypatch.setattr(module, "ranking_peers",
                        lambda: ({n: (lambda n=n: make(n)) for n in KINDS}, {}))
    return made


def _job(ds: Dataset, **kw: object) -> Job:
    s = Settings()
    runs, _ = variants.select(["popularity"], s.recommend)
    return Job(ds, s.profile, s.recommend, runs, k=5, peers=True, **kw)  # type: ignore[arg-type]


def test_loo_peers_fit_every_training_row_and_never_the_test_items(
        small_world: Dataset, monkeypatch: pytest.MonkeyPatch) -> None:
    made = recording(monkeypatch, loo)
    out = loo.run(_job(small_world))
    # the split, recomputed here: per user by (ts, item), the last is the test item
    by_user: dict[str, list[Interaction]] = {}
    for x in small_world.interactions:
        by_user.setdefault(x.user_id, []).append(x)
    held = {u: sorted(xs, key=lambda x: (x.ts, x.item_id))[-1] for u, xs in by_user.items()}
    train = [x for x in small_world.interactions if held[x.user_id] is not x]
    ids = [i.item_id for i in small_world.items]  # catalogue positions
    users = sorted(by_user)
    want = Counter((users.index(x.user_id), ids.index(x.item_id)) for x in train)
    assert set(made) == {"implicit_als", "implicit_bpr", "implicit_itemknn"}
    for name, peer in made.items():
        assert peer.fits == [want], name  # once, on every training row the variants replay
        assert len(peer.scored) == len(users)
        for u, items in peer.scored:
            assert ids.index(held[users[u]].item_id) not in items  # test item not visible
            assert Counter((u, i) for i in items) == Counter(
                {k: v for k, v in want.items() if k[0] == u})
        assert out.results[name]["users"] == len(users)
        assert 0 <= out.results[name]["ndcg"] <= out.results[name]["hr"] <= 1
    # and in this world of taste groups the factor models beat chance (5 of ~18 unseen)
    assert out.results["implicit_als"]["hr"] > 0.3


def test_prequential_refits_on_everything_before_the_event(
        small_world: Dataset, monkeypatch: pytest.MonkeyPatch) -> None:
    made = recording(monkeypatch, prequential)
    stream = small_world.interactions
    every = 40
    out = prequential.run(_job(small_world, refit_every=every))
    ids = [i.item_id for i in small_world.items]
    order: dict[str, int] = {}
    for x in stream:
        order.setdefault(x.user_id, len(order))  # peers number users by first appearance
    first_judged = next(n for n, x in enumerate(stream)
                        if any(y.user_id == x.user_id for y in stream[:n]))
    schedule = sorted({first_judged, *range(every, len(stream), every)})
    for name, peer in made.items():
        # fitted at the first judged event and every 40th, each time on all events before
        assert [sum(f.values()) for f in peer.fits] == schedule, name
        for f, n in zip(peer.fits, schedule, strict=True):
            assert f == Counter((order[x.user_id], ids.index(x.item_id)) for x in stream[:n])
        judged = [(order[x.user_id], sorted(ids.index(y.item_id) for y in stream[:n]
                                            if y.user_id == x.user_id), ids.index(x.item_id))
                  for n, x in enumerate(stream)
                  if any(y.user_id == x.user_id for y in stream[:n])]
        assert [(u, sorted(items)) for u, items in peer.scored] == [
            (u, items) for u, items, _ in judged]
        assert all(item not in items for (_, items), (_, _, item) in zip(
            peer.scored, judged, strict=True))  # the event's own item is never visible
        assert out.results[name]["events"] == len(judged)
    assert any("refit every 40 events" in n for n in out.notes)


def test_split_surprise_peers_fit_the_fold_the_variants_replay(
        small_world: Dataset, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[int, int]] = []
    real = surprise_peers.predict

    def spy(algo: surprise.AlgoBase, train: Sequence[Interaction],
            test: Sequence[Interaction], scale: tuple[float, float]) -> list[float]:
        seen.append((len(train), len(test)))
        assert not {(x.user_id, x.item_id) for x in train} & {
            (x.user_id, x.item_id) for x in test}
        return real(algo, train, test, scale)

    monkeypatch.setattr(surprise_peers, "predict", spy)
    fold = (small_world.interactions[:150], small_world.interactions[150:])
    out = split.run(_job(small_world), [fold])
    assert seen == [(150, len(fold[1]))] * 3  # SVD, SVD++, kNN, each on the whole fold
    for name in ("surprise_svd", "surprise_svdpp", "surprise_knn"):
        assert out.results[name]["predictions"] == len(fold[1])
        assert 0 < out.results[name]["mae"] <= out.results[name]["rmse"] < 4
