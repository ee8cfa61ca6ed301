from __future__ import annotations

import json

import pytest
import yaml

from containment.advisories import alpine, debian, names, osv
from containment.advisories.codec import DocumentError, load_document, load_yaml
from containment.advisories.feed import Sink

from .conftest import SECDB_V311, TRACKER
from .conftest import osv as osv_rec


@pytest.mark.parametrize(
    "eco,name,want",
    [
        ("PyPI", "Zope.Interface", "zope-interface"),
        ("PyPI", "foo__bar--baz", "foo-bar-baz"),
        ("Maven", "org.Apache:Commons", "org.Apache:Commons"),
        ("NuGet", "Newtonsoft.Json", "newtonsoft.json"),
        ("crates.io", "Serde", "serde"),
        ("Packagist", "Symfony/HTTP", "symfony/http"),
        ("npm", "@Scope/Pkg", "@Scope/Pkg"),
        ("Go", "github.com/BurntSushi/toml", "github.com/BurntSushi/toml"),
        ("RubyGems", "Rails", "Rails"),
        ("Debian:12", "OpenSSL", "openssl"),
        ("Alpine:v3.11", "Busybox", "busybox"),
        ("Red Hat", "Kernel", "kernel"),
        ("Ubuntu:22.04:LTS", "Curl", "curl"),
        ("SomethingNew", "AsIs", "AsIs"),
    ],
)
def test_normalize(eco: str, name: str, want: str) -> None:
    assert names.normalize(eco, name) == want


def test_yaml_loader_matches_libyaml_and_keeps_strings() -> None:
    text = "a: 1.10\nb: 2024-01-01T00:00:00Z\nc:\nd: [x, 'y']\ne: ~\nf: '0'\n"
    assert load_yaml(text.encode()) == {
        "a": "1.10",
        "b": "2024-01-01T00:00:00Z",
        "c": None,
        "d": ["x", "y"],
        "e": None,
        "f": "0",
    }
    doc = load_yaml(SECDB_V311.encode())
    assert doc == yaml.load(SECDB_V311, Loader=yaml.CBaseLoader) | {"packages": doc["packages"]}
    with pytest.raises(DocumentError):
        load_yaml(b"a: &x [1]\nb: *x\n")
    with pytest.raises(DocumentError):
        load_document(b"a: [unclosed\n")
    assert load_document(b'{"id": "X"}') == {"id": "X"}
    assert load_document(b"{id: X}") == {"id": "X"}  # YAML flow mapping


def _one(units):
    assert len(units) == 1
    return units[0]


