"""Images from a local engine (podman:, docker:, bare references) against a stand-in engine:
each `docker save` layout, what is verified, what the cache trusts, and the one-line errors.
The same against the real podman: tests/e2e/test_engine_e2e.py."""

from __future__ import annotations

import errno
import io
import json
import os
import socket
import ssl
import subprocess
import sys
import tarfile

import httpx
import pytest

from containment.cache import LayerCache, cache_dir
from containment.image import target as analyze
from containment.image.build import ImageSpec, write_docker_archive
from containment.image.registry import connect_failure
from containment.layers import Analyzer, scan_target
from containment.model import ImageError
from tests.conftest import base_layer
from tests.unit.fake_engine import FakeEngine, _tar, save, sha


def spec(*extra: tuple[str, str]) -> ImageSpec:
    return ImageSpec(
        layers=[
            base_layer(("libc6", "2.36-9")),
            base_layer(("libc6", "2.36-9"), ("bash", "5.2.15-2+b2"), *extra),
        ],
        history=["ADD rootfs /", "RUN apt-get install bash"],
    )


@pytest.fixture
def engine(tmp_path, monkeypatch):
    eng = FakeEngine().start(tmp_path / "engine.sock")
    monkeypatch.setenv("DOCKER_HOST", eng.url)
    monkeypatch.delenv("CONTAINER_HOST", raising=False)
    yield eng
    eng.stop()


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "containment", *args], capture_output=True, text=True, timeout=120, env=env
    )


def sbom(ref: str) -> dict:
    from containment.report.inventory import to_json

    return to_json(scan_target(ref, Analyzer()))


def same_image(a: dict, b: dict) -> bool:
    return a["packages"] == b["packages"] and a["layers"] == b["layers"] and a["os"] == b["os"]


@pytest.mark.parametrize("style", ["podman", "legacy", "docker25", "containerd"])
def test_every_save_layout_gives_the_docker_archive_sbom(engine, tmp_path, style):
    s = spec()
    saved = engine.add(save(s, style), "localhost/demo:1")
    archive = tmp_path / "img.tar"
    archive.write_bytes(saved.archive)
    want = sbom(f"docker-archive:{archive}")
    for ref in ("podman:localhost/demo:1", "docker:localhost/demo:1", "localhost/demo:1"):
        got = sbom(ref)
        assert same_image(got, want), ref
        assert got["image_id"] == sha(saved.config)  # the config digest, checked
        # Docker's containerd store names an image by its manifest's digest: checked, and reported
        assert got["image_digest"] == (saved.inspect["Id"] if style == "containerd" else None)
    assert {p["name"] for p in want["packages"]} == {"libc6", "bash"}
    assert [x["created_by"] for x in want["layers"]] == ["ADD rootfs /", "RUN apt-get install bash"]
    # the first scan read the stream, the two rescans asked only inspect
    assert engine.exports() == 1


def test_a_rescan_reads_no_layer_and_asks_only_inspect(engine, monkeypatch):
    engine.add(save(spec()), "localhost/demo:1")
    walked: list[int] = []
    real = Analyzer._walk_layer

    def counting(self, image, layer, blob, groups):  # type: ignore[no-untyped-def]
        walked.append(layer.index)
        return real(self, image, layer, blob, groups)

    monkeypatch.setattr(Analyzer, "_walk_layer", counting)
    first = sbom("podman:localhost/demo:1")
    assert walked == [0, 1]
    engine.requests.clear()
    second = sbom("podman:localhost/demo:1")
    assert walked == [0, 1]  # no layer read again
    assert engine.requests == ["/images/localhost/demo:1/json"]  # no export stream either
    assert second == first  # the config (history, sizes) came from the cache, checked against the Id
    # one layer's analysis gone: the stream is read again, only that layer is walked
    from containment.cache import LayerCache as LC

    key = Analyzer().key
    os.unlink(LC(analyzer_key=key)._path(sha(spec().layers[1])))
    assert sbom("podman:localhost/demo:1") == first
    assert walked == [0, 1, 1]


def test_no_cache_reads_everything_and_keeps_nothing(engine):
    engine.add(save(spec()), "localhost/demo:1")
    a = Analyzer(cache=LayerCache(enabled=False))
    scan_target("podman:localhost/demo:1", a)
    scan_target("podman:localhost/demo:1", a)
    assert engine.exports() == 2
    assert not (cache_dir() / "engine-images").exists()


