"""Every format writes every kind: a report with a vulnerability, misconfigurations (with lines,
in the image config, suppressed) and secrets (in a file, in the config ENV, in a file a later
layer deleted, suppressed) comes out whole in JSON, SARIF, the table and CycloneDX; a kind
whose scanner did not run is absent, one that ran and found nothing says so."""

from __future__ import annotations

import json
from dataclasses import replace

import jsonschema
from hypothesis import given
from hypothesis import strategies as st

from containment.model import (
    SEVERITIES,
    LayerInfo,
    Location,
    Misconfiguration,
    Rule,
    ScanReport,
    SecretFinding,
    Suppression,
)
from containment.report import cyclonedx, findings_json, sarif, table
from tests.unit.report.fixtures import APP, BASE, GLIBC_CVE, inventory
from tests.unit.report.test_fuzz_writers import FUZZ, NAME, PATH, reports, serialize, valid_cyclonedx
from tests.unit.report.test_vuln_reports import sarif_schema, scan_schema

L2, L3, L4 = ("sha256:" + c * 64 for c in "345")
GONE = "sha256:" + "9" * 64  # a diff_id the inventory does not list

ROOT = Rule(
    "CTM-DF-002",
    "Image runs as root",
    "HIGH",
    "dockerfile",
    rationale="A process running as root in the container is root on the host if it escapes.",
    remediation="Add `USER app` (a non-root user) after the last step that needs root.",
    aliases=("DL3002", "CIS-4.1", "CKV_DOCKER_8"),
    references=("https://docs.docker.com/build/building/best-practices/#user",),
)
HEALTH = Rule("CTM-IMG-004", "No HEALTHCHECK", "LOW", "image", "r", "Add a HEALTHCHECK.", ("CIS-4.6",))
PRIV = Rule(
    "CTM-K8S-001",
    "Privileged container",
    "CRITICAL",
    "kubernetes",
    "Privileged containers have every capability.",
    "Set securityContext.privileged to false.",
    ("CKV_K8S_16", "pss:baseline:privileged"),
)
AWS = Rule("CTM-SEC-001", "AWS access key ID", "CRITICAL", "secret", "Cloud credential.", "Rotate the key.")
PASSWORD = Rule("CTM-SEC-030", "Password assignment", "HIGH", "secret", remediation="Use a secret store.")
GITHUB = Rule("CTM-SEC-010", "GitHub token", "CRITICAL", "secret", remediation="Revoke the token.")

IGNORED = Suppression("ignorefile", "test cluster only", ".containmentignore", "", "2099-01-01")

DF_ROOT = Misconfiguration(
    ROOT,
    "stage final runs as root: no USER instruction",
    Location("Dockerfile", 3, 5, APP),
    resource="stage final",
)
IMG_HEALTH = Misconfiguration(
    HEALTH, "the image has no HEALTHCHECK", Location(field="Config.Healthcheck"), resource="image config"
)
K8S_PRIV = Misconfiguration(
    PRIV,
    "container app of Deployment/web is privileged",
    Location("k8s/deploy.yaml", 20, 20, field="spec.template.spec.containers[0].securityContext.privileged"),
    resource="Deployment/web",
    suppressed=IGNORED,
)
SEC_FILE = SecretFinding(AWS, "AKIA************4NXM", Location("app/.env", 3, 3, APP))
SEC_ENV = SecretFinding(PASSWORD, "DB_PASSWORD=********", Location(field="Env[2]", layer=""))
SEC_GONE = SecretFinding(
    GITHUB, "ghp_********************************a1B2", Location("root/.config/gh/hosts.yml", 2, 2, L2), L4
)
SEC_GONE_UNMAPPED = replace(SEC_GONE, location=replace(SEC_GONE.location, path="tmp/token"), removed_in=GONE)
SEC_SUPPRESSED = SecretFinding(
    AWS,
    "AKIA************TEST",
    Location("srv/tests/fixture.env", 1, 1, APP),
    suppressed=Suppression("ignorefile", "a test fixture", ".containmentignore"),
)

MISCONFIGS = (K8S_PRIV, IMG_HEALTH, DF_ROOT)
SECRETS = (SEC_ENV, SEC_SUPPRESSED, SEC_GONE, SEC_FILE, SEC_GONE_UNMAPPED)