def test_osv_record() -> None:
    rec = osv_rec(
        "GHSA-1",
        eco="npm",
        name="lodash",
        aliases=["CVE-2020-1"],
        database_specific={"severity": "HIGH", "github_reviewed": True},
        severity=[{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N"}],
    )
    rec["affected"].append(
        {
            "package": {"ecosystem": "Go", "name": "example.com/m"},
            "ranges": [{"type": "GIT", "repo": "r", "events": [{"introduced": "0"}, {"fixed": "abc"}]}],
            "versions": ["v1.0.0"],
        }
    )
    rec["affected"].append(
        {
            "package": {"ecosystem": "Go", "name": "example.com/gitonly"},
            "ranges": [{"type": "GIT", "events": [{"introduced": "0"}]}],
        }
    )
    sink = Sink()
    u = _one(osv.parse(rec, "f.json", sink))
    assert sink.warnings == []
    assert u.feed == "osv" and u.key == "GHSA-1" and u.source == "osv:npm" and u.records == 1
    assert len(u.affected) == 2  # the GIT-only entry is dropped
    a0 = json.loads(u.affected[0][4])
    assert a0["r"] == [["ECOSYSTEM", [["introduced", "0"], ["fixed", "4.2.1"]]]]
    assert a0["s"] == ["ghsa", "HIGH"]
    a1 = json.loads(u.affected[1][4])
    assert "r" not in a1 and a1["v"] == ["v1.0.0"]
    adv = json.loads(u.advisories[0][4])
    assert adv["aliases"] == ["CVE-2020-1"] and adv["severity"] == [["CVSS_V3", "CVSS:3.1/AV:N"]]


def test_osv_malformed_record_is_skipped_with_field() -> None:
    good = osv_rec("PYSEC-1")
    bad = osv_rec("PYSEC-2")
    bad["affected"][0]["ranges"][0]["events"] = [{"introduced": "0", "fixed": "1"}]
    bad2 = osv_rec("PYSEC-3")
    del bad2["affected"][0]["package"]["name"]
    sink = Sink()
    units = osv.parse([good, bad, bad2, "junk"], "list.json", sink)
    assert [u.key for u in units] == ["PYSEC-1"]
    assert sink.skipped == 3
    assert "list.json" in sink.warnings[0] and "affected[0].ranges[0].events[0]" in sink.warnings[0]
    assert "affected[0].package.name" in sink.warnings[1]


def test_osv_debian_urgency() -> None:
    rec = osv_rec("DEBIAN-CVE-2025-1", eco="Debian:12", name="postgresql-15")
    rec["affected"][0]["database_specific"] = {"changelog_entry": {"urgency": "medium"}}
    u = _one(osv.parse(rec, "x", Sink()))
    assert json.loads(u.affected[0][4])["s"] == ["debian-changelog", "medium"]  # upload urgency: weak
    assert u.affected[0][1] == "Debian:12" and u.affected[0][2] == "postgresql-15"
    rec["affected"][0]["database_specific"] = {"urgency": "low"}  # a security tracker's own rating
    u = _one(osv.parse(rec, "x", Sink()))
    assert json.loads(u.affected[0][4])["s"] == ["debian", "low"]


def test_alpine_secdb() -> None:
    doc = load_yaml(SECDB_V311.encode())
    assert alpine.is_secdb(doc)
    sink = Sink()
    u = _one(alpine.parse(doc, "main.yaml", sink))
    assert sink.warnings == []
    assert u.key == "Alpine:v3.11/main" and u.feed == "alpine-secdb"
    rows = {(r[0], r[2]): json.loads(r[4]) for r in u.affected}
    assert rows[("CVE-2020-1967", "openssl")]["r"] == [
        ["ECOSYSTEM", [["introduced", "0"], ["fixed", "1.1.1g-r0"]]]
    ]
    assert ("CVE-2019-1563", "openssl") in rows and ("CVE-2019-1549", "openssl") in rows
    assert ("CVE-2018-0734", "openssl") in rows
    assert ("XSA-311", "xen") in rows and ("CVE-2019-17343", "xen") in rows
    assert ("CVE-2017-0001", "xen") not in rows  # version 0: never affected
    assert ("CVE-2019-5747", "busybox") in rows
    advs = {a[0]: json.loads(a[4]) for a in u.advisories}
    assert advs["CVE-2019-17343"]["aliases"] == ["XSA-310"]
    assert all(r[1] == "Alpine:v3.11" for r in u.affected)
    assert u.records == 10  # (package, id) pairs including the version-0 one


@pytest.mark.parametrize(
    "line,cves,others",
    [
        ("CVE-2019-1", [], []),
        ("CVE-2019-1234", ["CVE-2019-1234"], []),
        ("CVE-2017-17434-1", ["CVE-2017-17434"], []),
        ("CVE-2018-8897  XSA-260", ["CVE-2018-8897"], ["XSA-260"]),
        ("CVE-2018-10103 (SMB - partially fixed, but SMB printing disabled)", ["CVE-2018-10103"], []),
        ("CVE-????-?????  XSA-295", [], ["XSA-295"]),
        ("CVE 2018-16859", ["CVE-2018-16859"], []),
        ("wnpa-sec-2017-18", [], ["wnpa-sec-2017-18"]),
        ("CVE-2017-12122 TALOS-2017-0488", ["CVE-2017-12122"], ["TALOS-2017-0488"]),
    ],
)
def test_alpine_ids(line: str, cves: list[str], others: list[str]) -> None:
    assert alpine.parse_ids(line) == (cves, others)


def test_debian_tracker() -> None:
    assert debian.is_tracker(TRACKER)
    sink = Sink()
    u = _one(debian.parse(TRACKER, "tracker.json", sink))
    assert any("experimental" in w for w in sink.warnings) and sink.skipped == 0
    rows = {(r[0], r[1], r[2]): json.loads(r[4]) for r in u.affected}
    fixed = rows[("CVE-2023-0286", "Debian:12", "openssl")]
    assert fixed["r"] == [["ECOSYSTEM", [["introduced", "0"], ["fixed", "3.0.8-1"]]]] and "st" not in fixed
    assert ("CVE-2023-0286", "Debian:sid", "openssl") in rows
    wont = rows[("CVE-2007-6755", "Debian:12", "openssl")]
    assert (
        wont["st"] == "wont_fix"
        and wont["s"] == ["debian", "unimportant"]
        and wont["r"] == [["ECOSYSTEM", [["introduced", "0"]]]]
    )
    assert ("CVE-2007-6755", "Debian:13", "openssl") not in rows  # fixed_version 0: not affected
    assert rows[("CVE-2024-26600", "Debian:12", "linux")]["st"] == "unfixed"
    assert rows[("CVE-2024-26600", "Debian:12", "linux")]["s"] == ["debian", "medium"]
    assert rows[("CVE-2024-26600", "Debian:11", "linux")]["st"] == "wont_fix"  # nodsa ignored
    assert rows[("CVE-2024-26600", "Debian:10", "linux")]["st"] == "wont_fix"  # end-of-life
    assert u.records == 3


def test_debian_bad_release_skips_pair() -> None:
    doc = {
        "curl": {
            "CVE-1": {"releases": {"bookworm": {"status": "resolved"}}},
            "CVE-2": {"releases": {"bookworm": {"status": "open"}}},
        }
    }
    sink = Sink()
    u = _one(debian.parse(doc, "t.json", sink))
    assert sink.skipped == 1 and "fixed_version" in sink.warnings[0] and "curl/CVE-1" in sink.warnings[0]
    assert [r[0] for r in u.affected] == ["CVE-2"]
