"""Scan images straight from a real registry; the SBOM must equal the one from the OCI dir."""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading

import httpx
import pytest

from containment.image.build import ImageSpec, write_oci
from tests.conftest import base_layer
from tests.e2e.registry import free_port, have_tools, start_registry

pytestmark = pytest.mark.e2e

missing = have_tools()
if missing:
    pytest.skip(missing, allow_module_level=True)


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "containment", *args], capture_output=True, text=True, timeout=600, env=env
    )


def packages(sbom_json: str) -> list:
    doc = json.loads(sbom_json)
    return sorted((p["purl"], p["path"], p.get("layer", "")) for p in doc["packages"])


@pytest.fixture(scope="module")
def anon_registry(tmp_path_factory):
    reg = start_registry(tmp_path_factory.mktemp("reg-anon"))
    yield reg
    reg.stop()


@pytest.fixture
def small_image(tmp_path):
    root = tmp_path / "small"
    write_oci(str(root), ImageSpec(layers=[base_layer(("libc6", "2.36-9"))]))
    return f"oci:{root}:latest"


@pytest.mark.parametrize("auth", [None, "basic", "token"])
def test_registry_sbom_equals_oci_dir(auth, tmp_path, corpus_image, anon_registry, monkeypatch):
    img = corpus_image("alpine-311")
    reg = anon_registry if auth is None else start_registry(tmp_path / f"reg-{auth}", auth)
    try:
        src = img["refs"]["oci"]
        ref = reg.push(src, "team/app:1.4")
        env = None
        if auth:
            import os

            env = {**os.environ, "REGISTRY_AUTH_FILE": str(reg.auth_file())}
            denied = run(
                "sbom",
                ref,
                "--plain-http",
                "-f",
                "json",
                env={**os.environ, "REGISTRY_AUTH_FILE": "/nonexistent"},
            )
            assert denied.returncode == 2, denied.stderr
            assert "login" in denied.stderr or "denied" in denied.stderr or "refused" in denied.stderr
        from_reg = run("sbom", ref, "--plain-http", "-f", "json", "--no-cache", env=env)
        assert from_reg.returncode == 0, from_reg.stderr
        from_dir = run("sbom", src, "-f", "json", "--no-cache")
        assert from_dir.returncode == 0, from_dir.stderr
        assert packages(from_reg.stdout) == packages(from_dir.stdout)
        assert len(packages(from_reg.stdout)) == 14
        if auth == "token":
            assert "Basic" in reg.token_server.requests  # credentials went to the token service
        cdx = run("sbom", ref, "--plain-http", "-f", "cyclonedx", env=env)
        assert cdx.returncode == 0, cdx.stderr
        comps = json.loads(cdx.stdout)["components"]
        assert any(c.get("purl", "").startswith("pkg:apk/alpine/musl@") for c in comps)
    finally:
        if reg is not anon_registry:
            reg.stop()


def test_registry_debian_app_multilayer(corpus_image, anon_registry):
    img = corpus_image("debian-app")
    ref = anon_registry.push(img["refs"]["oci"], "team/debian-app:1")
    a = run("sbom", ref, "--plain-http", "-f", "json", "--no-cache")
    b = run("sbom", img["refs"]["oci"], "-f", "json", "--no-cache")
    assert a.returncode == 0 and b.returncode == 0, a.stderr + b.stderr
    assert packages(a.stdout) == packages(b.stdout)


def test_by_digest_and_unknown_tag(anon_registry, small_image):
    ref = anon_registry.push(small_image, "team/small:1")
    r = httpx.get(
        f"http://{ref.replace('/team', '/v2/team', 1).replace(':1', '')}/manifests/1",
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
    )
    digest = r.headers["Docker-Content-Digest"]
    byd = run("inventory", f"{ref.rsplit(':', 1)[0]}@{digest}", "--plain-http", "-f", "json")
    assert byd.returncode == 0, byd.stderr
    assert json.loads(byd.stdout)["image_digest"] == digest
    missing = run("inventory", f"{ref.rsplit(':', 1)[0]}:nope", "--plain-http")
    assert missing.returncode == 2 and "manifest not found" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1


