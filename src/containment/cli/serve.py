"""`containment serve --data DIR --listen 127.0.0.1:PORT [--database URL] [--broker redis://...]`: the API server.

The embedded default keeps its SQLite database (and job store) in DIR (`--data`, else
`$CONTAINMENT_DATA`); `--database postgresql://...` uses PostgreSQL instead. FastAPI, uvicorn
and SQLAlchemy are imported only when this command runs. With `--broker`, the server runs no job
itself: it queues jobs (the table first, then a Dramatiq message) and re-sends lost messages;
`containment worker` processes run them (server/broker.py). Logs are JSON lines on stderr; SIGTERM
or SIGINT stop accepting, let requests in flight finish (--graceful-timeout) and close the store.

Until the lead registers it in cli/main.py: `python -m containment.cli.serve --data DIR ...`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

import typer

from containment import interrupt
from containment.cli.common import fail

DEFAULT_LISTEN = "127.0.0.1:8080"


def parse_listen(listen: str) -> tuple[str, int]:
    """`HOST:PORT` or `[IPv6]:PORT` -> (host, port); a clear error otherwise."""
    m = re.fullmatch(r"\[([0-9A-Fa-f:.]+)\]:(\d{1,5})|([A-Za-z0-9.-]+):(\d{1,5})", listen.strip())
    if not m:
        raise ValueError(f"--listen {listen!r}: expected HOST:PORT, e.g. {DEFAULT_LISTEN}")
    host = m.group(1) or m.group(3)
    port = int(m.group(2) or m.group(4))
    if not 0 < port < 65536:
        raise ValueError(f"--listen {listen!r}: the port must be 1-65535")
    return host, port


def serve(
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            envvar="CONTAINMENT_DATA",
            help="directory of the embedded store (SQLite database, job store) [env CONTAINMENT_DATA]",
        ),
    ] = None,
    listen: Annotated[str, typer.Option("--listen", help="address to listen on, HOST:PORT")] = DEFAULT_LISTEN,
    database: Annotated[
        str | None,
        typer.Option(
            "--database",
            envvar="CONTAINMENT_DATABASE",
            help="database URL (postgresql://...) instead of the embedded SQLite in --data",
        ),
    ] = None,
    max_body: Annotated[
        int, typer.Option("--max-body", min=1024, help="largest request body accepted, in bytes (413 beyond)")
    ] = 32 * 1024 * 1024,
    graceful_timeout: Annotated[
        int, typer.Option("--graceful-timeout", min=0, help="seconds requests in flight get on shutdown")
    ] = 10,
    log_level: Annotated[str, typer.Option("--log-level", help="debug, info, warning or error")] = "info",
    advisory_db: Annotated[
        Path | None,
        typer.Option(
            "--advisory-db",
            envvar="CONTAINMENT_DB",
            help="advisory database the stored findings follow (default: the CLI's, $CONTAINMENT_DB "
            "else <cache dir>/db/advisories.db); `containment db update` there re-evaluates them",
            dir_okay=False,
        ),
    ] = None,
    watch_interval: Annotated[
        float,
        typer.Option(
            "--watch-interval",
            min=0,
            help="seconds between looks at the advisory database for a change (0: never; "
            "POST /api/v1/reevaluate still works)",
        ),
    ] = 10.0,
    broker: Annotated[
        str | None,
        typer.Option(
            "--broker",
            envvar="CONTAINMENT_BROKER",
            help="Redis URL (redis://HOST:PORT/N): jobs run in `containment worker` processes, "
            "this server only queues them",
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            max=64,
            help="server processes sharing the address (one per CPU core serves the most requests); "
            "a process that dies is started again",
        ),
    ] = 1,
) -> None:
    """Serve the REST API (/api/v1, OpenAPI at /api/v1/openapi.json), /healthz, /readyz, /metrics."""
    try:
        host, port = parse_listen(listen)
    except ValueError as e:
        fail(str(e))
    if log_level.lower() not in {"debug", "info", "warning", "error"}:
        fail(f"--log-level {log_level!r}: one of debug, info, warning, error")
    if data is not None:
        try:
            data.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            fail(f"--data {data}: cannot create the directory ({e.strerror or e})")
        if not data.is_dir():
            fail(f"--data {data}: not a directory")

    import uvicorn

    from containment.server.app import create_app
    from containment.server.ops import configure_logging, log
    from containment.server.store import Store

    configure_logging(log_level)
    if broker:
        check_broker(broker)
    try:
        store = Store.open(data_dir=data, url=database)
    except Exception as e:  # the store names the file/URL and what failed; one line, exit 2
        fail(f"cannot open the store ({data or database or 'default'}): {e}")
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_config": None,
        "access_log": False,
        "timeout_graceful_shutdown": graceful_timeout,
        # idle keep-alive connections are closed after this; a client that reuses one at that
        # instant sees a dropped request (uvicorn's 5 s made that a matter of seconds under a
        # connection pool). 65 s outlasts the usual proxies' and pools' own idle timeouts.
        "timeout_keep_alive": 65,
        "server_header": False,
        "lifespan": "on",
    }
    if workers > 1:
        store.close()  # opened to migrate and to fail early; each process opens its own
        many(listen, workers, options, {
            "data": str(data) if data else None,
            "database": database,
            "max_body": max_body,
            "advisory_db": str(advisory_db) if advisory_db else None,
            "watch_interval": watch_interval or None,
            "broker": broker or None,
            "log_level": log_level,
        })  # fmt: skip
        return
    app = create_app(
        store,
        max_body=max_body,
        close_store=True,
        data_dir=data,
        advisory_db=advisory_db,
        watch_interval=watch_interval or None,
        broker=broker or None,
    )
    config = uvicorn.Config(app, **options)
    server = uvicorn.Server(config)
    # uvicorn stops gracefully on SIGTERM/SIGINT (requests in flight get --graceful-timeout, then
    # the app's shutdown stops the job workers); containment.interrupt's 1-second deadline would cut that short
    interrupt.hand_over()
    log.info("listening", extra={"host": host, "port": port, "data": str(data) if data else None})
    try:
        server.run()
    except SystemExit:
        if server.started:
            raise
        store.close()
        fail(f"--listen {listen}: could not listen there (in use, or not an address of this machine?)")


def many(listen: str, workers: int, options: dict[str, Any], settings: dict[str, Any]) -> None:
    """`--workers N`: uvicorn's supervisor binds the address once and runs N server processes on
    it (started afresh, so each builds its app from $CONTAINMENT_SERVE_SETTINGS), starts again
    one that dies, and on SIGTERM/SIGINT stops them all gracefully. Each process keeps its own
    Prometheus counters: /metrics shows the answering process's (label-free; scrape each, or
    run one process per container)."""
    import json
    import os

    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from containment.server.app import SERVE_ENV

    os.environ[SERVE_ENV] = json.dumps(settings)
    config = uvicorn.Config(
        "containment.server.app:from_environment", factory=True, workers=workers, **options
    )
    try:
        sock = config.bind_socket()
    except SystemExit:
        fail(f"--listen {listen}: could not listen there (in use, or not an address of this machine?)")
    interrupt.hand_over()
    Multiprocess(config, sockets=[sock]).run()


def check_broker(url: str) -> None:
    """Exit 2 with one line unless `url` is a Redis URL whose server answers."""
    from containment.server.broker import Broker, BrokerError

    try:
        b = Broker(url)
    except BrokerError as e:
        fail(str(e))
    try:
        b.ping()
    except BrokerError as e:
        fail(str(e))
    finally:
        b.close()


app = typer.Typer(rich_markup_mode=None, add_completion=False)
app.command("serve")(serve)


def main() -> None:
    typer.run(serve)


if __name__ == "__main__":
    main()
