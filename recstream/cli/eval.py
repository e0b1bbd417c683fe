"""``recstream eval``: offline protocols (split, loo, prequential), variants and peers side by
side, in process (no broker). The protocols are described in EVALUATION.md."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from recstream.cli import BootstrapOpt, JsonOpt, UserError, app, settings
from recstream.datasets import DatasetError

COLUMNS = {"split": ("mae", "rmse", "support"),
           "loo": ("hr", "ndcg", "mrr", "precision", "f1", "coverage", "ild", "novelty",
                   "users"),
           "prequential": ("hr", "ndcg", "mrr", "coverage", "ild", "novelty", "events")}


class Protocol(StrEnum):
    split = "split"
    loo = "loo"
    prequential = "prequential"


class Bars:
    """Progress bars on stderr for the long stages (stdout stays clean for --json)."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress

    def stage(self, name: str, total: int) -> Callable[[int], None]:
        task = self.progress.add_task(name, total=total)
        return lambda n: self.progress.update(task, completed=n)


def label(metric: str, k: int, protocol: str) -> str:
    cut = {"hr": "HR", "ndcg": "NDCG", "precision": "P", "f1": "F1"}
    if metric in cut:
        return f"{cut[metric]}@{k}"
    if metric == "mrr":  # prequential ranks within the top-k list only
        return f"MRR@{k}" if protocol == "prequential" else "MRR"
    return {"mae": "MAE", "rmse": "RMSE", "coverage": "coverage", "support": "own signal",
            "users": "users", "events": "events", "ild": "ILD", "novelty": "novelty"}[metric]


def cell(r: dict[str, Any], c: str) -> str:
    if c not in r:
        return "–"
    return f"{r[c]:.0f}" if c in ("users", "events") else f"{r[c]:.4f}"


def table(doc: dict[str, Any]) -> Table:
    cols = COLUMNS[doc["protocol"]]
    t = Table(title=f"{doc['dataset']} · {doc['protocol']} · {doc['seconds']:.0f}s")
    t.add_column("variant / peer", no_wrap=True)
    for c in cols:
        t.add_column(label(c, doc["k"], doc["protocol"]), justify="right")
    for name, r in doc["results"].items():
        if "unavailable" in r:
            t.add_row(f"[dim]{name}[/dim]", *["[dim]n/a[/dim]"] * len(cols))
            continue
        t.add_row(name, *(cell(r, c) for c in cols))
    return t


def cold_start_table(doc: dict[str, Any]) -> Table:
    k, count = doc["k"], "users" if doc["protocol"] == "loo" else "events"
    t = Table(title="cold start · new items (< 5 earlier interactions) · new users (first 3 "
              "judged events)")
    t.add_column("variant / peer", no_wrap=True)
    for bucket in ("new items", "new users"):
        t.add_column(f"{bucket} HR@{k}", justify="right")
        t.add_column(f"NDCG@{k}", justify="right")
        t.add_column(count, justify="right")
    for name, b in doc["cold_start"].items():
        t.add_row(name, *(cell(b[bucket], c) for bucket in ("new_items", "new_users")
                          for c in ("hr", "ndcg", count)))
    return t


def drift_table(doc: dict[str, Any]) -> Table:
    d, k = doc["drift"], doc["k"]
    t = Table(title=f"drift · {d['variant']} · HR@{k} by profile decay and session signal "
              f"(and per tenth of the judged events)")
    for c in ("half-life", "session N", "boost b", f"HR@{k}", f"NDCG@{k}", "by tenth"):
        t.add_column(c, justify="right")
    for r in d["rows"]:
        hl = r["decay_half_life_s"]
        t.add_row("off" if hl == 0 else f"{hl / 86400:g} d", str(r["session_events"]),
                  f"{r['session_boost']:g}", f"{r['hr']:.4f}", f"{r['ndcg']:.4f}",
                  " ".join(f"{v:.3f}" for v in r["hr_by_segment"]))
    return t


def through_kafka_eval(dataset: Path, s: Any, k: int, max_events: int | None,
                       quiet: bool) -> dict[str, Any]:
    """Replay the dataset through the running pipeline; score its records prequentially."""
    from recstream.datasets import interaction_event, item_record, load_dataset
    from recstream.eval.through_kafka import score_records
    from streams.admin import broker_ready
    from streams.replay import replay_and_collect

    if not broker_ready(s.bootstrap, security=s.security):
        raise UserError(f"no Kafka broker answers at {s.bootstrap}; run `recstream up --fresh` "
                        "first, or pass --bootstrap-server")
    started = time.monotonic()
    try:
        ds = load_dataset(dataset, limit=max_events)
    except DatasetError as e:
        raise UserError(str(e)) from None
    events = [interaction_event(x, "ratings", ds.format) for x in ds.interactions]
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=Console(stderr=True), transient=True,
                  disable=quiet) as bar:
        task = bar.add_task("records", total=len(events))
        records = replay_and_collect(s, [item_record(i) for i in ds.items], events,
                                     progress=lambda n: bar.update(task, completed=n))
    stream = [(e["event_id"], e["user_id"], e["item_id"]) for e in events]
    results = score_records(stream, records, len(ds.items), k)
    if not results:
        raise UserError(f"the pipeline at {s.bootstrap} published no recommendations for "
                        "these events; is a worker running (`recstream up`)?")
    return {"dataset": ds.name, "protocol": "prequential", "k": k, "results": results,
            "seconds": round(time.monotonic() - started, 2), "through_kafka": True}


