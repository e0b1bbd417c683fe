"""``recstream lag``: consumer lag of the pipeline's groups, judged Burrow-style.

Columns follow ``kafka-consumer-groups --describe`` (GROUP TOPIC PARTITION CURRENT-OFFSET
LOG-END-OFFSET LAG … CONSUMER-ID HOST CLIENT-ID) with LAG-SEC (age of the oldest unconsumed
message), RATE (consumed msg/s), ETA (time to drain) and STATUS added.
"""

from __future__ import annotations

import json
import math
import sys
import time
from typing import Annotated

import typer

from recstream.cli import BootstrapOpt, JsonOpt, UserError, app, require_broker, settings
from recstream.ops.lag import GroupLag, LagTracker

_COLUMNS = ("GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG",
            "LAG-SEC", "RATE", "ETA", "STATUS", "CONSUMER-ID", "HOST", "CLIENT-ID")


@app.command()
def lag(
    bootstrap: BootstrapOpt = None,
    group: Annotated[list[str] | None, typer.Option(
        "--group", "-g", help="Consumer group (repeatable). Default: the worker group (app "
        "id with topic prefix) and every '<group>-*' group such as a scorer's.",
        show_default=False)] = None,
    watch: Annotated[float | None, typer.Option(
        "--watch", help="Poll every SECONDS and redraw until Ctrl-C.", show_default=False,
        min=0.2)] = None,
    as_json: JsonOpt = False,
    window: Annotated[int, typer.Option(help="Samples per partition the status and rates "
                                        "are judged over (Burrow's window).", min=2)] = 10,
    samples: Annotated[int, typer.Option(help="Without --watch: polls taken one second "
                                         "apart before printing.", min=1)] = 3,
    count: Annotated[int | None, typer.Option(help="With --watch: stop after N polls.",
                                              show_default=False, min=1)] = None,
) -> None:
    """Show committed offset, log end, lag (messages and seconds), rate, ETA and status."""
    from streams.lag import LagCollector, pipeline_groups

    s = settings(bootstrap)
    require_broker(s, timeout_s=10, start_hint="`recstream up`")
    collector = LagCollector(s.bootstrap, security=s.security)
    tracker = LagTracker(window=window)
    try:
        groups = list(group or []) or pipeline_groups(collector.list_groups(), s.group_id)
        if not groups:
            raise UserError(f"no consumer group '{s.group_id}' or '{s.group_id}-*' on "
                            f"{s.bootstrap}; start a worker (`recstream worker`) or name one "
                            "with --group")
        polls, interval = (count or math.inf, watch) if watch else (samples, 1.0)
        n = 0
        while True:
            t0 = time.monotonic()
            result = [tracker.observe(snap) for snap in collector.snapshot(groups)]
            n += 1
            if watch or n >= polls:
                _emit(result, as_json, redraw=bool(watch) and not as_json)
            if n >= polls:
                break
            time.sleep(max(interval - (time.monotonic() - t0), 0.0))
    except KeyboardInterrupt:
        pass
    finally:
        collector.close()


def _emit(result: list[GroupLag], as_json: bool, redraw: bool) -> None:
    if as_json:
        typer.echo(json.dumps([p.to_json() for g in result for p in g.partitions]))
        return
    if redraw and sys.stdout.isatty():
        typer.echo("\x1b[2J\x1b[H", nl=False)
    for g in result:
        typer.echo(render_group(g))
    sys.stdout.flush()


def _num(x: float | None, unit: str = "") -> str:
    if x is None:
        return "-"
    return f"{x:.1f}{unit}" if x < 100 else f"{x:.0f}{unit}"


def render_group(g: GroupLag) -> str:
    """The human table for one group: a summary line, the partition rows, the members."""
    when = time.strftime("%H:%M:%S", time.localtime(g.t))
    head = (f"{when} GROUP {g.group}  state={g.state}  members={len(g.members)}  "
            f"status={g.status}  lag={g.lag}  max-lag-sec={g.max_lag_seconds:.1f}  "
            f"rate={g.rate:.1f}/s")
    if not g.partitions:
        return head + f"\nConsumer group '{g.group}' has no committed offsets or members.\n"
    rows = [_COLUMNS] + [
        (p.group, p.topic, str(p.partition), "-" if p.committed is None else str(p.committed),
         str(p.end), str(p.lag), _num(p.lag_seconds), _num(p.rate),
         "inf" if p.eta_seconds is None else _num(p.eta_seconds, "s"), p.status,
         p.consumer_id, p.host, p.client_id)
        for p in g.partitions]
    widths = [max(len(r[i]) for r in rows) for i in range(len(_COLUMNS))]
    lines = [head, ""] + ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                          for r in rows]
    if g.members:
        lines += ["", "  members: " + ", ".join(
            f"{m.consumer_id} ({m.host}, {len(m.partitions)} partitions)" for m in g.members)]
    else:
        lines += ["", f"Consumer group '{g.group}' has no active members."]
    return "\n".join(lines) + "\n"
