"""The matcher against a real advisory store built from small OSV fixtures."""

from __future__ import annotations

import json

import pytest

from containment.advisories.importer import import_paths
from containment.advisories.store import AdvisoryStore
from containment.match import match
from containment.model import Inventory, OSInfo, Package

LAYER = "sha256:" + "1" * 64


def osv(rid, eco, name, events, aliases=(), withdrawn=None, severity=None, versions=None, dbs=None):
    rec = {
        "schema_version": "1.6.0",
        "id": rid,
        "modified": "2024-01-01T00:00:00Z",
        "aliases": list(aliases),
        "summary": f"{rid} summary",
        "details": "details",
        "affected": [
            {"package": {"ecosystem": eco, "name": name}, "ranges": [{"type": "ECOSYSTEM", "events": events}]}
        ],
    }
    if versions:
        rec["affected"][0]["versions"] = versions
    if withdrawn:
        rec["withdrawn"] = withdrawn
    if severity:
        rec["severity"] = [{"type": "CVSS_V3", "score": severity}]
    if dbs:
        rec["database_specific"] = dbs
    return rec


@pytest.fixture
def store(tmp_path):
    feed = tmp_path / "feed"
    feed.mkdir()
    recs = [
        osv(
            "PYSEC-2021-1",
            "PyPI",
            "Django",
            [{"introduced": "3.2"}, {"fixed": "3.2.13"}],
            aliases=["CVE-2022-28346"],
            severity="CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        ),
        osv(
            "GHSA-2gwj-7jmv-h26r",
            "PyPI",
            "django",
            [{"introduced": "3.2"}, {"fixed": "3.2.13"}],
            aliases=["CVE-2022-28346"],
            dbs={"severity": "CRITICAL"},
        ),
        osv("PYSEC-2099-9", "PyPI", "django", [{"introduced": "0"}], withdrawn="2024-02-01T00:00:00Z"),
        osv("GHSA-dev0-0000-0000", "PyPI", "pytest", [{"introduced": "0"}, {"fixed": "9.0"}]),
        osv(
            "DEBIAN-CVE-2024-1",
            "Debian:12",
            "glibc",
            [{"introduced": "0"}, {"fixed": "2.36-9+deb12u4"}],
            aliases=["CVE-2024-1"],
        ),
        osv("GO-2024-1", "Go", "stdlib", [{"introduced": "0"}, {"fixed": "1.19.9"}]),
    ]
    for r in recs:
        (feed / f"{r['id']}.json").write_text(json.dumps(r))
    db = tmp_path / "adv.db"
    import_paths([str(feed)], str(db))
    s = AdvisoryStore.open(str(db))
    yield s
    s.close()


def pkg(name, version, type_, purl, **kw):
    return Package(
        name, version, type_, purl, kw.pop("path", "x"), kw.pop("cataloger", "t"), layer=LAYER, **kw
    )


def test_merges_aliases_skips_withdrawn_and_dev(store):
    inv = Inventory(
        "t",
        "image",
        OSInfo("debian", "12"),
        (
            pkg("Django", "3.2.12", "pypi", "pkg:pypi/django@3.2.12"),
            pkg("pytest", "7.0", "pypi", "pkg:pypi/pytest@7.0", dev=True),
            pkg(
                "libc6",
                "2.36-9+deb12u3",
                "deb",
                "pkg:deb/debian/libc6@2.36-9+deb12u3",
                source_name="glibc",
                source_version="2.36-9+deb12u3",
            ),
            pkg(
                "libc6-old-but-fixed",
                "2.36-9+deb12u4",
                "deb",
                "pkg:deb/debian/x@1",
                source_name="glibc",
                source_version="2.36-9+deb12u4",
            ),
            pkg("stdlib", "go1.19.8", "golang", "pkg:golang/stdlib@1.19.8"),
            pkg("django", "not/a/version", "pypi", "pkg:pypi/django@x", path="other"),
        ),
    )
    findings, warnings = match(inv, store)
    by = {(f.package.name, f.id): f for f in findings}
    dj = by[("Django", "CVE-2022-28346")]
    assert set(dj.advisory_ids) == {"PYSEC-2021-1", "GHSA-2gwj-7jmv-h26r"}  # one finding, both records
    assert dj.severity == "CRITICAL" and dj.severity_source == "ghsa"
    assert dj.fixed_versions == ("3.2.13",) and dj.status == "fixed" and dj.layer == LAYER
    assert not any(f.id == "PYSEC-2099-9" for f in findings)  # withdrawn
    assert not any(f.package.name == "pytest" for f in findings)  # dev-only: off by default
    glibc = by[("libc6", "CVE-2024-1")]
    assert glibc.ecosystem == "Debian:12" and glibc.installed_version == "2.36-9+deb12u3"
    assert not any(f.package.name == "libc6-old-but-fixed" for f in findings)
    assert ("stdlib", "GO-2024-1") in by
    assert any("unknown version" in w for w in warnings)
    dev, _ = match(inv, store, include_dev=True)
    assert any(f.package.name == "pytest" for f in dev)