def five_layers():
    inv = inventory()
    extra = tuple(LayerInfo(i, d, created_by=f"RUN step {i}") for i, d in ((2, L2), (3, L3), (4, L4)))
    return replace(inv, layers=(*inv.layers, *extra))


def full_report(**kw) -> ScanReport:
    args = {
        "misconfigurations": MISCONFIGS,
        "secrets": SECRETS,
        "scanners": ("vuln", "secret", "config"),
        **kw,
    }
    return ScanReport(five_layers(), (GLIBC_CVE,), **args)


def secrets_only() -> ScanReport:
    return ScanReport(five_layers(), (), secrets=(SEC_FILE,), scanners=("secret",))


# ------------------------------------------------------------------------------ JSON


def test_json_every_kind_with_counts_and_layers():
    doc = findings_json.to_json(full_report())
    jsonschema.Draft202012Validator(scan_schema()).validate(serialize(doc))
    assert doc["scanners"] == ["vuln", "secret", "config"]
    assert [f["id"] for f in doc["findings"]] == ["CVE-2023-4911"]  # vulnerabilities as before
    assert doc["summary"]["total"] == 1
    # per file, the image config last
    assert [m["rule"]["id"] for m in doc["misconfigurations"]] == ["CTM-DF-002", "CTM-K8S-001", "CTM-IMG-004"]
    df = doc["misconfigurations"][0]
    assert df["location"] == {"path": "Dockerfile", "start_line": 3, "end_line": 5, "layer": APP, "field": ""}
    assert df["layer"] == APP and df["suppressed"] is None and df["resource"] == "stage final"
    assert df["rule"]["aliases"] == ["DL3002", "CIS-4.1", "CKV_DOCKER_8"]
    assert doc["misconfigurations"][1]["suppressed"]["reason"] == "test cluster only"
    assert doc["summary"]["misconfigurations"] == {
        "total": 2,
        "severities": {"CRITICAL": 0, "HIGH": 1, "MEDIUM": 0, "LOW": 1, "NEGLIGIBLE": 0, "UNKNOWN": 0},
        "suppressed": 1,
        "suppressed_severities": {
            "CRITICAL": 1,
            "HIGH": 0,
            "MEDIUM": 0,
            "LOW": 0,
            "NEGLIGIBLE": 0,
            "UNKNOWN": 0,
        },
    }
    secrets = doc["secrets"]
    # worst first, then where (files before the image config)
    assert [s["location"]["path"] or s["location"]["field"] for s in secrets] == [
        "app/.env",
        "root/.config/gh/hosts.yml",
        "srv/tests/fixture.env",
        "tmp/token",
        "Env[2]",
    ]
    assert secrets[0]["match"] == "AKIA************4NXM"
    gone = next(
        s for s in secrets if s["rule"]["id"] == "CTM-SEC-010" and s["location"]["path"].startswith("root")
    )
    assert gone["removed_in"] == L4 and gone["layer"] == L2
    env = next(s for s in secrets if s["location"]["field"] == "Env[2]")
    assert env["location"]["path"] == "" and env["match"] == "DB_PASSWORD=********"
    assert doc["summary"]["secrets"]["total"] == 4 and doc["summary"]["secrets"]["suppressed"] == 1
    assert doc["summary"]["secrets"]["severities"]["CRITICAL"] == 3


def test_json_absent_kind_is_not_an_empty_one():
    doc = findings_json.to_json(secrets_only())
    v = jsonschema.Draft202012Validator(scan_schema())
    v.validate(doc)
    assert doc["scanners"] == ["secret"]
    for key in ("findings", "suppressed", "misconfigurations"):
        assert key not in doc
    assert "total" not in doc["summary"] and "misconfigurations" not in doc["summary"]
    assert [s["rule"]["id"] for s in doc["secrets"]] == ["CTM-SEC-001"]
    clean = findings_json.to_json(replace(secrets_only(), secrets=()))
    v.validate(clean)
    assert clean["secrets"] == [] and clean["summary"]["secrets"]["total"] == 0
    # the schema holds the rule: a list without its scanner, or a scanner without its list, is invalid
    bad = json.loads(json.dumps(doc))
    bad["findings"] = []
    assert not v.is_valid(bad)
    bad = json.loads(json.dumps(doc))
    del bad["secrets"]
    assert not v.is_valid(bad)
    bad = json.loads(json.dumps(doc))
    bad["summary"]["misconfigurations"] = bad["summary"]["secrets"]
    assert not v.is_valid(bad)
    # and the default scan (vulnerabilities only) is exactly what it was, plus `scanners`
    vuln_only = findings_json.to_json(ScanReport(five_layers(), (GLIBC_CVE,)))
    assert (
        vuln_only["scanners"] == ["vuln"]
        and "secrets" not in vuln_only
        and "misconfigurations" not in vuln_only
    )


