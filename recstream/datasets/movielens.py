"""MovieLens readers: the 100K folder (``u.data``/``u.item``) and the CSV folders.

Ratings are on MovieLens' 0.5-5 star scale; timestamps are Unix epoch seconds.
Every reader raises DatasetError naming ``file:line`` for a malformed line.
"""

from __future__ import annotations

import csv
from collections.abc import Collection, Iterator
from pathlib import Path

from recstream.datasets.model import DatasetError, Interaction, Item

# Used when a 100K folder has no u.genre; the order of the 19 flags in u.item.
ML100K_GENRES = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
    "Romance", "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip
NO_GENRES = "(no genres listed)"
_ENCODING_100K = "latin-1"  # u.item holds ISO-8859-1 titles; the other files are ASCII


def bad_line(path: Path, line: int, what: str) -> DatasetError:
    """A DatasetError for a malformed line: ``<file>:<line>: <what>``, kept to one line."""
    return DatasetError(f"{path}:{line}: {what}".replace("\n", " "))


def _clip(text: str, width: int = 60) -> str:
    text = text.rstrip("\r\n")
    return repr(text if len(text) <= width else text[:width] + "...")


# --- MovieLens 100K -------------------------------------------------------------------


def ml100k_interactions(folder: Path, filename: str = "u.data") -> Iterator[Interaction]:
    """Yield the ratings of a tab-separated ``user item rating timestamp`` file, in file order."""
    path = folder / filename
    with path.open(encoding=_ENCODING_100K) as fh:
        for lineno, line in enumerate(fh, 1):
            fields = line.split("\t")
            if len(fields) != 4:
                if not line.strip():
                    continue
                raise bad_line(
                    path,
                    lineno,
                    f"expected 4 tab-separated fields user, item, rating, timestamp; "
                    f"got {_clip(line)}",
                )
            user, item, rating, ts = fields
            try:
                inter = Interaction(str(int(user)), str(int(item)), float(int(ts)), float(rating))
            except ValueError:
                raise bad_line(
                    path,
                    lineno,
                    f"user, item, timestamp must be integers, rating a number; got {_clip(line)}",
                ) from None
            yield inter


def ml100k_items(folder: Path, wanted: Collection[str] | None = None) -> list[Item]:
    """Read ``u.item`` (pipe-separated, latin-1) in file order; genres become tags.

    ``wanted``: keep only these item ids (None keeps all).
    """
    genres = _ml100k_genres(folder)
    path = folder / "u.item"
    n_fields = 5 + len(genres)
    items: list[Item] = []
    with path.open(encoding=_ENCODING_100K) as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            fields = line.rstrip("\r\n").split("|")
            if len(fields) != n_fields:
                raise bad_line(
                    path,
                    lineno,
                    f"expected {n_fields} |-separated fields (id, title, release date, video "
                    f"release date, URL, {len(genres)} genre flags); got {len(fields)}",
                )
            flags = fields[5:]
            if not fields[0].strip().isdigit() or any(f not in ("0", "1") for f in flags):
                what = f"item id must be an integer, genre flags 0 or 1; got {_clip(line)}"
                raise bad_line(path, lineno, what)
            item_id = str(int(fields[0]))
            if wanted is not None and item_id not in wanted:
                continue
            tags = tuple(g for g, f in zip(genres, flags, strict=True) if f == "1")
            items.append(Item(item_id, fields[1].strip(), "", tags))
    return items


def _ml100k_genres(folder: Path) -> tuple[str, ...]:
    path = folder / "u.genre"
    if not path.is_file():
        return ML100K_GENRES
    pairs: list[tuple[int, str]] = []
    with path.open(encoding=_ENCODING_100K) as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            name, _, index = line.strip().rpartition("|")
            if not name or not index.isdigit():
                raise bad_line(path, lineno, f"expected 'genre|index'; got {_clip(line)}")
            pairs.append((int(index), name))
    return tuple(name for _, name in sorted(pairs))