def test_the_proof_is_this_engine_and_this_image(engine, tmp_path, monkeypatch):
    """A cached layer is used for an engine image only when we verified it from this endpoint for
    this image id and pull digests; any other claim of the same diff_id is read again."""
    saved = engine.add(save(spec()), "localhost/demo:1")
    sbom("podman:localhost/demo:1")
    assert engine.exports() == 1
    # the same image pulled by another digest (same config, maybe other blobs): read again
    saved.inspect["RepoDigests"] = ["localhost/demo@" + sha(b"another manifest")]
    sbom("podman:localhost/demo:1")
    assert engine.exports() == 2
    # another engine endpoint claiming the same image: read again
    other = FakeEngine().start(tmp_path / "other.sock")
    try:
        other.add(saved, "localhost/demo:1")
        monkeypatch.setenv("DOCKER_HOST", other.url)
        sbom("podman:localhost/demo:1")
        assert other.exports() == 1
    finally:
        other.stop()


def test_an_engine_image_claiming_a_cached_diff_id_is_read_and_refused(engine, tmp_path):
    """Cache poisoning through an engine: image B's config claims the diff_id of a layer cached
    from another source while B's layer holds something else."""
    good = base_layer(("benign", "1"))
    archive = tmp_path / "good.tar"
    write_docker_archive(str(archive), ImageSpec(layers=[good]))
    assert {p["name"] for p in sbom(f"docker-archive:{archive}")["packages"]} == {"benign"}
    lie = save(ImageSpec(layers=[good]))  # its config (so its Id and RootFS.Layers) claims the good diff_id
    members = []
    with tarfile.open(fileobj=io.BytesIO(lie.archive)) as tf:
        for m in tf:
            data = tf.extractfile(m).read() if m.isreg() else None  # type: ignore[union-attr]
            if m.isreg() and m.name.endswith(".tar"):
                data = base_layer(("malware", "6.6.6"))  # ... while the layer holds something else
            members.append((m.name, data, m.linkname if m.issym() else ""))
    lie.archive = _tar(members)
    engine.add(lie, "localhost/evil:1")
    with pytest.raises(ImageError, match="does not match the config's diff_id"):
        sbom("podman:localhost/evil:1")


def test_an_engine_answering_with_another_image_is_refused(engine):
    a, b = save(spec()), save(spec(("extra", "1")))
    a.archive = b.archive  # inspect says A, the export stream is B
    engine.add(a, "localhost/demo:1")
    with pytest.raises(ImageError) as e:
        sbom("podman:localhost/demo:1")
    assert f"holds image {b.inspect['Id']}, not {a.inspect['Id']} it named" in str(e.value)


def test_an_engine_listing_other_layers_than_its_config_is_refused(engine):
    saved = engine.add(save(spec()), "localhost/demo:1")
    sbom("podman:localhost/demo:1")  # config cached
    saved.inspect["RootFS"]["Layers"] = list(reversed(saved.inspect["RootFS"]["Layers"]))
    with pytest.raises(ImageError, match="lists other layers"):
        sbom("podman:localhost/demo:1")


def test_a_damaged_or_forged_cached_config_is_not_used(engine):
    engine.add(save(spec()), "localhost/demo:1")
    first = sbom("podman:localhost/demo:1")
    (rec,) = (cache_dir() / "engine-images").iterdir()
    doc = json.loads(rec.read_text())
    cfg = json.loads(__import__("base64").b64decode(doc["config"]))
    cfg["history"][1]["created_by"] = "forged"
    doc["config"] = __import__("base64").b64encode(json.dumps(cfg).encode()).decode()
    rec.write_text(json.dumps(doc))
    assert sbom("podman:localhost/demo:1") == first  # not the Id's config: read from the stream again
    assert engine.exports() == 2
    rec.write_text("garbage")
    assert sbom("podman:localhost/demo:1") == first
    assert engine.exports() == 3


def test_digests_and_ids_must_be_what_the_engine_answers_with(engine):
    saved = engine.add(save(spec()), "localhost/demo:1")
    pulled = saved.inspect["RepoDigests"][0]
    engine.images[pulled] = saved
    assert sbom(f"podman:{pulled}")["image_id"] == saved.inspect["Id"]
    assert sbom(f"podman:{saved.inspect['Id']}")["image_id"] == saved.inspect["Id"]
    wrong = "localhost/demo@" + sha(b"not it")
    engine.images[wrong] = saved
    with pytest.raises(ImageError, match="asked for sha256:.* but the engine answered with image"):
        sbom(f"podman:{wrong}")
    engine.images["sha256:" + "0" * 64] = saved
    with pytest.raises(ImageError, match="asked for image sha256:0+ but the engine answered"):
        sbom("podman:sha256:" + "0" * 64)


