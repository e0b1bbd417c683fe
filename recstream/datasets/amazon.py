"""Amazon Review Data (2018) readers: ``<Category>[_5].json(.gz)`` and ``meta_<Category>``.

Both files hold one JSON object per line, gzip-compressed or plain. Ratings are the
1-5 star ``overall``; timestamps are ``unixReviewTime`` (Unix epoch seconds, day
resolution in practice).
"""

from __future__ import annotations

import gzip
import html
import re
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

import orjson

from recstream.datasets.model import DatasetError, Interaction, Item

# A tag, including one cut off at the end of the text (many 2018 titles are a bare
# '<span class="..."' fragment), or a comment. Block tags become a space, inline ones vanish.
_TAG = re.compile(r"<!--.*?(?:-->|$)|<(/?)([a-zA-Z][a-zA-Z0-9]*)\b[^>]*(?:>|$)", re.S)
_BLOCK_TAGS = frozenset(
    "br p div li ul ol tr td th table h1 h2 h3 h4 h5 h6 hr dd dt dl section".split()
)
# Top-level asin of a meta line, to skip unwanted lines without parsing their JSON.
_ASIN = re.compile(rb'"asin":\s*"([^"\\]*)"')


def strip_html(text: str) -> str:
    """Remove HTML tags (cheaply, by regex), unescape entities and collapse whitespace."""
    if "<" in text:
        text = _TAG.sub(lambda m: " " if (m.group(2) or "").lower() in _BLOCK_TAGS else "", text)
    if "&" in text:
        text = html.unescape(text)
    return " ".join(text.split())


def _json_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """Yield ``(line number, raw line)`` of a plain or gzip JSON-lines file, skipping blanks."""
    opener = gzip.open if path.name.endswith(".gz") else open
    lineno = 0
    try:
        with opener(path, "rb") as fh:
            for lineno, line in enumerate(fh, 1):
                if line.strip():
                    yield lineno, line
    except (OSError, EOFError) as exc:  # gzip.BadGzipFile is an OSError
        raise DatasetError(
            f"{path}:{lineno + 1}: cannot read ({exc}); re-download the file or gunzip -t it"
        ) from None


def _parse(path: Path, lineno: int, line: bytes) -> dict[str, Any]:
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise DatasetError(f"{path}:{lineno}: invalid JSON ({exc}); one object per line") from None
    if not isinstance(obj, dict):
        raise DatasetError(f"{path}:{lineno}: expected a JSON object, got {type(obj).__name__}")
    return obj


def amazon_interactions(reviews: Path) -> Iterator[Interaction]:
    """Yield one Interaction per review line, in file order.

    ``review`` is ``summary`` and ``reviewText`` joined by a newline (either may be
    absent; None when both are). ``rating`` is ``overall`` or None.
    """
    for lineno, line in _json_lines(reviews):
        obj = _parse(reviews, lineno, line)
        try:
            user, item, ts = obj["reviewerID"], obj["asin"], float(obj["unixReviewTime"])
            rating = obj.get("overall")
            rating = None if rating is None else float(rating)
        except KeyError as exc:
            raise DatasetError(
                f"{reviews}:{lineno}: missing field {exc}; each review needs reviewerID, asin "
                "and unixReviewTime"
            ) from None
        except (TypeError, ValueError):
            raise DatasetError(
                f"{reviews}:{lineno}: unixReviewTime and overall must be numbers"
            ) from None
        parts = [p for p in (obj.get("summary"), obj.get("reviewText")) if isinstance(p, str) and p]
        yield Interaction(str(user), str(item), ts, rating, "\n".join(parts) or None)


def amazon_items(meta: Path, wanted: Collection[str] | None = None) -> list[Item]:
    """Read a ``meta_<Category>`` file: first line per asin wins (the files repeat lines).

    ``title`` and ``description`` (a string or list of paragraphs, joined by newlines)
    have HTML stripped; ``category`` becomes the tags. ``wanted``: asins to keep.
    """
    items: dict[str, Item] = {}
    for lineno, line in _json_lines(meta):
        if wanted is not None and (m := _ASIN.search(line)):
            asin = m.group(1).decode("utf-8", "replace")
            if asin not in wanted or asin in items:
                continue
        obj = _parse(meta, lineno, line)
        asin = obj.get("asin")
        if not isinstance(asin, str) or not asin:
            raise DatasetError(f"{meta}:{lineno}: missing asin; every metadata line needs one")
        if asin in items or (wanted is not None and asin not in wanted):
            continue
        items[asin] = Item(
            asin,
            strip_html(_text(obj.get("title"))),
            "\n".join(d for d in map(strip_html, _texts(obj.get("description"))) if d),
            tuple(dict.fromkeys(c for c in map(strip_html, _texts(obj.get("category"))) if c)),
        )
    return list(items.values())


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _texts(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []
