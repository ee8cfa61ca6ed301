"""`db update` failures: what the message says (kept / none created, --source for offline
mirrors) and the exit code (3 = the download failed, 2 = the input is wrong)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from containment.advisories.update import update
from containment.cli.main import app
from containment.model import DownloadError, FeedError

from .conftest import Mirror


def _closed_port() -> str:
    """A loopback URL nobody listens on (connection refused)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}"


def _run(*args: str) -> tuple[int, str]:
    r = CliRunner().invoke(app, ["db", "update", *args])
    return r.exit_code, r.stderr


@pytest.mark.parametrize("case", ["unreachable", "http500", "truncated", "badzip"])
def test_download_failure_without_a_database_exits_3(case: str, mirror: Mirror, tmp_path: Path) -> None:
    db = tmp_path / "db" / "a.db"
    url, ecos = mirror.url, ["PyPI"]
    if case == "unreachable":
        url = _closed_port()
    elif case == "http500":
        mirror.status["/PyPI/all.zip"] = 500
    elif case == "truncated":
        mirror.truncate.add("/PyPI/all.zip")
    else:
        p = mirror.root / "PyPI" / "all.zip"
        p.write_bytes(b"PK\x03\x04" + b"\0" * 60)
    with pytest.raises(DownloadError) as ei:
        update(db, url, ecos)
    msg = str(ei.value)
    assert msg.endswith("no advisory database was created"), msg
    assert "existing database" not in msg and "--source DIR|URL" in msg and "\n" not in msg
    assert not db.exists()

    code, err = _run("--db", str(db), "--source", url, "-e", "PyPI", "-q")
    assert code == 3, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("containment: error: "), err
    assert "--source DIR|URL" in lines[0] and "no advisory database was created" in lines[0]
    assert not db.exists()


def test_download_failure_with_a_database_says_it_was_kept(mirror: Mirror, tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    update(db, mirror.url, ["PyPI"])
    before = db.read_bytes()
    code, err = _run("--db", str(db), "--source", _closed_port(), "-e", "PyPI", "-q")
    assert code == 3
    assert err.rstrip().endswith("the existing database was kept") and "--source DIR|URL" in err
    assert db.read_bytes() == before


def test_wrong_input_is_exit_2(mirror: Mirror, tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    # no such ecosystem on the mirror (404): the -e or the --source is what to change
    code, err = _run("--db", str(db), "--source", mirror.url, "-e", "NoSuchEco", "-q")
    assert code == 2 and "404" in err and "-e" in err and "--source DIR|URL" in err
    assert err.rstrip().endswith("no advisory database was created")
    # a mirror directory that does not exist
    code, err = _run("--db", str(db), "--source", str(tmp_path / "nope"), "-e", "PyPI", "-q")
    assert code == 2 and "no such mirror directory" in err and "--source DIR|URL" in err
    assert not db.exists()


def test_plain_feed_error_is_not_a_download_error(tmp_path: Path) -> None:
    with pytest.raises(FeedError) as ei:
        update(tmp_path / "a.db", str(tmp_path / "nope"), ["PyPI"])
    assert not isinstance(ei.value, DownloadError)


def test_help_documents_exit_code_3() -> None:
    r = CliRunner().invoke(app, ["db", "update", "--help"])
    assert r.exit_code == 0 and "3" in r.stdout and "download failed" in r.stdout
    assert "--source" in r.stdout and "DIR|URL" in r.stdout
