"""Amazon 2018 reviews + metadata against the tiny fixture, and their error messages."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from recstream.datasets import DatasetError, Interaction, Item, load_dataset
from recstream.datasets.amazon import strip_html


def test_amazon_items_cover_reviews_and_drop_unreviewed_meta(fixtures: Path) -> None:
    ds = load_dataset(fixtures / "amazon_tiny")
    assert (ds.name, ds.format) == ("amazon_tiny", "amazon2018")
    # Catalogue order of meta_ (first line per asin), then reviewed asins without metadata.
    assert [it.item_id for it in ds.items] == ["B002", "A001", "C003"]
    b, a, c = ds.items
    # HTML stripped and unescaped; description list joined by newlines; first duplicate wins.
    assert b == Item(
        "B002",
        "Cats & Dogs Weekly",
        "Cats & Dogs is a weekly.\nSecond paragraph with a break.",
        ("Tiny Things", "Pets & Animals", "Cats"),
    )
    assert a.title == ""  # a bare '<span class="..."' fragment, as in the real data
    assert a.description == "A plain string description."
    assert c == Item("C003", "")


def test_amazon_interactions_with_review_text(fixtures: Path) -> None:
    ds = load_dataset(fixtures / "amazon_tiny")
    assert ds.interactions == [
        Interaction("U0", "C003", 1420070400.0, 1.0, "Never arrived"),
        Interaction("U1", "A001", 1420070400.0, 3.0, "Fine magazine."),
        Interaction("U2", "B002", 1420156800.0, 5.0, "Great\nLovely cats."),
        Interaction("U1", "B002", 1420243200.0, 4.0, "Nice\nDogs too."),
    ]


def test_amazon_reviews_file_path_and_plain_json(fixtures: Path, tmp_path: Path) -> None:
    by_file = load_dataset(fixtures / "amazon_tiny" / "Tiny_Things_5.json.gz")
    assert by_file.name == "Tiny_Things_5.json.gz"
    for name in ("Tiny_Things_5.json", "meta_Tiny_Things.json"):
        gz = fixtures / "amazon_tiny" / f"{name}.gz"
        (tmp_path / name).write_bytes(gzip.decompress(gz.read_bytes()))
    plain = load_dataset(tmp_path)
    assert (plain.items, plain.interactions) == (by_file.items, by_file.interactions)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ('<span class="a-size-medium a-color-secondary"', ""),
        ("A &amp; B <i>C</i>", "A & B C"),
        ("one<br />two<p>three</p>", "one two three"),
        ("cr&ecirc;pe &lt;b&gt;", "crêpe <b>"),
        ("3 < 4 and <!-- note --> done", "3 < 4 and done"),
    ],
)
def test_strip_html(raw: str, clean: str) -> None:
    assert strip_html(raw) == clean


def _plain_copy(fixtures: Path, tmp_path: Path) -> tuple[Path, Path]:
    reviews, meta = tmp_path / "Tiny_Things_5.json", tmp_path / "meta_Tiny_Things.json"
    for p in (reviews, meta):
        p.write_bytes(gzip.decompress((fixtures / "amazon_tiny" / f"{p.name}.gz").read_bytes()))
    return reviews, meta


def _insert_line(path: Path, index: int, line: str) -> None:
    rows = path.read_text().splitlines(keepends=True)
    rows.insert(index, line + "\n")
    path.write_text("".join(rows))


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        ('{"reviewerID": "U9", "asin": "X"', "invalid JSON"),
        ('["not", "an", "object"]', "expected a JSON object"),
        ('{"reviewerID": "U9", "asin": "X", "overall": 5.0}', "missing field 'unixReviewTime'"),
        ('{"reviewerID": "U9", "asin": "X", "unixReviewTime": "soon"}', "must be numbers"),
    ],
)
def test_amazon_bad_review_line(fixtures: Path, tmp_path: Path, line: str, needle: str) -> None:
    reviews, _ = _plain_copy(fixtures, tmp_path)
    _insert_line(reviews, 1, line)
    with pytest.raises(DatasetError, match=needle) as exc:
        load_dataset(tmp_path)
    assert "Tiny_Things_5.json:2:" in str(exc.value)
    assert "\n" not in str(exc.value)


def test_amazon_bad_meta_line(fixtures: Path, tmp_path: Path) -> None:
    _, meta = _plain_copy(fixtures, tmp_path)
    _insert_line(meta, 2, '{"title": "no asin here"}')
    with pytest.raises(DatasetError, match=r"meta_Tiny_Things\.json:3: missing asin"):
        load_dataset(tmp_path)


def test_amazon_corrupt_gzip(fixtures: Path, tmp_path: Path) -> None:
    data = (fixtures / "amazon_tiny" / "Tiny_Things_5.json.gz").read_bytes()
    (tmp_path / "Tiny_Things_5.json.gz").write_bytes(data[: len(data) // 2])
    (tmp_path / "meta_Tiny_Things.json.gz").write_bytes(
        (fixtures / "amazon_tiny" / "meta_Tiny_Things.json.gz").read_bytes()
    )
    with pytest.raises(DatasetError, match="cannot read"):
        load_dataset(tmp_path)
