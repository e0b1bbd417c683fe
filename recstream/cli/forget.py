"""``recstream forget USER``: erase a user's state from every worker and report what went."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from recstream.cli import BootstrapOpt, JsonOpt, UserError, app, settings


@app.command()
def forget(
    user_id: Annotated[str, typer.Argument(help="The user id as producers send it.")],
    timeout: Annotated[float | None, typer.Option(help="Seconds to wait for every stage "
                       "(default privacy.forget_timeout_s).")] = None,
    as_json: JsonOpt = False,
    bootstrap: BootstrapOpt = None,
) -> None:
    """Erase USER's profile, CF postings and sketch, latest recommendation and pending
    feedback state; tombstones let compaction remove the changelog records."""
    from recstream.core.privacy import MissingKey
    from streams.admin import broker_ready
    from streams.app import privacy_key
    from streams.forget import ForgetError, forget_sync

    s = settings(bootstrap)
    try:
        key = privacy_key(s)
    except MissingKey as e:
        raise UserError(f"{e}: give the workers' key with RECSTREAM_PRIVACY__KEY or "
                        "RECSTREAM_PRIVACY__KEY_FILE") from None
    if not broker_ready(s.bootstrap):
        raise UserError(f"no Kafka broker answers at {s.bootstrap}; pass --bootstrap-server")
    try:
        out = forget_sync(s, key, user_id, timeout or s.privacy.forget_timeout_s)
    except ForgetError as e:
        raise UserError(str(e)) from None
    if as_json:
        typer.echo(json.dumps(out))
        return
    typer.echo(f"forgot user {user_id} (pseudonym {out['pseudonym']}); removed:")
    for name, n in out["removed"].items():
        typer.echo(f"  {name:<24}{n}")
    typer.echo("Changelog records go when Kafka compacts them (privacy.compaction_configs); "
               "internal topics keep the pseudonym until their retention ends.")
