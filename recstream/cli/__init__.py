"""The ``recstream`` command: one group, a thin module per subcommand.

User mistakes print one line saying what is wrong and how to fix it, and exit non-zero.
"""

from __future__ import annotations

import logging
import sys
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from recstream.settings import Settings

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="Real-time TF-IDF + CF recommender on Apache Kafka.")

BootstrapOpt = Annotated[str | None, typer.Option(
    "--bootstrap-server", "-b", help="Kafka bootstrap servers (default: RECSTREAM_BOOTSTRAP "
    "or 127.0.0.1:9092).", show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]


class UserError(Exception):
    """A mistake the user can fix; printed as one line, exit code 2."""


def settings(bootstrap: str | None = None, **overrides: Any) -> Settings:
    """Settings with CLI flags on top of environment, config file and defaults."""
    kw: dict[str, Any] = {k: v for k, v in overrides.items() if v is not None}
    if bootstrap:
        kw["bootstrap"] = bootstrap
    try:
        return Settings(**kw)
    except ValidationError as e:
        err = e.errors()[0]
        loc = ".".join(str(x) for x in err["loc"])
        raise UserError(f"invalid setting {loc}: {err['msg']} (check flags and RECSTREAM_* "
                        "environment variables)") from None


def require_broker(s: Settings, timeout_s: float = 30.0,
                   start_hint: str = "`recstream broker start`") -> None:
    """Wait for the broker at ``s.bootstrap``; if none answers, a user error saying how to
    start one (or, over TLS/SASL, which login or certificate setting is wrong)."""
    from streams.admin import wait_for_broker

    try:
        wait_for_broker(s.bootstrap, timeout_s=timeout_s, security=s.security)
    except Exception as e:
        if s.security.protocol != "PLAINTEXT":  # says which login/TLS setting is wrong
            raise UserError(str(e)) from None
        raise UserError(f"no Kafka broker answers at {s.bootstrap}; start one with "
                        f"{start_hint} or pass --bootstrap-server") from None


def setup_logging(level: str = "INFO") -> None:
    logging.basicConfig(level=level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")


def main() -> None:
    from recstream.cli import (  # noqa: F401 - registers
        ab,
        bench,
        bench_scorer,
        broker,
        consume,
        eval,
        forget,
        lag,
        model,
        produce,
        recommend,
        scorer,
        train_llm,
        up,
        worker,
    )

    try:
        app()
    except UserError as e:
        typer.secho(f"error: {e}", err=True, fg=typer.colors.RED)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
