"""Fuzz the readers of untrusted image bytes: only ImageError (or a clean result), never another exception."""

from __future__ import annotations

import io
import json
import os
import tarfile
import tempfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from containment.cache import LayerCache
from containment.catalog import apk, dpkg
from containment.image.build import ImageSpec, TarEntry, layer_tar, write_docker_archive, write_oci
from containment.image.tarstream import TarFormatError, TarStream
from containment.image.walk import Entry, walk_tar
from containment.layers import Analyzer, scan_target
from containment.model import ImageError
from tests.conftest import base_layer

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


class Collect:
    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self.files: dict[str, bytes] = {}

    def entry(self, e: Entry) -> None:
        self.entries.append(e)

    def wants(self, path: str, mode: int, size: int) -> bool:
        return size < 1 << 20

    def file(self, path: str, data: bytes) -> None:
        self.files[path] = data


SAMPLE = layer_tar(
    [
        TarEntry("etc/os-release", b"ID=debian\nVERSION_ID=12\n"),
        TarEntry("a/" + "x" * 150 + "/long-name-file", b"long"),  # PAX path
        TarEntry("lnk", kind="symlink", link="etc/os-release"),
        TarEntry("hard", kind="hardlink", link="etc/os-release"),
        TarEntry("dir", kind="dir"),
        TarEntry("var/lib/.wh.dpkg"),
    ]
)
GNU_SAMPLE = layer_tar([TarEntry("b/" + "y" * 120, b"gnu long name")], fmt=tarfile.GNU_FORMAT)


def test_tarstream_agrees_with_tarfile_on_valid_archives():
    for raw in (SAMPLE, GNU_SAMPLE):
        ours = [(m.name.rstrip("/"), m.type, m.size, m.linkname) for m in TarStream(io.BytesIO(raw))]
        theirs = [
            (t.name, ord(t.type) if t.type else 48, t.size if t.isreg() else 0, t.linkname)
            for t in tarfile.open(fileobj=io.BytesIO(raw))
        ]
        assert ours == theirs


@FUZZ
@given(st.binary(max_size=4096))
def test_tarstream_random_bytes(data):
    try:
        for _ in TarStream(io.BytesIO(data)):
            pass
    except TarFormatError:
        pass


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(SAMPLE) - 1), st.integers(0, 255)), min_size=1, max_size=12))
def test_walk_mutated_tar(mutations):
    raw = bytearray(SAMPLE)
    for pos, val in mutations:
        raw[pos] = val
    try:
        walk_tar(io.BytesIO(bytes(raw)), Collect(), "fuzz")
    except ImageError:
        pass


@FUZZ
@given(st.integers(0, len(SAMPLE)))
def test_walk_truncated_tar(cut):
    try:
        walk_tar(io.BytesIO(SAMPLE[:cut]), Collect(), "fuzz")
    except ImageError:
        pass


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=20,
)


def _analyzer() -> Analyzer:
    return Analyzer(catalogers=dpkg.CATALOGERS + apk.CATALOGERS, cache=LayerCache(enabled=False), workers=1)


@FUZZ
@given(st.sampled_from(["index.json", "manifest", "config"]), _JSON)
def test_oci_layout_with_hostile_json(which, doc):
    with tempfile.TemporaryDirectory() as d:
        root = os.path.join(d, "img")
        write_oci(root, ImageSpec(layers=[base_layer()]))
        idx_path = os.path.join(root, "index.json")
        if which == "index.json":
            with open(idx_path, "w") as f:
                json.dump(doc, f)
        else:
            import hashlib

            idx = json.load(open(idx_path))
            data = json.dumps(doc).encode()
            digest = "sha256:" + hashlib.sha256(data).hexdigest()
            with open(os.path.join(root, "blobs", "sha256", digest[7:]), "wb") as f:
                f.write(data)
            if which == "manifest":
                idx["manifests"][0]["digest"] = digest
            else:
                mpath = os.path.join(root, "blobs", "sha256", idx["manifests"][0]["digest"][7:])
                man = json.load(open(mpath))
                man["config"]["digest"] = digest
                mdata = json.dumps(man).encode()
                mdig = "sha256:" + hashlib.sha256(mdata).hexdigest()
                with open(os.path.join(root, "blobs", "sha256", mdig[7:]), "wb") as f:
                    f.write(mdata)
                idx["manifests"][0]["digest"] = mdig
            with open(idx_path, "w") as f:
                json.dump(idx, f)
        try:
            scan_target(f"oci:{root}", _analyzer())
        except ImageError:
            pass


@FUZZ
@given(_JSON)
def test_docker_archive_with_hostile_manifest(doc):
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "img.tar")
        write_docker_archive(p, ImageSpec(layers=[base_layer()]))
        with tarfile.open(p) as tf:
            members = [(m, tf.extractfile(m).read() if m.isreg() else b"") for m in tf]  # type: ignore[union-attr]
        with tarfile.open(p, "w") as tf:
            for m, data in members:
                if m.name == "manifest.json":
                    data = json.dumps(doc).encode()
                    m.size = len(data)
                tf.addfile(m, io.BytesIO(data))
        try:
            scan_target(f"docker-archive:{p}", _analyzer())
        except ImageError:
            pass
