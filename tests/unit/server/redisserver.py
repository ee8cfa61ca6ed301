"""A throwaway redis-server for tests: loopback, a free port, its own tmp dir, no persistence.

Use: ``from tests.unit.server.redisserver import redis_url  # noqa: F401`` and ask for
``redis_url`` (``redis://127.0.0.1:PORT/0``, a server of the test's own) or ``redis_server``
(``.url``, ``.kill()``, ``.start()``: a restart loses every message, as a flushed broker does).
Skips, saying why, when redis-server or the dramatiq package is missing.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.tools import missing

START_TIMEOUT = 30


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RedisServer:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = _free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = open(self.root / "redis.log", "ab")  # noqa: SIM115 - the server's own stdout
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.root),
                "--protected-mode",
                "yes",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        import redis

        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=1).ping()
                return
            except redis.ConnectionError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    text = (self.root / "redis.log").read_text(errors="replace")[-1000:]
                    raise RuntimeError(f"redis-server did not start: {text}") from None
                time.sleep(0.05)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    if reason := missing("redis-server", "redis-server"):
        pytest.skip(reason)
    pytest.importorskip("dramatiq", reason="dramatiq not installed (pip install -e '.[dev]')")
    root = Path(tempfile.mkdtemp(prefix="containment-redis-"))
    server = RedisServer(root)
    try:
        server.start()
    except (OSError, RuntimeError) as e:
        shutil.rmtree(root, ignore_errors=True)
        pytest.skip(f"redis-server cannot start here: {e}")
    try:
        yield server
    finally:
        server.kill()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    return redis_server.url
