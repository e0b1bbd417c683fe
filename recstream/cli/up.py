"""``recstream up``: local broker + topics + worker, stopped together on Ctrl-C / SIGTERM."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from types import FrameType
from typing import Annotated

import typer

from recstream.cli import BootstrapOpt, UserError, app, settings
from recstream.settings import Settings


class _Stop(Exception):
    pass


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop


def stop_process(proc: subprocess.Popen[bytes], timeout_s: float = 20) -> None:
    """SIGTERM, then SIGKILL after ``timeout_s``; always reaps the process."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def demo_key_env(s: Settings) -> dict[str, str]:
    """Environment giving workers a privacy key: none when one is configured, else the
    local demo key file beside the worker state (created, mode 0600, on first use)."""
    from recstream.core.privacy import MissingKey, new_key
    from streams.app import privacy_key

    try:
        privacy_key(s)
        return {}
    except MissingKey:
        pass
    path = s.worker.data_dir.parent / "privacy.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(new_key() + "\n")
        typer.echo(f"privacy: created a local demo key at {path} (pseudonymises user ids; "
                   "set RECSTREAM_PRIVACY__KEY for real deployments)")
    else:
        typer.echo(f"privacy: using the local demo key at {path}")
    return {"RECSTREAM_PRIVACY__KEY_FILE": str(path)}


@app.command()
def up(
    bootstrap: BootstrapOpt = None,
    port: Annotated[int | None, typer.Option(help="Local broker port (default 9092).")] = None,
    web_port: Annotated[int, typer.Option(help="Worker HTTP port.")] = 6066,
    loglevel: Annotated[str, typer.Option(help="Worker log level.")] = "warning",
    fresh: Annotated[bool, typer.Option("--fresh", help="Start from empty local broker data "
                     "and worker state (deletes them).")] = False,
    no_scorer: Annotated[bool, typer.Option("--no-scorer", help="Do not start the LLM scorer "
                         "(recommendations from CF, content and trending only).")] = False,
) -> None:
    """Start the local broker (unless --bootstrap-server), create topics, run a worker and
    the LLM scorer."""
    from streams.admin import ensure_topics
    from streams.broker import BrokerError, LocalBroker
    from streams.topics import topic_names

    s = settings(bootstrap)
    broker = None
    if not bootstrap:
        cfg = s.broker.on_port(port)
        broker = LocalBroker(cfg)
        was_running = broker.status()["running"]
        if fresh:
            if was_running:
                raise UserError("--fresh needs the local broker stopped; run "
                                "`recstream broker stop` first")
            shutil.rmtree(broker.data_dir, ignore_errors=True)
            shutil.rmtree(s.worker.data_dir, ignore_errors=True)
        try:
            broker.start()
        except BrokerError as e:
            raise UserError(str(e)) from None
        if was_running:
            broker = None  # not ours to stop
        s = settings(f"127.0.0.1:{cfg.port}")
    old = {sig: signal.signal(sig, _raise_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    worker = scorer = None
    try:
        ensure_topics(s.bootstrap, topic_names(s).all(), security=s.security)
        env = {**os.environ, **demo_key_env(s)}
        if not no_scorer:  # the worker asks the scorer; degraded records while it loads
            env["RECSTREAM_SCORER__ENABLED"] = "true"
            scorer = subprocess.Popen(
                [sys.executable, "-m", "recstream", "scorer", "--bootstrap-server",
                 s.bootstrap, "--loglevel", loglevel], start_new_session=True)
        worker = subprocess.Popen(
            [sys.executable, "-m", "recstream", "worker", "--bootstrap-server", s.bootstrap,
             "--web-port", str(web_port), "--loglevel", loglevel], start_new_session=True,
            env=env)
        where = (f"pid {scorer.pid} (http://127.0.0.1:{s.scorer.web_port}/health)"
                 if scorer else "off")
        typer.echo(
            f"recstream is up: broker {s.bootstrap}, worker pid {worker.pid}, scorer {where}\n"
            f"  produce:   recstream produce --dataset ../shared/datasets/ml-100k --limit 3000 "
            f"-b {s.bootstrap}\n"
            f"  watch:     recstream consume recommendations -b {s.bootstrap}\n"
            f"  HTTP:      http://127.0.0.1:{web_port}/recommendations/USER_ID\n"
            "  stop:      Ctrl-C")
        while worker.poll() is None:
            time.sleep(0.5)
        raise UserError(f"the worker exited with code {worker.returncode}; see its log above")
    except _Stop:
        typer.echo("stopping…")
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
        if worker is not None:
            stop_process(worker)
        if scorer is not None:
            stop_process(scorer)
        if broker is not None:
            broker.stop()
