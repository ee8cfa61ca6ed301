"""Images in a real podman (`podman system service`, started here with its own storage), read
through the Docker Engine API: the SBOM equals the one of the same image read as a file, the
cache holds on a rescan, and every failure is one line."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from containment.image.build import ImageSpec, TarEntry, layer_tar, write_docker_archive, write_oci
from tests.conftest import base_layer
from tests.e2e.podman import RecordingProxy, have_podman, start_podman

pytestmark = pytest.mark.e2e

why = have_podman()
if why:
    pytest.skip(why, allow_module_level=True)

PY_LAYER = layer_tar(
    [
        TarEntry(
            "usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA",
            b"Name: requests\nVersion: 2.31.0\n",
        ),
    ]
)


def debian_app() -> ImageSpec:
    return ImageSpec(
        layers=[
            base_layer(("libc6", "2.36-9")),
            base_layer(("libc6", "2.36-9"), ("bash", "5.2.15-2+b2")),
            PY_LAYER,
        ],
        history=["ADD rootfs.tar /", "RUN apt-get install -y bash", "RUN pip install requests"],
    )


def oci_app() -> ImageSpec:
    return ImageSpec(layers=[base_layer(("zlib1g", "1:1.2.13.dfsg-1"))], history=["ADD zlib /"])


@pytest.fixture(scope="module")
def podman(tmp_path_factory):
    """podman with two images: one loaded from a docker-archive, one from an OCI archive."""
    work = tmp_path_factory.mktemp("podman")
    pm = start_podman(work / "engine")
    try:
        files = work / "files"
        files.mkdir()
        write_docker_archive(str(files / "app.tar"), debian_app(), tag="localhost/app:1")
        pm.run("load", "-q", "-i", str(files / "app.tar"))
        write_oci(str(files / "oci"), oci_app(), tag="2")
        with tarfile.open(files / "oci.tar", "w") as tf:
            tf.add(files / "oci", arcname=".")
        pm.run("load", "-q", "-i", str(files / "oci.tar"))
        pm.run("tag", "localhost/2:latest", "localhost/zlib:2")
        pm.files = files  # type: ignore[attr-defined]
        yield pm
    finally:
        pm.stop()


def run(*args: str, **env: str) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "CONTAINER_HOST")}
    full.update(env)
    return subprocess.run(
        [sys.executable, "-m", "containment", *args], capture_output=True, text=True, timeout=300, env=full
    )


def sbom(ref: str, *extra: str, **env: str) -> dict:
    r = run("sbom", ref, "-f", "json", *extra, **env)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def one_line(r: subprocess.CompletedProcess) -> str:
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("containment: error: "), r.stderr
    assert "Traceback" not in r.stderr
    return r.stderr.strip()


def test_sbom_from_podman_equals_the_same_image_as_a_file(podman, tmp_path):
    got = sbom("podman:localhost/app:1", DOCKER_HOST=podman.url)
    want = sbom(f"docker-archive:{podman.files}/app.tar")
    assert got["packages"] == want["packages"] and got["layers"] == want["layers"] and got["os"] == want["os"]
    assert {p["name"] for p in got["packages"]} == {"libc6", "bash", "requests"}
    assert [x["created_by"] for x in got["layers"]][2] == "RUN pip install requests"
    # podman's own export of it, read as a file: the same again
    podman.run("save", "-q", "-o", str(tmp_path / "saved.tar"), "localhost/app:1")
    saved = sbom(f"docker-archive:{tmp_path}/saved.tar")
    assert saved["packages"] == got["packages"] and saved["layers"] == got["layers"]
    # the image id is the config digest podman lists
    listed = podman.run("image", "inspect", "--format", "{{.Id}}", "localhost/app:1").strip()
    assert got["image_id"] == f"sha256:{listed}"


def test_an_image_loaded_from_an_oci_layout(podman):
    got = sbom("podman:localhost/zlib:2", DOCKER_HOST=podman.url)
    want = sbom(f"oci:{podman.files}/oci:2")
    assert got["packages"] == want["packages"] and got["os"] == want["os"]
    assert [(x["diff_id"], x["created_by"]) for x in got["layers"]] == [
        (x["diff_id"], x["created_by"]) for x in want["layers"]
    ]
    assert {p["name"] for p in got["packages"]} == {"zlib1g"}


def test_docker_transport_bare_references_and_tcp_docker_host(podman):
    want = sbom("podman:localhost/app:1", DOCKER_HOST=podman.url)
    assert sbom("docker:localhost/app:1", DOCKER_HOST=podman.url)["packages"] == want["packages"]
    assert sbom("localhost/app:1", DOCKER_HOST=podman.url)["packages"] == want["packages"]  # engine first
    proxy = RecordingProxy(podman.socket)  # loopback TCP in front of podman's socket
    try:
        assert proxy.url.startswith("tcp://127.0.0.1:")
        assert (
            sbom("docker:localhost/app:1", "--no-cache", DOCKER_HOST=proxy.url)["packages"]
            == want["packages"]
        )
        assert proxy.exports()
    finally:
        proxy.stop()


def test_a_rescan_asks_podman_only_for_inspect(podman, tmp_path):
    proxy = RecordingProxy(podman.socket, tmp_path / "proxy.sock")
    cache = str(tmp_path / "cache")
    try:
        first = sbom("podman:localhost/app:1", DOCKER_HOST=proxy.url, CONTAINMENT_CACHE_DIR=cache)
        assert len(proxy.exports()) == 1
        proxy.requests.clear()
        second = sbom("podman:localhost/app:1", DOCKER_HOST=proxy.url, CONTAINMENT_CACHE_DIR=cache)
        assert proxy.requests == ["/images/localhost/app:1/json"]  # no layer, no export stream
        assert second == first
        sbom("podman:localhost/app:1", "--no-cache", DOCKER_HOST=proxy.url, CONTAINMENT_CACHE_DIR=cache)
        assert len(proxy.exports()) == 1  # --no-cache reads it all again
        # the same image under a second name: same id and pull digests, still nothing read
        podman.run("tag", "localhost/app:1", "localhost/app:again")
        proxy.requests.clear()
        assert sbom("podman:localhost/app:again", DOCKER_HOST=proxy.url, CONTAINMENT_CACHE_DIR=cache)[
            "packages"
        ]
        assert proxy.exports() == []
    finally:
        proxy.stop()


def test_a_missing_image_is_one_line(podman):
    line = one_line(run("sbom", "podman:localhost/nope:1", DOCKER_HOST=podman.url))
    assert line == (
        f"containment: error: podman:localhost/nope:1: no image 'localhost/nope:1' in the podman engine at "
        f"DOCKER_HOST={podman.url}; pull it first (podman pull localhost/nope:1) or check the name (podman images)"
    )


def test_no_socket_is_one_line(tmp_path):
    line = one_line(run("sbom", "podman:localhost/app:1", DOCKER_HOST=f"unix://{tmp_path}/gone.sock"))
    assert f"no engine at DOCKER_HOST=unix://{tmp_path}/gone.sock (no such socket)" in line
    assert "DOCKER_HOST" in line
    from containment.image.engine import podman_socket

    if os.path.exists(podman_socket()):
        pytest.skip(f"this machine runs podman's default socket ({podman_socket()})")
    line = one_line(run("sbom", "podman:localhost/app:1", XDG_RUNTIME_DIR=str(tmp_path)))
    assert "podman system service" in line and "DOCKER_HOST" in line


def test_a_bare_reference_podman_lacks_and_an_unreachable_registry(podman):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    line = one_line(run("sbom", f"127.0.0.1:{port}/team/app:1", DOCKER_HOST=podman.url))
    assert f"cannot connect to https://127.0.0.1:{port} (connection refused)" in line
    assert (
        f"the image is not in a local engine either (not in the engine at DOCKER_HOST={podman.url})" in line
    )
    assert "pull it, or use oci:DIR or docker-archive:FILE" in line
    assert "--plain-http" not in line


def test_podman_storage_is_the_tests_own(podman):
    assert Path(podman.env["CONTAINERS_STORAGE_CONF"]).read_text().count(str(podman.workdir)) == 2
    images = podman.run("images", "--format", "{{.Repository}}:{{.Tag}}").split()
    assert set(images) <= {"localhost/app:1", "localhost/app:again", "localhost/2:latest", "localhost/zlib:2"}