def test_a_truncated_export_is_one_error(engine):
    saved = engine.add(save(spec()), "localhost/demo:1")
    saved.archive = saved.archive[: len(saved.archive) // 2]
    with pytest.raises(ImageError, match="truncated or corrupt"):
        sbom("podman:localhost/demo:1")


def test_tcp_docker_host(tmp_path, monkeypatch):
    eng = FakeEngine().start()
    try:
        eng.add(save(spec()), "localhost/demo:1")
        monkeypatch.setenv("DOCKER_HOST", eng.url)
        assert eng.url.startswith("tcp://127.0.0.1:")
        assert {p["name"] for p in sbom("docker:localhost/demo:1")["packages"]} == {"libc6", "bash"}
    finally:
        eng.stop()


def test_container_host_names_podman_s_engine(engine, tmp_path, monkeypatch):
    engine.add(save(spec()), "localhost/demo:1")
    monkeypatch.setenv("CONTAINER_HOST", engine.url)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/nothing.sock")
    assert sbom("podman:localhost/demo:1")["packages"]
    with pytest.raises(ImageError, match="nothing.sock"):
        sbom("docker:localhost/demo:1")


def test_default_sockets(monkeypatch, tmp_path):
    from containment.image import engine as eng

    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv("CONTAINER_HOST", raising=False)
    assert eng.endpoint_for("docker").socket == "/var/run/docker.sock"
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert eng.endpoint_for("podman").socket == "/run/podman/podman.sock"
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    assert eng.endpoint_for("podman").socket == f"{tmp_path}/podman/podman.sock"
    assert [e.socket for e in eng.local_endpoints()] == [
        "/var/run/docker.sock",
        f"{tmp_path}/podman/podman.sock",
    ]


# ------------------------------------------------------------------------ what the user sees


def test_missing_image_is_one_line(engine):
    env = {**os.environ, "DOCKER_HOST": engine.url}
    r = run("sbom", "podman:localhost/nope:1", env=env)
    assert r.returncode == 2, r.stderr
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("containment: error: podman:localhost/nope:1: ")
    assert f"no image 'localhost/nope:1' in the podman engine at DOCKER_HOST={engine.url}" in r.stderr
    assert "podman pull localhost/nope:1" in r.stderr


def test_no_socket_is_one_line_naming_what_to_do(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "CONTAINER_HOST")}
    env["XDG_RUNTIME_DIR"] = str(tmp_path)
    if os.geteuid() == 0 and os.path.exists("/run/podman/podman.sock"):
        pytest.skip("this machine runs podman's default socket (/run/podman/podman.sock)")
    r = run("sbom", "podman:alpine:3.10", env=env)
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
    assert "no such socket" in r.stderr and "podman system service" in r.stderr and "DOCKER_HOST" in r.stderr
    r = run("sbom", "docker:alpine:3.10", env={**env, "DOCKER_HOST": f"unix://{tmp_path}/d.sock"})
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
    assert f"no engine at DOCKER_HOST=unix://{tmp_path}/d.sock (no such socket)" in r.stderr
    r = run("sbom", "docker:alpine:3.10", env={**env, "DOCKER_HOST": "ssh://me@host"})
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
    assert "unix:///PATH or tcp://HOST:PORT only" in r.stderr


def test_a_stale_socket_says_refused(tmp_path, monkeypatch):
    path = tmp_path / "stale.sock"
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    s.close()  # the file stays, nobody listens
    monkeypatch.setenv("DOCKER_HOST", f"unix://{path}")
    with pytest.raises(ImageError, match="connection refused"):
        sbom("docker:alpine:3.10")


def test_bad_names_are_refused_before_asking(engine):
    for bad in ("podman:", "podman:../../containers/json", "podman:a b", "podman:x@sha256:12"):
        with pytest.raises(ImageError):
            analyze.open_target(bad)
    assert engine.requests == []


