"""``recstream ab report``: CTR per A/B variant from the ``metrics`` topic, with z-tests."""

from __future__ import annotations

import json
import time
from typing import Any

import orjson
import typer

from recstream.cli import BootstrapOpt, JsonOpt, UserError, app, settings
from recstream.core.ab import compare
from recstream.settings import SecuritySettings

ALPHA = 0.05
ab_app = typer.Typer(no_args_is_help=True, help="A/B testing of recommendation variants.")
app.add_typer(ab_app, name="ab")


def read_all(bootstrap: str, topic: str, security: SecuritySettings | None = None,
             timeout_s: float = 30.0) -> list[Any]:
    """Every JSON value in ``topic`` from the beginning up to its end offsets now."""
    from kafka import KafkaConsumer, TopicPartition

    from streams.security import kafka_python_kwargs

    c = KafkaConsumer(bootstrap_servers=bootstrap.split(","), group_id=None,
                      enable_auto_commit=False, isolation_level="read_committed",
                      **kafka_python_kwargs(security))
    try:
        parts = c.partitions_for_topic(topic)
        if not parts:
            raise UserError(f"no topic {topic} on {bootstrap}; start a worker "
                            "(`recstream worker`) and let feedback windows close")
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        c.assign(tps)
        c.seek_to_beginning(*tps)
        end = c.end_offsets(tps)
        out: list[Any] = []
        deadline = time.monotonic() + timeout_s
        while any(c.position(tp) < end[tp] for tp in tps):
            if time.monotonic() > deadline:
                raise UserError(f"timed out reading {topic} after {timeout_s:.0f}s")
            for msgs in c.poll(timeout_ms=500).values():
                for m in msgs:
                    try:
                        out.append(orjson.loads(m.value))
                    except orjson.JSONDecodeError:
                        continue
        return out
    finally:
        c.close()


@ab_app.command()
def report(bootstrap: BootstrapOpt = None, as_json: JsonOpt = False) -> None:
    """Impressions, clicks and CTR per variant; two-proportion z-test against the first."""
    from streams.admin import broker_ready

    s = settings(bootstrap)
    if not broker_ready(s.bootstrap, security=s.security):
        raise UserError(f"no Kafka broker answers at {s.bootstrap}; pass --bootstrap-server")
    result = compare(read_all(s.bootstrap, s.topics.name(s.topics.metrics), s.security),
                     [v.name for v in s.ab.variants])
    result["alpha"] = ALPHA
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    if not result["variants"]:
        typer.echo("no feedback windows in the metrics topic yet (a window is published "
                   "when event time passes its end + join window + grace)")
        return
    base = result["baseline"]
    typer.echo(f"{'variant':<16}{'impressions':>12}{'clicked':>9}{'CTR':>9}{'prec@k':>9}"
               f"{'p vs ' + base:>16}")
    for name, v in result["variants"].items():
        ctr = "-" if v["ctr"] is None else f"{v['ctr']:.4f}"
        prec = "-" if v["precision"] is None else f"{v['precision']:.4f}"
        p = "baseline" if name == base else f"{v['p_value']:.4g}"
        typer.echo(f"{name:<16}{v['impressions']:>12}{v['clicked']:>9}{ctr:>9}{prec:>9}{p:>16}")
    for name, v in result["variants"].items():
        if name == base:
            continue
        verdict = ("significant" if v["significant"] else
                   "NOT significant: no evidence that the CTRs differ")
        typer.echo(f"{name} vs {base}: z = {v['z']:.3f}, p = {v['p_value']:.4g} -> "
                   f"{verdict} at alpha = {ALPHA}")
