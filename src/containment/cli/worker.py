"""`containment worker --broker redis://HOST:PORT/N --database URL|--data DIR [--threads N]`.

Runs the server's jobs (every kind in server/tasks.py) fed by Dramatiq on Redis: start as many
as you like, on as many machines, next to `containment serve --broker` (the same broker URL and
database). A worker claims the job its message names from the database (the jobs table stays
the truth; server/broker.py says why duplicates never run twice and a killed worker loses
nothing). Everything the jobs read is in the database too (registries, webhooks, the gate's
signing key, the advisory version last evaluated: server/config.py), so `--broker` and
`--database` are all a worker on another machine needs. What stays per machine: the advisory DB
($CONTAINMENT_DB, else the cache dir), the key password (CONTAINMENT_KEY_PASSWORD), webhooks
given by environment, and the advisory snapshot re-evaluation diffs against (in --data when
given, else the cache dir). SIGTERM/SIGINT: no new job is taken, running ones finish
(--graceful-timeout); a job cut short runs again elsewhere once its lease expires. Logs: JSON
lines on stderr.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Annotated, Any

import typer

from containment import interrupt
from containment.cli.common import fail


def worker(
    broker: Annotated[
        str | None,
        typer.Option(
            "--broker",
            envvar="CONTAINMENT_BROKER",
            help="Redis URL the server queues jobs on (redis://HOST:PORT/N)",
        ),
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            envvar="CONTAINMENT_DATA",
            help="the server's data directory: its SQLite store when there is no --database (a "
            "worker with --database needs none)",
        ),
    ] = None,
    database: Annotated[
        str | None,
        typer.Option(
            "--database",
            envvar="CONTAINMENT_DATABASE",
            help="the server's database URL (postgresql://...)",
        ),
    ] = None,
    threads: Annotated[int, typer.Option("--threads", min=1, max=256, help="jobs run at once")] = 2,
    graceful_timeout: Annotated[
        int, typer.Option("--graceful-timeout", min=0, help="seconds running jobs get on shutdown")
    ] = 30,
    log_level: Annotated[str, typer.Option("--log-level", help="debug, info, warning or error")] = "info",
) -> None:
    """Run the server's jobs (scans of registry pushes, re-evaluations, syncs) from a Redis broker."""
    if not broker:
        fail("--broker: required (redis://HOST:PORT/N, the URL given to `containment serve --broker`)")
    if log_level.lower() not in {"debug", "info", "warning", "error"}:
        fail(f"--log-level {log_level!r}: one of debug, info, warning, error")
    if data is not None and not data.is_dir():
        fail(f"--data {data}: not a directory (the server's data directory)")
    if data is None and database is None:
        fail("--data DIR or --database URL: which store's jobs to run")

    import logging

    from containment.cache import cache_dir
    from containment.server import tasks
    from containment.server.broker import Broker, BrokerError, redact
    from containment.server.ops import configure_logging, log
    from containment.server.store import Store

    configure_logging(log_level)
    for name in ("dramatiq",):  # the engine's own lines, as JSON like ours
        lg = logging.getLogger(name)
        lg.handlers[:] = logging.getLogger("containment.server").handlers
        lg.setLevel(max(logging.WARNING, logging.getLevelName(log_level.upper())))
        lg.propagate = False
    try:
        b = Broker(broker)
        b.ping()
    except BrokerError as e:
        fail(str(e))
    try:
        store = Store.open(data_dir=data, url=database)
    except Exception as e:  # the store names the file/URL and what failed; one line, exit 2
        b.close()
        fail(f"cannot open the store ({data or database or 'default'}): {e}")
    # this machine's state (the advisory snapshot): the data directory when given, else the cache
    data_dir = data if data is not None else cache_dir() / "worker"
    try:
        handlers = tasks.handlers(store, data_dir)
    except Exception as e:
        store.close()
        b.close()
        fail(f"cannot load the job handlers: {e}")
    w = b.worker(tasks.make_jobs(store), handlers, threads=threads)

    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        stop.set()

    # our own graceful stop instead of containment.interrupt's (which exits 1 s after the
    # signal): running jobs get --graceful-timeout, and a job cut short by a second kill runs
    # again elsewhere (ack late)
    interrupt.hand_over()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)
    w.start()
    log.info(
        "worker ready",
        extra={
            "broker": redact(broker),
            "threads": threads,
            "kinds": sorted(handlers),
            "state": str(data_dir),
        },
    )
    try:
        while not stop.wait(1.0):
            pass
    finally:
        log.info("worker stopping")
        w.stop(timeout=graceful_timeout * 1000)
        b.close()
        store.close()
        log.info("worker stopped")


def main() -> None:
    typer.run(worker)


if __name__ == "__main__":
    main()
