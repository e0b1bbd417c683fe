"""``recstream produce``: replay a dataset (or JSON-lines events) onto the input topics."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from recstream.cli import BootstrapOpt, UserError, app, settings
from recstream.core.events import Invalid, Limits, parse, worker_limits
from recstream.datasets import DatasetError, interaction_event, item_record, load_dataset


class Kind(StrEnum):
    ratings = "ratings"
    clicks = "clicks"
    purchases = "purchases"


def paced(n: int, rate: float | None) -> Iterator[int]:
    """Yield 0..n-1, sleeping so that at most ``rate`` indices per second go out."""
    start = time.monotonic()
    for i in range(n):
        if rate:
            ahead = start + i / rate - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
        yield i


def read_jsonl(path: str, kind: Kind | None, limits: Limits | None = None
               ) -> list[tuple[str, dict[str, Any]]]:
    """Validate every line as a worker would (``limits``; default: the default settings');
    a bad line aborts before anything is sent. Without ``kind``, a line with a ``rating``
    is a rating, any other a click."""
    fh = sys.stdin if path == "-" else None
    try:
        lines = (fh.buffer.read() if fh else Path(path).read_bytes()).splitlines()
    except OSError as e:
        raise UserError(f"cannot read {path}: {e.strerror}") from None
    out, errors = [], []
    limits = limits or Limits(time.time())
    for no, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            obj = None  # parse() below says why (malformed_json, invalid_utf8, oversized)
        k = kind.value if kind else ("ratings" if isinstance(obj, dict)
                                     and "rating" in obj else "clicks")
        try:
            parse(line, k, limits)
        except Invalid as e:
            errors.append(f"line {no}: {e}")
            continue
        out.append((k, obj))
    if errors:
        shown = "; ".join(errors[:5]) + (f"; … {len(errors) - 5} more" if len(errors) > 5 else "")
        raise UserError(f"{len(errors)} invalid line(s) in {path}, nothing sent: {shown}")
    return out


@app.command()
def produce(
    dataset: Annotated[Path | None, typer.Option("--dataset", "-d", help="MovieLens 100K "
                       "folder, MovieLens CSV folder, or Amazon 2018 reviews(+meta) path.")] = None,
    file: Annotated[str | None, typer.Option("--file", "-f", help="JSON-lines events "
                    "('-' for stdin), sent as given after validation.")] = None,
    as_kind: Annotated[Kind | None, typer.Option("--as", help="Send interactions as this "
                       "event kind (default: ratings; implicit: clicks|purchases).")] = None,
    limit: Annotated[int | None, typer.Option(help="Send at most this many interactions.")] = None,
    rate: Annotated[float | None, typer.Option(help="Events per second (default: as fast as "
                    "possible).")] = None,
    bootstrap: BootstrapOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
) -> None:
    """Replay the catalogue to `items`, then interactions in timestamp order as events."""
    from streams.admin import broker_ready
    from streams.producer import EventProducer
    from streams.topics import topic_names

    if (dataset is None) == (file is None):
        raise UserError("give exactly one of --dataset PATH or --file PATH|-")
    if rate is not None and rate <= 0:
        raise UserError("--rate must be a positive number of events per second")
    s = settings(bootstrap)
    names = topic_names(s)
    topic_of = {"ratings": names.ratings, "clicks": names.clicks, "purchases": names.purchases}
    if file is not None:
        events = read_jsonl(file, as_kind, worker_limits(s.worker, time.time()))
        events = events[:limit] if limit else events
        items: list[dict[str, Any]] = []
    else:
        try:
            ds = load_dataset(dataset, limit=limit)  # type: ignore[arg-type]
        except DatasetError as e:
            raise UserError(str(e)) from None
        kind = (as_kind or Kind.ratings).value
        items = [item_record(i) for i in ds.items]
        events = [(kind, interaction_event(x, kind, ds.format)) for x in ds.interactions]
    if not broker_ready(s.bootstrap, security=s.security):
        raise UserError(f"no Kafka broker answers at {s.bootstrap}; run `recstream up` or "
                        "`recstream broker start`, or pass --bootstrap-server")
    started = time.monotonic()
    with EventProducer(s.bootstrap, s.security) as producer, Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), disable=quiet, transient=False) as bar:
        task = bar.add_task("items", total=len(items))
        for item in items:
            producer.send(names.items, item["item_id"], item)
            bar.advance(task)
        producer.flush()
        task = bar.add_task("events", total=len(events))
        for i in paced(len(events), rate):
            k, ev = events[i]
            producer.send(topic_of[k], str(ev["user_id"]), ev)
            bar.advance(task)
    secs = time.monotonic() - started
    typer.echo(f"sent {len(items)} items and {len(events)} events in {secs:.1f}s "
               f"({len(events) / max(secs, 1e-9):.0f} events/s)")