def test_json_schema_rejects_a_bad_check_item():
    v = jsonschema.Draft202012Validator(scan_schema())
    doc = json.loads(json.dumps(findings_json.to_json(full_report())))
    doc["secrets"][0]["rule"]["severity"] = "SEVERE"
    assert not v.is_valid(doc)
    doc = json.loads(json.dumps(findings_json.to_json(full_report())))
    doc["misconfigurations"][0]["level"] = "fail"
    assert not v.is_valid(doc)


# ----------------------------------------------------------------------------- SARIF


def test_sarif_rules_for_every_kind():
    doc = sarif.to_sarif(full_report())
    jsonschema.Draft4Validator(sarif_schema()).validate(serialize(doc))
    (run,) = doc["runs"]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert set(rules) == {"CVE-2023-4911", "CTM-DF-002", "CTM-IMG-004", "CTM-K8S-001", "CTM-SEC-001"} | {
        "CTM-SEC-030",
        "CTM-SEC-010",
    }
    root = rules["CTM-DF-002"]
    assert root["name"] == "ImageRunsAsRoot"
    assert root["shortDescription"] == {"text": "Image runs as root"}
    assert root["fullDescription"]["text"].startswith("A process running as root")
    assert "Add `USER app`" in root["help"]["text"] and "Add `USER app`" in root["help"]["markdown"]
    assert root["helpUri"] == "https://docs.docker.com/build/building/best-practices/#user"
    assert root["defaultConfiguration"] == {"level": "error"}
    assert root["properties"]["aliases"] == ["DL3002", "CIS-4.1", "CKV_DOCKER_8"]
    assert root["properties"]["security-severity"] == "8.0"
    assert float(rules["CTM-K8S-001"]["properties"]["security-severity"]) == 9.5
    assert rules["CTM-IMG-004"]["defaultConfiguration"] == {"level": "note"}
    assert {"security", "misconfiguration", "dockerfile"} <= set(root["properties"]["tags"])
    assert {"security", "secret"} <= set(rules["CTM-SEC-001"]["properties"]["tags"])
    assert rules["CTM-K8S-001"]["properties"]["aliases"] == ["CKV_K8S_16", "pss:baseline:privileged"]
    assert run["properties"]["scanners"] == ["vuln", "secret", "config"]


def _results(doc: dict) -> list[dict]:
    (run,) = doc["runs"]
    for r in run["results"]:
        assert run["tool"]["driver"]["rules"][r["ruleIndex"]]["id"] == r["ruleId"]
    return run["results"]


def test_sarif_results_locations_and_suppressions():
    results = _results(sarif.to_sarif(full_report()))
    assert len(results) == 1 + len(MISCONFIGS) + len(SECRETS)
    by = {(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]): r for r in results}
    df = by[("CTM-DF-002", "Dockerfile")]
    assert df["level"] == "error"
    assert df["locations"][0]["physicalLocation"]["region"] == {"startLine": 3, "endLine": 5}
    assert df["message"]["text"] == "stage final runs as root: no USER instruction"
    assert "suppressions" not in df
    # the image config: the image reference (percent-encoded), no lines, the config part said
    img = by[("CTM-IMG-004", "registry.example.com/team/app%3A1.0")]
    assert "region" not in img["locations"][0]["physicalLocation"]
    assert img["locations"][0]["message"] == {"text": "image config: Config.Healthcheck"}
    assert img["properties"]["field"] == "Config.Healthcheck" and img["level"] == "note"
    k8s = by[("CTM-K8S-001", "k8s/deploy.yaml")]
    assert k8s["suppressions"] == [
        {
            "kind": "external",
            "status": "accepted",
            "justification": "ignorefile: test cluster only (until 2099-01-01) — .containmentignore",
        }
    ]
    f = by[("CTM-SEC-001", "app/.env")]
    assert f["message"]["text"] == "AWS access key ID: AKIA************4NXM in /app/.env:3 (layer 1)."
    assert f["locations"][0]["physicalLocation"]["region"] == {"startLine": 3, "endLine": 3}
    gone = by[("CTM-SEC-010", "root/.config/gh/hosts.yml")]
    assert gone["message"]["text"].endswith("(layer 2); removed in layer 4, still in the image.")
    assert gone["properties"]["removedIn"] == L4 and gone["properties"]["layer"] == L2
    unmapped = by[("CTM-SEC-010", "tmp/token")]
    assert "removed in 999999999999, still in the image" in unmapped["message"]["text"]
    env = by[("CTM-SEC-030", "registry.example.com/team/app%3A1.0")]
    assert env["message"]["text"] == "Password assignment: DB_PASSWORD=******** in image config: Env[2]."
    assert "suppressions" in by[("CTM-SEC-001", "srv/tests/fixture.env")]
    # a secret's masked match is in its message only
    for r in results:
        if r["ruleId"].startswith("CTM-SEC"):
            rest = {k: v for k, v in r.items() if k != "message"}
            assert "****" not in json.dumps(rest)
    fps = [r["partialFingerprints"]["containment/v1"] for r in results]
    assert len(set(fps)) == len(fps)


