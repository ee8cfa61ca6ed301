"""Inventories of the real corpus images (built by ../shared/corpus/build-images.sh)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

import pytest

pytestmark = pytest.mark.e2e


def sbom_json(ref: str, *extra: str) -> dict:
    r = subprocess.run(
        [sys.executable, "-m", "containment", "sbom", ref, "-f", "json", "-q", *extra],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_debian_app_reports_what_is_there_and_nothing_deleted(corpus_image):
    img = corpus_image("debian-app")
    doc = sbom_json(img["refs"]["oci"])
    pk = doc["packages"]
    counts = Counter(p["type"] for p in pk)
    assert counts["deb"] == img["contains"]["dpkg_packages"]
    assert counts["pypi"] == img["contains"]["python_dist_info_in_venv"]
    names = {(p["type"], p["name"].lower()) for p in pk}
    # deleted in layer 4: dpkg --purge age, pip uninstall Pillow, the age binaries gone
    assert ("deb", "age") not in names
    assert ("pypi", "pillow") not in names  # also pinned in /opt/app/requirements.txt: the tree wins
    assert not any(p["type"] == "golang" and "filippo.io/age" in p["name"] for p in pk)
    # every package says which layer brought it; the app layer brought the venv
    layers = [x["diff_id"] for x in doc["layers"]]
    flask = next(p for p in pk if p["type"] == "pypi" and p["name"].lower() == "flask")
    assert flask["layer"] == layers[2]
    libc = next(p for p in pk if p["name"] == "libc6")
    assert libc["layer"] == layers[0] and libc["source_name"] == "glibc"
    assert "distro=debian-12" in libc["purl"]
    go = {(p["name"], p["version"]) for p in pk if p["type"] == "golang"}
    assert ("stdlib", "go1.19.8") in go and ("golang.org/x/sys", "v0.0.0-20220715151400-c0bba94af5f8") in go
    jars = {p["name"] for p in pk if p["type"] == "maven"}
    assert {"jackson-databind", "snakeyaml", "commons-lang3"} <= jars
    web = [p for p in pk if p["type"] == "npm" and p["path"].startswith("opt/app/web/node_modules/")]
    assert len({(p["name"], p["version"]) for p in web}) == img["contains"]["npm_installed_packages"]


@pytest.mark.parametrize("name", ["alpine-310", "alpine-311", "debian-minbase"])
def test_oci_and_docker_archive_agree(corpus_image, name):
    img = corpus_image(name)
    a = sbom_json(img["refs"]["oci"])
    b = sbom_json(img["refs"]["docker_archive"])
    key = lambda d: sorted((p["purl"], p["path"], p["layer"]) for p in d["packages"])  # noqa: E731
    assert key(a) == key(b) and a["packages"]
    assert a["os"]["id"] in ("alpine", "debian")


def test_alpine_origin_and_distro(corpus_image):
    doc = sbom_json(corpus_image("alpine-311")["refs"]["oci"])
    musl = next(p for p in doc["packages"] if p["name"] == "musl")
    assert musl["purl"].startswith("pkg:apk/alpine/musl@1.1.24-r2") and "distro=alpine-3.11.5" in musl["purl"]
    ssl = next(p for p in doc["packages"] if p["name"] == "libssl1.1")
    assert ssl["source_name"] == "openssl"
