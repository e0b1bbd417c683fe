"""MovieLens 100K and CSV parsing against the tiny fixtures, and their error messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from recstream.datasets import DatasetError, Interaction, Item, load_dataset, ml100k_folds
from recstream.datasets.movielens import ML100K_GENRES


def test_ml100k_items_in_file_order_with_genres(fixtures: Path) -> None:
    ds = load_dataset(fixtures / "ml100k_tiny")
    assert (ds.name, ds.format) == ("ml100k_tiny", "ml100k")
    by_id = {it.item_id: it for it in ds.items}
    assert by_id["1"] == Item("1", "Toy Story (1995)", "", ("Animation", "Children's", "Comedy"))
    assert by_id["3"].title == "Misérables, Les (1995)"  # latin-1 byte decoded
    assert by_id["4"].tags == ("unknown",)
    # Unrated item 5 stays (whole catalogue without limit); item 99 is rated but not in
    # u.item, so it is appended with an empty title.
    assert [it.item_id for it in ds.items] == ["1", "2", "3", "4", "5", "99"]
    assert by_id["99"] == Item("99", "")


def test_ml100k_interactions_sorted_by_ts_then_user_string(fixtures: Path) -> None:
    ds = load_dataset(fixtures / "ml100k_tiny")
    assert ds.interactions[0] == Interaction("2", "1", 881250949.0, 5.0, None)
    keys = [(i.ts, i.user_id, i.item_id) for i in ds.interactions]
    assert keys == sorted(keys)
    # Ids compare as strings: user "10" sorts before user "9" at the same second.
    assert [i.user_id for i in ds.interactions if i.ts == 881250960.0] == ["10", "9"]
    assert all(isinstance(i.ts, float) and isinstance(i.rating, float) for i in ds.interactions)


def test_ml100k_without_u_genre_uses_standard_names(copy_fixture) -> None:
    folder = copy_fixture("ml100k_tiny")
    (folder / "u.genre").unlink()
    assert len(ML100K_GENRES) == 19
    assert load_dataset(folder).items[1].tags == ("Action", "Adventure", "Thriller")


@pytest.mark.parametrize(
    ("line", "needle"),
    [("1\t2\t4\n", "expected 4 tab-separated"), ("x\t2\t4\t881250950\n", "must be integers")],
)
def test_ml100k_bad_u_data_line_names_file_and_line(copy_fixture, line: str, needle: str) -> None:
    folder = copy_fixture("ml100k_tiny")
    rows = (folder / "u.data").read_text().splitlines(keepends=True)
    rows.insert(2, line)
    (folder / "u.data").write_text("".join(rows))
    with pytest.raises(DatasetError, match=needle) as exc:
        load_dataset(folder)
    assert "u.data:3:" in str(exc.value)
    assert "\n" not in str(exc.value)


def test_ml100k_bad_u_item_line(copy_fixture) -> None:
    folder = copy_fixture("ml100k_tiny")
    with (folder / "u.item").open("a", encoding="latin-1") as fh:
        fh.write("6|Too Short (1997)|01-Jan-1997\n")
    with pytest.raises(DatasetError, match=r"u\.item:6: expected 24 \|-separated fields"):
        load_dataset(folder)


def test_mlcsv_quoted_commas_no_genres_and_user_tags(fixtures: Path) -> None:
    ds = load_dataset(fixtures / "mlcsv_tiny")
    assert ds.format == "mlcsv"
    by_id = {it.item_id: it for it in ds.items}
    assert by_id["2"].title == "American President, The (1995)"
    assert by_id["3"].title.startswith("Good, the Bad and the Ugly, The (Buono, il brutto")
    # "(no genres listed)" means none; a user tag with a comma stays one tag, lower-cased.
    assert by_id["4"].tags == ("quirky, paris",)
    assert by_id["4"].title == "Amélie (Fabuleux destin d'Amélie Poulain, Le) (2001)"
    # Genres first, then distinct lower-cased user tags in first-use order.
    genres = ("Adventure", "Animation", "Children", "Comedy", "Fantasy")
    assert by_id["1"].tags == (*genres, "pixar", "fun")
    # "COMEDY" duplicates a genre and is dropped.
    assert by_id["2"].tags == ("Comedy", "Drama", "Romance", "politics")


def test_mlcsv_crlf_ratings_sorted(fixtures: Path) -> None:
    assert b"\r\n" in (fixtures / "mlcsv_tiny" / "ratings.csv").read_bytes()
    ds = load_dataset(fixtures / "mlcsv_tiny")
    assert [(i.user_id, i.item_id, i.ts, i.rating) for i in ds.interactions] == [
        ("1", "3", 964981247.0, 4.5),
        ("2", "1", 964981247.0, 0.5),
        ("2", "2", 964982224.0, 3.5),
        ("1", "1", 964982703.0, 4.0),
    ]


def test_mlcsv_without_tags_csv(copy_fixture) -> None:
    folder = copy_fixture("mlcsv_tiny")
    (folder / "tags.csv").unlink()
    genres = ("Adventure", "Animation", "Children", "Comedy", "Fantasy")
    assert load_dataset(folder).items[0].tags == genres


def test_mlcsv_lf_and_crlf_give_the_same_dataset(copy_fixture) -> None:
    folder = copy_fixture("mlcsv_tiny")
    before = load_dataset(folder)
    for name in ("ratings.csv", "movies.csv", "tags.csv"):
        data = (folder / name).read_bytes().replace(b"\r\n", b"\n")
        (folder / name).write_bytes(data.replace(b"\n", b"\r\n") if name != "ratings.csv" else data)
    after = load_dataset(folder)
    assert (after.items, after.interactions) == (before.items, before.interactions)


@pytest.mark.parametrize(
    ("text", "where", "needle"),
    [
        ("3,2,4.0\r\n", "ratings.csv:3:", "expected 4 comma-separated fields"),
        ("3,two,4.0,964982703\r\n", "ratings.csv:3:", "must be integers"),
    ],
)
def test_mlcsv_bad_row(copy_fixture, text: str, where: str, needle: str) -> None:
    folder = copy_fixture("mlcsv_tiny")
    rows = (folder / "ratings.csv").read_bytes().split(b"\r\n")
    rows.insert(2, text.rstrip("\r\n").encode())
    (folder / "ratings.csv").write_bytes(b"\r\n".join(rows))
    with pytest.raises(DatasetError, match=needle) as exc:
        load_dataset(folder)
    assert where in str(exc.value)


def test_mlcsv_missing_column(copy_fixture) -> None:
    folder = copy_fixture("mlcsv_tiny")
    (folder / "movies.csv").write_text("movieId,name\n1,Toy Story\n")
    with pytest.raises(DatasetError, match=r"movies\.csv:1: missing column\(s\) title, genres"):
        load_dataset(folder)


def _write_folds(folder: Path) -> None:
    for k in range(1, 6):
        (folder / f"u{k}.base").write_text(f"1\t2\t4\t{900 - k}\n2\t1\t5\t800\n")
        (folder / f"u{k}.test").write_text(f"3\t{k}\t3\t700\n")


def test_ml100k_folds_are_five_sorted_pairs(copy_fixture) -> None:
    folder = copy_fixture("ml100k_tiny")
    _write_folds(folder)
    folds = ml100k_folds(folder)
    assert len(folds) == 5
    base, test = folds[2]
    assert [i.ts for i in base] == [800.0, 897.0]
    assert test == [Interaction("3", "3", 700.0, 3.0)]


def test_ml100k_folds_errors(fixtures: Path, copy_fixture) -> None:
    with pytest.raises(DatasetError, match="missing fold files u1.base"):
        ml100k_folds(copy_fixture("ml100k_tiny"))
    with pytest.raises(DatasetError, match="folds need the MovieLens 100K folder"):
        ml100k_folds(fixtures / "mlcsv_tiny")


def test_repeated_catalogue_id_keeps_the_first_line(copy_fixture) -> None:
    folder = copy_fixture("mlcsv_tiny")
    with (folder / "movies.csv").open("a", encoding="utf-8") as fh:
        fh.write("1,Toy Story Again (1995),Comedy\n")
    items = load_dataset(folder).items
    assert [it.title for it in items if it.item_id == "1"] == ["Toy Story (1995)"]
