"""What reaches the user: names that are not UTF-8 survive into every format (escaped one
way, containment.escape), and -o writes where the user means without leaving anything behind
(special files written in place, regular files replaced atomically with their mode kept)."""

from __future__ import annotations

import errno
import json
import os
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import typer

from containment.cli import common
from containment.cli.common import write_output
from containment.image.build import ImageSpec, TarEntry, layer_tar, write_oci
from tests.conftest import base_layer

BAD = b"\xff\xfe".decode("utf-8", "surrogateescape")  # what the tar reader makes of b"\xff\xfe"
PY_DIR = f"usr/lib/python3/site-packages/evil{BAD}-1.0.dist-info"
NODE_DIR = f"app/node_modules/left{BAD}pad"
PY_PATH_OUT = "usr/lib/python3/site-packages/evil%FF%FE-1.0.dist-info/METADATA"
NODE_PATH_OUT = "app/node_modules/left%FF%FEpad/package.json"


def cli(*args: str, cwd: Path, **kw) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "containment", *args], capture_output=True, cwd=cwd, timeout=120, **kw
    )


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> tuple[Path, Path]:
    """An image whose package paths hold bytes that are not UTF-8 (legal in tar and on Linux),
    a package.json naming its package with a lone surrogate, a history line with a terminal
    escape and rich markup, and an advisory DB that matches two of its packages."""
    from containment.advisories.importer import import_paths

    root = tmp_path_factory.mktemp("hostile")
    meta = b"Metadata-Version: 2.1\nName: evil\nVersion: 1.0\nLicense: MIT \xff\n"
    layer = layer_tar(
        [
            TarEntry(f"{PY_DIR}/METADATA", meta),
            TarEntry(
                f"{NODE_DIR}/package.json", b'{"name":"left-pad","version":"1.3.0","license":"MIT\\udcff"}'
            ),
            TarEntry("app/node_modules/odd/package.json", b'{"name":"odd\\ud800name","version":"1.0.0"}'),
        ]
    )
    write_oci(
        str(root / "img"),
        ImageSpec(layers=[base_layer(), layer], history=["ADD rootfs", f"RUN x # \x1b[31m [/] {BAD}"]),
    )
    feed = root / "feed.json"
    events = [{"introduced": "0"}, {"fixed": "2.0.0"}]
    feed.write_text(
        json.dumps(
            {
                "id": "PYSEC-2099-1",
                "modified": "2024-01-01T00:00:00Z",
                "summary": "evil is evil",
                "affected": [
                    {
                        "package": {"ecosystem": "PyPI", "name": "evil"},
                        "ranges": [{"type": "ECOSYSTEM", "events": events}],
                    },
                    {
                        "package": {"ecosystem": "npm", "name": "left-pad"},
                        "ranges": [{"type": "SEMVER", "events": events}],
                    },
                ],
            }
        )
    )
    import_paths([feed], root / "a.db")
    return root / "img", root / "a.db"


def _validate(kind: str, doc: dict) -> None:
    if kind == "cyclonedx":
        from cyclonedx.schema import SchemaVersion
        from cyclonedx.validation.json import JsonStrictValidator

        err = JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(doc))
        assert err is None, err
    elif kind == "spdx":
        from spdx_tools.spdx.parser.jsonlikedict.json_like_dict_parser import JsonLikeDictParser
        from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

        problems = validate_full_spdx_document(JsonLikeDictParser().parse(doc))
        assert problems == [], [p.validation_message for p in problems]
    elif kind == "scan-json":
        import jsonschema

        from containment.report.findings_json import schema_path

        jsonschema.Draft202012Validator(json.loads(schema_path().read_text())).validate(doc)
    elif kind == "sarif":
        import jsonschema

        from tests.unit.report.test_vuln_reports import sarif_schema

        jsonschema.Draft4Validator(sarif_schema()).validate(doc)


