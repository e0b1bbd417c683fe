"""Format detection from files alone: folders, files inside them, Amazon file pairs."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from recstream.datasets import FORMATS, DatasetError, detect_format


@pytest.mark.parametrize(
    ("folder", "fmt"),
    [("ml100k_tiny", "ml100k"), ("mlcsv_tiny", "mlcsv"), ("amazon_tiny", "amazon2018")],
)
def test_detects_each_fixture_folder(fixtures: Path, folder: str, fmt: str) -> None:
    assert detect_format(fixtures / folder) == fmt
    assert detect_format(str(fixtures / folder)) == fmt
    assert fmt in FORMATS


@pytest.mark.parametrize(
    ("file", "fmt"),
    [
        ("ml100k_tiny/u.data", "ml100k"),
        ("ml100k_tiny/u.item", "ml100k"),
        ("mlcsv_tiny/ratings.csv", "mlcsv"),
        ("amazon_tiny/Tiny_Things_5.json.gz", "amazon2018"),
        ("amazon_tiny/meta_Tiny_Things.json.gz", "amazon2018"),
    ],
)
def test_detects_from_a_file_inside_the_dataset(fixtures: Path, file: str, fmt: str) -> None:
    assert detect_format(fixtures / file) == fmt


def _gunzip(src: Path, dst: Path) -> None:
    dst.write_bytes(gzip.decompress(src.read_bytes()))


def test_amazon_plain_json_and_full_reviews_name(fixtures: Path, tmp_path: Path) -> None:
    # Full (non 5-core) reviews are named <Category>.json; both may be uncompressed.
    src = fixtures / "amazon_tiny"
    _gunzip(src / "Tiny_Things_5.json.gz", tmp_path / "Tiny_Things.json")
    _gunzip(src / "meta_Tiny_Things.json.gz", tmp_path / "meta_Tiny_Things.json")
    assert detect_format(tmp_path) == "amazon2018"
    assert detect_format(tmp_path / "Tiny_Things.json") == "amazon2018"


def test_missing_path_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no such file or folder") as exc:
        detect_format(tmp_path / "nope")
    assert "\n" not in str(exc.value)


def test_unrecognised_folder_names_the_expected_files(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello\n")
    with pytest.raises(DatasetError, match="not a recognised dataset folder") as exc:
        detect_format(tmp_path)
    assert "u.data" in str(exc.value) and "ratings.csv" in str(exc.value)


def test_unrecognised_file(tmp_path: Path) -> None:
    (tmp_path / "data.parquet").write_bytes(b"PAR1")
    with pytest.raises(DatasetError, match="not a recognised dataset file"):
        detect_format(tmp_path / "data.parquet")


def test_amazon_reviews_without_meta(fixtures: Path, tmp_path: Path) -> None:
    (tmp_path / "Books_5.json.gz").write_bytes(
        (fixtures / "amazon_tiny" / "Tiny_Things_5.json.gz").read_bytes()
    )
    with pytest.raises(DatasetError, match=r"meta_Books\.json"):
        detect_format(tmp_path)
    with pytest.raises(DatasetError, match=r"meta_Books\.json"):
        detect_format(tmp_path / "Books_5.json.gz")


def test_several_amazon_categories_ask_for_a_file(fixtures: Path, tmp_path: Path) -> None:
    src = fixtures / "amazon_tiny"
    reviews = (src / "Tiny_Things_5.json.gz").read_bytes()
    meta = (src / "meta_Tiny_Things.json.gz").read_bytes()
    for cat in ("Books", "Music"):
        (tmp_path / f"{cat}_5.json.gz").write_bytes(reviews)
        (tmp_path / f"meta_{cat}.json.gz").write_bytes(meta)
    with pytest.raises(DatasetError, match="several Amazon review files"):
        detect_format(tmp_path)
    assert detect_format(tmp_path / "Music_5.json.gz") == "amazon2018"


def test_movielens_wins_over_stray_json(fixtures: Path, copy_fixture) -> None:
    folder = copy_fixture("ml100k_tiny")
    (folder / "config.json").write_text("{}\n")
    assert detect_format(folder) == "ml100k"