def test_a_bare_reference_tries_the_engine_then_the_registry(engine):
    """Found locally: no registry is asked. Not found and the registry unreachable: one line
    saying both, and no --plain-http advice (nothing answered at all)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ref = f"127.0.0.1:{port}/team/app:1"
    engine.add(save(spec()), ref)
    assert {p["name"] for p in sbom(ref)["packages"]} == {"libc6", "bash"}
    r = run("sbom", f"127.0.0.1:{port}/team/other:1", env={**os.environ, "DOCKER_HOST": engine.url})
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
    assert f"cannot connect to https://127.0.0.1:{port} (connection refused)" in r.stderr
    assert f"not in a local engine either (not in the engine at DOCKER_HOST={engine.url})" in r.stderr
    assert "pull it, or use oci:DIR or docker-archive:FILE" in r.stderr
    assert "--plain-http" not in r.stderr


def test_a_bare_reference_with_no_engine_at_all(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "CONTAINER_HOST")}
    env["XDG_RUNTIME_DIR"] = str(tmp_path)
    if os.path.exists("/var/run/docker.sock") or os.path.exists("/run/podman/podman.sock"):
        pytest.skip("this machine runs an engine on a default socket")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = run("sbom", f"127.0.0.1:{port}/team/app:1", env=env)
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
    assert (
        "not in a local engine either (no engine socket at unix:///var/run/docker.sock or unix://" in r.stderr
    )


def test_a_bare_reference_for_another_platform_skips_the_engine(engine, monkeypatch):
    from containment.image import engine as eng

    engine.add(save(spec()), "localhost/demo:1")
    found, _ = eng.find_local("localhost/demo:1", "localhost/demo:1", analyze_platform("linux/arm64"), None)
    assert found is None
    found, _ = eng.find_local("localhost/demo:1", "localhost/demo:1", analyze_platform("linux/amd64"), None)
    assert found is not None
    found.close()
    with pytest.raises(ImageError, match="is linux/amd64, not the linux/arm64 --platform asks for"):
        scan_target("podman:localhost/demo:1", Analyzer(), platform="linux/arm64")


def analyze_platform(text: str):  # type: ignore[no-untyped-def]
    from containment.image.source import Platform

    return Platform.parse(text)


# ------------------------------------------------------------------------ registry connection errors


def _failing(exc: BaseException) -> httpx.ConnectError:
    try:
        try:
            raise exc
        except BaseException as inner:
            raise httpx.ConnectError(str(inner)) from inner
    except httpx.ConnectError as e:
        return e


def test_connect_failures_are_named_and_advice_fits_them():
    why, hint = connect_failure(_failing(OSError(errno.ENETUNREACH, "Network is unreachable")), tls=True)
    assert (why, hint) == ("network is unreachable", "")
    why, hint = connect_failure(_failing(socket.gaierror(-2, "Name or service not known")), tls=True)
    assert "cannot resolve" in why and "offline" in why and hint == ""
    why, hint = connect_failure(
        _failing(ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number")), tls=True
    )
    assert "TLS handshake failed" in why and "--plain-http" in hint


def test_https_to_a_plain_http_registry_still_suggests_plain_http():
    import http.server
    import threading

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        from containment.image.registry import RegistryImage
        from containment.image.source import Platform

        with pytest.raises(ImageError, match="add --plain-http"):
            RegistryImage(f"127.0.0.1:{srv.server_address[1]}/x/y:1", Platform.host())
    finally:
        srv.shutdown()
        srv.server_close()


def test_the_record_is_kept_in_the_cache_dir_and_cleaned(engine):
    from containment import cache

    engine.add(save(spec()), "localhost/demo:1")
    sbom("podman:localhost/demo:1")
    assert len(list((cache_dir() / "engine-images").iterdir())) == 1
    cache.clean()
    assert not (cache_dir() / "engine-images").exists()


def test_a_hard_link_to_an_earlier_file_is_a_warning_not_a_silent_loss(engine, tmp_path):
    """A layer read once, in order, cannot go back for a hard link's earlier target: the SBOM
    says so (a plain docker-archive file is re-read and finds it)."""
    from containment.image.build import TarEntry, layer_tar
    from tests.conftest import OS_RELEASE, dpkg_status

    layer = layer_tar(
        [
            TarEntry("usr/lib/os-release", OS_RELEASE),
            TarEntry("srv/status-copy", dpkg_status(("linked", "1"))),
            TarEntry("var/lib/dpkg/status", kind="hardlink", link="srv/status-copy"),
        ]
    )
    saved = engine.add(save(ImageSpec(layers=[layer])), "localhost/linked:1")
    got = sbom("podman:localhost/linked:1")
    assert any(
        "hard-linked files not re-read (a compressed archive or an engine's export" in w
        for w in got["warnings"]
    )
    archive = tmp_path / "linked.tar"
    archive.write_bytes(saved.archive)
    assert {p["name"] for p in sbom(f"docker-archive:{archive}")["packages"]} == {"linked"}
