"""``recstream recommend USER``: the user's latest list as a person reads it.

From any worker's HTTP endpoint (``GET /recommendations/{user}``, routed to the worker that
owns the user), or with ``--bootstrap-server`` straight from the ``recommendations`` topic
(streams/latest.py), so it works with no worker running.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Annotated, Any

import typer

from recstream.cli import BootstrapOpt, JsonOpt, UserError, app, settings


def ago(seconds: float) -> str:
    """A duration as a person says it: 850 ms, 4.2 s, 3 min, 2 h 5 min, 3 days."""
    s = max(0.0, seconds)
    if s < 1:
        return f"{s * 1000:.0f} ms"
    if s < 60:
        return f"{s:.1f} s"
    if s < 3600:
        return f"{s / 60:.0f} min"
    if s < 86400:
        return f"{s // 3600:.0f} h {s % 3600 // 60:.0f} min"
    return f"{s / 86400:.0f} days"


def render(record: dict[str, Any], now: float, explain: bool = False) -> list[str]:
    """The lines ``recstream recommend`` prints for a latest record."""
    items = record.get("items") or []
    age = now - float(record.get("published_ts") or now)
    head = (f"user {record.get('user_id')}: {len(items)} recommendations, computed "
            f"{ago(age)} ago (variant {record.get('variant')}, trigger "
            f"{record.get('trigger_event_id')})")
    if record.get("degraded"):
        head += ", DEGRADED: published without the language model's score (scorer slow or down)"
    out = [head]
    for rank, it in enumerate(items, 1):
        title = it.get("title") or f"item {it['item_id']}"
        reasons = it.get("reasons") or []
        shown = reasons if explain else reasons[:1]
        out.append(f"{rank:>2}. {title}  ({it.get('score', 0.0):.2f})  " + "; ".join(shown))
        if explain:
            sig = it.get("signals") or {}
            out.append("    signals: " + "  ".join(f"{k} {v:.3g}" for k, v in sig.items())
                       + f"  (item {it['item_id']})")
    return out


def from_http(url: str, user: str, timeout_s: float = 5.0) -> dict[str, Any] | None:
    """The worker's latest record for ``user`` (None: the worker does not know the user)."""
    target = f"{url.rstrip('/')}/recommendations/{urllib.parse.quote(user, safe='')}"
    try:
        with urllib.request.urlopen(target, timeout=timeout_s) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:
        if e.code == 404:
            return None
        raise UserError(f"the worker at {url} answered HTTP {e.code}; check its log") from None
    except (urllib.error.URLError, OSError):
        raise UserError(f"no worker answers at {url}; start one (`recstream up`) or pass "
                        "--url URL or --bootstrap-server HOST:PORT") from None


@app.command()
def recommend(
    user: Annotated[str, typer.Argument(help="The user id as producers send it.")],
    explain: Annotated[bool, typer.Option("--explain", help="Every reason and the signals "
                       "behind each item.")] = False,
    url: Annotated[str | None, typer.Option(help="A worker's web address (default "
                   "http://127.0.0.1:<worker.web_port>).", show_default=False)] = None,
    as_json: JsonOpt = False,
    bootstrap: BootstrapOpt = None,
) -> None:
    """USER's latest recommendations: rank, title, score, reasons, age."""
    s = settings(bootstrap)
    if bootstrap:
        from streams.latest import NoTopic, latest_for_key

        topic = s.topics.name(s.topics.recommendations)
        try:
            record = latest_for_key(s.bootstrap, topic, user, s.security)
        except NoTopic:
            raise UserError(f"no topic {topic} on {s.bootstrap}: nothing published yet; "
                            "start a worker (`recstream up`) and produce events") from None
        except Exception as e:  # noqa: BLE001 - kafka-python's errors: one line
            raise UserError(f"cannot read {topic} at {s.bootstrap}: {e}; check "
                            "--bootstrap-server") from None
    else:
        url = url or f"http://127.0.0.1:{s.worker.web_port}"
        record = from_http(url, user)
    if record is None:
        where = f"on {s.bootstrap}" if bootstrap else f"at {url}"
        raise UserError(f"unknown user {user}: no recommendations published for them {where} "
                        "(ids are case-sensitive strings; produce an event for them first)")
    if as_json:
        typer.echo(json.dumps({**record, "age_s": round(time.time() - float(
            record.get("published_ts") or time.time()), 3)}, ensure_ascii=False))
        return
    for line in render(record, time.time(), explain):
        typer.echo(line)