@app.command("eval")
def eval_command(
    dataset: Annotated[Path, typer.Option("--dataset", "-d", help="MovieLens 100K folder, "
                       "MovieLens CSV folder, or Amazon 2018 reviews(+meta) path.")],
    protocol: Annotated[Protocol, typer.Option(help="split (ratings: MAE/RMSE), loo "
                        "(leave-one-out, full ranking) or prequential (test-then-train).")],
    k: Annotated[int, typer.Option("--k", help="Cut-off of the top-N metrics.")] = 10,
    variants: Annotated[str | None, typer.Option(help="Comma-separated variants (default: "
                        "all): popularity,cf_seed,cf,content,cooc,seq,hybrid,hybrid_llm,fixed,"
                        "no_cooc,no_seq,no_graph,learned,default (learned: prequential "
                        "only).")] = None,
    peers: Annotated[bool, typer.Option("--peers", help="Also run the classic peers "
                     "(pip install 'recstream[peers]').")] = False,
    as_json: JsonOpt = False,
    plot: Annotated[Path | None, typer.Option(help="Write a bar chart PNG here.")] = None,
    limit_users: Annotated[int | None, typer.Option(help="Only the first N users to appear "
                           "in the stream.", min=1)] = None,
    sample_every: Annotated[int, typer.Option(help="prequential: evaluate every N-th "
                            "eligible event (all are ingested).", min=1)] = 1,
    max_events: Annotated[int | None, typer.Option(help="prequential: replay only the first "
                          "N events.", min=1)] = None,
    refit_every: Annotated[int | None, typer.Option(help="prequential: refit peers every N "
                           "events (default: 20 refits per run).", min=1)] = None,
    judge_from: Annotated[float, typer.Option(help="prequential: count only events from "
                          "this stream index on (below 1: that share of the stream, e.g. 0.8 "
                          "judges the last 20 %); all are ingested.", min=0)] = 0.0,
    through_kafka: Annotated[bool, typer.Option("--through-kafka", help="prequential: replay "
                             "through the running pipeline (`recstream up --fresh`) and score "
                             "what it publishes.")] = False,
    no_llm: Annotated[bool, typer.Option("--no-llm", help="Evaluate as `recstream up "
                      "--no-scorer`: default without the LLM score, hybrid_llm "
                      "unavailable (no encoder is loaded).")] = False,
    drift: Annotated[bool, typer.Option("--drift", help="prequential: also rerun default "
                     "over a grid of profile decay half-lives and session signals (with "
                     "--plot: FILE-drift.png).")] = False,
    bootstrap: BootstrapOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars.")] = False,
) -> None:
    """Evaluate variants (and peers) on a dataset with an exact offline protocol."""
    from recstream.eval.run import evaluate

    if through_kafka:
        if protocol is not Protocol.prequential:
            raise UserError("--through-kafka replays the prequential protocol only; add "
                            "--protocol prequential")
        doc = through_kafka_eval(dataset, settings(bootstrap), k, max_events, quiet)
        if as_json:
            typer.echo(json.dumps(doc))
        else:
            Console().print(table(doc))
        return
    names = [n.strip() for n in variants.split(",") if n.strip()] if variants else None
    s = settings()
    err = Console(stderr=True)
    bars = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), console=err, transient=True,
                    disable=quiet or not sys.stderr.isatty())
    try:
        with bars:
            doc, notes = evaluate(dataset, protocol.value, s, k=k, variant_names=names,
                                  peers=peers, limit_users=limit_users,
                                  sample_every=sample_every, max_events=max_events,
                                  refit_every=refit_every, judge_from=judge_from,
                                  reporter=Bars(bars), llm=not no_llm,
                                  drift=drift)
    except (DatasetError, ValueError) as e:
        raise UserError(str(e)) from None
    if plot is not None:
        from recstream.eval.plot import bar_chart, drift_chart

        try:
            bar_chart(doc, plot)
            if "drift" in doc:
                drift_chart(doc, plot.with_name(f"{plot.stem}-drift{plot.suffix or '.png'}"))
        except ImportError:
            raise UserError("--plot needs matplotlib: pip install 'recstream[peers]'") from None
        except OSError as e:
            raise UserError(f"cannot write {plot}: {e.strerror}") from None
    if as_json:
        typer.echo(json.dumps(doc))
        return
    out = Console()
    if not out.is_terminal:  # pipes and files get every column in full
        out = Console(width=120)
    out.print(table(doc))
    if "cold_start" in doc:
        out.print(cold_start_table(doc))
    if "drift" in doc:
        out.print(drift_table(doc))
    for name, r in doc["results"].items():
        if "unavailable" in r:
            out.print(f"{name} unavailable: {r['unavailable']}", highlight=False)
    for note in notes:
        out.print(f"note: {note}", highlight=False)
