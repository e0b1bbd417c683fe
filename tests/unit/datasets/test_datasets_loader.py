"""load_dataset's shared contract: ordering, ``limit``, catalogue coverage, types."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recstream.datasets import DatasetError, Interaction, Item, load_dataset
from recstream.datasets.loader import ordered

TINY = ["ml100k_tiny", "mlcsv_tiny", "amazon_tiny"]


@pytest.mark.parametrize("folder", TINY)
def test_every_interacted_item_is_in_the_catalogue(fixtures: Path, folder: str) -> None:
    ds = load_dataset(fixtures / folder)
    ids = [it.item_id for it in ds.items]
    assert len(ids) == len(set(ids))
    assert {i.item_id for i in ds.interactions} <= set(ids)


@pytest.mark.parametrize("folder", TINY)
@pytest.mark.parametrize("limit", [0, 1, 2, 3, 100])
def test_limit_keeps_a_prefix_and_only_its_items(fixtures: Path, folder: str, limit: int) -> None:
    full = load_dataset(fixtures / folder)
    part = load_dataset(fixtures / folder, limit=limit)
    assert part.interactions == full.interactions[:limit]
    referenced = {i.item_id for i in part.interactions}
    assert {it.item_id for it in part.items} == referenced
    # Kept items keep their relative order from the full catalogue.
    position = {it.item_id: n for n, it in enumerate(full.items)}
    assert [position[it.item_id] for it in part.items] == sorted(position[i] for i in referenced)


def test_limit_on_ml100k_appends_uncatalogued_item_last(fixtures: Path) -> None:
    ds = load_dataset(fixtures / "ml100k_tiny", limit=3)
    assert [it.item_id for it in ds.items] == ["1", "2", "99"]


def test_negative_limit(fixtures: Path) -> None:
    with pytest.raises(DatasetError, match="limit must be >= 0"):
        load_dataset(fixtures / "ml100k_tiny", limit=-1)


def test_records_are_frozen_and_slotted() -> None:
    item, inter = Item("1", "t"), Interaction("u", "1", 1.0)
    for obj in (item, inter):
        assert not hasattr(obj, "__dict__")
        with pytest.raises(dataclasses.FrozenInstanceError):
            obj.item_id = "2"  # type: ignore[misc]
    assert (item.description, item.tags, inter.rating, inter.review) == ("", (), None, None)


def test_dataset_error_is_a_value_error() -> None:
    assert issubclass(DatasetError, ValueError)


def test_package_imports_no_kafka_code() -> None:
    code = (
        "import sys, recstream.datasets, recstream.datasets.events\n"
        "bad = {'faust', 'aiokafka', 'kafka', 'rocksdict'}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


_inter = st.builds(
    Interaction,
    user_id=st.integers(1, 30).map(str),
    item_id=st.integers(1, 30).map(str),
    ts=st.integers(0, 50).map(float),
    rating=st.integers(1, 5).map(float),
)


@given(st.lists(_inter, max_size=40), st.one_of(st.none(), st.integers(0, 50)))
def test_ordered_is_a_stable_sorted_prefix(inters: list[Interaction], limit: int | None) -> None:
    expected = sorted(inters, key=lambda i: (i.ts, i.user_id, i.item_id))
    assert ordered(inters, limit) == (expected if limit is None else expected[:limit])


@settings(max_examples=30, deadline=None)
@given(st.lists(_inter, min_size=1, max_size=30), st.integers(0, 35))
def test_ml100k_round_trip(inters: list[Interaction], limit: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "u.data").write_text(
            "".join(f"{i.user_id}\t{i.item_id}\t{i.rating:.0f}\t{i.ts:.0f}\n" for i in inters)
        )
        (folder / "u.item").write_text(f"1|One (1990)||||{'|'.join('0' * 19)}\n")
        ds = load_dataset(folder, limit=limit)
    assert ds.interactions == ordered(inters, limit)
    assert {it.item_id for it in ds.items} == {i.item_id for i in ds.interactions}
