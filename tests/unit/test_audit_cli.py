"""`containment audit export|verify|public-key` as a user runs them (real processes): export from the
server's store (SQLite in --data, read only, also while another process writes), verify's exit
codes (0 intact, 1 tampered naming the first bad line, 2 not a trail / bad input) in one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from containment import audit
from containment.server.store import Store
from tests.unit.server.pg import pg_cluster, pg_url  # noqa: F401
from tests.unit.ux_helpers import Run

ROOT = Path(__file__).resolve().parents[2]
# until the lead registers the group in cli/main.py, the module's own typer app is run the same way
_HARNESS = "import sys; from containment.cli.entry import run; from containment.cli.audit import app; sys.exit(run(app))"


def _registered() -> bool:
    return "audit" in (ROOT / "src/containment/cli/main.py").read_text()


def cli(*args: str, **env: str) -> Run:
    prog = ["-m", "containment", "audit"] if _registered() else ["-c", _HARNESS]
    base = {k: v for k, v in os.environ.items() if not k.startswith("CONTAINMENT_")}
    p = subprocess.run(
        [sys.executable, *prog, *args],
        capture_output=True,
        encoding="utf-8",
        env={**base, **env},
        timeout=120,
    )
    return Run(p.returncode, p.stdout, p.stderr)


def one_error_line(r: Run) -> str:
    assert r.returncode == 2, r
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("containment: error: "), r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""
    return lines[0]


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A server data directory whose store has recorded a few mutations."""
    d = tmp_path / "data"
    with Store.open(d) as store:
        for i in range(5):
            store.add_user(f"user{i}", "developer", actor="admin")
    return d


def test_export_then_verify_intact_with_the_pinned_key(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "trail.jsonl"
    r = cli("export", "--data", str(data), "-o", str(out))
    assert r.returncode == 0, r
    assert (
        r.stdout == "" and r.stderr.count("\n") == 1 and "audit records exported (signed by key" in r.stderr
    )
    lines = out.read_bytes().splitlines()
    assert json.loads(lines[0])["format"] == audit.FORMAT
    actions = [json.loads(ln)["action"] for ln in lines[1:]]
    assert actions.count("user.add") == 5
    r = cli("verify", str(out))
    assert r.returncode == 0 and r.stdout.count("\n") == 1 and ": intact: " in r.stdout, r
    pub = cli("public-key", "--data", str(data))
    assert pub.returncode == 0 and pub.stdout.startswith("-----BEGIN PUBLIC KEY-----"), pub
    (tmp_path / "pub.pem").write_text(pub.stdout)
    assert cli("verify", str(out), "--key", str(tmp_path / "pub.pem")).returncode == 0
    other = tmp_path / "other.pem"
    other.write_text(audit.AuditKey.generate().public_pem)
    r = cli("verify", str(out), "--key", str(other))
    assert r.returncode == 1 and r.stdout.startswith(f"{out}:1: TAMPERED: "), r


def test_export_to_stdout_with_the_data_dir_from_the_environment(data: Path) -> None:
    r = cli("export", "-o", "-", CONTAINMENT_DATA=str(data))
    assert r.returncode == 0, r
    lines = r.stdout.splitlines()
    assert json.loads(lines[0])["format"] == audit.FORMAT and len(lines) >= 6


def test_export_while_another_process_writes(data: Path, tmp_path: Path) -> None:
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, itertools\n"
            "from containment.server.store import Store\n"
            "with Store.open(sys.argv[1]) as s:\n"
            "    for i in itertools.count():\n"
            "        s.record('ci', 'scan.put', f'sha256:{i}', {'i': i})\n"
            "        if i == 20: print('ready', flush=True)\n",
            str(data),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline() == "ready\n"
        sizes = []
        for n in range(3):
            out = tmp_path / f"t{n}.jsonl"
            r = cli("export", "--data", str(data), "-o", str(out))
            assert r.returncode == 0, r
            v = cli("verify", str(out))
            assert v.returncode == 0, (v, n)
            sizes.append(len(out.read_bytes().splitlines()))
        assert writer.poll() is None  # the writer ran all along
    finally:
        writer.kill()
        writer.wait()
    final = tmp_path / "final.jsonl"
    assert cli("export", "--data", str(data), "-o", str(final)).returncode == 0
    records = final.read_bytes().splitlines()[1:]
    for n in range(3):
        taken = (tmp_path / f"t{n}.jsonl").read_bytes().splitlines()[1:]
        assert records[: len(taken)] == taken
    assert sizes[-1] > 6  # records the writer appended were exported


@pytest.mark.parametrize(
    ("kind", "line"),
    [("edited", 3), ("deleted", 3), ("inserted", 3), ("swapped", 3), ("truncated", -1), ("reordered", 2)],
)
def test_verify_exits_1_naming_the_first_bad_line(data: Path, tmp_path: Path, kind: str, line: int) -> None:
    out = tmp_path / "trail.jsonl"
    assert cli("export", "--data", str(data), "-o", str(out)).returncode == 0
    ls = out.read_bytes().splitlines(keepends=True)
    if kind == "edited":
        ls[2] = ls[2].replace(b"user1", b"userX")
    elif kind == "deleted":
        del ls[2]
    elif kind == "inserted":
        ls.insert(2, ls[4])
    elif kind == "swapped":
        ls[2], ls[3] = ls[3], ls[2]
    elif kind == "truncated":
        ls[-1] = ls[-1][:-7]
        line = len(ls)
    else:
        ls[1:] = ls[1:][::-1]
    out.write_bytes(b"".join(ls))
    r = cli("verify", str(out))
    assert r.returncode == 1, r
    assert r.stdout.count("\n") == 1 and r.stdout.startswith(f"{out}:{line}: TAMPERED: "), r.stdout
    assert r.stderr == ""


def test_bad_input_is_one_line_and_exit_2(data: Path, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello\n")
    assert "not a containment audit trail" in one_error_line(cli("verify", str(notes)))
    assert "No such file" in one_error_line(cli("verify", str(tmp_path / "absent.jsonl")))
    trail = tmp_path / "t.jsonl"
    assert cli("export", "--data", str(data), "-o", str(trail)).returncode == 0
    assert one_error_line(cli("verify", str(trail), "--key", str(notes)))
    assert "no server database" in one_error_line(cli("export", "--data", str(tmp_path / "nope"), "-o", "x"))
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "containment.db").write_bytes(b"")
    assert "cannot read the audit trail" in one_error_line(cli("export", "--data", str(empty), "-o", "x"))
    assert "no audit key" in one_error_line(cli("public-key", "--data", str(empty)))
    assert not (empty / audit.KEY_FILE).exists() and not (tmp_path / "x").exists()
    assert one_error_line(cli("export", "--data", str(data), "--database", "mysql://h/db", "-o", "x"))


def test_export_from_postgresql_read_only(tmp_path: Path, pg_url: str) -> None:  # noqa: F811
    d = tmp_path / "data"
    with Store.open(d, url=pg_url) as store:
        store.add_user("alice", "security", actor="admin")
        store.record("admin", "policy.set", "prod", {"rule": "no HIGH"})
    out = tmp_path / "pg.jsonl"
    r = cli("export", "--data", str(d), "--database", pg_url, "-o", str(out))
    assert r.returncode == 0 and "signed by key" in r.stderr, r
    actions = [json.loads(ln)["action"] for ln in out.read_bytes().splitlines()[1:]]
    assert actions[-2:] == ["user.add", "policy.set"]
    assert cli("verify", str(out)).returncode == 0
