"""Running the real command line the way a user meets it: on a terminal, or piped."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
import threading
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str  # what the terminal (or the pipe) on stderr received


def cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> Run:
    """`python -m containment ARGS` with stdout and stderr piped (CI, `| jq`)."""
    p = subprocess.run(
        [sys.executable, "-m", "containment", *args],
        capture_output=True,
        encoding="utf-8",
        errors="strict",
        cwd=cwd,
        env=env,
        timeout=300,
    )
    return Run(p.returncode, p.stdout, p.stderr)


def cli_on_tty(*args: str, cwd: Path | None = None, columns: int = 150) -> Run:
    """`python -m containment ARGS` with stderr on a pseudo-terminal and stdout piped: what a
    user at a terminal who redirects the report (`> out.json`) sees."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = dict(os.environ, TERM="xterm-256color", COLUMNS=str(columns))
    env.pop("NO_COLOR", None)
    p = subprocess.Popen(
        [sys.executable, "-m", "containment", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=slave,
        cwd=cwd,
        env=env,
    )
    os.close(slave)
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                data = os.read(master, 1 << 16)
            except OSError:  # EIO: the last holder of the terminal's other end went away
                break
            if not data:
                break
            chunks.append(data)

    t = threading.Thread(target=drain, daemon=True)
    t.start()
    try:
        out, _ = p.communicate(timeout=300)
    finally:
        t.join(timeout=30)
        os.close(master)
    return Run(p.returncode, out.decode("utf-8"), b"".join(chunks).decode("utf-8", "replace"))


def osv_db(tmp_path: Path, *records: dict) -> Path:
    """An advisory database holding these OSV records (imported as the user would)."""
    import json

    from containment.advisories.importer import import_paths

    feed = tmp_path / "osv-feed"
    feed.mkdir(exist_ok=True)
    for rec in records:
        (feed / f"{rec['id']}.json").write_text(json.dumps(rec))
    db = tmp_path / "advisories.db"
    import_paths([feed], db)
    return db


def pypi_advisory(vid: str, name: str, fixed: str, severity: str = "HIGH", cve: str = "") -> dict:
    return {
        "id": vid,
        "aliases": [cve] if cve else [],
        "modified": "2024-01-01T00:00:00Z",
        "summary": f"{name} is vulnerable ({vid})",
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": name},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}],
            }
        ],
        "database_specific": {"severity": severity},
    }
