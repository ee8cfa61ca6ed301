"""SARIF 2.1.0 for GitHub code scanning (and any SARIF viewer).

One run; one rule per vulnerability id and per check rule that fired (misconfiguration,
secret); one result per finding of every kind. A vulnerability's location is the file the
package was found in (for an image: its path inside the image, the image reference in the
result's properties); a misconfiguration's or secret's is its file and lines, or for the image
config the image reference (the config part in the location's message). Every rule carries
`properties.aliases` (the ids peers give it: hadolint, CIS, Checkov, PSS; a vulnerability's
other ids). A secret's result holds only the masked match, in its message. Suppressed findings
are kept as results with an external suppression, so viewers show them as dismissed rather
than losing them.

`security-severity` (what GitHub ranks alerts by) is the highest CVSS score (3.x/4.0 preferred
over 2.0) among the rule's findings; without any CVSS, a representative score of the rule's
worst severity (CRITICAL 9.5, HIGH 8.0, MEDIUM 5.5, LOW 2.0, else 0.0)."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote

from containment import __version__
from containment.escape import raw_bytes
from containment.model import Finding, Inventory, Location, Misconfiguration, Rule, ScanReport, SecretFinding
from containment.report import _checks, _gaps
from containment.report import _vulns as v

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://containment.invalid/"
FINGERPRINT_KEY = "containment/v1"

LEVELS = {
    "CRITICAL": "error",
    "HIGH": "error",
    "MEDIUM": "warning",
    "LOW": "note",
    "NEGLIGIBLE": "note",
    "UNKNOWN": "note",
}
_SEVERITY_SCORE = {"CRITICAL": 9.5, "HIGH": 8.0, "MEDIUM": 5.5, "LOW": 2.0, "NEGLIGIBLE": 0.0, "UNKNOWN": 0.0}


def fingerprint(f: Finding) -> str:
    """Stable across scans: the vulnerability id, the package purl and its path."""
    return hashlib.sha256(raw_bytes(f"{f.id}|{f.package.purl}|{f.package.path}")).hexdigest()[:32]


def _uri(path: str) -> str:
    """A relative URI reference for a path in the image: its raw bytes percent-encoded, so a
    name that is not UTF-8 (b"\\xff") is exactly `%FF`, as every other format writes it."""
    return quote(raw_bytes(path.lstrip("/")) or b".", safe="/@+~!$&'()*,;=-._")


def _rule(vid: str, findings: list[Finding]) -> dict[str, Any]:
    worst = min(findings, key=lambda f: v.severity_rank(f.severity))
    sev = v.severity(worst)
    scored = [c for c in (v.cvss_score(f) for f in findings) if c is not None]
    score = max((c.score for c in scored), default=_SEVERITY_SCORE[sev])
    best = max(findings, key=lambda f: (bool(f.description), bool(f.title), len(f.references)))
    title = best.title or vid
    description = best.description or best.title or vid
    link = v.vuln_url(vid)
    aliases = sorted({a for f in findings for a in f.aliases if a != vid})
    vectors = sorted({f"CVSS {c.version} {c.score} {c.vector}" for f in findings for c in f.cvss})
    refs = list(dict.fromkeys([link, *(r for f in findings for r in f.references)]))
    text_lines = [f"{vid}: {title}", f"Severity: {sev}"]
    md_lines = [f"**{vid}**: {title}", "", "| Severity | CVSS score |", "| --- | --- |"]
    md_lines.append(f"| {sev} | {score:.1f} |")
    if aliases:
        text_lines.append("Aliases: " + ", ".join(aliases))
        md_lines += ["", "Also known as: " + ", ".join(aliases)]
    if vectors:
        text_lines += vectors
    text_lines += ["", description, "", "References:", *refs[:20]]
    md_lines += ["", description, "", "References:", *(f"- <{r}>" for r in refs[:20])]
    return {
        "id": vid,
        "name": vid,
        "shortDescription": {"text": title},
        "fullDescription": {"text": description},
        "helpUri": link,
        "help": {"text": "\n".join(text_lines), "markdown": "\n".join(md_lines)},
        "defaultConfiguration": {"level": LEVELS[sev]},
        "properties": {
            "security-severity": f"{score:.1f}",
            "precision": "very-high",
            "tags": ["security", "vulnerability", sev],
            "aliases": aliases,
        },
    }


def _name(title: str, rid: str) -> str:
    """A rule's `name`: its title in PascalCase (RunsAsRoot), as SARIF viewers show names."""
    words = "".join(c if c.isalnum() else " " for c in title).split()
    return "".join(w[:1].upper() + w[1:] for w in words) or rid


