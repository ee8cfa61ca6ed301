"""Hostile and broken inputs through the real command line (`python -m containment`).

The project's rule for bad input: ONE line on stderr that names the input (image reference,
layer digest or file) and says what to do, exit code 2, no traceback, no "internal error", and
nothing left behind (no temp file, no half output)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from containment.image.build import ImageSpec, write_docker_archive, write_oci
from tests.conftest import base_layer

DEEP_LIST = b"[" * 100_000 + b"]" * 100_000
DEEP_OBJECT = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
EMPTY_SHA = hashlib.sha256(b"").hexdigest()
FIX_WORDS = (
    "re-pull",
    "re-export",
    "re-push",
    "rebuild",
    "give",
    "use ",
    "check",
    "choose",
    "retry",
    "run ",
    "try ",
    "looks like",  # an example of the expected form
    "download",
)


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "containment", *args],
        capture_output=True,
        encoding="utf-8",  # strict: the error line must be valid UTF-8 whatever the input held
        cwd=cwd,
        timeout=120,
    )


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


# ----------------------------------------------------------------------------- image surgery


class Layout:
    """An OCI layout on disk whose index, manifest and config can be rewritten consistently."""

    def __init__(self, root: Path, compression: str = "gzip", layers: list[bytes] | None = None) -> None:
        self.root = root
        write_oci(str(root), ImageSpec(layers=layers or [base_layer()]), compression=compression)

    @property
    def ref(self) -> str:
        return f"oci:{self.root}"

    def blob(self, digest: str) -> Path:
        return self.root / "blobs" / "sha256" / digest.split(":")[1]

    def put(self, data: bytes) -> str:
        d = sha(data)
        self.blob(d).write_bytes(data)
        return d

    @property
    def index(self) -> dict:
        return json.loads((self.root / "index.json").read_text())

    @property
    def manifest(self) -> dict:
        return json.loads(self.blob(self.index["manifests"][0]["digest"]).read_bytes())

    @property
    def layer_digest(self) -> str:
        return self.manifest["layers"][0]["digest"]

    def set_manifest(self, m: dict, size_delta: int = 0) -> str:
        data = json.dumps(m).encode()
        idx = self.index
        idx["manifests"][0].update(digest=self.put(data), size=len(data) + size_delta)
        (self.root / "index.json").write_text(json.dumps(idx))
        return idx["manifests"][0]["digest"]

    def set_config(self, data: bytes, size_delta: int = 0) -> str:
        m = self.manifest
        m["config"].update(digest=self.put(data), size=len(data) + size_delta)
        self.set_manifest(m)
        return m["config"]["digest"]

    def mangle_layer(self, fn: Callable[[bytes], bytes]) -> str:
        """Rewrite the layer blob in place (its digest no longer matches: a corrupt download)."""
        p = self.blob(self.layer_digest)
        p.write_bytes(fn(p.read_bytes()))
        return self.layer_digest


def flip(start: int, end: int) -> Callable[[bytes], bytes]:
    def f(data: bytes) -> bytes:
        b = bytearray(data)
        for i in range(start, min(end, len(b))):
            b[i] ^= 0x55
        return bytes(b)

    return f


def docker25(path: Path, layer_size_delta: int = 0) -> str:
    """A `docker save` archive as Docker 25+ writes it: an OCI layout plus manifest.json."""
    layer = base_layer()
    cfg = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "rootfs": {"type": "layers", "diff_ids": [sha(layer)]},
            "history": [{"created_by": "ADD rootfs"}],
        }
    ).encode()
    man = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": sha(cfg),
                "size": len(cfg),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": sha(layer),
                    "size": len(layer) + layer_size_delta,
                }
            ],
        }
    ).encode()
    idx = json.dumps(
        {
            "schemaVersion": 2,
            "manifests": [
                {
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": sha(man),
                    "size": len(man),
                }
            ],
        }
    ).encode()
    mj = json.dumps(
        [
            {
                "Config": f"blobs/sha256/{sha(cfg)[7:]}",
                "RepoTags": ["x:1"],
                "Layers": [f"blobs/sha256/{sha(layer)[7:]}"],
            }
        ]
    ).encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, data in [
            *((f"blobs/sha256/{sha(b)[7:]}", b) for b in (layer, cfg, man)),
            ("index.json", idx),
            ("manifest.json", mj),
            ("oci-layout", b'{"imageLayoutVersion":"1.0.0"}'),
        ]:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    path.write_bytes(buf.getvalue())
    return sha(layer)


def replace_member(archive: Path, name: str, data: bytes) -> None:
    with tarfile.open(archive) as tf:
        members = [(m, tf.extractfile(m).read() if m.isreg() else b"") for m in tf]  # type: ignore[union-attr]
    with tarfile.open(archive, "w") as tf:
        for m, d in members:
            if m.name == name:
                d = data
                m.size = len(d)
            tf.addfile(m, io.BytesIO(d))


def advisory_db(path: Path) -> Path:
    from containment.advisories.importer import import_paths

    feed = path.parent / "feed.json"
    feed.write_text(
        json.dumps(
            {
                "id": "PYSEC-0000-1",
                "modified": "2024-01-01T00:00:00Z",
                "affected": [
                    {
                        "package": {"ecosystem": "PyPI", "name": "x"},
                        "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}],
                    }
                ],
            }
        )
    )
    import_paths([feed], path)
    return path


# ----------------------------------------------------------------------------- the cases


@dataclass
class Case:
    args: list[str]
    names: list[str]  # what the error line must name (the input, a digest, a file)


def _corrupt_gzip(t: Path) -> Case:
    img = Layout(t / "img")
    d = img.mangle_layer(flip(30, 60))
    return Case(["sbom", img.ref], [img.ref, d, "gzip"])


def _truncated_gzip(t: Path) -> Case:
    img = Layout(t / "img")
    d = img.mangle_layer(lambda b: b[: len(b) // 2])
    return Case(["sbom", img.ref], [img.ref, d])


def _corrupt_zstd(t: Path) -> Case:
    img = Layout(t / "img", compression="zstd")
    d = img.mangle_layer(flip(20, 60))
    return Case(["sbom", img.ref], [img.ref, d, "zstd"])


def _garbage_tar(t: Path) -> Case:
    img = Layout(t / "img", compression="none")
    d = img.mangle_layer(lambda b: b"\x00" * 100 + b"x" * 2000)
    return Case(["sbom", img.ref], [img.ref, d])


def _layer_size_differs(t: Path) -> Case:
    img = Layout(t / "img")
    m = img.manifest
    m["layers"][0]["size"] += 7
    img.set_manifest(m)
    return Case(["sbom", img.ref], [img.ref, img.layer_digest, "declares"])


def _layer_size_missing(t: Path) -> Case:
    img = Layout(t / "img")
    m = img.manifest
    del m["layers"][0]["size"]
    img.set_manifest(m)
    return Case(["sbom", img.ref], [img.ref, img.layer_digest, "size"])


def _empty_blob_declared_gzip(t: Path) -> Case:
    img = Layout(t / "img")
    img.put(b"")
    m = img.manifest
    m["layers"][0].update(digest="sha256:" + EMPTY_SHA, size=0)
    img.set_manifest(m)
    cfg = json.loads(img.blob(img.manifest["config"]["digest"]).read_bytes())
    cfg["rootfs"]["diff_ids"] = ["sha256:" + EMPTY_SHA]
    img.set_config(json.dumps(cfg).encode())
    return Case(["sbom", img.ref], [img.ref, "sha256:" + EMPTY_SHA, "empty", "gzip"])


def _manifest_size_differs(t: Path) -> Case:
    img = Layout(t / "img")
    d = img.set_manifest(img.manifest, size_delta=1)
    return Case(["inventory", img.ref], [img.ref, d, "declares"])


def _config_size_differs(t: Path) -> Case:
    img = Layout(t / "img")
    d = img.set_config(img.blob(img.manifest["config"]["digest"]).read_bytes(), size_delta=-3)
    return Case(["inventory", img.ref], [img.ref, d, "declares"])


def _deep_index(t: Path) -> Case:
    img = Layout(t / "img")
    (img.root / "index.json").write_bytes(DEEP_LIST)
    return Case(["sbom", img.ref], [img.ref, "index.json"])


def _deep_config(t: Path) -> Case:
    img = Layout(t / "img")
    d = img.set_config(DEEP_OBJECT)
    return Case(["sbom", img.ref], [img.ref, d])


def _deep_manifest(t: Path) -> Case:
    img = Layout(t / "img")
    data = DEEP_OBJECT
    d = img.put(data)
    idx = img.index
    idx["manifests"][0].update(digest=d, size=len(data))
    (img.root / "index.json").write_text(json.dumps(idx))
    return Case(["sbom", img.ref], [img.ref, d])


def _missing_layer_blob(t: Path) -> Case:
    img = Layout(t / "img")
    img.blob(img.layer_digest).unlink()
    return Case(["sbom", img.ref, "--no-cache"], [img.ref, img.layer_digest])


def _not_a_layout(t: Path) -> Case:
    (t / "empty").mkdir()
    return Case(["sbom", f"oci:{t}/empty"], [f"oci:{t}/empty"])


def _archive_corrupt_gzip(t: Path) -> Case:
    p = t / "img.tar.gz"
    write_docker_archive(str(p), ImageSpec(layers=[base_layer()]), gzip_outer=True)
    p.write_bytes(flip(40, 90)(p.read_bytes()))
    return Case(["sbom", f"docker-archive:{p}"], [f"docker-archive:{p}", "gzip"])


def _archive_truncated_gzip(t: Path) -> Case:
    p = t / "img.tar.gz"
    write_docker_archive(str(p), ImageSpec(layers=[base_layer()]), gzip_outer=True)
    p.write_bytes(p.read_bytes()[:300])
    return Case(["sbom", f"docker-archive:{p}"], [f"docker-archive:{p}"])


def _archive_corrupt_gzip_layer(t: Path) -> Case:
    bad = flip(30, 60)(gzip.compress(base_layer(), mtime=0))
    p = t / "img.tar"
    write_docker_archive(str(p), ImageSpec(layers=[bad]))
    return Case(["sbom", f"docker-archive:{p}"], [f"docker-archive:{p}", sha(bad), "gzip"])


def _archive_deep_manifest(t: Path) -> Case:
    p = t / "img.tar"
    write_docker_archive(str(p), ImageSpec(layers=[base_layer()]))
    replace_member(p, "manifest.json", DEEP_LIST)
    return Case(["sbom", f"docker-archive:{p}"], [f"docker-archive:{p}", "manifest.json"])


def _archive_oci_size_differs(t: Path) -> Case:
    p = t / "img.tar"
    d = docker25(p, layer_size_delta=5)
    return Case(["sbom", f"docker-archive:{p}"], [f"docker-archive:{p}", d, "declares"])


def _archive_garbage(t: Path) -> Case:
    p = t / "img.tar"
    p.write_bytes(b"this is not a tar archive\n" * 50)
    return Case(["sbom", f"docker-archive:{p}"], [f"docker-archive:{p}"])


def _dir_missing(t: Path) -> Case:
    return Case(["sbom", f"dir:{t}/nope"], [f"dir:{t}/nope"])


def _bad_reference(t: Path) -> Case:
    return Case(["sbom", "UPPER/Case:tag"], ["UPPER/Case:tag"])


def _registry_unreachable(t: Path) -> Case:
    return Case(["sbom", "127.0.0.1:1/team/app:1", "--plain-http"], ["127.0.0.1:1/team/app"])


def _hostile_name_in_ref(t: Path) -> Case:
    # a path with a newline and bytes that are not UTF-8 must not break the one line
    name = "x\ny" + b"\xff".decode("utf-8", "surrogateescape")
    return Case(["sbom", f"oci:{t}/{name}"], [f"oci:{t}/x y%FF"])


def _vex_deep(t: Path) -> Case:
    img = Layout(t / "img")
    vex = t / "deep.vex.json"
    vex.write_bytes(DEEP_LIST)
    db = advisory_db(t / "a.db")
    return Case(["scan", "image", img.ref, "--db", str(db), "--vex", str(vex)], [str(vex)])


def _ignorefile_broken(t: Path) -> Case:
    img = Layout(t / "img")
    ign = t / "ignore.yaml"
    ign.write_text("vulnerabilities:\n  - id: [unclosed\n")
    db = advisory_db(t / "a.db")
    return Case(["scan", "image", img.ref, "--db", str(db), "--ignorefile", str(ign)], [str(ign)])


def _db_garbage(t: Path) -> Case:
    img = Layout(t / "img")
    db = t / "garbage.db"
    db.write_bytes(b"not sqlite" * 100)
    return Case(["scan", "image", img.ref, "--db", str(db)], [str(db)])


def _db_import_damaged_zip(t: Path) -> Case:
    z = t / "feed.zip"
    z.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    return Case(["db", "import", str(z), "--db", str(t / "a.db")], [str(z)])


def _db_update_onto_fifo(t: Path) -> Case:
    import zipfile

    mirror = t / "mirror"
    (mirror / "PyPI").mkdir(parents=True)
    with zipfile.ZipFile(mirror / "PyPI" / "all.zip", "w") as z:
        z.writestr("PYSEC-1.json", json.dumps({"id": "PYSEC-1", "modified": "2024-01-01T00:00:00Z"}))
    fifo = t / "db.fifo"
    os.mkfifo(fifo)
    return Case(["db", "update", "--db", str(fifo), "--source", str(mirror), "-e", "PyPI", "-q"], [str(fifo)])


def _output_is_a_directory(t: Path) -> Case:
    img = Layout(t / "img")
    (t / "out").mkdir()
    return Case(["sbom", img.ref, "-o", str(t / "out")], [str(t / "out")])


def _output_dir_missing(t: Path) -> Case:
    img = Layout(t / "img")
    return Case(
        ["sbom", img.ref, "-o", str(t / "no" / "such" / "x.json")], [str(t / "no" / "such" / "x.json")]
    )


CASES = {
    f.__name__.lstrip("_"): f
    for f in [
        _corrupt_gzip,
        _truncated_gzip,
        _corrupt_zstd,
        _garbage_tar,
        _layer_size_differs,
        _layer_size_missing,
        _empty_blob_declared_gzip,
        _manifest_size_differs,
        _config_size_differs,
        _deep_index,
        _deep_config,
        _deep_manifest,
        _missing_layer_blob,
        _not_a_layout,
        _archive_corrupt_gzip,
        _archive_truncated_gzip,
        _archive_corrupt_gzip_layer,
        _archive_deep_manifest,
        _archive_oci_size_differs,
        _archive_garbage,
        _dir_missing,
        _bad_reference,
        _registry_unreachable,
        _hostile_name_in_ref,
        _vex_deep,
        _ignorefile_broken,
        _db_garbage,
        _db_import_damaged_zip,
        _db_update_onto_fifo,
        _output_is_a_directory,
        _output_dir_missing,
    ]
}


def assert_one_error_line(r: subprocess.CompletedProcess[str], names: list[str]) -> None:
    """Exit 2, ONE stderr line naming every name and saying what to do; no traceback, no
    "internal error", nothing on stdout."""
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr[-2000:]
    line = lines[0]
    assert line.startswith("containment: error: "), line
    assert "internal error" not in line and "Traceback" not in line, line
    for name in names:
        assert name in line, (name, line)
    assert any(w in line for w in FIX_WORDS), f"no fix in: {line}"
    assert r.stdout == ""


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_input_is_one_line_naming_it_exit_2(case, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    c = CASES[case](tmp_path)
    before = {p for p in tmp_path.rglob("*")}
    r = cli(*c.args, cwd=work)
    assert_one_error_line(r, c.names)
    left = {p for p in tmp_path.rglob("*")} - before
    assert not [p for p in left if p.name.startswith(".") or p.parent == work], left
    if case == "db_update_onto_fifo":
        import stat

        assert stat.S_ISFIFO(os.lstat(tmp_path / "db.fifo").st_mode)  # not replaced by a database


@pytest.mark.parametrize(
    ("exc", "says"),
    [
        (RecursionError(), "input nests too deeply"),
        (MemoryError(), "out of memory"),
        (KeyError("x"), "internal error (KeyError"),
    ],
)
def test_failures_that_cannot_name_their_input_are_given_the_target(exc, says, capsys, monkeypatch):
    import typer

    from containment.cli.common import user_errors

    monkeypatch.delenv("CONTAINMENT_DEBUG", raising=False)
    with pytest.raises(typer.Exit) as e, user_errors("oci:./img"):
        raise exc
    assert e.value.exit_code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"containment: error: oci:./img: {says}") and err.count("\n") == 1


def test_error_lines_are_escaped_and_one_line(capsys):
    import typer

    from containment.cli.common import user_errors
    from containment.model import ImageError

    with pytest.raises(typer.Exit), user_errors("t"):
        raise ImageError("oci:/x\n\x1b[2Jy\udcff: second line\nthird")
    assert capsys.readouterr().err == "containment: error: oci:/x %1B[2Jy%FF: second line third\n"