def test_sarif_fingerprint_ignores_line_moves_and_warn_rules_are_warnings():
    moved = replace(DF_ROOT, location=replace(DF_ROOT.location, start_line=9, end_line=9))
    assert sarif.check_fingerprint(moved) == sarif.check_fingerprint(DF_ROOT)
    assert sarif.check_fingerprint(SEC_GONE) != sarif.check_fingerprint(SEC_GONE_UNMAPPED)
    warn = replace(DF_ROOT, level="warn", source="rego:policies/user.rego")
    (r,) = [
        x for x in _results(sarif.to_sarif(full_report(misconfigurations=(warn,)))) if x["ruleId"] == ROOT.id
    ]
    assert r["level"] == "warning" and r["properties"]["source"] == "rego:policies/user.rego"


def test_sarif_secrets_only():
    doc = sarif.to_sarif(secrets_only())
    jsonschema.Draft4Validator(sarif_schema()).validate(doc)
    assert [r["id"] for r in doc["runs"][0]["tool"]["driver"]["rules"]] == ["CTM-SEC-001"]


# ----------------------------------------------------------------------------- table


def test_table_sections_for_every_kind():
    text = table.to_table(full_report(), width=240)
    lines = text.splitlines()
    assert "Vulnerability" in text and "CVE-2023-4911" in text  # vulnerabilities first, as before
    i_vuln = text.index("CVE-2023-4911")
    i_mis, i_sec = lines.index("Misconfigurations"), lines.index("Secrets")
    assert i_vuln < text.index("\nMisconfigurations\n") and i_mis < i_sec
    mis = lines[i_mis:i_sec]
    assert (
        mis[2]
        == "Total: 2 (CRITICAL: 0, HIGH: 1, MEDIUM: 0, LOW: 1, NEGLIGIBLE: 0, UNKNOWN: 0); suppressed: 1"
    )
    # per file, the image config last
    heads = [line for line in mis if line.endswith(("(dockerfile)", "(kubernetes)", "(image config)"))]
    assert heads == [
        "/Dockerfile (dockerfile)",
        "/k8s/deploy.yaml (kubernetes)",
        "registry.example.com/team/app:1.0 (image config)",
    ]
    header = next(line for line in mis if "Rule" in line and "Message" in line)
    assert all(col in header for col in ("Severity", "Line"))
    row = next(line for line in mis if "CTM-DF-002" in line)
    assert "HIGH" in row and " 3-5 " in row and "stage final runs as root" in row
    assert mis[mis.index("/Dockerfile (dockerfile)") + 2] == "found in layer 1"
    img = next(line for line in mis if "CTM-IMG-004" in line)
    assert "(Config.Healthcheck)" in img and " - " in img
    sup = next(line for line in mis if "CTM-K8S-001" in line)
    assert "ignorefile: test cluster only (until 2099-01-01)" in sup
    assert mis.index(next(line for line in mis if "Suppressed" in line)) < mis.index(sup)

    sec = lines[i_sec:]
    assert (
        sec[2]
        == "Total: 4 (CRITICAL: 3, HIGH: 1, MEDIUM: 0, LOW: 0, NEGLIGIBLE: 0, UNKNOWN: 0); suppressed: 1"
    )
    header = next(line for line in sec if "Where" in line and "Match" in line)
    assert "Layer" in header and "Note" in header
    aws = next(line for line in sec if "AKIA************4NXM" in line)
    assert all(
        cell in aws for cell in ("CTM-SEC-001", "AWS access key ID", "CRITICAL", "/app/.env:3", "layer 1")
    )
    gone = next(line for line in sec if "/root/.config/gh/hosts.yml:2" in line)
    assert "layer 2" in gone and "removed in layer 4, still in the image" in gone
    assert "removed in 999999999999, still in the image" in next(line for line in sec if "/tmp/token" in line)
    env = next(line for line in sec if "DB_PASSWORD=********" in line)
    assert "image config: Env[2]" in env
    silenced = next(line for line in sec if "AKIA************TEST" in line)
    assert "a test fixture" in silenced
    assert (
        lines[-1]
        == "Totals: vulnerabilities: 1, misconfigurations: 2 (suppressed: 1), secrets: 4 (suppressed: 1)"
    )


