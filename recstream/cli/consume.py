"""``recstream consume``: read recommendations (or any recstream topic) as table or JSON."""

from __future__ import annotations

import json
import time
from typing import Annotated

import orjson
import typer
from rich.console import Console

from recstream.cli import BootstrapOpt, JsonOpt, UserError, app, settings


def describe(record: dict) -> str:  # type: ignore[type-arg]
    """One line per record: user, trigger, the top 3 by title (the id where a record has
    none) with score and first reason."""
    items = record.get("items") or []
    tops = ", ".join(f"{i.get('title') or i['item_id']} ({i['score']:.2f}: "
                     f"{'; '.join(i['reasons'][:1])})" for i in items[:3])
    flag = " DEGRADED" if record.get("degraded") else ""
    return f"user {record.get('user_id')} ← {record.get('trigger_event_id')}{flag}: {tops}"


@app.command()
def consume(
    topic: Annotated[str, typer.Argument(help="Topic, e.g. recommendations, dead-letters.")]
    = "recommendations",
    user: Annotated[str | None, typer.Option("--user", help="Only this user's records.")] = None,
    from_beginning: Annotated[bool, typer.Option("--from-beginning")] = False,
    max_messages: Annotated[int | None, typer.Option(help="Stop after this many.")] = None,
    timeout: Annotated[float | None, typer.Option(help="Stop after this many seconds "
                       "without a new record.")] = None,
    as_json: JsonOpt = False,
    bootstrap: BootstrapOpt = None,
) -> None:
    """Print records as they arrive (Ctrl-C to stop)."""
    from kafka import KafkaConsumer

    from streams.admin import wait_for_broker
    from streams.security import kafka_python_kwargs

    s = settings(bootstrap)
    name = s.topics.name(getattr(s.topics, topic.replace("-", "_"), topic))
    secured = s.security.protocol != "PLAINTEXT"
    try:
        wait_for_broker(s.bootstrap, timeout_s=10 if secured else 2, security=s.security)
    except TimeoutError as e:
        if secured:  # the message names the login/TLS problem
            raise UserError(str(e)) from None
        raise UserError(f"no Kafka broker answers at {s.bootstrap}; pass --bootstrap-server"
                        ) from None
    consumer = KafkaConsumer(
        name, bootstrap_servers=s.bootstrap.split(","), group_id=None,
        auto_offset_reset="earliest" if from_beginning else "latest",
        enable_auto_commit=False, consumer_timeout_ms=int(timeout * 1000) if timeout else 500,
        isolation_level="read_committed", **kafka_python_kwargs(s.security))
    console = Console()
    seen, last = 0, time.monotonic()
    try:
        while True:
            for msg in consumer:
                last = time.monotonic()
                try:
                    record = orjson.loads(msg.value)
                except orjson.JSONDecodeError:
                    record = {"raw": msg.value.decode("utf-8", "replace")}
                if user is not None and str(record.get("user_id")) != user:
                    continue
                if as_json:
                    typer.echo(json.dumps(record, ensure_ascii=False))
                else:
                    console.print(describe(record), highlight=False, soft_wrap=True)
                seen += 1
                if max_messages and seen >= max_messages:
                    return
            if timeout and time.monotonic() - last >= timeout:
                return
    finally:
        consumer.close()