def _check_rule(rule: Rule, what: str) -> dict[str, Any]:
    """One misconfiguration or secret rule (`what`: "misconfiguration" / "secret")."""
    sev = _checks.severity(rule.severity)
    title = rule.title or rule.id
    rationale = rule.rationale or title
    remediation = rule.remediation or "No remediation recorded for this rule."
    links = [r for r in rule.references if r.startswith(("https://", "http://"))]
    text_lines = [f"{rule.id}: {title}", f"Severity: {sev}", "", remediation]
    md_lines = [f"**{rule.id}**: {title}", "", f"Severity: {sev}", "", remediation]
    if rule.rationale:
        text_lines += ["", "Why: " + rule.rationale]
        md_lines += ["", "**Why:** " + rule.rationale]
    if rule.aliases:
        text_lines += ["", "Also known as: " + ", ".join(rule.aliases)]
        md_lines += ["", "Also known as: " + ", ".join(f"`{a}`" for a in rule.aliases)]
    if rule.references:
        text_lines += ["", "References:", *rule.references[:20]]
        md_lines += ["", "References:", *(f"- <{r}>" for r in rule.references[:20])]
    d: dict[str, Any] = {
        "id": rule.id,
        "name": _name(title, rule.id),
        "shortDescription": {"text": title},
        "fullDescription": {"text": rationale},
    }
    if links:
        d["helpUri"] = links[0]
    d["help"] = {"text": "\n".join(text_lines), "markdown": "\n".join(md_lines)}
    d["defaultConfiguration"] = {"level": LEVELS[sev]}
    d["properties"] = {
        "security-severity": f"{_SEVERITY_SCORE[sev]:.1f}",
        "precision": "high",
        "tags": list(dict.fromkeys(["security", what, *([rule.kind] if rule.kind else []), sev])),
        "aliases": list(rule.aliases),
        "kind": rule.kind,
    }
    return d


def check_fingerprint(x: Misconfiguration | SecretFinding) -> str:
    """Stable across scans and line moves: the rule, the file or config part, and what fired."""
    loc = x.location
    what = f"{x.resource}|{x.message}" if isinstance(x, Misconfiguration) else f"{x.match}|{loc.layer}"
    return hashlib.sha256(raw_bytes(f"{x.rule.id}|{loc.path}|{loc.field}|{what}")).hexdigest()[:32]


def _physical(loc: Location, inv: Inventory) -> dict[str, Any]:
    """The file and lines; for the image config (no path), the image reference."""
    phys: dict[str, Any] = {"artifactLocation": {"uri": _uri(loc.path or inv.target)}}
    if loc.path and loc.start_line > 0:
        region = {"startLine": loc.start_line}
        if loc.end_line >= loc.start_line:
            region["endLine"] = loc.end_line
        phys["region"] = region
    return phys


def _check_result(
    x: Misconfiguration | SecretFinding, inv: Inventory, index: dict[str, int]
) -> dict[str, Any]:
    loc = x.location
    sev = _checks.severity(x.severity)
    level = LEVELS[sev]
    layer = _checks.layer_name(loc.layer, inv)
    props: dict[str, Any] = {"severity": sev, "target": inv.target}
    if isinstance(x, Misconfiguration):
        props["kind"] = "misconfiguration"
        text = x.message or x.rule.title or x.rule.id
        if not loc.path:
            text += f" ({_checks.where(loc, inv)})"
        if layer and not loc.path:
            text += f" [{layer}]"
        if x.level == "warn" and level == "error":
            level = "warning"  # a Conftest-style warn rule never fails like a deny
        props.update({"resource": x.resource, "source": x.source, "policyLevel": x.level})
    else:
        props["kind"] = "secret"
        text = f"{x.rule.title or x.rule.id}: {x.match} in {_checks.where(loc, inv)}"
        if layer:
            text += f" ({layer})"
        note = _checks.removed_note(x, inv)
        if note:
            text += f"; {note}"
            props["removedIn"] = x.removed_in
        text += "."
    if loc.field:
        props["field"] = loc.field
    if loc.layer:
        props["layer"] = loc.layer
    if inv.kind == "image":
        props["imageRef"] = inv.target
        if inv.image_digest:
            props["imageDigest"] = inv.image_digest
    location: dict[str, Any] = {"physicalLocation": _physical(loc, inv)}
    if not loc.path:
        location["message"] = {"text": _checks.where(loc, inv)}
    r: dict[str, Any] = {
        "ruleId": x.rule.id,
        "ruleIndex": index[x.rule.id],
        "level": level,
        "message": {"text": text},
        "locations": [location],
        "partialFingerprints": {FINGERPRINT_KEY: check_fingerprint(x)},
        "properties": props,
    }
    if x.suppressed is not None:
        r["suppressions"] = [
            {
                "kind": "external",
                "status": "accepted",
                "justification": _checks.suppression_text(x.suppressed),
            }
        ]
    return r


