"""NVD CVE JSON 2.0 and osv.dev CVE records -> the cvss table -> the severity of findings that
neither the distribution nor the advisory rated (source nvd / osv-cve), in every format."""

from __future__ import annotations

import copy
import gzip
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from containment.advisories import nvd
from containment.advisories.feed import Sink
from containment.advisories.importer import import_paths
from containment.advisories.store import AdvisoryStore
from containment.advisories.update import update
from containment.cli.main import app
from containment.match import match
from containment.model import FeedError, Inventory, OSInfo, Package, ScanReport

from .conftest import SECDB_V311, TRACKER, Mirror, make_zip, osv, write_json
from .nvd_records import CVE_2019_11358, CVE_2023_0286, cve, feed, metric, write_feed

LAYER = "sha256:" + "1" * 64
# CVE-2020-1967 (OpenSSL SSL_check_chain NULL dereference) as NVD scores it
CVE_2020_1967 = cve(
    "CVE-2020-1967",
    cvssMetricV31=[metric("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", "3.1")],
    cvssMetricV2=[metric("AV:N/AC:L/Au:N/C:N/I:N/A:P", "2.0")],
)
# osv.dev's CVE record shape: GIT ranges, no package, the CVSS in severity[]
OSV_CVE_2024_7264 = {
    "id": "CVE-2024-7264",
    "modified": "2025-11-03T23:17:31.647Z",
    "published": "2024-07-31T08:15:02.657Z",
    "details": "libcurl's ASN1 parser code has the `GTime2str()` function ...",
    "affected": [
        {
            "ranges": [
                {
                    "type": "GIT",
                    "repo": "https://github.com/curl/curl",
                    "events": [
                        {"introduced": "70812c2f32fc5734bcbbe572b9f61c380433ad6a"},
                        {"fixed": "27959ecce75cdb2809c0bdb3286e60e08fadb519"},
                    ],
                }
            ]
        }
    ],
    "database_specific": {},
    "references": [{"type": "ADVISORY", "url": "https://curl.se/docs/CVE-2024-7264.html"}],
    "severity": [{"score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:N/I:N/A:H", "type": "CVSS_V3"}],
}


def pkg(name: str, version: str, type_: str, purl: str, **kw: Any) -> Package:
    return Package(
        name, version, type_, purl, kw.pop("path", "x"), kw.pop("cataloger", "t"), layer=LAYER, **kw
    )


def deb(name: str, version: str, source: str = "") -> Package:
    return pkg(
        name,
        version,
        "deb",
        f"pkg:deb/debian/{name}@{version}",
        source_name=source or name,
        source_version=version,
        path="var/lib/dpkg/status",
        cataloger="dpkg-status",
    )


def _tracker(urgency: str) -> dict[str, Any]:
    t = copy.deepcopy({"openssl": {"CVE-2023-0286": TRACKER["openssl"]["CVE-2023-0286"]}})
    t["openssl"]["CVE-2023-0286"]["releases"]["bookworm"]["urgency"] = urgency
    return t


@pytest.fixture
def feeds(tmp_path: Path) -> Path:
    d = tmp_path / "feeds"
    write_feed(
        d / "nvd" / "nvdcve-2.0-2023.json.gz",
        CVE_2023_0286,
        cve("CVE-2023-9999", cvssMetricV31=[metric("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "3.1")])
        | {"vulnStatus": "Rejected"},
        # only a CNA's CVSS 4.0 and NVD's 2.0: the modern one rates it
        cve(
            "CVE-2023-4444",
            cvssMetricV40=[
                metric(
                    "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
                    "4.0",
                    "cna@example.org",
                    "Secondary",
                )
            ],
            cvssMetricV2=[metric("AV:N/AC:L/Au:N/C:P/I:P/A:P", "2.0")],
        ),
        # only CVSS 2.0, 9.3: HIGH on the v2 scale, which has no CRITICAL
        cve("CVE-2023-2222", cvssMetricV2=[metric("AV:N/AC:M/Au:N/C:C/I:C/A:C", "2.0")]),
    )
    write_feed(d / "nvd" / "nvdcve-2.0-2019.json.zip", CVE_2019_11358)
    write_json(d / "nvd" / "CVE-2020-1967.json", CVE_2020_1967)  # a bare CVE object, one per file
    write_json(d / "osv" / "CVE-2024-7264.json", OSV_CVE_2024_7264)
    # osv.dev also has a record of CVE-2023-0286, with another score: NVD's feed wins
    rec = copy.deepcopy(OSV_CVE_2024_7264) | {"id": "CVE-2023-0286"}
    rec["severity"] = [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]
    write_json(d / "osv" / "CVE-2023-0286.json", rec)
    write_json(d / "debian" / "tracker.json", _tracker("not yet assigned"))
    (d / "alpine" / "v3.11").mkdir(parents=True)
    (d / "alpine" / "v3.11" / "main.yaml").write_text(SECDB_V311)
    write_json(
        d / "osv" / "PYSEC-2023-1.json",
        osv("PYSEC-2023-1", name="jquery-py", aliases=["CVE-2019-11358"]),  # no severity of its own
    )
    write_json(
        d / "osv" / "GHSA-curl-0000-0000.json",
        osv("GHSA-curl-0000-0000", eco="PyPI", name="pycurl", aliases=["CVE-2024-7264"]),
    )
    write_json(
        d / "osv" / "DEBIAN-CVE-2023-2222.json",
        osv(
            "DEBIAN-CVE-2023-2222",
            eco="Debian:12",
            name="zlib",
            aliases=["CVE-2023-2222"],
            affected=[
                {
                    "package": {"ecosystem": "Debian:12", "name": "zlib"},
                    "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1:1.2.13"}]}],
                    # how fast the maintainer wanted the upload out: weaker than NVD's CVSS
                    "database_specific": {"changelog_entry": {"urgency": "low"}},
                }
            ],
        ),
    )
    return d