class _CorruptingProxy:
    """Passes registry traffic through, flipping a byte in every blob body (a bad mirror)."""

    def __init__(self, upstream: str) -> None:
        self.port = free_port()
        up = upstream

        class H(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                r = httpx.get(
                    f"http://{up}{self.path}",
                    headers={k: v for k, v in self.headers.items() if k.lower() != "host"},
                )
                body = r.content
                if "/blobs/" in self.path and body and r.status_code == 200:
                    body = bytes([body[0] ^ 0xFF]) + body[1:]
                self.send_response(r.status_code)
                for k, v in r.headers.items():
                    if k.lower() not in (
                        "content-length",
                        "transfer-encoding",
                        "connection",
                        "content-encoding",
                    ):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), H)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def test_registry_returning_wrong_blob_is_refused(anon_registry, small_image):
    anon_registry.push(small_image, "team/small:2")
    proxy = _CorruptingProxy(anon_registry.host)
    try:
        r = run("sbom", f"127.0.0.1:{proxy.port}/team/small:2", "--plain-http", "--no-cache")
        assert r.returncode == 2
        assert "digest does not match" in r.stderr
        assert "Traceback" not in r.stderr
    finally:
        proxy.httpd.shutdown()


def test_unreachable_registry_is_one_line(small_image):
    r = run("sbom", f"127.0.0.1:{free_port()}/x/y:1", "--plain-http")
    assert r.returncode == 2 and "cannot connect" in r.stderr and "Traceback" not in r.stderr


def test_multi_platform_index_from_the_registry(anon_registry, tmp_path):
    amd = ImageSpec(layers=[base_layer(("only-amd64", "1"))], architecture="amd64")
    arm = ImageSpec(layers=[base_layer(("only-arm64", "1"))], architecture="arm64")
    write_oci(str(tmp_path / "multi"), [amd, arm])
    dest = f"docker://{anon_registry.host}/team/multi:1"
    r = subprocess.run(
        [
            "skopeo",
            "--insecure-policy",
            "copy",
            "--all",
            "--quiet",
            "--dest-tls-verify=false",
            f"oci:{tmp_path}/multi:latest",
            dest,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    ref = f"{anon_registry.host}/team/multi:1"
    arm_run = run("inventory", ref, "--plain-http", "--platform", "linux/arm64", "-f", "json", "--no-cache")
    assert arm_run.returncode == 0, arm_run.stderr
    assert {p["name"] for p in json.loads(arm_run.stdout)["packages"]} == {"only-arm64"}
    missing = run("inventory", ref, "--plain-http", "--platform", "linux/s390x")
    assert missing.returncode == 2 and "linux/amd64, linux/arm64" in missing.stderr


def test_scan_straight_from_the_registry_to_sarif(anon_registry, tmp_path):
    from containment.image.build import TarEntry, layer_tar
    from tests.conftest import OS_RELEASE, corpus_dir, status_stanza

    adv = corpus_dir() / "advisories" / "osv-debian-changelog"
    if not adv.is_dir():
        pytest.skip(f"no corpus advisories at {adv}")
    db = tmp_path / "adv.db"
    assert run("db", "import", str(adv), "--db", str(db), "-q").returncode == 0
    # bookworm's expat before the corpus fixes (2.5.0-1+deb12u4 fixes CVE-2024-28757)
    status = status_stanza("libexpat1", "2.5.0-1", source="expat").encode()
    layer = layer_tar([TarEntry("usr/lib/os-release", OS_RELEASE), TarEntry("var/lib/dpkg/status", status)])
    write_oci(str(tmp_path / "img"), ImageSpec(layers=[layer]))
    ref = anon_registry.push(f"oci:{tmp_path}/img:latest", "team/expat:1")
    out = tmp_path / "scan.sarif"
    r = run("scan", "image", ref, "--plain-http", "--db", str(db), "--format", "sarif", "-o", str(out), "-q")
    assert r.returncode == 0, r.stderr
    sarif = json.loads(out.read_text())
    assert sarif["version"] == "2.1.0"
    results = sarif["runs"][0]["results"]
    assert "CVE-2024-28757" in {x["ruleId"] for x in results}
    gate = run(
        "scan", "image", ref, "--plain-http", "--db", str(db), "--severity", "HIGH", "--exit-code", "3", "-q"
    )
    assert gate.returncode == 3
