"""`containment scan` end to end: the real corpus advisories against the real corpus images."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from containment.image.build import ImageSpec, TarEntry, layer_tar, write_oci
from tests.conftest import corpus_dir

pytestmark = pytest.mark.e2e

ADV = corpus_dir() / "advisories"


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "containment", *args], capture_output=True, text=True, timeout=600, env=env
    )


@pytest.fixture(scope="module")
def corpus_db(tmp_path_factory):
    if not ADV.is_dir():
        pytest.skip(f"no corpus advisories at {ADV} (set CONTAINMENT_CORPUS)")
    db = tmp_path_factory.mktemp("db") / "advisories.db"
    r = cli("db", "import", str(ADV), "--db", str(db), "-q")
    assert r.returncode == 0, r.stderr
    return str(db)


def scan_json(ref: str, db: str, *extra: str) -> dict:
    r = cli("scan", "image", ref, "--db", db, "-f", "json", "-q", *extra)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def dpkg_lt(a: str, b: str) -> bool:
    return subprocess.run(["dpkg", "--compare-versions", a, "lt", b]).returncode == 0


@pytest.mark.parametrize("name", ["debian-minbase", "debian-app"])
def test_debian_findings_are_exactly_the_applicable_changelog_cves(corpus_image, corpus_db, name):
    img = corpus_image(name)
    doc = scan_json(img["refs"]["oci"], corpus_db)
    inv = json.loads(cli("inventory", img["refs"]["oci"], "-f", "json", "-q").stdout)
    sources = {
        (p.get("source_name") or p["name"]): (p.get("source_version") or p["version"])
        for p in inv["packages"]
        if p["type"] == "deb"
    }
    want = set()
    for f in (ADV / "osv-debian-changelog").glob("*.json"):
        rec = json.loads(f.read_text())
        for aff in rec["affected"]:
            src = aff["package"]["name"]
            fixed = [e["fixed"] for r in aff["ranges"] for e in r["events"] if "fixed" in e]
            if src in sources and fixed and dpkg_lt(sources[src], fixed[0]):
                want.update((a, src) for a in rec["aliases"] if a.startswith("CVE-"))
    got = {
        (c, f["package"]["source_name"])
        for f in doc["findings"]
        if f["ecosystem"] == "Debian:12"
        for c in [f["id"], *f["aliases"]]
        if c.startswith("CVE-")
    }
    assert want and got == want
    assert all(f["layer"] for f in doc["findings"])


def test_alpine_secdb_backports(corpus_db, tmp_path):
    """Hand-checked against alpine-secdb v3.11 main.yaml: openssl fixes 1.1.1a-r0 (CVE-2018-0734/0735),
    1.1.1b-r1 (CVE-2019-1543), 1.1.1d-r1 (CVE-2019-1547/1549/1563), 1.1.1d-r3 (CVE-2019-1551)."""
    db = b"P:libssl1.1\nV:1.1.1a-r1\nA:x86_64\no:openssl\n\nP:musl\nV:1.1.24-r2\nA:x86_64\no:musl\n\n"
    layer = layer_tar(
        [
            TarEntry("etc/alpine-release", b"3.11.5\n"),
            TarEntry("lib/apk/db/installed", db),
            TarEntry("etc/os-release", b"ID=alpine\nVERSION_ID=3.11.5\n"),
        ]
    )
    write_oci(str(tmp_path / "img"), ImageSpec(layers=[layer]))
    doc = scan_json(f"oci:{tmp_path}/img", corpus_db)
    got = {f["id"] for f in doc["findings"]}
    assert got == {"CVE-2019-1543", "CVE-2019-1547", "CVE-2019-1549", "CVE-2019-1563", "CVE-2019-1551"}
    f = next(f for f in doc["findings"] if f["id"] == "CVE-2019-1551")
    assert f["fixed_versions"] == ["1.1.1d-r3"] and f["ecosystem"] == "Alpine:v3.11"


@pytest.mark.parametrize("name", ["alpine-310", "alpine-311"])
def test_corpus_alpine_images_are_clean_against_their_secdb(corpus_image, corpus_db, name):
    # every secfix listed for their packages is at or below the installed version (hand-checked)
    assert scan_json(corpus_image(name)["refs"]["oci"], corpus_db)["findings"] == []


def test_go_and_python_findings_in_the_app_image(corpus_image, corpus_db):
    doc = scan_json(corpus_image("debian-app")["refs"]["oci"], corpus_db)
    go = {
        (f["package"]["name"], i)
        for f in doc["findings"]
        if f["ecosystem"] == "Go"
        for i in f["advisory_ids"]
    }
    assert ("stdlib", "GO-2023-1751") in go
    assert not any(i == "GO-2023-2185" for _, i in go)  # windows-only: not in a linux binary
    py = [f for f in doc["findings"] if f["ecosystem"] == "PyPI"]
    assert any(f["package"]["name"].lower() == "django" for f in py)
    assert not any(f["package"]["name"].lower() == "pillow" for f in py)  # uninstalled in layer 4


def test_exit_codes_severity_filter_and_formats(corpus_image, corpus_db, tmp_path):
    ref = corpus_image("debian-minbase")["refs"]["oci"]
    gate = cli(
        "scan", "image", ref, "--db", corpus_db, "--severity", "HIGH,CRITICAL", "--exit-code", "1", "-q"
    )
    assert gate.returncode == 1 and "HIGH" in gate.stdout
    low = cli("scan", "image", ref, "--db", corpus_db, "--severity", "LOW", "--exit-code", "1", "-q")
    assert low.returncode == 0
    bad = cli("scan", "image", ref, "--db", corpus_db, "--severity", "SEVERE")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    sarif = tmp_path / "scan.sarif"
    r = cli("scan", "image", ref, "--db", corpus_db, "--format", "sarif", "-o", str(sarif), "-q")
    assert r.returncode == 0, r.stderr
    doc = json.loads(sarif.read_text())
    assert doc["version"] == "2.1.0" and doc["runs"][0]["results"]
    cdx = json.loads(cli("scan", "image", ref, "--db", corpus_db, "--format", "cyclonedx", "-q").stdout)
    refs = {c["bom-ref"] for c in cdx["components"]}
    assert all(a["ref"] in refs for v in cdx["vulnerabilities"] for a in v["affects"])


def test_ignorefile_and_vex(corpus_image, corpus_db, tmp_path):
    ref = corpus_image("debian-minbase")["refs"]["oci"]
    base = scan_json(ref, corpus_db)
    first = base["findings"][0]
    ign = tmp_path / ".containmentignore"
    ign.write_text(
        f"- id: {first['id']}\n  reason: accepted risk\n  expires: 2999-01-01\n"
        f"- id: {base['findings'][1]['id']}\n  expires: 2001-01-01\n"
    )
    doc = scan_json(ref, corpus_db, "--ignorefile", str(ign))
    assert first["id"] not in {f["id"] for f in doc["findings"]}
    assert any(s["suppressed"]["kind"] == "ignorefile" for s in doc["suppressed"])
    assert any("expired" in w or "2001-01-01" in w for w in doc["warnings"])  # expired entries say so
    vex = tmp_path / "vex.json"
    purl = first["package"]["purl"].split("@")[0]
    vex.write_text(
        json.dumps(
            {
                "@context": "https://openvex.dev/ns/v0.2.0",
                "@id": "https://example.com/vex/1",
                "author": "sec team",
                "timestamp": "2026-01-01T00:00:00Z",
                "version": 1,
                "statements": [
                    {
                        "vulnerability": {"name": first["id"]},
                        "products": [{"@id": purl}],
                        "status": "not_affected",
                        "justification": "vulnerable_code_not_in_execute_path",
                    }
                ],
            }
        )
    )
    doc = scan_json(ref, corpus_db, "--vex", str(vex))
    sup = [s for s in doc["suppressed"] if s["id"] == first["id"]]
    assert sup and sup[0]["suppressed"]["justification"] == "vulnerable_code_not_in_execute_path"


def test_scan_fs_lockfiles_and_dev_deps(corpus_db, tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "requirements.txt").write_text("django==3.2.12  # pinned\nrequests>=2\n")
    (repo / "Pipfile.lock").write_text(
        json.dumps(
            {
                "_meta": {"hash": {"sha256": "x"}, "pipfile-spec": 6, "requires": {}, "sources": []},
                "default": {},
                "develop": {"pyyaml": {"version": "==5.3"}},
            }
        )
    )
    r = cli("scan", "fs", str(repo), "--db", corpus_db, "-f", "json", "-q")
    assert r.returncode == 0, r.stderr
    names = {f["package"]["name"].lower() for f in json.loads(r.stdout)["findings"]}
    assert "django" in names and "pyyaml" not in names
    r = cli("scan", "fs", str(repo), "--db", corpus_db, "-f", "json", "-q", "--include-dev-deps")
    assert "pyyaml" in {f["package"]["name"].lower() for f in json.loads(r.stdout)["findings"]}


def test_missing_db_is_one_clear_line(tmp_path, corpus_image):
    r = cli("scan", "fs", str(tmp_path), "--db", str(tmp_path / "none.db"), "--skip-db-update")
    assert r.returncode == 2 and "db update" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    env = {**os.environ, "CONTAINMENT_DB": str(Path(tmp_path) / "nope.db")}
    r = cli("db", "status", env=env)
    assert r.returncode == 2
