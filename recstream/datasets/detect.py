"""Work out which dataset format a path holds, from the files alone (no flags).

Recognised layouts:

* ``ml100k`` - a folder with ``u.data`` and ``u.item`` (MovieLens 100K).
* ``mlcsv`` - a folder with ``ratings.csv`` and ``movies.csv`` (ml-latest, ml-25m, ...).
* ``amazon2018`` - ``<Category>_5.json(.gz)`` or ``<Category>.json(.gz)`` reviews with
  ``meta_<Category>.json(.gz)`` beside them; the path may be the folder or the reviews file.

A path to a file inside a MovieLens folder (``u.data``, ``ratings.csv``, ...) means its folder.
"""

from __future__ import annotations

from pathlib import Path

from recstream.datasets.model import DatasetError

ML100K = "ml100k"
MLCSV = "mlcsv"
AMAZON2018 = "amazon2018"
FORMATS = (ML100K, MLCSV, AMAZON2018)

_ML100K_FILES = ("u.data", "u.item")
_MLCSV_FILES = ("ratings.csv", "movies.csv")
_JSON_SUFFIXES = (".json.gz", ".json")
_EXPECTED = (
    "expected u.data + u.item (MovieLens 100K), ratings.csv + movies.csv (MovieLens CSV) "
    "or <Category>.json(.gz) + meta_<Category>.json(.gz) (Amazon 2018)"
)


def detect_format(path: str | Path) -> str:
    """Return ``"ml100k"``, ``"mlcsv"`` or ``"amazon2018"`` for ``path``.

    Raises DatasetError when the path is missing or holds no recognised dataset.
    """
    return resolve(path)[0]


def resolve(path: str | Path) -> tuple[str, Path]:
    """Return the format and the canonical path: the folder (MovieLens) or reviews file (Amazon)."""
    p = Path(path)
    if not p.exists():
        raise DatasetError(f"{p}: no such file or folder; pass a dataset folder or file")
    if p.is_dir():
        return _resolve_dir(p)
    if p.name in _ML100K_FILES + _MLCSV_FILES:
        return _resolve_dir(p.parent)
    stem = _json_stem(p.name)
    if stem is None:
        raise DatasetError(f"{p}: not a recognised dataset file; {_EXPECTED}")
    if stem.startswith("meta_"):
        reviews = _reviews_for(p.parent, stem.removeprefix("meta_"))
        if len(reviews) != 1:
            raise DatasetError(
                f"{p}: found {len(reviews)} review files for this metadata; "
                "pass the reviews file <Category>_5.json(.gz) or <Category>.json(.gz) instead"
            )
        p = reviews[0]
    amazon_meta_path(p)  # fail now, with a clear message, when the metadata is missing
    return AMAZON2018, p


def amazon_category(reviews: Path) -> str:
    """The category of an Amazon reviews file: ``Books_5.json.gz`` -> ``Books``."""
    stem = _json_stem(reviews.name) or reviews.name
    return stem.removesuffix("_5")


def amazon_meta_path(reviews: Path) -> Path:
    """The ``meta_<Category>.json(.gz)`` file beside an Amazon reviews file."""
    meta = _meta_for(reviews)
    if meta is None:
        cat = amazon_category(reviews)
        raise DatasetError(
            f"{reviews}: no meta_{cat}.json.gz or meta_{cat}.json beside it; "
            "put the category's metadata file in the same folder"
        )
    return meta


def _resolve_dir(d: Path) -> tuple[str, Path]:
    if all((d / f).is_file() for f in _ML100K_FILES):
        return ML100K, d
    if all((d / f).is_file() for f in _MLCSV_FILES):
        return MLCSV, d
    reviews = [
        f
        for f in sorted(d.iterdir())
        if f.is_file() and (s := _json_stem(f.name)) is not None and not s.startswith("meta_")
    ]
    paired = [f for f in reviews if _meta_for(f) is not None]
    if len(paired) == 1:
        return AMAZON2018, paired[0]
    if len(paired) > 1:
        names = ", ".join(f.name for f in paired)
        raise DatasetError(f"{d}: several Amazon review files ({names}); pass one file as the path")
    if reviews:
        cat = amazon_category(reviews[0])
        raise DatasetError(
            f"{d}: {reviews[0].name} has no meta_{cat}.json(.gz) beside it; add the metadata file"
        )
    raise DatasetError(f"{d}: not a recognised dataset folder; {_EXPECTED}")


def _json_stem(name: str) -> str | None:
    for suffix in _JSON_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return None


def _meta_for(reviews: Path) -> Path | None:
    cat = amazon_category(reviews)
    for suffix in _JSON_SUFFIXES:
        meta = reviews.parent / f"meta_{cat}{suffix}"
        if meta.is_file():
            return meta
    return None


def _reviews_for(d: Path, category: str) -> list[Path]:
    names = (f"{category}{tail}{suffix}" for tail in ("_5", "") for suffix in _JSON_SUFFIXES)
    return [d / n for n in names if (d / n).is_file()]
