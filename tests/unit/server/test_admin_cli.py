"""`containment user …` and `containment token …` as real processes, also while another process
(a running server) holds the same store open and writes to it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from containment.server.store import Principal, Store

ROOT = Path(__file__).resolve().parents[3]
# the commands as cli/main.py registers them (app.add_typer(admin.user_app, name="user"), ...)
RUNNER = """
import sys
from containment.cli import admin
from containment.cli.entry import ContainmentTyper, run
app = ContainmentTyper(name="containment", no_args_is_help=True)
app.add_typer(admin.user_app, name="user")
app.add_typer(admin.token_app, name="token")
sys.exit(run(app, sys.argv[1:]))
"""
TOKEN = re.compile(r"ctm_[0-9a-f]{16}_[A-Za-z0-9_-]{43}")


def cli(*args: str, stdin: str = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    e = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    e.pop("CONTAINMENT_DATABASE", None)
    return subprocess.run(
        [sys.executable, "-c", RUNNER, *args], input=stdin, capture_output=True, text=True, timeout=120, env=e
    )


def one_line_error(p: subprocess.CompletedProcess[str], text: str) -> None:
    assert p.returncode == 2, p.stderr
    assert p.stdout == ""
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("containment: error:"), p.stderr
    assert text in lines[0]
    assert "Traceback" not in p.stderr


HOLDER = """
import sys, threading, time
from containment.model import Inventory, Package
from containment.server.store import Store
store = Store.open(data_dir=sys.argv[1])
stop = threading.Event()
writes = 0
def writer():
    global writes
    while not stop.is_set():
        p = Package(name=f"p{writes}", version="1", type="npm", purl=f"pkg:npm/p{writes}@1", path="x", cataloger="t")
        store.put_inventory(Inventory(target=f"r/app:{writes}", kind="image", os=None, packages=(p,),
                                      image_digest=f"sha256:{writes:064x}"), "scan", "server")
        writes += 1
t = threading.Thread(target=writer, daemon=True)
t.start()
print("ready", flush=True)
for line in sys.stdin:  # the test sends tokens; the running server answers who they are
    p = store.authenticate(line.strip())
    print(f"{p.name} {p.role}" if p else "refused", flush=True)