def test_table_only_the_kinds_that_ran_and_clean_ones_say_so():
    text = table.to_table(replace(secrets_only(), secrets=()), width=200)
    assert "no secrets found" in text and "Total: 0 (CRITICAL: 0" in text
    assert "Misconfigurations" not in text and "(debian 12)" not in text and "Vulnerability" not in text
    assert "Totals" not in text  # one kind: its Total says it
    both = table.to_table(replace(secrets_only(), secrets=(), scanners=("secret", "config")), width=200)
    assert "no misconfigurations found" in both and "no secrets found" in both
    assert "Totals: misconfigurations: 0, secrets: 0" in both
    # a vulnerability scan shows no check section at all
    plain = table.to_table(ScanReport(five_layers(), (GLIBC_CVE,)), width=200)
    assert "Secrets" not in plain and "Misconfigurations" not in plain and "no secrets" not in plain
    coloured = table.to_table(full_report(), color=True)
    assert "\x1b[" in coloured


def test_table_filesystem_paths_are_relative():
    inv = replace(five_layers(), kind="filesystem", layers=())
    in_dir = replace(SEC_FILE, location=replace(SEC_FILE.location, layer=""))
    text = table.to_table(ScanReport(inv, (), secrets=(in_dir,), scanners=("secret",)), width=200)
    row = next(line for line in text.splitlines() if "AKIA" in line)
    assert " app/.env:3 " in row and "Layer" not in text  # a directory has no layers: no Layer column
    # a layer the inventory does not list is shown by its short diff_id
    text = table.to_table(ScanReport(inv, (), secrets=(SEC_FILE,), scanners=("secret",)), width=200)
    assert "222222222222" in next(line for line in text.splitlines() if "AKIA" in line)


# ------------------------------------------------------------------------- CycloneDX


def _props(entries: list[dict], name: str) -> list[str]:
    return [p["value"] for p in entries if p["name"] == name]


def test_cyclonedx_checks_as_properties_never_as_vulnerabilities():
    doc = cyclonedx.to_cyclonedx_vulns(full_report())
    valid_cyclonedx(serialize(doc))
    assert [v["id"] for v in doc["vulnerabilities"]] == ["CVE-2023-4911"]
    meta = doc["metadata"]["properties"]
    assert _props(meta, "containment:scanner") == ["vuln", "secret", "config"]
    assert _props(meta, "containment:misconfigurations:total") == ["2"]
    assert _props(meta, "containment:misconfigurations:suppressed") == ["1"]
    assert _props(meta, "containment:secrets:total") == ["4"]
    assert _props(meta, "containment:secrets:suppressed") == ["1"]
    subject = doc["metadata"]["component"]
    assert subject["bom-ref"] == "target"
    assert _props(subject["properties"], "containment:image:layer")  # the SBOM's own properties kept
    mis = [json.loads(v) for v in _props(subject["properties"], "containment:misconfiguration")]
    assert [m["rule"] for m in mis] == ["CTM-DF-002", "CTM-K8S-001", "CTM-IMG-004"]
    assert mis[0] | {} == {
        "rule": "CTM-DF-002",
        "title": "Image runs as root",
        "severity": "HIGH",
        "kind": "dockerfile",
        "aliases": ["DL3002", "CIS-4.1", "CKV_DOCKER_8"],
        "message": "stage final runs as root: no USER instruction",
        "resource": "stage final",
        "path": "Dockerfile",
        "start_line": 3,
        "end_line": 5,
        "field": "",
        "layer": APP,
        "source": "builtin",
        "level": "deny",
        "suppressed": None,
    }
    assert mis[1]["suppressed"].startswith("ignorefile: test cluster only")
    secrets = [json.loads(v) for v in _props(subject["properties"], "containment:secret")]
    assert len(secrets) == len(SECRETS)
    gone = next(s for s in secrets if s["path"] == "root/.config/gh/hosts.yml")
    assert gone["removed_in"] == L4 and gone["layer"] == L2 and gone["match"].startswith("ghp_****")
    # no component was invented for a file or a secret
    assert not any(c.get("type") == "file" for c in doc["components"])


