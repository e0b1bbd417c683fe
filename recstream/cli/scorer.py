"""``recstream scorer``: the LLM scoring worker (own consumer group, micro-batched)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated

import typer

from recstream.cli import (
    BootstrapOpt,
    UserError,
    app,
    require_broker,
    settings,
    setup_logging,
)

ModelOpt = Annotated[str | None, typer.Option(
    "--model", help="Hugging Face model directory (default: the bundled all-MiniLM-L6-v2).",
    show_default=False)]


@app.command()
def scorer(
    bootstrap: BootstrapOpt = None,
    model: ModelOpt = None,
    web_port: Annotated[int | None, typer.Option(help="HTTP port for /health and /metrics "
                        "(default 6070).")] = None,
    device: Annotated[str | None, typer.Option(help="auto, cpu or cuda.")] = None,
    mode: Annotated[str | None, typer.Option(help="bi (cached embeddings, default) or "
                    "pairwise (a causal LM scores each user-item pair; for GPUs).")] = None,
    loglevel: Annotated[str, typer.Option(help="Log level.")] = "info",
) -> None:
    """Run the LLM scorer: score requests in, micro-batched model scores out."""
    from recstream.llm.model import ModelLoadError
    from streams.scorer import ScorerService, load_scoring_model

    setup_logging(loglevel)
    over = {k: v for k, v in {"model": model, "web_port": web_port, "device": device,
                              "mode": mode}.items() if v is not None}
    s = settings(bootstrap, scorer=over or None)
    try:
        encoder = load_scoring_model(s.scorer)
    except ModelLoadError as e:
        raise UserError(str(e)) from None
    require_broker(s)
    with contextlib.suppress(KeyboardInterrupt):
        try:
            asyncio.run(ScorerService(s, encoder).run())
        except OSError as e:  # e.g. the HTTP port is taken
            raise UserError(f"scorer stopped: {e} (free the port or pass --web-port)") from None