stop.set()
t.join()  # the write in flight finishes before the count is said
print(f"writes {writes}", flush=True)
store.close()
"""


@pytest.fixture
def server(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """A process holding the store open and writing to it all the time, like `containment serve`."""
    p = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    yield p
    if p.poll() is None:
        p.kill()
        p.wait()


def ask(server: subprocess.Popen[str], token: str) -> str:
    assert server.stdin is not None and server.stdout is not None
    server.stdin.write(token + "\n")
    server.stdin.flush()
    return server.stdout.readline().strip()


def test_user_add_and_token_create_while_the_server_runs(
    tmp_path: Path, server: subprocess.Popen[str]
) -> None:
    for name, role in (("alice", "security"), ("bob", "developer")):
        p = cli("user", "add", name, "--role", role, "--data", str(tmp_path))
        assert p.returncode == 0, p.stderr
    p = cli("token", "create", "alice", "--data", str(tmp_path))
    assert p.returncode == 0, p.stderr
    token = p.stdout.splitlines()[-1]
    assert TOKEN.fullmatch(token) and p.stdout == token + "\n"  # alone on the last (only) line
    assert ask(server, token) == "alice security"  # the running server accepts it at once
    assert ask(server, token[:-1] + ("x" if token[-1] != "x" else "y")) == "refused"
    tid = token.split("_")[1]
    assert cli("token", "revoke", tid, "--data", str(tmp_path)).returncode == 0
    assert ask(server, token) == "refused"
    assert server.stdin is not None and server.stdout is not None
    server.stdin.close()
    writes = int(server.stdout.readline().split()[1])
    assert server.wait(timeout=60) == 0
    assert writes > 0  # the server kept writing all along
    with Store.open(data_dir=tmp_path) as s:
        assert s.count_images() == writes
        assert [u["name"] for u in s.users()] == ["alice", "bob"]


def test_data_defaults_to_containment_data(tmp_path: Path) -> None:
    env = {"CONTAINMENT_DATA": str(tmp_path)}
    assert cli("user", "add", "ci", "--role", "developer", env=env).returncode == 0
    p = cli(
        "token",
        "create",
        "ci",
        "--expires",
        "1",
        "--scope",
        "images:write",
        "--scope",
        "sboms:write",
        env=env,
    )
    assert p.returncode == 0, p.stderr
    with Store.open(data_dir=tmp_path) as s:
        assert s.authenticate(p.stdout.strip()) == Principal("ci", "developer", p.stdout.split("_")[1])
        [t] = s.tokens("ci")
    assert t["scopes"] == ["images:write", "sboms:write"] and t["expires"]


def test_password_from_stdin_allows_login(tmp_path: Path) -> None:
    p = cli(
        "user",
        "add",
        "carol",
        "--role",
        "admin",
        "--data",
        str(tmp_path),
        "--password-stdin",
        stdin="s3cr3t pw\n",
    )
    assert p.returncode == 0, p.stderr
    with Store.open(data_dir=tmp_path) as s:
        assert s.login("carol", "s3cr3t pw") == Principal("carol", "admin")
        assert s.login("carol", "s3cr3t pw\n") is None
    one_line_error(
        cli("user", "add", "dan", "--role", "admin", "--data", str(tmp_path), "--password-stdin", stdin=""),
        "no password on stdin",
    )


def test_user_list_table_and_json(tmp_path: Path) -> None:
    cli("user", "add", "alice", "--role", "auditor", "--data", str(tmp_path))
    cli("token", "create", "alice", "--data", str(tmp_path))
    p = cli("user", "list", "--data", str(tmp_path))
    assert p.returncode == 0
    assert re.search(r"^alice\s+auditor\s+1\s+no\s", p.stdout, re.M), p.stdout
    users = json.loads(cli("user", "list", "--json", "--data", str(tmp_path)).stdout)
    assert [(u["name"], u["role"], u["tokens"]) for u in users] == [("alice", "auditor", 1)]
    p = cli("token", "list", "--data", str(tmp_path))
    assert p.returncode == 0 and "alice" in p.stdout and "active" in p.stdout and "ctm_" not in p.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("user", "add", "eve", "--role", "root"), "role 'root' unknown"),
        (("user", "add", "eve", "--role", "Admin"), "unknown; use one of developer"),
        (("user", "add", " eve", "--role", "admin"), "surrounding spaces"),
        (("token", "create", "ghost"), "does not exist"),
        (("token", "create", "alice", "--scope", "Bad Scope"), "scopes"),
        (("token", "create", "alice", "--expires", "0"), "--expires"),
        (("token", "create", "alice", "--expires", "soon"), "--expires"),
        (("token", "revoke", "0000"), "no token with id"),
        (("user", "add", "alice", "--role", "admin"), "exists already"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    assert cli("user", "add", "alice", "--role", "security", "--data", str(tmp_path)).returncode == 0
    one_line_error(cli(*args, "--data", str(tmp_path)), message)
    with Store.open(data_dir=tmp_path) as s:
        assert [u["name"] for u in s.users()] == ["alice"]
        assert s.tokens() == []


def test_a_file_as_data_dir_is_one_line(tmp_path: Path) -> None:
    f = tmp_path / "file"
    f.write_text("x")
    p = cli("user", "add", "a", "--role", "admin", "--data", str(f))
    assert p.returncode == 2 and len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr


def test_importing_the_commands_loads_no_server_library() -> None:
    code = "import sys, containment.cli.admin; print(sorted(m for m in ('sqlalchemy', 'argon2', 'alembic', 'fastapi') if m in sys.modules))"
    p = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert p.stdout.strip() == "[]", p.stderr
