"""The first scan with no advisory database downloads one (the ecosystems the target needs) from
$CONTAINMENT_DB_SOURCE (here a local HTTP mirror with OSV's layout); --skip-db-update and
CONTAINMENT_SKIP_DB_UPDATE prevent it; offline it is one line naming the mirror way, exit 3."""

from __future__ import annotations

import io
import json
import socket
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from containment.cli.firstrun import needed_ecosystems, open_store
from containment.cli.main import app
from containment.model import DownloadError, Inventory, OSInfo, Package

from .conftest import Mirror


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("CONTAINMENT_DB", raising=False)
    monkeypatch.delenv("CONTAINMENT_SKIP_DB_UPDATE", raising=False)
    d = tmp_path / "project"
    d.mkdir()
    (d / "requirements.txt").write_text("Django==3.2.12\n")
    return d


def _db(tmp_path: Path) -> Path:
    return tmp_path / "cache" / "db" / "advisories.db"  # the default: <cache dir>/db/advisories.db


def _zips(mirror: Mirror) -> list[str]:
    return [p for p, _ in mirror.requests if p.endswith("/all.zip")]


def test_first_scan_downloads_what_the_target_needs(
    project: Path, mirror: Mirror, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONTAINMENT_DB_SOURCE", mirror.url)
    r = CliRunner().invoke(app, ["scan", "fs", str(project), "-f", "json"])
    assert r.exit_code == 0, r.stderr
    assert [f["id"] for f in json.loads(r.stdout)["findings"]] == ["PYSEC-2024-1"]
    assert _zips(mirror) == ["/PyPI/all.zip"]  # PyPI only: the target has no Go module
    assert r.stderr == ""  # not a terminal: no notice, no progress
    assert _db(tmp_path).is_file()
    # the next scan downloads nothing
    r = CliRunner().invoke(app, ["scan", "fs", str(project), "-f", "json", "-q"])
    assert r.exit_code == 0 and _zips(mirror) == ["/PyPI/all.zip"] and r.stderr == ""


@pytest.mark.parametrize("how", ["flag", "env"])
def test_skip_db_update_prevents_the_download(
    how: str, project: Path, mirror: Mirror, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONTAINMENT_DB_SOURCE", mirror.url)
    args = ["scan", "fs", str(project)]
    if how == "flag":
        args.append("--skip-db-update")
    else:
        monkeypatch.setenv("CONTAINMENT_SKIP_DB_UPDATE", "1")
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 2 and "no advisory database" in r.stderr and "containment db update" in r.stderr
    assert mirror.requests == [] and not _db(tmp_path).exists()


def test_offline_first_scan_is_one_line_and_exit_3(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nobody listens there: connection refused, as offline
    monkeypatch.setenv("CONTAINMENT_DB_SOURCE", f"http://127.0.0.1:{port}")
    r = CliRunner().invoke(app, ["scan", "fs", str(project)])
    assert r.exit_code == 3 and r.stdout == ""
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("containment: error: no advisory database yet"), r.stderr
    assert "containment db update --source DIR|URL" in lines[0] and "CONTAINMENT_DB_SOURCE" in lines[0]
    assert "--skip-db-update" in lines[0] and "ConnectError" in lines[0]
    assert not _db(tmp_path).exists() and not list((tmp_path / "cache" / "db").glob(".*"))


def test_progress_is_drawn_on_a_terminal_only(
    project: Path, mirror: Mirror, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONTAINMENT_DB_SOURCE", mirror.url)

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    inv = Inventory(
        "t", "filesystem", None, (Package("Django", "3.2.12", "pypi", "pkg:pypi/django@3.2.12", "r", "t"),)
    )
    err = Tty()
    monkeypatch.setattr(sys, "stderr", err)
    open_store(str(tmp_path / "a.db"), inv, quiet=False, skip=False).close()
    assert "download PyPI" in err.getvalue() and "importing" in err.getvalue()
    assert err.getvalue().startswith(
        f"containment: no advisory database at {tmp_path / 'a.db'}: downloading PyPI from {mirror.url} "
        "(once; `containment db update` refreshes it, --skip-db-update skips this)\n"
    )
    plain = io.StringIO()
    monkeypatch.setattr(sys, "stderr", plain)
    open_store(str(tmp_path / "b.db"), inv, quiet=False, skip=False).close()
    assert plain.getvalue() == ""
    quiet = io.StringIO()
    monkeypatch.setattr(sys, "stderr", quiet)
    open_store(str(tmp_path / "c.db"), inv, quiet=True, skip=False).close()
    assert quiet.getvalue() == ""


def test_what_is_needed_and_nothing_when_nothing_is(
    tmp_path: Path, mirror: Mirror, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONTAINMENT_DB_SOURCE", mirror.url)
    deb = Package(
        "libssl3", "3.0.7-1", "deb", "pkg:deb/debian/libssl3@3.0.7-1", "s", "dpkg", source_name="openssl"
    )
    go = Package("stdlib", "go1.21.0", "golang", "pkg:golang/stdlib@1.21.0", "b", "go")
    brew = Package("wget", "1.0", "brew", "pkg:brew/wget@1.0", "c", "brew")  # no OSV feed
    assert needed_ecosystems(Inventory("t", "image", OSInfo("debian", "12"), (deb, go, brew))) == [
        "Debian",
        "Go",
    ]
    store = open_store(
        str(tmp_path / "a.db"), Inventory("t", "image", None, (brew,)), quiet=False, skip=False
    )
    assert store.affected("Homebrew", "wget") == [] and store.summary() == {}
    assert mirror.requests == [] and not (tmp_path / "a.db").exists()


def test_a_failed_first_download_is_a_download_error(
    tmp_path: Path, mirror: Mirror, monkeypatch: pytest.MonkeyPatch
) -> None:
    mirror.status["/PyPI/all.zip"] = 503
    monkeypatch.setenv("CONTAINMENT_DB_SOURCE", mirror.url)
    inv = Inventory(
        "t", "filesystem", None, (Package("Django", "3.2.12", "pypi", "pkg:pypi/django@3.2.12", "r", "t"),)
    )
    with pytest.raises(DownloadError, match="HTTP 503"):
        open_store(str(tmp_path / "a.db"), inv, quiet=True, skip=False)


def test_scan_help_names_the_flag_and_exit_code_3() -> None:
    for cmd in ("image", "fs"):
        r = CliRunner().invoke(app, ["scan", cmd, "--help"])
        assert (
            r.exit_code == 0
            and "--skip-db-update" in r.stdout
            and "exit" in r.stdout
            and "code 3" in r.stdout
        )
