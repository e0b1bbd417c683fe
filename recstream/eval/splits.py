"""How each protocol divides a dataset's interactions into what is learned and what is tested.

Every function is deterministic and returns training interactions in the canonical stream
order ``(ts, user_id, item_id)`` (the order ``load_dataset`` gives and the pipeline replays).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from recstream.datasets.model import Interaction, sort_key

TRAIN_SHARE = 0.8  # per-user temporal split of datasets without predefined folds


def by_user(interactions: Iterable[Interaction]) -> dict[str, list[Interaction]]:
    """Each user's interactions ordered by (ts, item_id): the order the protocols use."""
    out: dict[str, list[Interaction]] = {}
    for x in interactions:
        out.setdefault(x.user_id, []).append(x)
    for rows in out.values():
        rows.sort(key=lambda x: (x.ts, x.item_id))
    return out


def loo_split(interactions: Sequence[Interaction]
              ) -> tuple[list[Interaction], dict[str, Interaction]]:
    """Leave-one-out: each user's last interaction by (ts, item id) is the test item; the
    rest train. Users with fewer than 2 interactions are skipped (all their rows train)."""
    test: dict[str, Interaction] = {}
    for user, rows in by_user(interactions).items():
        if len(rows) >= 2:
            test[user] = rows[-1]
    held = {id(x) for x in test.values()}
    train = sorted((x for x in interactions if id(x) not in held), key=sort_key)
    return train, test


def temporal_split(interactions: Sequence[Interaction], train_share: float = TRAIN_SHARE
                   ) -> tuple[list[Interaction], list[Interaction]]:
    """Per-user temporal split: of a user's n interactions by (ts, item id) the last
    max(1, round((1 − share) · n)) test (halves round up) and the rest train; a user with a
    single interaction only trains."""
    train: list[Interaction] = []
    test: list[Interaction] = []
    for rows in by_user(interactions).values():
        n_test = max(1, math.floor((1 - train_share) * len(rows) + 0.5)) if len(rows) > 1 else 0
        train += rows[:len(rows) - n_test]
        test += rows[len(rows) - n_test:]
    return sorted(train, key=sort_key), sorted(test, key=sort_key)


def first_users(interactions: Sequence[Interaction], n: int) -> list[Interaction]:
    """Only the interactions of the first ``n`` users to appear in stream order."""
    keep: dict[str, None] = {}
    for x in interactions:
        if len(keep) >= n:
            break
        keep.setdefault(x.user_id)
    return [x for x in interactions if x.user_id in keep]
