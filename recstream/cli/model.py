"""``recstream model show``: the online-learned blend weights and their version.

Read from the ``learner`` table's changelog topic (``<app id>-learner-changelog``), so it
works with no worker running and shows what a restarted worker would resume from.
"""

from __future__ import annotations

import json
from typing import Any

import typer

from recstream.cli import BootstrapOpt, JsonOpt, UserError, app, settings
from recstream.core.learn import FEATURES, MODEL_KEY, prior_weights

model_app = typer.Typer(no_args_is_help=True, help="The online-learned ranking model.")
app.add_typer(model_app, name="model")


def latest_state(records: list[Any]) -> dict[str, Any] | None:
    """The newest model state (highest version) among the changelog's values."""
    states = [r for r in records if isinstance(r, dict) and "version" in r]
    return max(states, key=lambda r: int(r["version"]), default=None)


@model_app.command()
def show(bootstrap: BootstrapOpt = None, as_json: JsonOpt = False) -> None:
    """Served blend weights (the guard's arm), learned weights, coefficients, the guard's
    running rewards, version and example counts."""
    from recstream.cli.ab import read_all
    from streams.admin import broker_ready

    s = settings(bootstrap)
    if not broker_ready(s.bootstrap, security=s.security):
        raise UserError(f"no Kafka broker answers at {s.bootstrap}; pass --bootstrap-server")
    topic = f"{s.group_id}-learner-changelog"
    try:
        state = latest_state(read_all(s.bootstrap, topic, s.security))
    except UserError:
        state = None
    prior = prior_weights(s.recommend)
    out = {"key": MODEL_KEY, "topic": topic, "learned": state is not None,
           "learn_enabled": s.learn.enabled, "prior": prior, **(state or {})}
    if as_json:
        typer.echo(json.dumps(out, indent=2))
        return
    if state is None:
        typer.echo(f"no learned model yet in {topic} (workers need learn.enabled="
                   "RECSTREAM_LEARN__ENABLED=true and feedback windows to close); "
                   "ranking uses the fixed weights")
    else:
        typer.echo(f"version {state['version']}  examples {state['examples']}  "
                   f"positives {state['positives']}  intercept {state['intercept']:.4f}")
        if state.get("guard"):
            arms = "  ".join(f"{a} {g['reward']:.4f} ({g['lists']} lists)"
                             for a, g in state["guard"].items())
            typer.echo(f"served: {state.get('served')}  switches {state.get('switches', 0)}  "
                       f"running reward (reciprocal rank): {arms}")
    typer.echo(f"{'signal':<10}{'weight':>9}{'learned':>9}{'coef':>10}{'prior':>9}")
    weights, coef = (state or {}).get("weights", prior), (state or {}).get("coef", {})
    own = (state or {}).get("learned_weights", weights)
    for f in FEATURES:
        c = "-" if f not in coef else f"{coef[f]:.4f}"
        typer.echo(f"{f:<10}{weights.get(f, 0.0):>9.4f}{own.get(f, 0.0):>9.4f}{c:>10}"
                   f"{prior[f]:>9.4f}")