def _message(f: Finding) -> str:
    p = f.package
    where = "/" + p.path if p.path else ""
    text = f"{p.name} {f.installed_version or p.version} is vulnerable to {f.id} ({v.severity(f)})"
    if f.fixed_versions:
        text += f"; fixed in {v.fixed(f)}."
    elif f.status == "wont_fix":
        text += "; the distribution will not fix it."
    else:
        text += "; no fixed version yet."
    if where:
        text += f" Found in {where}"
        if p.layer:
            text += f" (layer {v.short_layer(p.layer)})"
        text += "."
    return text


def to_sarif(report: ScanReport) -> dict[str, Any]:
    inv = report.inventory
    findings = v.sorted_findings(report.findings)
    by_id: dict[str, list[Finding]] = {}
    for f in findings:
        by_id.setdefault(f.id, []).append(f)
    rule_ids = sorted(by_id, key=lambda i: (min(v.severity_rank(f.severity) for f in by_id[i]), i))
    rules = [_rule(rid, by_id[rid]) for rid in rule_ids]
    index = {rid: i for i, rid in enumerate(rule_ids)}
    # a kind whose scanner did not run is not reported (as in every format)
    misconfigs = _checks.sorted_misconfigurations(
        report.misconfigurations if _checks.CONFIG in report.scanners else ()
    )
    secrets = _checks.sorted_secrets(report.secrets if _checks.SECRET in report.scanners else ())
    check_rules: dict[str, tuple[Rule, str]] = {}
    for m in misconfigs:
        check_rules.setdefault(m.rule.id, (m.rule, "misconfiguration"))
    for sf in secrets:
        check_rules.setdefault(sf.rule.id, (sf.rule, "secret"))
    for rid in sorted(check_rules, key=lambda i: (_checks.rank(check_rules[i][0].severity), i)):
        if rid not in index:  # an id both a vulnerability and a check use keeps the first rule
            index[rid] = len(rules)
            rules.append(_check_rule(*check_rules[rid]))
    results = []
    for f in findings:
        p = f.package
        props: dict[str, Any] = {
            "purl": p.purl,
            "package": p.name,
            "installedVersion": f.installed_version,
            "fixedVersions": list(f.fixed_versions),
            "severity": v.severity(f),
            "severitySource": f.severity_source,
            "status": f.status,
            "target": inv.target,
        }
        if inv.kind == "image":
            props["imageRef"] = inv.target
            if inv.image_digest:
                props["imageDigest"] = inv.image_digest
        if p.layer:
            props["layer"] = p.layer
        r: dict[str, Any] = {
            "ruleId": f.id,
            "ruleIndex": index[f.id],
            "level": LEVELS[v.severity(f)],
            "message": {"text": _message(f)},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": _uri(p.path)},
                        "region": {"startLine": 1},
                    },
                    "message": {"text": f"{p.purl}"},
                }
            ],
            "partialFingerprints": {FINGERPRINT_KEY: fingerprint(f)},
            "properties": props,
        }
        if f.suppressed is not None:
            r["suppressions"] = [
                {"kind": "external", "status": "accepted", "justification": v.suppression_text(f)}
            ]
        results.append(r)
    checks: list[Misconfiguration | SecretFinding] = [*misconfigs, *secrets]
    results += [_check_result(x, inv, index) for x in checks]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "containment",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }
        },
        "invocations": [
            {
                "executionSuccessful": True,
                "toolExecutionNotifications": _gaps.sarif_notifications(
                    [*inv.warnings, *report.warnings], report.all_gaps
                ),
            }
        ],
        "results": results,
        "columnKind": "utf16CodeUnits",
        "properties": {
            "target": inv.target,
            "kind": inv.kind,
            "complete": report.complete,
            "scanners": list(report.scanners),
        },
    }
    if inv.image_digest:
        run["properties"]["imageDigest"] = inv.image_digest
    if inv.os is not None:
        run["properties"]["os"] = inv.os.distro
    if report.db:
        run["properties"]["advisoryDatabase"] = {
            k: report.db[k] for k in ("built_at", "updated_at", "schema_version") if k in report.db
        }
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
