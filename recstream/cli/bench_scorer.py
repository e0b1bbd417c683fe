"""``recstream bench scorer``: micro-batched vs unbatched scoring of the same requests, the
cost of one request, latency at a rate."""

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
    repeats: Annotated[int, typer.Option(min=1, help="Each throughput phase and the direct "
                       "cost: best of this many passes.")] = 3,
) -> None:
    """Candidates/s micro-batched vs the same requests unbatched (and one request per
    candidate), one request's cost, and p50/p99 latency at --rate."""
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
              max_wait_ms=max_wait_ms, rate=rate, repeats=repeats)
    if json_out:
        typer.echo(json.dumps(res))
        return
    ms = res["request_ms"]
    typer.echo(f"model {res['model']} on {res['device']} (user side {user_side}), "
               f"{requests} requests × {candidates} candidates\n"
               f"  batched       {res['batched_cps']:>12,.1f} candidates/s (sent at once, "
               f"micro-batches of ≤ {max_batch})\n"
               f"  per request   {res['per_request_cps']:>12,.1f} candidates/s (sent at once, "
               f"no micro-batching)\n"
               f"  ratio         {res['ratio']:>12,.2f}\n"
               f"  per candidate {res['unbatched_cps']:>12,.1f} candidates/s (each candidate "
               f"its own request, one at a time; ratio {res['per_candidate_ratio']:,.2f})\n"
               f"  one request costs {ms['direct']} ms scored alone, {ms['per_request']} ms "
               f"through the service unbatched, {ms['batched']} ms micro-batched\n"
               f"  latency at {rate:g} req/s: p50 {res['latency_ms']['p50']} ms, "
               f"p99 {res['latency_ms']['p99']} ms")
