"""Permission denied (and a directory where a file belongs) are ordinary conditions, not bugs.

Through the real command line: an input (archive, OCI layout, rootfs, advisory database, ignore
file, feed) or an output (-o, --db, --workdir, the cache) that cannot be read or written gives
ONE line naming the file and saying what to do, exit 2; never "internal error ... report it",
never a traceback. (A package database inside a rootfs that cannot be read is a warning and an
incomplete result instead: tests/unit/test_incomplete.py.)

The tests run as root, for whom permission bits mean nothing: the command runs without the
capabilities that override them (tests/privileges.py), so mode 000 denies it as any user.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from containment.image.build import ImageSpec, write_docker_archive, write_oci
from tests.conftest import base_layer
from tests.privileges import unprivileged, why_not
from tests.unit.test_hostile_cli import assert_one_error_line

_why_not = why_not()
pytestmark = pytest.mark.skipif(_why_not is not None, reason=_why_not or "")


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "containment", *args],
        capture_output=True,
        encoding="utf-8",
        cwd=cwd,
        timeout=120,
        preexec_fn=unprivileged,
    )


def _db(path: Path) -> Path:
    """A small advisory database (built with full privileges)."""
    import json
    import zipfile

    z = path.with_suffix(".zip")
    with zipfile.ZipFile(z, "w") as f:
        f.writestr(
            "GHSA-1.json",
            json.dumps(
                {
                    "id": "GHSA-1",
                    "modified": "2024-01-01T00:00:00Z",
                    "affected": [
                        {
                            "package": {"ecosystem": "Debian:12", "name": "bash"},
                            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}],
                        }
                    ],
                }
            ),
        )
    r = subprocess.run(
        [sys.executable, "-m", "containment", "db", "import", str(z), "--db", str(path), "-q"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    return path


@dataclass
class Case:
    args: list[str]
    names: list[str]  # what the line must name


def _oci(t: Path) -> Path:
    root = t / "img"
    write_oci(str(root), ImageSpec(layers=[base_layer()]))
    return root


def _archive_unreadable(t: Path) -> Case:
    a = t / "img.tar"
    write_docker_archive(str(a), ImageSpec(layers=[base_layer()]))
    a.chmod(0)
    return Case(["sbom", f"docker-archive:{a}"], [str(a)])


def _archive_in_unreadable_dir(t: Path) -> Case:
    (t / "private").mkdir()
    a = t / "private" / "img.tar"
    write_docker_archive(str(a), ImageSpec(layers=[base_layer()]))
    (t / "private").chmod(0)
    return Case(["sbom", f"docker-archive:{a}"], [str(a)])


def _oci_dir_unreadable(t: Path) -> Case:
    root = _oci(t)
    root.chmod(0)
    return Case(["sbom", f"oci:{root}"], [str(root)])


def _oci_blob_unreadable(t: Path) -> Case:
    root = _oci(t)
    for b in (root / "blobs" / "sha256").iterdir():
        b.chmod(0)
    return Case(["sbom", f"oci:{root}"], [str(root / "blobs" / "sha256")])


def _oci_index_is_a_directory(t: Path) -> Case:
    root = _oci(t)
    (root / "index.json").unlink()
    (root / "index.json").mkdir()
    return Case(["sbom", f"oci:{root}"], [str(root / "index.json")])


def _rootfs_unreadable(t: Path) -> Case:
    root = t / "rootfs"
    (root / "etc").mkdir(parents=True)
    root.chmod(0)
    return Case(["sbom", f"dir:{root}"], [str(root)])


def _rootfs_in_unreadable_dir(t: Path) -> Case:
    (t / "private" / "rootfs").mkdir(parents=True)
    (t / "private").chmod(0)
    return Case(["inventory", f"dir:{t / 'private' / 'rootfs'}"], [str(t / "private" / "rootfs")])


def _scan_fs_unreadable(t: Path) -> Case:
    (t / "src").mkdir()
    (t / "src").chmod(0)
    return Case(["scan", "fs", str(t / "src"), "--db", str(_db(t / "a.db"))], [str(t / "src")])


def _output_in_read_only_dir(t: Path) -> Case:
    root = _oci(t)
    (t / "out").mkdir()
    (t / "out").chmod(0o555)
    return Case(["sbom", f"oci:{root}", "-o", str(t / "out" / "sbom.json")], [str(t / "out" / "sbom.json")])


def _output_under_a_file(t: Path) -> Case:
    root = _oci(t)
    (t / "file").write_text("x")
    return Case(["sbom", f"oci:{root}", "-o", str(t / "file" / "sbom.json")], [str(t / "file" / "sbom.json")])


def _db_unreadable(t: Path) -> Case:
    root = _oci(t)
    db = _db(t / "a.db")
    db.chmod(0)
    return Case(["scan", "image", f"oci:{root}", "--db", str(db)], [str(db)])


def _db_import_into_read_only_dir(t: Path) -> Case:
    (t / "ro").mkdir()
    (t / "ro").chmod(0o555)
    feed = _db(t / "a.db").with_suffix(".zip")
    return Case(["db", "import", str(feed), "--db", str(t / "ro" / "new.db")], [str(t / "ro")])


def _db_import_unreadable_feed_dir(t: Path) -> Case:
    feed = _db(t / "a.db").with_suffix(".zip")
    (t / "feeds" / "sub").mkdir(parents=True)
    os.replace(feed, t / "feeds" / "sub" / "all.zip")
    (t / "feeds" / "sub").chmod(0)
    return Case(["db", "import", str(t / "feeds"), "--db", str(t / "new.db")], [str(t / "feeds" / "sub")])


def _db_import_unreadable_feed_file(t: Path) -> Case:
    (t / "GHSA-x.json").write_text("{}")
    (t / "GHSA-x.json").chmod(0)
    return Case(["db", "import", str(t / "GHSA-x.json"), "--db", str(t / "new.db")], [str(t / "GHSA-x.json")])


def _ignorefile_unreadable(t: Path) -> Case:
    root = _oci(t)
    (t / "ignore.yaml").write_text("vulnerabilities: []\n")
    (t / "ignore.yaml").chmod(0)
    db = _db(t / "a.db")
    return Case(
        ["scan", "image", f"oci:{root}", "--db", str(db), "--ignorefile", str(t / "ignore.yaml")],
        [str(t / "ignore.yaml")],
    )


def _demo_workdir_read_only(t: Path) -> Case:
    (t / "ro").mkdir()
    (t / "ro").chmod(0o555)
    return Case(["demo", "--workdir", str(t / "ro" / "demo")], [str(t / "ro" / "demo")])


def _cache_clean_read_only(t: Path) -> Case:
    layers = Path(os.environ["CONTAINMENT_CACHE_DIR"]) / "layers"
    (layers / "k" / "ab").mkdir(parents=True)
    (layers / "k" / "ab" / "x.json.gz").write_bytes(b"")
    (layers / "k").chmod(0o555)
    return Case(["cache", "clean"], [str(layers)])


CASES: dict[str, Callable[[Path], Case]] = {
    f.__name__.lstrip("_"): f
    for f in [
        _archive_unreadable,
        _archive_in_unreadable_dir,
        _oci_dir_unreadable,
        _oci_blob_unreadable,
        _oci_index_is_a_directory,
        _rootfs_unreadable,
        _rootfs_in_unreadable_dir,
        _scan_fs_unreadable,
        _output_in_read_only_dir,
        _output_under_a_file,
        _db_unreadable,
        _db_import_into_read_only_dir,
        _db_import_unreadable_feed_dir,
        _db_import_unreadable_feed_file,
        _ignorefile_unreadable,
        _demo_workdir_read_only,
        _cache_clean_read_only,
    ]
}


@pytest.fixture
def restore_modes(tmp_path):
    """chmod everything back so pytest can remove the tree."""
    yield
    for dirpath, dirnames, filenames in os.walk(tmp_path):
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            if not os.path.islink(p):
                os.chmod(p, 0o755)
    cache = Path(os.environ["CONTAINMENT_CACHE_DIR"])
    if cache.exists():
        for dirpath, dirnames, _ in os.walk(cache):
            for n in dirnames:
                os.chmod(os.path.join(dirpath, n), 0o755)


@pytest.mark.parametrize("case", sorted(CASES))
def test_permission_problems_are_one_line_naming_the_file_exit_2(case, tmp_path, restore_modes):
    work = tmp_path / "work"
    work.mkdir()
    c = CASES[case](tmp_path)
    assert_one_error_line(cli(*c.args, cwd=work), c.names)
