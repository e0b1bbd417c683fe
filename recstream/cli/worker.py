"""``recstream worker``: one Faust worker running every pipeline stage."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from recstream.cli import BootstrapOpt, UserError, app, require_broker, settings
from recstream.settings import Settings


def require_privacy_key(s: Settings) -> None:
    """Refuse to run without ``privacy.key``: stored user ids are keyed pseudonyms."""
    from recstream.core.privacy import MissingKey
    from streams.app import privacy_key

    try:
        privacy_key(s)
    except MissingKey as e:
        raise UserError(f"{e}; workers store user ids only as keyed pseudonyms: set "
                        "RECSTREAM_PRIVACY__KEY (16+ bytes) or RECSTREAM_PRIVACY__KEY_FILE "
                        "(`recstream up` makes a local demo key)") from None


@app.command()
def worker(
    bootstrap: BootstrapOpt = None,
    web_port: Annotated[int | None, typer.Option(help="HTTP port (default 6066).")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="RocksDB table directory.")] = None,
    loglevel: Annotated[str, typer.Option(help="Log level.")] = "info",
) -> None:
    """Run a worker: clean → profile → index → candidates → rank → recommendations."""
    import faust

    from agents import register_all
    from streams.admin import ensure_topics
    from streams.app import create_pipeline
    from streams.web import register_web

    worker_cfg = {k: v for k, v in {"web_port": web_port, "data_dir": data_dir}.items() if v}
    s = settings(bootstrap, worker=worker_cfg or None)
    require_privacy_key(s)
    require_broker(s)
    p = create_pipeline(s)
    ensure_topics(s.bootstrap, p.names.all(), security=s.security)
    register_all(p)
    register_web(p)
    ensure_topics(s.bootstrap, p.changelog_topics(), security=s.security)  # after register_all
    w = faust.Worker(p.app, loglevel=loglevel)
    # The progress spinner lowers the root logger to DEBUG, so every aiokafka send built a
    # log record: 10% of a worker's CPU. A worker is a service, not a terminal toy.
    w.spinner = None
    w.execute_from_commandline()