def ml100k_fold_files(folder: Path) -> list[tuple[str, str]]:
    """The five 80/20 splits' file names, ``[("u1.base", "u1.test"), ...]``, checked to exist."""
    pairs = [(f"u{k}.base", f"u{k}.test") for k in range(1, 6)]
    missing = [n for pair in pairs for n in pair if not (folder / n).is_file()]
    if missing:
        raise DatasetError(
            f"{folder}: missing fold files {', '.join(missing)}; use the full ml-100k folder"
        )
    return pairs


# --- MovieLens CSV (ml-latest, ml-latest-small, ml-20m, ml-25m, ...) --------------------


def _csv_rows(path: Path, columns: tuple[str, ...]) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(line number, [values of columns])`` for each row; checks header and width."""
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        try:
            header = next(reader)
        except StopIteration:
            raise DatasetError(f"{path}: empty file; expected header {','.join(columns)}") from None
        except (csv.Error, UnicodeDecodeError) as exc:
            raise bad_line(path, 1, f"unreadable header ({exc})") from None
        header = [h.strip().lstrip("\ufeff") for h in header]
        missing = [c for c in columns if c not in header]
        if missing:
            what = f"missing column(s) {', '.join(missing)}; header must name {','.join(columns)}"
            raise bad_line(path, 1, what)
        idx = [header.index(c) for c in columns]
        width = len(header)
        try:
            for row in reader:
                if len(row) != width:
                    if not row:
                        continue
                    raise bad_line(
                        path,
                        reader.line_num,
                        f"expected {width} comma-separated fields; got {len(row)} "
                        "(quote values that contain commas)",
                    )
                yield reader.line_num, [row[i] for i in idx]
        except (csv.Error, UnicodeDecodeError) as exc:
            raise bad_line(path, reader.line_num + 1, f"unreadable CSV ({exc})") from None


def mlcsv_interactions(folder: Path) -> Iterator[Interaction]:
    """Yield the ratings of ``ratings.csv`` (userId,movieId,rating,timestamp), in file order."""
    path = folder / "ratings.csv"
    for lineno, (user, item, rating, ts) in _csv_rows(
        path, ("userId", "movieId", "rating", "timestamp")
    ):
        try:
            inter = Interaction(str(int(user)), str(int(item)), float(ts), float(rating))
        except ValueError:
            raise bad_line(
                path, lineno, "userId and movieId must be integers, rating and timestamp numbers"
            ) from None
        yield inter


def mlcsv_items(folder: Path, wanted: Collection[str] | None = None) -> list[Item]:
    """Read ``movies.csv`` in file order; tags are the genres, then ``tags.csv`` user tags.

    User tags are lower-cased, stripped and deduplicated per movie (first use first);
    a user tag equal to a genre (ignoring case) is dropped. ``wanted``: ids to keep.
    """
    path = folder / "movies.csv"
    movies: list[tuple[str, str, list[str]]] = []
    for lineno, (movie, title, genres) in _csv_rows(path, ("movieId", "title", "genres")):
        try:
            item_id = str(int(movie))
        except ValueError:
            raise bad_line(path, lineno, f"movieId must be an integer; got {movie!r}") from None
        if wanted is not None and item_id not in wanted:
            continue
        names = [] if genres.strip() == NO_GENRES else [g for g in genres.split("|") if g]
        movies.append((item_id, title.strip(), names))
    user_tags = _mlcsv_tags(folder, wanted)
    items = []
    for item_id, title, genres in movies:
        seen = {g.lower() for g in genres}
        extra = [t for t in user_tags.get(item_id, ()) if t not in seen]
        items.append(Item(item_id, title, "", tuple(genres + extra)))
    return items


def _mlcsv_tags(folder: Path, wanted: Collection[str] | None) -> dict[str, dict[str, None]]:
    """Map movie id -> ordered set of lower-cased user tags from the optional ``tags.csv``."""
    path = folder / "tags.csv"
    tags: dict[str, dict[str, None]] = {}
    if not path.is_file():
        return tags
    for lineno, (movie, tag) in _csv_rows(path, ("movieId", "tag")):
        try:
            item_id = str(int(movie))
        except ValueError:
            raise bad_line(path, lineno, f"movieId must be an integer; got {movie!r}") from None
        if wanted is not None and item_id not in wanted:
            continue
        tag = " ".join(tag.lower().split())
        if tag:
            tags.setdefault(item_id, {})[tag] = None
    return tags