FORMATS = [
    (["sbom", "-f", "cyclonedx"], "cyclonedx", [PY_PATH_OUT, NODE_PATH_OUT, "odd%ED%A0%80name"]),
    (["sbom", "-f", "spdx"], "spdx", [PY_PATH_OUT, NODE_PATH_OUT, "odd%ED%A0%80name"]),
    (["sbom", "-f", "json"], "json", [PY_PATH_OUT, NODE_PATH_OUT, "[/] %FF%FE"]),
    (["inventory", "-f", "json"], "json", [PY_PATH_OUT, NODE_PATH_OUT, "odd%ED%A0%80name"]),
    (
        ["inventory", "-f", "table"],
        "table",
        [PY_PATH_OUT, NODE_PATH_OUT, "odd%ED%A0%80name", "%1B[31m [/] %FF%FE"],
    ),
    (["scan", "image", "-f", "json"], "scan-json", [PY_PATH_OUT, NODE_PATH_OUT]),
    (["scan", "image", "-f", "sarif"], "sarif", [PY_PATH_OUT, NODE_PATH_OUT]),
    (["scan", "image", "-f", "cyclonedx"], "cyclonedx", [PY_PATH_OUT, NODE_PATH_OUT]),
    (["scan", "image", "-f", "table"], "table", ["evil", "left-pad", "PYSEC-2099-1"]),
]


@pytest.mark.parametrize(("args", "kind", "expect"), FORMATS, ids=[" ".join(a) for a, _, _ in FORMATS])
def test_names_that_are_not_utf8_survive_every_format(hostile, tmp_path, args, kind, expect):
    img, db = hostile
    extra = ["--db", str(db)] if args[0] == "scan" else []
    work = tmp_path / "work"
    work.mkdir()
    r = cli(*args, f"oci:{img}", *extra, "-o", "out", cwd=work)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    assert b"error" not in r.stderr, r.stderr
    assert sorted(p.name for p in work.iterdir()) == ["out"]  # no temp file left
    text = (work / "out").read_bytes().decode("utf-8")  # strict: valid UTF-8
    assert "\x1b" not in text  # a name cannot recolour a terminal
    for e in expect:
        assert e in text, e
    if kind != "table":
        _validate(kind, json.loads(text))
    if kind == "sarif":
        uris = {
            loc["physicalLocation"]["artifactLocation"]["uri"]
            for res in json.loads(text)["runs"][0]["results"]
            for loc in res["locations"]
        }
        assert uris == {PY_PATH_OUT, NODE_PATH_OUT}  # the raw bytes, percent-encoded as URIs do


def test_stdout_carries_the_same_escaping(hostile, tmp_path):
    img, _ = hostile
    r = cli("sbom", f"oci:{img}", "-f", "json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout.decode("utf-8"))
    assert {p["path"] for p in doc["packages"]} >= {PY_PATH_OUT, NODE_PATH_OUT}


def test_purl_decodes_to_the_name_the_sbom_shows(hostile, tmp_path):
    from packageurl import PackageURL

    img, _ = hostile
    r = cli("sbom", f"oci:{img}", "-f", "cyclonedx", cwd=tmp_path)
    comps = {c["name"]: c for c in json.loads(r.stdout)["components"]}
    odd = comps["odd%ED%A0%80name"]
    assert PackageURL.from_string(odd["purl"]).name == odd["name"].lower()  # npm names are lower-case


def test_a_broken_pipe_ends_quietly(tmp_path):
    """`containment sbom ... | head -c 10`: no traceback, no 'internal error', exit 141 (as a
    tool ended by SIGPIPE), not 0 with the report silently cut short."""
    many = [(f"pkg{i:05d}", f"1.{i}-1") for i in range(4000)]  # an SBOM of a few MB
    root = tmp_path / "big"
    write_oci(str(root), ImageSpec(layers=[base_layer(*many)]))
    for fmt in ("json", "cyclonedx"):
        p = subprocess.Popen(
            [sys.executable, "-m", "containment", "sbom", f"oci:{root}", "-f", fmt],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=tmp_path,
        )
        assert p.stdout is not None and p.stderr is not None
        assert len(p.stdout.read(10)) == 10
        p.stdout.close()  # what `head -c 10` does
        err = p.stderr.read()
        assert p.wait(timeout=120) == common.EXIT_BROKEN_PIPE  # noticed, not "done" with a cut report
        assert err == b"", err


# ------------------------------------------------------------------------------- write_output


def _leftovers(d: Path) -> list[str]:
    return [p.name for p in d.iterdir() if p.name.startswith(".containment-")]


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o077])
def test_new_file_gets_the_umask_mode(tmp_path, mask):
    old = os.umask(mask)
    try:
        write_output("{}", str(tmp_path / "new.json"))
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "new.json").st_mode) == 0o666 & ~mask
    assert (tmp_path / "new.json").read_text() == "{}\n"


