"""``load_dataset``: detect the format, read it, order it, apply ``limit``.

Ordering contract (the same for every format):

* interactions are sorted by ``(ts, user_id, item_id)``; ties keep file order;
* items keep the order of the catalogue file (``u.item``, ``movies.csv``, ``meta_*``; the
  first line wins when an id repeats); interacted items missing from the catalogue follow with an
  empty title, in order of first interaction, so the catalogue covers every interaction.

Which items are kept: MovieLens keeps its whole catalogue unless ``limit`` is given;
Amazon keeps only reviewed items (metadata files list many more); with ``limit``,
every format keeps only the items the kept interactions reference.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Collection, Iterable, Iterator
from pathlib import Path

from recstream.datasets import amazon, movielens
from recstream.datasets.detect import AMAZON2018, ML100K, MLCSV, amazon_meta_path, resolve
from recstream.datasets.model import Dataset, DatasetError, Interaction, Item, sort_key

_ItemReader = Callable[[Collection[str] | None], list[Item]]


def _readers(fmt: str, path: Path) -> tuple[Iterator[Interaction], _ItemReader]:
    if fmt == ML100K:
        return movielens.ml100k_interactions(path), lambda w: movielens.ml100k_items(path, w)
    if fmt == MLCSV:
        return movielens.mlcsv_interactions(path), lambda w: movielens.mlcsv_items(path, w)
    meta = amazon_meta_path(path)
    return amazon.amazon_interactions(path), lambda w: amazon.amazon_items(meta, w)


def load_dataset(path: str | Path, limit: int | None = None) -> Dataset:
    """Load the dataset at ``path`` (a folder, or an Amazon reviews file).

    ``limit``: keep only the first ``limit`` interactions in ``(ts, user_id, item_id)``
    order and only the items they reference; None keeps everything.
    Raises DatasetError (one line: what is wrong and the fix) for a missing path, an
    unrecognised folder or a malformed line (``file:line``).
    """
    if limit is not None and limit < 0:
        raise DatasetError(f"limit must be >= 0 or None; got {limit}")
    given = Path(path)
    fmt, root = resolve(given)
    stream, read_items = _readers(fmt, root)
    interactions = ordered(stream, limit)
    referenced = dict.fromkeys(i.item_id for i in interactions)
    wanted = referenced if (limit is not None or fmt == AMAZON2018) else None
    catalogue: dict[str, Item] = {}
    for item in read_items(wanted):
        catalogue.setdefault(item.item_id, item)  # first line wins if an id repeats
    for item_id in referenced:
        catalogue.setdefault(item_id, Item(item_id, ""))
    items = list(catalogue.values())
    name = given.resolve().name if given.is_dir() else root.name
    return Dataset(name=name, format=fmt, items=items, interactions=interactions)


def ordered(interactions: Iterable[Interaction], limit: int | None = None) -> list[Interaction]:
    """Sort by ``(ts, user_id, item_id)`` (stable); keep the first ``limit`` if given.

    With a limit only ``limit`` interactions are held at once, so a prefix of a large
    file costs little memory.
    """
    if limit is None:
        return sorted(interactions, key=sort_key)
    return heapq.nsmallest(limit, interactions, key=sort_key)


def ml100k_folds(path: str | Path) -> list[tuple[list[Interaction], list[Interaction]]]:
    """The five MovieLens 100K 80/20 splits as ``[(u1.base, u1.test), ..., (u5.base, u5.test)]``.

    Each list is sorted by ``(ts, user_id, item_id)``. Raises DatasetError when ``path``
    is not an ml100k folder or lacks a fold file.
    """
    fmt, root = resolve(path)
    if fmt != ML100K:
        raise DatasetError(f"{path}: is a {fmt} dataset; folds need the MovieLens 100K folder")
    return [
        (
            ordered(movielens.ml100k_interactions(root, base)),
            ordered(movielens.ml100k_interactions(root, test)),
        )
        for base, test in movielens.ml100k_fold_files(root)
    ]
