"""A throwaway PostgreSQL 15 cluster for tests: started once per session, one fresh database per test.

Use in a test module:  ``from tests.unit.server.pg import pg_cluster, pg_url  # noqa: F401``
then ask for ``pg_url`` (a ``postgresql://`` URL of an empty database of its own) or ``pg_cluster``
(the cluster: ``stop()``, ``start()``, ``restart()``, ``kill()`` to test recovery). The cluster
listens on 127.0.0.1 on a free port and on a unix socket in its own directory, trust auth; as
root its binaries run as the ``postgres`` user. Tests skip, saying why, when it cannot start.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.tools import missing

PG_BIN = Path(os.environ.get("CONTAINMENT_PG_BIN", "/usr/lib/postgresql/15/bin"))
START_TIMEOUT = 60


class PgUnavailable(Exception):
    """Why the cluster cannot run here (the skip reason)."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgCluster:
    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.data = root / "data"
        self.port = port
        self.log = root / "server.log"
        self.as_postgres = os.geteuid() == 0

    @property
    def url(self) -> str:
        """The maintenance database (postgres) as superuser."""
        return self.database_url("postgres")

    def database_url(self, name: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def _run(
        self, *args: str, check: bool = True, timeout: float = START_TIMEOUT
    ) -> subprocess.CompletedProcess[str]:
        cmd = [str(PG_BIN / args[0]), *args[1:]]
        if self.as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=self.root)
        if check and p.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise PgUnavailable(
                f"{args[0]} failed ({p.returncode}): {(p.stderr or p.stdout).strip()[-500:]} {log}"
            )
        return p

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")

    def start(self) -> None:
        opts = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            opts,
            "-w",
            "-t",
            str(START_TIMEOUT),
            "start",
        )
        deadline = time.monotonic() + START_TIMEOUT
        while self._run("pg_isready", "-h", "127.0.0.1", "-p", str(self.port), check=False).returncode != 0:
            if time.monotonic() > deadline:
                raise PgUnavailable("PostgreSQL started but does not accept connections")
            time.sleep(0.1)

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def restart(self) -> None:
        self.stop()
        self.start()

    def kill(self) -> None:
        """SIGKILL the postmaster (a crash); `start()` recovers it."""
        pid_file = self.data / "postmaster.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text().split()[0])
            os.kill(pid, signal.SIGKILL)
            for _ in range(100):
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)

    def create_database(self, name: str | None = None) -> str:
        """A new empty database; returns its URL."""
        import psycopg

        name = name or f"t_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as c:
            c.execute(f'CREATE DATABASE "{name}"')  # a generated name, never user input
        return self.database_url(name)

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


def start_cluster() -> PgCluster:
    """Init and start a new cluster in a fresh directory; PgUnavailable says why it cannot."""
    if reason := missing(str(PG_BIN / "postgres"), "postgresql-15"):
        raise PgUnavailable(reason)
    root = Path(tempfile.mkdtemp(prefix="containment-pg-"))
    try:
        if os.geteuid() == 0:
            shutil.chown(root, "postgres", "postgres")
        cluster = PgCluster(root, _free_port())
        cluster.init()
        cluster.start()
    except (PgUnavailable, OSError, LookupError, subprocess.SubprocessError) as e:
        shutil.rmtree(root, ignore_errors=True)
        raise PgUnavailable(f"PostgreSQL cannot start here: {e}") from None
    return cluster


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    try:
        cluster = start_cluster()
    except PgUnavailable as e:
        pytest.skip(str(e))
    try:
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
def pg_url(pg_cluster: PgCluster) -> str:
    """A fresh, empty database of the session's cluster."""
    return pg_cluster.create_database()
