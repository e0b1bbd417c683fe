"""``recstream bench scorer``: batched vs one-request-per-candidate scoring, latency at a rate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from recstream.cli import JsonOpt, UserError
from recstream.cli.bench import bench_app

DEFAULT_DATASET = Path("../shared/datasets/ml-100k")


@bench_app.command("scorer")
def bench_scorer(
    json_out: JsonOpt = False,
    dataset: Annotated[Path, typer.Option(help="Catalogue to embed (any supported dataset).")
                       ] = DEFAULT_DATASET,
    items: Annotated[int, typer.Option(help="Catalogue items embedded (first N).")] = 300,
    requests: Annotated[int, typer.Option(help="Score requests (user events).")] = 200,
    candidates: Annotated[int, typer.Option(help="Candidates per request.")] = 30,
    rate: Annotated[float, typer.Option(help="Request rate (req/s) for the latency run.")
                    ] = 200.0,
    max_batch: Annotated[int, typer.Option(help="Micro-batch size bound.")] = 64,
    max_wait_ms: Annotated[float, typer.Option(help="Micro-batch wait bound (ms).")] = 5.0,
    user_side: Annotated[str, typer.Option(help="mean or text.")] = "mean",
    model: Annotated[str | None, typer.Option(help="Model directory (default MiniLM).")
                     ] = None,
    quantize: Annotated[str, typer.Option(help="none or int8.")] = "none",
) -> None:
    """Candidates/s batched vs one request per candidate, and p50/p99 latency at --rate."""
    from recstream.datasets import DatasetError, item_record, load_dataset
    from recstream.llm.bench import bench_scorer as run
    from recstream.llm.model import Encoder, ModelLoadError
    from recstream.llm.scoring import ItemEmbeddings

    if user_side not in ("mean", "text"):
        raise UserError("--user-side must be mean or text")
    try:
        ds = load_dataset(dataset)
        enc = Encoder(model, "auto", quantize)
    except (DatasetError, ModelLoadError) as e:
        raise UserError(str(e)) from None
    cache = ItemEmbeddings(enc, batch_size=max_batch)
    for it in ds.items[:items]:
        cache.upsert(item_record(it))
    if not json_out:
        typer.echo(f"embedding {cache.pending} items with {enc.name} on {enc.device}…", err=True)
    res = run(cache, user_side, requests, candidates, max_batch=max_batch,
              max_wait_ms=max_wait_ms, rate=rate)
    if json_out:
        typer.echo(json.dumps(res))
        return
    typer.echo(f"model {res['model']} on {res['device']} (user side {user_side})\n"
               f"  batched   {res['batched_cps']:>12,.1f} candidates/s\n"
               f"  unbatched {res['unbatched_cps']:>12,.1f} candidates/s (one request each)\n"
               f"  ratio     {res['ratio']:>12,.2f}\n"
               f"  latency at {rate:g} req/s: p50 {res['latency_ms']['p50']} ms, "
               f"p99 {res['latency_ms']['p99']} ms")