@pytest.fixture
def store(feeds: Path, tmp_path: Path) -> Iterator[AdvisoryStore]:
    db = tmp_path / "a.db"
    st = import_paths([feeds], db)
    assert st.skipped == 0, st.warnings
    with AdvisoryStore.open(str(db)) as s:
        yield s


def test_feed_files_and_records_are_read(store: AdvisoryStore) -> None:
    got = store.cve_cvss(
        ["CVE-2023-0286", "CVE-2019-11358", "CVE-2020-1967", "CVE-2023-9999", "CVE-2024-7264", "GHSA-x"]
    )
    assert {(s.source, s.rater, s.type, s.version, s.vector) for s in got["CVE-2023-0286"]} == {
        ("nvd", "nvd@nist.gov", "Primary", "3.1", "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:H"),
        (
            "nvd",
            "134c704f-9b21-4f2e-91b3-4a467353bcc0",
            "Secondary",
            "3.1",
            "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:H",
        ),
        ("osv-cve", "", "", "3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
    }
    assert {s.version for s in got["CVE-2019-11358"]} == {"3.1", "2.0"}  # from the .json.zip
    assert {s.version for s in got["CVE-2020-1967"]} == {"3.1", "2.0"}  # a bare CVE object
    assert "CVE-2023-9999" not in got  # Rejected: no vectors
    assert [s.source for s in got["CVE-2024-7264"]] == ["osv-cve"]
    st = store.status()
    assert st["cvss_cves"] == 6  # 5 CVEs from NVD (not the rejected one), 2 from osv.dev, 1 in both
    names = {s["name"]: s for s in st["sources"]}
    assert names["nvd"]["records"] == 6 and names["nvd"]["advisories"] == 0 and names["nvd"]["cvss_cves"] == 5


def test_stream_parse_equals_whole_parse_at_any_window() -> None:
    doc = feed(CVE_2023_0286, CVE_2019_11358, CVE_2020_1967)
    text = json.dumps(doc, indent=2)
    whole = nvd.parse(doc, "w", Sink())
    for chunk in (1, 7, 64, 1 << 20):
        units = [nvd.parse_cve(item["cve"]) for item in nvd.iter_items(io.StringIO(text), chunk)]
        assert [(u.key, u.digest) for u in units] == [(u.key, u.digest) for u in whole]
    assert [u.key for u in whole] == ["CVE-2023-0286", "CVE-2019-11358", "CVE-2020-1967"]


def test_broken_feed_keeps_what_came_before(tmp_path: Path) -> None:
    text = json.dumps(feed(CVE_2023_0286, CVE_2019_11358), indent=2)
    cut = text[: text.index('"CVE-2019-11358"') + 40]
    sink = Sink()
    units = nvd.parse_stream(io.StringIO(cut), "f.json", sink)
    assert [u.key for u in units] == ["CVE-2023-0286"] and sink.skipped == 1
    assert "after 1 CVEs" in sink.warnings[0]
    # a gzip cut short cannot be read: the import fails and says to download it again
    p = write_feed(tmp_path / "nvd" / "nvdcve-2.0-2023.json.gz", CVE_2023_0286, CVE_2019_11358)
    p.write_bytes(p.read_bytes()[:-200])
    with pytest.raises(FeedError, match="download it again"):
        import_paths([p], tmp_path / "a.db")
    assert not (tmp_path / "a.db").exists()


def test_modified_feed_replaces_a_year_feed_and_reimport_is_unchanged(tmp_path: Path) -> None:
    d = tmp_path / "nvd"
    write_feed(
        d / "nvdcve-2.0-2024.json.gz",
        cve("CVE-2024-1", cvssMetricV31=[metric("CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", "3.1")]),
    )
    write_feed(
        d / "nvdcve-2.0-modified.json",
        cve("CVE-2024-1", cvssMetricV31=[metric("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "3.1")]),
    )
    db = tmp_path / "a.db"
    st = import_paths([d], db)
    assert st.records == 2 and st.duplicates == 1
    with AdvisoryStore.open(str(db)) as s:
        assert [x.vector for x in s.cve_cvss(["CVE-2024-1"])["CVE-2024-1"]] == [
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
        ]
    st = import_paths([d / "nvdcve-2.0-modified.json"], db)
    assert st.unchanged == 1 and st.added == st.replaced == 0


def _inventory() -> Inventory:
    return Inventory(
        "t",
        "image",
        OSInfo("debian", "12"),
        (
            deb("libssl3", "3.0.7-1", "openssl"),  # CVE-2023-0286: the tracker says "not yet assigned"
            deb("zlib1g", "1:1.2.11.dfsg-1", "zlib"),  # CVE-2023-2222: a changelog urgency only
            pkg("jquery-py", "4.0", "pypi", "pkg:pypi/jquery-py@4.0"),  # CVE-2019-11358
            pkg("pycurl", "4.0", "pypi", "pkg:pypi/pycurl@4.0"),  # CVE-2024-7264: osv.dev's record only
        ),
    )


def test_unrated_findings_get_the_cves_cvss(store: AdvisoryStore) -> None:
    findings, _ = match(_inventory(), store)
    by = {f.id: f for f in findings}
    ssl = by["CVE-2023-0286"]
    assert (ssl.severity, ssl.severity_source) == ("HIGH", "nvd")  # NVD's Primary 7.4, not osv.dev's 9.8
    assert [(c.source, c.version, c.score) for c in ssl.cvss] == [("nvd", "3.1", 7.4)]
    jq = by["CVE-2019-11358"]
    assert (jq.severity, jq.severity_source) == ("MEDIUM", "nvd") and jq.cvss[
        0
    ].score == 6.1  # 3.1 before 2.0
    z = by["CVE-2023-2222"]
    assert (z.severity, z.severity_source) == (
        "HIGH",
        "nvd",
    )  # v2 9.3 is HIGH; NVD before a changelog's "low"
    curl = by["CVE-2024-7264"]
    assert (curl.severity, curl.severity_source) == ("MEDIUM", "osv-cve") and curl.cvss[0].score == 6.5


def test_a_distribution_rating_still_wins(feeds: Path, tmp_path: Path) -> None:
    write_json(feeds / "debian" / "tracker.json", _tracker("low"))
    (feeds / "alpine" / "v3.11" / "main.yaml").write_text(SECDB_V311)
    db = tmp_path / "b.db"
    import_paths([feeds], db)
    with AdvisoryStore.open(str(db)) as s:
        findings, _ = match(_inventory(), s)
        ssl = next(f for f in findings if f.id == "CVE-2023-0286")
        assert (ssl.severity, ssl.severity_source) == ("LOW", "debian") and not any(
            c.source == "nvd" for c in ssl.cvss
        )
        # Alpine's secdb rates nothing: its findings get NVD's rating
        alpine = Inventory(
            "a",
            "image",
            OSInfo("alpine", "3.11.6"),
            (
                pkg(
                    "libssl1.1",
                    "1.1.1c-r0",
                    "apk",
                    "pkg:apk/alpine/libssl1.1@1.1.1c-r0",
                    source_name="openssl",
                    source_version="1.1.1c-r0",
                ),
            ),
        )
        af, _ = match(alpine, s)
        f = next(f for f in af if f.id == "CVE-2020-1967")
        assert (f.severity, f.severity_source) == ("HIGH", "nvd") and f.cvss[0].score == 7.5
        assert next(f for f in af if f.id == "CVE-2019-1547").severity == "UNKNOWN"  # no NVD record imported


def test_one_batched_lookup_per_scan(store: AdvisoryStore) -> None:
    calls: list[set[str]] = []
    real = store.cve_cvss

    def counting(cves: Any) -> Any:
        calls.append(set(cves))
        return real(cves)

    store.cve_cvss = counting  # type: ignore[method-assign]
    findings, _ = match(_inventory(), store)
    assert len(findings) >= 4 and len(calls) == 1
    assert {"CVE-2023-0286", "CVE-2019-11358", "CVE-2024-7264", "CVE-2023-2222"} <= calls[0]


def test_every_format_says_whose_rating(store: AdvisoryStore) -> None:
    from containment.report.cyclonedx import to_cyclonedx_vulns
    from containment.report.findings_json import to_json
    from containment.report.sarif import to_sarif
    from containment.report.table import to_table

    inv = _inventory()
    findings, _ = match(inv, store)
    report = ScanReport(inv, tuple(findings), db=store.summary())
    js = {f["id"]: f for f in to_json(report)["findings"]}
    assert js["CVE-2023-0286"]["severity_source"] == "nvd"
    assert js["CVE-2023-0286"]["cvss"] == [
        {
            "version": "3.1",
            "vector": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:H",
            "score": 7.4,
            "source": "nvd",
        }
    ]
    sarif = to_sarif(report)
    res = {r["ruleId"]: r for r in sarif["runs"][0]["results"]}
    assert res["CVE-2023-0286"]["properties"]["severitySource"] == "nvd"
    assert res["CVE-2024-7264"]["properties"]["severitySource"] == "osv-cve"
    cdx = to_cyclonedx_vulns(report)
    v = next(x for x in cdx["vulnerabilities"] if x["id"] == "CVE-2023-0286")
    assert {"source": {"name": "nvd"}, "severity": "high", "method": "other"} in v["ratings"]
    assert any(r.get("source") == {"name": "nvd"} and r.get("method") == "CVSSv31" for r in v["ratings"])
    table = to_table(report, width=200)
    line = next(x for x in table.splitlines() if "CVE-2023-0286" in x)
    assert "HIGH (nvd)" in line
    assert "severity (nvd, osv-cve): the CVE's CVSS from NVD or the CVE's CVSS from osv.dev" in table


def test_update_from_a_directory_mirror_with_nvd(tmp_path: Path) -> None:
    src = tmp_path / "mirror"
    make_zip(src / "PyPI" / "all.zip", {"A.json": osv("PYSEC-1", aliases=["CVE-2023-0286"])})
    write_feed(src / "nvd" / "nvdcve-2.0-2023.json.gz", CVE_2023_0286)
    write_feed(src / "nvd" / "nvdcve-2.0-2019.json.zip", CVE_2019_11358)
    (src / "nvd" / "README").write_text("not a feed")
    db = tmp_path / "a.db"
    res = update(db, str(src), ["PyPI"])
    assert res.stats.feeds == {"osv": 1, "nvd": 2}
    with AdvisoryStore.open(str(db)) as s:
        assert set(s.cve_cvss(["CVE-2023-0286", "CVE-2019-11358"])) == {"CVE-2023-0286", "CVE-2019-11358"}
    # a mirror without nvd/: the NVD rows of the old file are kept
    (src / "nvd" / "nvdcve-2.0-2023.json.gz").unlink()
    (src / "nvd" / "nvdcve-2.0-2019.json.zip").unlink()
    update(db, str(src), ["PyPI"])
    with AdvisoryStore.open(str(db)) as s:
        assert set(s.cve_cvss(["CVE-2023-0286", "CVE-2019-11358"])) == {"CVE-2023-0286", "CVE-2019-11358"}


def test_update_from_an_http_mirror_with_nvd(mirror: Mirror, tmp_path: Path) -> None:
    write_feed(mirror.root / "nvd" / "nvdcve-2.0-modified.json.gz", CVE_2023_0286)
    write_feed(mirror.root / "nvd" / "nvdcve-2.0-2019.json.gz", CVE_2019_11358)
    db = tmp_path / "a.db"
    res = update(db, mirror.url, ["PyPI"])
    assert res.stats.feeds["nvd"] == 2
    asked = [p for p, _ in mirror.requests if p.startswith("/nvd/")]
    assert asked[0] == "/nvd/nvdcve-2.0-modified.json.gz" and "/nvd/nvdcve-2.0-2002.json.gz" in asked
    with AdvisoryStore.open(str(db)) as s:
        assert set(s.cve_cvss(["CVE-2023-0286", "CVE-2019-11358"])) == {"CVE-2023-0286", "CVE-2019-11358"}
    # a mirror without NVD: one 404, nothing more asked
    for p in (mirror.root / "nvd").iterdir():
        p.unlink()
    n = len(mirror.requests)
    update(tmp_path / "b.db", mirror.url, ["PyPI"])
    assert [p for p, _ in mirror.requests[n:] if p.startswith("/nvd/")] == [
        "/nvd/nvdcve-2.0-modified.json.gz"
    ]


def test_status_prints_the_cvss_count(store: AdvisoryStore) -> None:
    r = CliRunner().invoke(app, ["db", "status", "--db", str(store.path)])
    assert r.exit_code == 0, r.output
    assert any(line.split()[:2] == ["CVSS", "ratings"] and "6 CVEs" in line for line in r.stdout.splitlines())


def test_gz_osv_file_is_read(tmp_path: Path) -> None:
    p = tmp_path / "PYSEC-1.json.gz"
    p.write_bytes(gzip.compress(json.dumps(osv("PYSEC-1")).encode()))
    st = import_paths([tmp_path], tmp_path / "a.db")
    assert st.records == 1 and st.skipped == 0
