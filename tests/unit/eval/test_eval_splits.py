"""Protocol splits: exact rules and no leakage."""

from __future__ import annotations

from recstream.datasets.model import Dataset, Interaction
from recstream.eval.splits import by_user, first_users, loo_split, temporal_split


def x(user: str, item: str, ts: float) -> Interaction:
    return Interaction(user, item, ts, 3.0)


def test_loo_takes_the_last_by_time_then_item_id_and_skips_single_users() -> None:
    rows = [x("a", "i1", 1), x("a", "i3", 5), x("a", "i2", 5), x("b", "i1", 2)]
    train, test = loo_split(rows)
    assert test == {"a": x("a", "i3", 5)}  # tie at ts 5: i3 sorts after i2
    assert train == [x("a", "i1", 1), x("b", "i1", 2), x("a", "i2", 5)]  # stream order


def test_loo_test_item_never_in_training(small_world: Dataset) -> None:
    train, test = loo_split(small_world.interactions)
    pairs = {(r.user_id, r.item_id) for r in train}
    for user, t in test.items():
        assert (user, t.item_id) not in pairs
        assert t not in train
    assert len(train) + len(test) == len(small_world.interactions)
    # every user with >= 2 interactions has exactly one test item, the latest
    for user, rows in by_user(small_world.interactions).items():
        assert test[user] == rows[-1]


def test_temporal_split_is_per_user_80_20_and_keeps_order(small_world: Dataset) -> None:
    train, test = temporal_split(small_world.interactions)
    assert train == sorted(train, key=lambda r: (r.ts, r.user_id, r.item_id))
    assert not {id(r) for r in train} & {id(r) for r in test}
    for user, rows in by_user(small_world.interactions).items():
        mine_train = [r for r in train if r.user_id == user]
        mine_test = [r for r in test if r.user_id == user]
        assert len(mine_test) == max(1, round(0.2 * len(rows)))
        assert max(r.ts for r in mine_train) <= min(r.ts for r in mine_test)


def test_temporal_split_small_users() -> None:
    train, test = temporal_split([x("a", "i1", 1), x("b", "i1", 1), x("b", "i2", 2)])
    assert [(r.user_id, r.item_id) for r in test] == [("b", "i2")]
    assert len(train) == 2


def test_first_users_keeps_whole_histories() -> None:
    rows = [x("b", "i1", 1), x("a", "i1", 2), x("c", "i1", 3), x("b", "i2", 4)]
    assert first_users(rows, 2) == [x("b", "i1", 1), x("a", "i1", 2), x("b", "i2", 4)]