def test_existing_file_keeps_its_mode_and_symlinks_stay_links(tmp_path):
    f = tmp_path / "report.json"
    f.write_text("old")
    f.chmod(0o640)
    link = tmp_path / "latest.json"
    link.symlink_to("report.json")
    write_output("new", str(link))
    assert link.is_symlink() and os.readlink(link) == "report.json"
    assert f.read_text() == "new\n"
    assert stat.S_IMODE(f.stat().st_mode) == 0o640
    assert _leftovers(tmp_path) == []


def test_hard_linked_file_is_written_in_place(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text("old")
    os.link(a, b)
    write_output("new", str(a))
    assert b.read_text() == "new\n" and a.stat().st_ino == b.stat().st_ino


def test_fifo_is_written_in_place(tmp_path):
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    try:
        write_output("through the fifo", str(fifo))
        reader.join(timeout=30)
    finally:
        if reader.is_alive():  # nothing was written to the FIFO: release the blocked reader
            with open(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK), "wb"):
                pass
            reader.join(timeout=5)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert got == [b"through the fifo\n"]
    assert _leftovers(tmp_path) == []


def test_dev_null_stays_a_device():
    """As root, the old temp-and-rename replaced the machine's /dev/null with a 0600 file."""
    if os.geteuid() != 0:
        pytest.skip("only root could replace /dev/null; as anyone else the rename fails harmlessly")
    before = os.stat("/dev/null")
    try:
        write_output("discard me", "/dev/null")
        after = os.stat("/dev/null")
        assert (
            stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev and after.st_ino == before.st_ino
        )
        assert stat.S_IMODE(after.st_mode) == stat.S_IMODE(before.st_mode)
        assert _leftovers(Path("/dev")) == []
    finally:
        if not stat.S_ISCHR(os.stat("/dev/null").st_mode):  # repair the machine if we broke it
            os.unlink("/dev/null")
            os.mknod("/dev/null", 0o666 | stat.S_IFCHR, before.st_rdev)
            os.chmod("/dev/null", 0o666)


def test_descriptor_paths_write_to_the_descriptor(tmp_path):
    r, w = os.pipe()
    try:
        for path in (f"/dev/fd/{w}", f"/proc/self/fd/{w}"):
            write_output(path, path)
            assert os.read(r, 1000) == path.encode() + b"\n"
    finally:
        os.close(r)
        os.close(w)


@pytest.mark.parametrize("target", ["-", "/dev/stdout", "/proc/self/fd/1"])
def test_stdout_aliases_append_to_redirected_stdout(tmp_path, target):
    """`-o /dev/stdout >> log` must append to log, not truncate it (or rename over it)."""
    log = tmp_path / "log"
    log.write_text("earlier\n")
    code = f"from containment.cli.common import write_output; write_output('report', {target!r})"
    with open(log, "a") as out:
        subprocess.run([sys.executable, "-c", code], stdout=out, check=True, timeout=60)
    assert log.read_text() == "earlier\nreport\n"
    assert stat.S_ISREG(os.lstat(log).st_mode)