def test_cyclonedx_without_the_vuln_scanner_has_no_vulnerabilities():
    doc = cyclonedx.to_cyclonedx_vulns(secrets_only())
    valid_cyclonedx(doc)
    assert "vulnerabilities" not in doc
    meta = doc["metadata"]["properties"]
    assert _props(meta, "containment:scanner") == ["secret"]
    assert not _props(meta, "containment:misconfigurations:total")
    assert not _props(meta, "containment:db:built_at")
    clean = cyclonedx.to_cyclonedx_vulns(replace(secrets_only(), secrets=()))
    valid_cyclonedx(clean)
    assert _props(clean["metadata"]["properties"], "containment:secrets:total") == ["0"]
    assert not _props(clean["metadata"]["component"].get("properties", []), "containment:secret")


# ------------------------------------------------------------------------------ fuzz


def _rule(kind: str) -> st.SearchStrategy[Rule]:
    return st.builds(
        Rule,
        st.one_of(NAME.filter(bool), st.sampled_from(["CTM-DF-002", "CVE-2024-1", "CTM-SEC-001"])),
        NAME,
        st.sampled_from(SEVERITIES),
        st.just(kind),
        NAME,
        NAME,
        st.lists(NAME, max_size=2).map(tuple),
        st.lists(st.one_of(NAME, NAME.map(lambda s: "https://x.invalid/" + s)), max_size=2).map(tuple),
    )


DIGESTS = st.sampled_from(["", APP, BASE, L4, GONE])
LOCATIONS = st.builds(
    Location, st.one_of(st.just(""), PATH), st.integers(0, 10**6), st.integers(0, 10**6), DIGESTS, NAME
)
SUPPRESSIONS = st.one_of(
    st.none(),
    st.builds(
        Suppression, st.sampled_from(["ignorefile", "inline"]), NAME, NAME, NAME, st.just("2030-01-01")
    ),
)
MISCONFIG = st.builds(
    Misconfiguration,
    _rule("dockerfile"),
    NAME,
    LOCATIONS,
    NAME,
    NAME,
    st.sampled_from(["deny", "warn"]),
    SUPPRESSIONS,
)
SECRET = st.builds(SecretFinding, _rule("secret"), NAME, LOCATIONS, DIGESTS, SUPPRESSIONS)


@FUZZ
@given(
    reports(),
    st.lists(MISCONFIG, max_size=4),
    st.lists(SECRET, max_size=4),
    st.lists(st.sampled_from(["vuln", "secret", "config"]), min_size=1, max_size=3, unique=True),
)
def test_every_format_takes_hostile_checks(base, misconfigs, secrets, scanners):
    r = replace(
        base,
        misconfigurations=tuple(misconfigs),
        secrets=tuple(secrets),
        scanners=tuple(scanners),
        findings=base.findings if "vuln" in scanners else (),
    )
    doc = serialize(findings_json.to_json(r))
    jsonschema.Draft202012Validator(scan_schema()).validate(doc)
    if "secret" in scanners:
        assert len(doc["secrets"]) == len(secrets)
    s = serialize(sarif.to_sarif(r))
    jsonschema.Draft4Validator(sarif_schema()).validate(s)
    expected = (
        len(r.findings)
        + (len(misconfigs) if "config" in scanners else 0)
        + len(secrets) * ("secret" in scanners)
    )
    assert len(s["runs"][0]["results"]) == expected
    cdx = serialize(cyclonedx.to_cyclonedx_vulns(r))
    valid_cyclonedx(cdx)
    assert ("vulnerabilities" in cdx) == ("vuln" in scanners)
    for color in (False, True):
        text = table.to_table(r, color=color)
        text.encode("utf-8")  # no lone surrogate reaches the text
        if not color:
            assert "\x1b" not in text
