"""``recstream broker start|stop|status``: the local single-node KRaft broker."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from recstream.cli import JsonOpt, UserError, app, settings
from streams.broker import BrokerError, LocalBroker

broker_app = typer.Typer(no_args_is_help=True, help="Manage the local Kafka broker.")
app.add_typer(broker_app, name="broker")
PortOpt = Annotated[int | None, typer.Option("--port", help="Client port (default 9092, "
                                             "RECSTREAM_BROKER__PORT).", show_default=False)]


def local_broker(port: int | None) -> LocalBroker:
    s = settings()
    cfg = s.broker.on_port(port)
    return LocalBroker(cfg)


@broker_app.command("start")
def start(port: PortOpt = None) -> None:
    """Start the broker (loopback only) unless it is already running."""
    b = local_broker(port)
    try:
        pid = b.start()
    except BrokerError as e:
        raise UserError(str(e)) from None
    typer.echo(f"broker running pid={pid} bootstrap={b.bootstrap}")


@broker_app.command("stop")
def stop(port: PortOpt = None) -> None:
    """Stop the broker started by recstream."""
    b = local_broker(port)
    typer.echo("broker stopped" if b.stop() else "broker was not running")


@broker_app.command("status")
def status(port: PortOpt = None, as_json: JsonOpt = False) -> None:
    """Say whether the broker runs, where, and with which pid."""
    st = local_broker(port).status()
    if as_json:
        typer.echo(json.dumps(st))
    else:
        state = f"running pid={st['pid']}" if st["running"] else "stopped"
        typer.echo(f"broker {state} bootstrap={st['bootstrap']} version={st['version']} "
                   f"data={st['data_dir']}")
    if not st["running"]:
        raise typer.Exit(1)