@pytest.mark.parametrize("boom", [KeyboardInterrupt, BrokenPipeError, "ENOSPC", "SIGTERM"])
def test_no_exit_path_leaves_a_temp_file(tmp_path, monkeypatch, boom):
    f = tmp_path / "report.json"
    f.write_text("previous report")

    def fail(fd: int, data: bytes) -> None:
        if boom == "ENOSPC":
            raise OSError(errno.ENOSPC, "No space left on device")
        if boom == "SIGTERM":
            os.kill(os.getpid(), signal.SIGTERM)
        raise boom  # type: ignore[misc]

    monkeypatch.setattr(common, "_write_all", fail)
    handler = signal.getsignal(signal.SIGTERM)
    with pytest.raises((KeyboardInterrupt, typer.Exit, SystemExit)) as e:
        write_output("new report", str(f))
    if boom == "ENOSPC":
        assert e.value.exit_code == common.EXIT_BAD_INPUT  # type: ignore[union-attr]
    if boom is BrokenPipeError:
        assert e.value.exit_code == common.EXIT_BROKEN_PIPE  # type: ignore[union-attr]
    if boom == "SIGTERM":
        assert e.value.code == 128 + signal.SIGTERM  # type: ignore[union-attr]
    assert signal.getsignal(signal.SIGTERM) == handler
    assert f.read_text() == "previous report"
    assert _leftovers(tmp_path) == []


def test_text_that_cannot_be_utf8_is_escaped_not_fatal(tmp_path):
    write_output(f"a{BAD}b\ud800", str(tmp_path / "x"))
    assert (tmp_path / "x").read_bytes() == b"a%FF%FEb%ED%A0%80\n"


def test_directory_and_block_device_are_refused(tmp_path, capsys, monkeypatch):
    with pytest.raises(typer.Exit) as e:
        write_output("x", str(tmp_path))
    assert e.value.exit_code == common.EXIT_BAD_INPUT
    assert f"{tmp_path}: is a directory" in capsys.readouterr().err
    # a block device, faked: never point a test that may be wrong at a real disk
    disk = tmp_path / "disk"
    disk.write_text("partition table")
    real_stat = os.stat

    def fake_stat(path, *a, **kw):
        st = real_stat(path, *a, **kw)
        if str(path) == str(disk):
            return os.stat_result((stat.S_IFBLK | 0o660, *tuple(st)[1:]))
        return st

    monkeypatch.setattr(common.os, "stat", fake_stat)
    with pytest.raises(typer.Exit):
        write_output("x", str(disk))
    assert "block device" in capsys.readouterr().err
    assert disk.read_text() == "partition table"


def test_warnings_naming_hostile_paths_stay_one_safe_line(tmp_path):
    evil_dir = f"app/node_modules/x\x1b[2J\n{BAD}"
    layer = layer_tar([TarEntry(f"{evil_dir}/package.json", b"{not json")])
    write_oci(str(tmp_path / "img"), ImageSpec(layers=[base_layer(), layer]))
    r = cli("inventory", f"oci:{tmp_path}/img", "-f", "json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    err = r.stderr.decode("utf-8")
    warnings = [line for line in err.splitlines() if "package.json" in line]
    assert len(warnings) == 1, err
    assert warnings[0].startswith("containment: warning: ")
    assert "x%1B[2J %FF%FE/package.json" in warnings[0]
    assert "\x1b" not in err


def test_non_blocking_stdout_gets_the_whole_report(tmp_path):
    """A stdout inherited in O_NONBLOCK mode (some CI runners, node parents): EAGAIN is waited out."""
    import fcntl

    many = [(f"pkg{i:05d}", f"1.{i}-1") for i in range(2000)]
    write_oci(str(tmp_path / "big"), ImageSpec(layers=[base_layer(*many)]))
    r, w = os.pipe()
    fcntl.fcntl(w, fcntl.F_SETFL, fcntl.fcntl(w, fcntl.F_GETFL) | os.O_NONBLOCK)
    p = subprocess.Popen(
        [sys.executable, "-m", "containment", "sbom", f"oci:{tmp_path}/big", "-f", "json"],
        stdout=w,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    os.close(w)
    chunks = []
    while chunk := os.read(r, 1 << 16):
        chunks.append(chunk)
    os.close(r)
    assert p.wait(timeout=120) == 0, p.stderr.read() if p.stderr else ""
    assert len(json.loads(b"".join(chunks))["packages"]) == 2000
