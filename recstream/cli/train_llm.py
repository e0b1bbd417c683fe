"""``recstream train-llm``: fine-tune the scorer's encoder on a dataset's behaviour."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from recstream.cli import JsonOpt, UserError, app, setup_logging

DEFAULT_OUT = Path(".recstream/models")
PHASES = {"eval-before": "recall@10 before", "train": "training", "eval-after": "recall@10 after"}


@app.command("train-llm")
def train_llm(
    dataset: Annotated[Path, typer.Option(help="Dataset folder or file (the formats "
                                                "`recstream produce` reads).")],
    out: Annotated[Path | None, typer.Option(help="Model directory to write (default "
                                                  ".recstream/models/minilm-<dataset>).",
                                             show_default=False)] = None,
    epochs: Annotated[int, typer.Option(min=1, help="Passes over the training pairs.")] = 1,
    limit_users: Annotated[int, typer.Option(min=0, help="Sample this many users (0: all "
                                                         "with enough history).")] = 0,
    pairs_per_user: Annotated[int, typer.Option(min=1, help="Most recent training "
                                                            "positions per user.")] = 4,
    batch_size: Annotated[int, typer.Option(min=2, help="Pairs per step (in-batch "
                                                        "negatives).")] = 32,
    lr: Annotated[float, typer.Option(min=0.0, help="AdamW learning rate.")] = 5e-5,
    model: Annotated[str | None, typer.Option(help="Encoder to start from (default: the "
                                                   "bundled all-MiniLM-L6-v2).")] = None,
    device: Annotated[str, typer.Option(help="auto (CUDA when present), cpu or cuda.")
                      ] = "auto",
    seed: Annotated[int, typer.Option(help="Sampling and shuffling seed.")] = 0,
    json_out: JsonOpt = False,
    loglevel: Annotated[str, typer.Option(help="Log level.")] = "warning",
) -> None:
    """Contrastive fine-tune (user history text → next item text, in-batch negatives);
    prints held-out next-item recall@10 before and after; saves a directory that
    `recstream scorer --model DIR` loads."""
    from recstream.datasets import DatasetError, load_dataset
    from recstream.llm.model import ModelLoadError
    from recstream.llm.train import TrainConfig
    from recstream.llm.train import train_llm as run

    setup_logging(loglevel)
    if device not in ("auto", "cpu", "cuda"):
        raise UserError("--device must be auto, cpu or cuda")
    try:
        ds = load_dataset(dataset)
    except DatasetError as e:
        raise UserError(str(e)) from None
    target = out or DEFAULT_OUT / f"minilm-{ds.name}"
    cfg = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, limit_users=limit_users,
                      pairs_per_user=pairs_per_user, seed=seed, device=device)
    console = Console(stderr=True)
    with Progress(TextColumn("{task.description:<18}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[info]}"), TimeElapsedColumn(),
                  TimeRemainingColumn(), console=console, transient=json_out) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(phase: str, done: int, total: int, info: dict[str, float]) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(PHASES.get(phase, phase), total=total, info="")
            text = "  ".join(f"{k} {v:.3f}" for k, v in info.items())
            bar.update(tasks[phase], completed=done, total=total, info=text)

        try:
            res = run(ds, target, cfg, model, progress)
        except ModelLoadError as e:
            raise UserError(str(e)) from None
        except ValueError as e:
            raise UserError(f"{e} (try another dataset or a larger --limit-users)") from None
    if json_out:
        typer.echo(json.dumps({"before": res.before, "after": res.after, "steps": res.steps,
                               "train_pairs": res.train_pairs, "eval_users": res.eval_users,
                               "seconds": res.seconds, "device": res.device, "out": res.out,
                               "final_loss": res.losses[-1] if res.losses else None}))
        return
    b, a = res.before, res.after
    typer.echo(f"held-out next item, {res.eval_users} users (last interaction each), "
               f"whole catalogue ranked:\n"
               f"  recall@10 history text  {b['recall@10']:.4f} -> {a['recall@10']:.4f}\n"
               f"  recall@10 mean of items {b['recall@10_mean']:.4f} -> "
               f"{a['recall@10_mean']:.4f}\n"
               f"{res.steps} steps over {res.train_pairs} pairs on {res.device} in "
               f"{res.seconds:.0f} s; model saved to {res.out}\n"
               f"use it: recstream scorer --model {res.out}")
