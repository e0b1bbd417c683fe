"""``recstream bench``: end-to-end throughput and event→recommendation latency through the
real broker, with the bare aiokafka ceiling measured in the same run; ``--sweep-users`` for
cost per event and memory against the number of users. ``recstream bench scorer`` is the
scorer's own benchmark (recstream/cli/bench_scorer.py).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from recstream.cli import BootstrapOpt, JsonOpt, UserError, app, settings
from recstream.cli.up import stop_process

logging.getLogger("aiokafka").setLevel(logging.ERROR)  # retries on fresh topics are noise

bench_app = typer.Typer(help="Benchmarks: `recstream bench [OPTIONS]` runs the pipeline "
                        "bench; `recstream bench scorer` the LLM scorer's.")
app.add_typer(bench_app, name="bench")

READY_TIMEOUT_S = 240.0  # worker start + catalogue replication; the scorer embeds the catalogue


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get_json(url: str) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return dict(json.load(r))
    except (OSError, ValueError):
        return None


@dataclass
class BenchProcesses:
    """Workers (and the scorer) started for one bench run on fresh topics."""

    prefix: str
    workers: list[subprocess.Popen[bytes]]
    scorer: subprocess.Popen[bytes] | None
    log: Path
    scorer_url: str = ""  # the scorer's HTTP root (/health counts its requests)

    def scorer_requests(self) -> int | None:
        """Score requests the scorer has received so far (None without a scorer)."""
        h = _get_json(f"{self.scorer_url}/health") if self.scorer is not None else None
        return None if h is None else int(h.get("requests", 0))


@contextmanager
def local_broker(bootstrap: str | None) -> Iterator[str]:
    """``bootstrap`` as given, or a fresh local broker on free ports, stopped and deleted
    afterwards."""
    if bootstrap:
        yield bootstrap
        return
    from streams.broker import BrokerError, LocalBroker

    port = _free_port()
    broker = LocalBroker(settings().broker.on_port(port).model_copy(
        update={"controller_port": _free_port()}))
    shutil.rmtree(broker.data_dir, ignore_errors=True)
    try:
        broker.start(wait_s=120)
    except BrokerError as e:
        raise UserError(str(e)) from None
    try:
        yield broker.bootstrap
    finally:
        broker.stop()
        shutil.rmtree(broker.data_dir, ignore_errors=True)
        for f in (broker.properties_file, broker.log4j_file, broker.pid_file, broker.log_file):
            f.unlink(missing_ok=True)


@contextmanager
def pipeline(bootstrap: str, items: list[dict[str, Any]], scorer: bool, workdir: Path,
             loglevel: str, log: Path | None = None, workers: int = 1
             ) -> Iterator[BenchProcesses]:
    """Fresh topics (a new prefix), the catalogue produced first, then ``workers`` worker
    processes (one consumer group, each its own state directory) and the scorer, started as
    ``recstream up`` starts them; yields once every worker is ready and the group has spread
    the ``events`` partitions over all of them (no rebalance left to happen mid-run)."""
    from streams.admin import ensure_topics
    from streams.bench import produce_items
    from streams.topics import topic_names

    prefix = f"bench{uuid.uuid4().hex[:8]}-"
    scorer_web = _free_port()
    env = {**os.environ, "RECSTREAM_TOPICS__PREFIX": prefix,
           "RECSTREAM_SCORER__ENABLED": "true" if scorer else "false",
           "RECSTREAM_SCORER__WEB_PORT": str(scorer_web)}
    if not env.get("RECSTREAM_PRIVACY__KEY") and not env.get("RECSTREAM_PRIVACY__KEY_FILE"):
        # workers refuse to run without a pseudonymisation key; these topics are throwaway
        env["RECSTREAM_PRIVACY__KEY"] = secrets.token_hex(16)
    s = settings(bootstrap, topics={"prefix": prefix})
    names = topic_names(s)
    ensure_topics(bootstrap, names.all())
    produce_items(bootstrap, names.items, items)
    log = log or workdir / f"{prefix}log.txt"
    out = log.open("ab")
    cmd = [sys.executable, "-m", "recstream"]
    procs: list[subprocess.Popen[bytes]] = []
    try:
        sc = None
        if scorer:
            sc = subprocess.Popen([*cmd, "scorer", "-b", bootstrap, "--loglevel", loglevel],
                                  env=env, stdout=out, stderr=subprocess.STDOUT,
                                  start_new_session=True)
            procs.append(sc)
        webs, ws = [], []
        for i in range(workers):
            webs.append(_free_port())
            ws.append(subprocess.Popen(
                [*cmd, "worker", "-b", bootstrap, "--web-port", str(webs[-1]), "--loglevel",
                 loglevel], env={**env, "RECSTREAM_WORKER__DATA_DIR": str(
                     workdir / f"{prefix}w{i}")}, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True))
        procs.extend(ws)
        want = min(workers, names.partitions)  # workers that get events partitions
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            for proc in procs:
                if proc.poll() is not None:
                    raise UserError(f"a bench process exited with code {proc.returncode}; "
                                    f"log: {log}\n{log.read_text()[-2000:]}")
            hs = [_get_json(f"http://127.0.0.1:{port}/health") or {} for port in webs]
            ok = all(h.get("ready") and h.get("items", 0) >= len(items)
                     and not h.get("rebalancing")
                     # workers that score the LLM signal themselves have every vector
                     and h.get("item_embeddings", len(items)) >= len(items) for h in hs)
            owned = [h.get("events_partitions") or [] for h in hs]
            ok = ok and sum(map(len, owned)) == names.partitions and sum(map(bool, owned)
                                                                         ) == want
            if ok and scorer:
                ok = bool((_get_json(f"http://127.0.0.1:{scorer_web}/health") or {})
                          .get("ready"))
            if ok:
                break
            if time.monotonic() > deadline:
                raise UserError(f"the pipeline was not ready after {READY_TIMEOUT_S:.0f} s; "
                                f"log: {log}")
            time.sleep(0.5)
        yield BenchProcesses(prefix, ws, sc, log, f"http://127.0.0.1:{scorer_web}")
    finally:
        for proc in reversed(procs):
            stop_process(proc)
        out.close()


@contextmanager
def sampling_rss(pids: list[int], every_s: float = 2.0) -> Iterator[list[tuple[float, float]]]:
    """``(seconds, MiB)`` samples of the processes' summed resident memory, taken every
    ``every_s`` while the block runs and once as it ends (a sample where one has exited is
    skipped)."""
    from recstream.bench.procstat import rss_mb

    samples: list[tuple[float, float]] = []
    stop = threading.Event()

    def sample() -> None:
        while True:
            got = [rss_mb(pid) for pid in pids]
            if None not in got:
                samples.append((time.monotonic(), round(sum(got), 1)))  # type: ignore[arg-type]
            if stop.is_set():  # the last sample is taken as the block ends
                return
            stop.wait(every_s)

    t = threading.Thread(target=sample, name="bench-rss", daemon=True)
    t.start()
    try:
        yield samples
    finally:
        stop.set()
        t.join()


@contextmanager
def py_spy(pid: int, path: Path | None) -> Iterator[None]:
    """Sample ``pid`` with py-spy into ``path`` (.svg flame graph, .json speedscope, other:
    collapsed stacks) while the block runs; nothing when ``path`` is None."""
    if path is None:
        yield
        return
    fmt = {".svg": "flamegraph", ".json": "speedscope"}.get(path.suffix, "raw")
    exe = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    spy = subprocess.Popen([exe, "record", "--pid", str(pid), "-o", str(path), "-f", fmt,
                            "--rate", "200", "--nonblocking"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
        with suppress(subprocess.TimeoutExpired):
            spy.wait(60)
        stop_process(spy, 5)


def run_once(bootstrap: str, *, rate: float | None, events: int, users: int, items: int,
             scorer: bool, seed: int, with_ceiling: bool, idle_s: float, max_wait_s: float,
             loglevel: str, profile: Path | None = None, log: Path | None = None,
             workers: int = 1) -> dict[str, Any]:
    """One bench run on fresh topics: ceiling first (nothing else running), then the pipeline.
    CPU is summed over the workers; ``rss_mb`` is their peak resident memory summed (each
    worker's in ``worker_rss_mb``)."""
    from recstream.bench.procstat import cpu_seconds, peak_rss_mb
    from recstream.bench.summary import bench_result, memory_growth
    from recstream.bench.synthetic import make_workload
    from streams.bench import ceiling, drive
    from streams.topics import topic_names

    work = make_workload(events, users, items, seed)
    partitions = settings().topics.partitions
    baseline = None
    if with_ceiling:
        base = ceiling(bootstrap, f"bench{uuid.uuid4().hex[:8]}-", partitions, work.events,
                       idle_s=idle_s)
        baseline = base.throughput_eps()
    workdir = Path(tempfile.mkdtemp(prefix="recstream-bench-"))
    try:
        with pipeline(bootstrap, work.items, scorer, workdir, loglevel, log, workers) as p:
            names = topic_names(settings(bootstrap, topics={"prefix": p.prefix}))
            topics = dict(zip(("clicks", "purchases", "ratings"), names.inputs, strict=True))
            pids = [w.pid for w in p.workers]
            cpu0 = [cpu_seconds(pid) for pid in pids]
            req0 = p.scorer_requests()
            import asyncio

            with py_spy(pids[0], profile), sampling_rss(pids) as samples:
                delivery = asyncio.run(drive(bootstrap, work.events, topics,
                                             names.recommendations, names.partitions, rate,
                                             idle_s=idle_s, max_wait_s=max_wait_s))
            cpu1 = [cpu_seconds(pid) for pid in pids]
            rsss = [peak_rss_mb(pid) for pid in pids]
            req1 = p.scorer_requests()
        cpus = [None if a is None or b is None else b - a
                for a, b in zip(cpu0, cpu1, strict=True)]
        cpu = sum(cpus) if None not in cpus else None  # type: ignore[arg-type]
        rss = round(sum(rsss), 1) if None not in rsss else None  # type: ignore[arg-type]
        result = bench_result(rate=rate, delivery=delivery, baseline_eps=baseline, rss_mb=rss,
                              users=users, items=items, cpu_s=cpu, scorer=scorer)
        result.update(users_seen=work.users_seen, workers=workers, topic_prefix=p.prefix,
                      worker_rss_mb=rsss,
                      worker_cpu_s=[None if c is None else round(c, 1) for c in cpus],
                      memory=memory_growth(samples),
                      scorer_requests=None if req0 is None or req1 is None else req1 - req0)
        return result
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@bench_app.callback(invoke_without_command=True)
def bench(
    ctx: typer.Context,
    bootstrap: BootstrapOpt = None,
    json_out: JsonOpt = False,
    rate: Annotated[str, typer.Option(help="Events/s to produce, or 'max' (as fast as "
                                      "possible).")] = "1000",
    events: Annotated[int, typer.Option(min=1, help="Events to produce.")] = 5000,
    users: Annotated[int, typer.Option(min=1, help="Users (Zipf activity).")] = 1000,
    items: Annotated[int, typer.Option(min=1, help="Catalogue items (Zipf popularity).")
                     ] = 1000,
    scorer: Annotated[bool, typer.Option("--scorer/--no-scorer", help="Run the LLM scorer "
                      "(CPU unless a GPU is present) in the pipeline.")] = True,
    ceiling: Annotated[bool, typer.Option("--ceiling/--no-ceiling", help="Measure the bare "
                       "aiokafka consume→produce ceiling in the same run.")] = True,
    sweep_users: Annotated[str | None, typer.Option(help="Comma-separated user counts: one "
                           "run each (no ceiling), then a table of worker CPU µs per event "
                           "and peak RSS.", show_default=False)] = None,
    events_per_user: Annotated[float, typer.Option(help="Sweep: events per user, capped by "
                               "--events.")] = 20.0,
    seed: Annotated[int, typer.Option(help="Workload seed.")] = 0,
    idle_s: Annotated[float, typer.Option(help="Stop waiting when no recommendation arrived "
                      "for this long (s).")] = 60.0,
    max_wait_s: Annotated[float, typer.Option(help="Longest wait after the last event is "
                          "sent (s); what has not arrived then is reported missing.")] = 120.0,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes (one consumer group; "
                       "more than the events partitions leaves some idle).")] = 1,
    profile: Annotated[Path | None, typer.Option(help="py-spy the first worker during the run "
                       "into this file (.svg flame graph, .json speedscope, else collapsed "
                       "stacks).", show_default=False)] = None,
    loglevel: Annotated[str, typer.Option(help="Worker and scorer log level.")] = "warning",
    log: Annotated[Path | None, typer.Option(help="Append the worker's and scorer's output "
                   "to this file (default: a temporary file, deleted).", show_default=False)
                   ] = None,
) -> None:
    """Pipeline throughput and event→recommendation latency against the bare-client ceiling.

    Starts a local broker on free ports (unless --bootstrap-server), fresh topics, a worker
    and the scorer; produces synthetic events at --rate and reads `recommendations`.
    """
    if ctx.invoked_subcommand is not None:
        return
    from recstream.bench.summary import parse_counts, parse_rate, sweep_table

    # SIGTERM (timeout(1), a CI runner) unwinds like Ctrl-C, so the workers, the scorer and
    # a broker this command started are stopped instead of left running
    signal.signal(signal.SIGTERM, _exit_on_term)

    try:
        r = parse_rate(rate)
        counts = parse_counts(sweep_users) if sweep_users else None
    except ValueError as e:
        raise UserError(str(e)) from None
    common = {"rate": r, "items": items, "scorer": scorer, "seed": seed, "idle_s": idle_s,
              "max_wait_s": max_wait_s, "loglevel": loglevel, "log": log, "workers": workers}
    with local_broker(bootstrap) as boot:
        if counts is None:
            res = run_once(boot, events=events, users=users, with_ceiling=ceiling,
                           profile=profile, **common)
            _print_run(res, json_out)
            return
        rows = []
        for u in counts:
            n = max(1, min(events, round(u * events_per_user)))
            if not json_out:
                typer.echo(f"users {u:,}: {n:,} events…", err=True)
            rows.append(run_once(boot, events=n, users=u, with_ceiling=False, **common))
    typer.echo(json.dumps(rows) if json_out else sweep_table(rows))


def _exit_on_term(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def _print_run(res: dict[str, Any], json_out: bool) -> None:
    keys = ("rate", "events", "throughput_eps", "baseline_eps", "ratio", "latency_ms",
            "rss_mb", "users", "items")
    if json_out:
        typer.echo(json.dumps({**{k: res[k] for k in keys},
                               **{k: v for k, v in res.items() if k not in keys}}))
        return
    from recstream.bench.summary import run_text

    typer.echo(run_text(res))
