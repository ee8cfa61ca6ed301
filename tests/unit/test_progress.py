"""Progress on stderr: drawn on a terminal while layers and directories are read, never on
stdout, and nothing at all when stderr is piped or with --quiet."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from containment.cache import LayerCache
from containment.catalog import dpkg, python
from containment.cli.common import progress_printer
from containment.image.build import TarEntry, layer_tar
from containment.layers import Analyzer, scan_target
from containment.model import ImageError
from containment.progress import Progress
from tests.conftest import base_layer
from tests.unit.ux_helpers import cli, cli_on_tty, osv_db, pypi_advisory

MARK = "package record"  # the counts beside the bar; nothing else prints these words


def _app_layer() -> bytes:
    meta = b"Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\n"
    return layer_tar([TarEntry("usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA", meta)])


@pytest.fixture
def image(make_oci) -> str:
    return "oci:" + make_oci(
        [base_layer(), _app_layer()], history=["debootstrap", "RUN pip install requests"]
    )


# ------------------------------------------------------------------- as the user sees it


def test_progress_on_a_terminal_goes_to_stderr_never_stdout(image, tmp_path):
    r = cli_on_tty("inventory", image, "--format", "json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert MARK in r.stderr and "2/2 layers" in r.stderr
    assert "\x1b[?25h" in r.stderr  # the cursor is shown again at the end
    assert MARK not in r.stdout and "\x1b" not in r.stdout
    assert {p["name"] for p in json.loads(r.stdout)["packages"]} >= {"bash", "requests"}


def test_no_progress_when_piped_or_quiet(image, tmp_path):
    piped = cli("inventory", image, "--format", "json", cwd=tmp_path)
    assert piped.returncode == 0
    assert piped.stderr == ""
    quiet = cli_on_tty("inventory", image, "--format", "json", "--quiet", cwd=tmp_path)
    assert quiet.returncode == 0
    assert MARK not in quiet.stderr and "\x1b" not in quiet.stderr


def test_warm_cache_draws_nothing(image, tmp_path):
    """Every layer cached: nothing to wait for, so no display flashes by."""
    assert cli("inventory", image, "--format", "json", cwd=tmp_path).returncode == 0
    again = cli_on_tty("inventory", image, "--format", "json", cwd=tmp_path)
    assert again.returncode == 0 and MARK not in again.stderr


def test_scan_fs_shows_files_walked(tmp_path):
    tree = tmp_path / "src"
    (tree / "deep" / "er").mkdir(parents=True)
    for i in range(30):
        (tree / "deep" / "er" / f"f{i}.txt").write_text("x")
    (tree / "requirements.txt").write_text("requests==2.31.0\n")
    db = osv_db(tmp_path, pypi_advisory("PYSEC-2024-1", "requests", "2.32.0"))
    r = cli_on_tty("scan", "fs", str(tree), "--db", str(db), "--format", "json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert MARK in r.stderr and "33 files" in r.stderr  # 30 files, their 2 directories, the lockfile
    assert MARK not in r.stdout
    assert [f["id"] for f in json.loads(r.stdout)["findings"]] == ["PYSEC-2024-1"]


def test_rich_progress_is_not_imported_when_stderr_is_no_terminal(image, tmp_path):
    code = (
        "import sys\n"
        "from containment.cli.main import app\n"
        f"sys.argv = ['containment', 'inventory', {image!r}, '--format', 'json', '-o', {str(tmp_path / 'o.json')!r}]\n"
        "try:\n    app()\nexcept SystemExit:\n    pass\n"
        "print('rich.progress' in sys.modules, 'rich.live' in sys.modules)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.stdout.split() == ["False", "False"], r.stderr


# ------------------------------------------------------------------- the factory's switch


class _TTY:
    def isatty(self) -> bool:
        return True

    def write(self, s: str) -> int:
        return len(s)

    def flush(self) -> None:
        pass


def test_factory_honours_its_switches(monkeypatch):
    monkeypatch.setattr(sys, "stderr", _TTY())
    assert progress_printer(False).shown
    assert not progress_printer(True).shown  # --quiet
    assert not progress_printer(False, enabled=False).shown  # --no-progress
    monkeypatch.setattr(sys, "stderr", open(__file__))  # noqa: SIM115 - a file is no terminal
    try:
        assert not progress_printer(False).shown
    finally:
        sys.stderr.close()


# ------------------------------------------------------------------- what the pipeline reports


class Recorder(Progress):
    shown = True

    def __init__(self) -> None:
        self.starts: list[tuple[str, dict[str, int]]] = []
        self.totals = {"read": 0, "files": 0, "packages": 0, "layers": 0}
        self.stops = 0

    def start(self, what: str, **kw: int) -> None:  # type: ignore[override]
        self.starts.append((what, kw))

    def advance(self, **kw: int) -> None:  # type: ignore[override]
        for k, v in kw.items():
            self.totals[k] += v

    def stop(self) -> None:
        self.stops += 1


def _analyzer(progress: Progress, cache: bool = False) -> Analyzer:
    return Analyzer(
        catalogers=dpkg.CATALOGERS + python.CATALOGERS,
        cache=LayerCache(enabled=cache),
        progress=progress,
        workers=1,
    )


def test_image_progress_counts_layers_bytes_files_packages(make_oci, tmp_path):
    layers = [base_layer(), _app_layer()]
    root = make_oci(layers, compression="none")
    rec = Recorder()
    inv = scan_target(f"oci:{root}", _analyzer(rec))
    assert rec.starts == [(f"oci:{root}", {"layers": 2, "total_bytes": sum(map(len, layers)), "cached": 0})]
    assert rec.totals["read"] == sum(map(len, layers))
    assert rec.totals["layers"] == 2
    assert rec.totals["files"] == 5  # etc/, os-release, its link, dpkg status; the METADATA
    assert rec.totals["packages"] == len(inv.packages) == 3
    assert rec.stops == 1


def test_dir_progress_counts_bytes_of_files_walked(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one").write_bytes(b"x" * 1000)
    (tmp_path / "two").write_bytes(b"y" * 234)
    rec = Recorder()
    _analyzer(rec).inventory_dir(str(tmp_path), "dir:x")
    assert rec.starts == [("dir:x", {})]
    assert rec.totals["files"] == 3 and rec.totals["read"] == 1234
    assert rec.stops == 1


def test_progress_stops_when_a_layer_fails(make_oci):
    root = Path(make_oci([b"not a tar at all" * 64], compression="none"))
    rec = Recorder()
    with pytest.raises(ImageError):
        scan_target(f"oci:{root}", _analyzer(rec))
    assert len(rec.starts) == 1 and rec.stops == 1  # the terminal gets its cursor back


def test_counted_reads_only_when_progress_is_shown(make_oci):
    """Without a display the blob is read as before (no wrapper in the hot path)."""
    root = make_oci([base_layer()])
    plain = Progress()
    inv = scan_target(f"oci:{root}", _analyzer(plain))
    assert len(inv.packages) == 2
