"""Engines and migrations: SQLite (embedded default, WAL) or PostgreSQL (production).

SQLite: one file `containment.db` in the data directory, WAL so readers never wait for the writer,
a busy timeout so writers from other processes (the CLI while the server runs) queue instead of
failing, and write transactions that begin IMMEDIATE (they take the write lock up front, so two
writers never deadlock upgrading a read lock). PostgreSQL: psycopg 3, pre-ping so a restarted
database is reconnected to without manual steps."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from containment.model import ContainmentError

DB_FILE = "containment.db"
BUSY_TIMEOUT_MS = 30_000
MIGRATION_LOCK = 0x636F6E74  # "cont": PostgreSQL advisory lock held while migrating
IMMEDIATE = "containment_immediate"  # execution option: this transaction writes (SQLite: BEGIN IMMEDIATE)


def default_data_dir() -> Path:
    env = os.environ.get("CONTAINMENT_DATA")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "containment"


def resolve_url(data_dir: str | os.PathLike[str] | None = None, url: str | None = None) -> str:
    """The database URL: `url` when given (sqlite:///… or postgresql://…), else SQLite in the data dir."""
    if url:
        try:
            u = make_url(url)
        except ArgumentError:
            raise ContainmentError(
                f"{url!r}: not a database URL (sqlite:///PATH or postgresql://…)"
            ) from None
        if u.get_backend_name() == "postgresql":
            if u.drivername in ("postgresql", "postgres", "postgresql+psycopg"):
                return u.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
            raise ContainmentError(f"{u.drivername}: use postgresql://… (psycopg 3 is the driver)")
        if u.get_backend_name() == "sqlite":
            if u.database:
                Path(u.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            return url
        raise ContainmentError(f"{u.drivername}: unsupported database; use sqlite:///PATH or postgresql://…")
    d = Path(data_dir).expanduser() if data_dir else default_data_dir()
    try:
        d.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as e:
        raise ContainmentError(f"{d}: cannot create the data directory ({e.strerror})") from None
    if not d.is_dir():
        raise ContainmentError(f"{d}: not a directory; --data names the server's data directory")
    return f"sqlite:///{(d / DB_FILE).resolve()}"


def make_engine(url: str) -> Engine:
    import orjson

    u = make_url(url)
    # JSON columns (scan counts, layers, audit details) decoded by orjson: the image list decodes
    # two per image, and json.loads was a tenth of its time. Encoding stays json.dumps (orjson
    # refuses what json accepts, e.g. non-string keys; writes are rare).
    if u.get_backend_name() == "sqlite":
        engine = create_engine(
            url,
            connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            json_deserializer=orjson.loads,
        )
        _sqlite_events(engine)
        return engine
    return create_engine(
        url, pool_pre_ping=True, pool_size=5, max_overflow=10, json_deserializer=orjson.loads
    )


def _sqlite_events(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (pysqlite's own is unreliable for DDL)
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys = ON")
        if engine.url.database not in (None, "", ":memory:"):
            if cur.execute("PRAGMA journal_mode").fetchone()[0] != "wal":  # switching needs the file alone
                cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(IMMEDIATE) else "BEGIN")


def migrations_config() -> Any:
    from alembic.config import Config

    from containment.server import migrations

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(migrations.__file__).parent))
    return cfg


def upgrade(engine: Engine) -> None:
    """Bring the schema to head; safe when several processes open the same database at once."""
    from alembic import command

    cfg = migrations_config()
    with _sqlite_migration_lock(engine), engine.execution_options(**{IMMEDIATE: True}).begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


@contextmanager
def _sqlite_migration_lock(engine: Engine) -> Iterator[None]:
    """Serialise first opens of one SQLite file across threads and processes. The first connection
    to a new file switches it to WAL, which needs the file to itself; SQLite's busy handler does not
    always cover that switch, so several servers and CLIs starting at once could see "database is
    locked". An flock on a sidecar file makes them take turns; later opens find WAL already set."""
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    with file_lock(f"{database}.lock"):
        yield


@contextmanager
def file_lock(path: str) -> Iterator[None]:
    """An exclusive flock on `path` (created 0600 if missing) while the block runs: across the
    threads and processes of one machine (SQLite's are all on one)."""
    import fcntl

    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str:
    """The newest migration's revision id (what `upgrade` brings a store to)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(migrations_config()).get_current_head()
    if head is None:  # pragma: no cover - the package ships its migrations
        raise RuntimeError("no migration found")
    return str(head)
