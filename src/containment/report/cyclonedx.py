"""CycloneDX 1.6 JSON. Written directly (one pass, no object model) and checked against the
official 1.6 schema in the tests; components carry bom-ref, purl, type and the layer diff_id.

CycloneDX 1.6 has no object for a misconfiguration or a leaked secret (`vulnerabilities[]` are
known vulnerabilities of components, and a Dockerfile rule or a key in a file is neither), so
the scan report (`to_cyclonedx_vulns`) carries them as properties, the spec's name-value
extension (duplicate names allowed), in containment's namespace (CycloneDX property taxonomy:
lower-case segments, no ':' inside a segment):

on `metadata.properties` (about the whole scan):
  containment:scanner                        one per kind looked for: vuln, secret, config
  containment:misconfigurations:total        active misconfigurations (only when config ran)
  containment:misconfigurations:suppressed   suppressed ones
  containment:secrets:total                  active secrets (only when secret ran)
  containment:secrets:suppressed             suppressed ones
on `metadata.component.properties` (the scanned image or directory, which they are about):
  containment:misconfiguration   one per misconfiguration, its value a JSON object: rule, title,
                                 severity, kind, aliases, message, resource, path, start_line,
                                 end_line, field, layer, source, level, suppressed (null or a reason)
  containment:secret             one per secret, a JSON object: rule, title, severity, match
                                 (masked, never the secret), path, start_line, end_line, field,
                                 layer, removed_in, suppressed
`path` is in the target (no leading slash; empty for the image config, then `field` names the
part); `layer` / `removed_in` are diff_ids (`containment:image:layer` maps them to indexes).
A kind whose scanner did not run has none of its properties (and without the vuln scanner the
document has no `vulnerabilities`), so "clean" and "not looked at" differ."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from containment import __version__
from containment.escape import escape, raw_bytes
from containment.model import Finding, Gap, Inventory, Misconfiguration, Package, ScanReport, SecretFinding
from containment.report import _checks, _gaps, _vulns
from containment.report.licenses import spdx_expression, spdx_id

PROP_LAYER = "containment:layer:diff_id"
PROP_PATH = "containment:location:path"
PROP_CATALOGER = "containment:cataloger"


def bom_refs(packages: tuple[Package, ...] | list[Package]) -> dict[int, str]:
    """A unique, stable bom-ref per package (its purl, disambiguated like syft's package-id).
    Refs are compared as written (escaped, see containment.escape), so two purls that escape
    alike still get distinct refs."""
    refs: dict[int, str] = {}
    used: set[str] = set()
    for i, p in enumerate(packages):
        ref = _ref_base(p)
        n = 0
        while ref in used:
            h = hashlib.sha256(
                raw_bytes(f"{p.purl}|{p.path}|{p.layer}|{i}" + (f"|{n}" if n else ""))
            ).hexdigest()[:16]
            ref = f"{_ref_base(p)}{'&' if '?' in p.purl else '?'}package-id={h}"
            n += 1
        used.add(ref)
        refs[i] = ref
    return refs


def _ref_base(p: Package) -> str:
    """A package's bom-ref before disambiguation: its purl as written (never empty)."""
    return escape(p.purl) or "containment:package"


def _licenses(p: Package) -> list[dict[str, Any]]:
    licenses = [lic for lic in p.licenses if lic.strip()]
    if not licenses:
        return []
    if len(licenses) == 1:
        expr = spdx_expression(licenses[0])
        if expr:
            return [{"expression": expr}]
    out = []
    for lic in licenses:
        lid = spdx_id(lic)
        out.append({"license": {"id": lid} if lid else {"name": lic[:1000]}})
    return out


def component(p: Package, ref: str) -> dict[str, Any]:
    c: dict[str, Any] = {"bom-ref": ref, "type": "library", "name": p.name}
    if p.version:
        c["version"] = p.version
    if p.type == "maven" and "/" in p.purl:
        c["group"] = p.purl.split("/")[1]
    lic = _licenses(p)
    if lic:
        c["licenses"] = lic
    c["purl"] = p.purl
    props = [{"name": PROP_CATALOGER, "value": p.cataloger}, {"name": PROP_PATH, "value": "/" + p.path}]
    if p.layer:
        props.append({"name": PROP_LAYER, "value": p.layer})
    if p.source_name:
        props.append({"name": "containment:package:source_name", "value": p.source_name})
    if p.source_version:
        props.append({"name": "containment:package:source_version", "value": p.source_version})
    if p.dev:
        props.append({"name": "containment:package:dev", "value": "true"})
    c["properties"] = props
    if p.dev:
        c["scope"] = "optional"
    return c


def to_cyclonedx(
    inv: Inventory,
    extra_components: list[dict[str, Any]] | None = None,
    warnings: tuple[str, ...] | None = None,
    gaps: tuple[Gap, ...] | None = None,
) -> dict[str, Any]:
    """The SBOM. `warnings` and `gaps` default to the inventory's (a scan passes its own, which
    add what the advisory database does not cover): metadata properties `containment:complete`,
    `containment:gap`, `containment:warning`."""
    refs = bom_refs(inv.packages)
    subject: dict[str, Any] = {
        "bom-ref": "target",
        "type": "container" if inv.kind == "image" else "file",
        "name": inv.target,
    }
    if inv.image_digest:
        subject["version"] = inv.image_digest
    props = []
    if inv.image_id:
        props.append({"name": "containment:image:id", "value": inv.image_id})
    for layer in inv.layers:
        props.append({"name": "containment:image:layer", "value": f"{layer.index} {layer.diff_id}"})
    if props:
        subject["properties"] = props
    components: list[dict[str, Any]] = []
    if inv.os is not None:
        osc: dict[str, Any] = {
            "bom-ref": f"os:{inv.os.id}@{inv.os.version_id}",
            "type": "operating-system",
            "name": inv.os.id,
        }
        if inv.os.version_id:
            osc["version"] = inv.os.version_id
        if inv.os.name:
            osc["description"] = inv.os.name
        components.append(osc)
    components.extend(component(p, refs[i]) for i, p in enumerate(inv.packages))
    components.extend(extra_components or [])
    doc: dict[str, Any] = {
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": f"urn:uuid:{uuid.uuid4()}",
        "version": 1,
        "metadata": {
            "timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "tools": {"components": [{"type": "application", "name": "containment", "version": __version__}]},
            "component": subject,
            "properties": _gaps.cyclonedx_properties(
                inv.warnings if warnings is None else warnings, inv.gaps if gaps is None else gaps
            ),
        },
        "components": components,
        "dependencies": [{"ref": "target", "dependsOn": [c["bom-ref"] for c in components]}],
    }
    return doc


# ------------------------------------------------------------------ vulnerabilities (VEX-ish)

_CDX_SEVERITY = {
    "CRITICAL": "critical",
    "HIGH": "high",
    "MEDIUM": "medium",
    "LOW": "low",
    "NEGLIGIBLE": "info",
    "UNKNOWN": "unknown",
}
_CVSS_METHOD = {"2": "CVSSv2", "3.0": "CVSSv3", "3.1": "CVSSv31", "4": "CVSSv4"}

# VEX justification (OpenVEX vocabulary, or CycloneDX's own passed through) -> CycloneDX 1.6 enum
CDX_JUSTIFICATIONS = frozenset(
    {
        "code_not_present",
        "code_not_reachable",
        "requires_configuration",
        "requires_dependency",
        "requires_environment",
        "protected_by_compiler",
        "protected_at_runtime",
        "protected_at_perimeter",
        "protected_by_mitigating_control",
    }
)
OPENVEX_TO_CDX_JUSTIFICATION = {
    "component_not_present": "code_not_present",
    "vulnerable_code_not_present": "code_not_present",
    "vulnerable_code_not_in_execute_path": "code_not_reachable",
    "vulnerable_code_cannot_be_controlled_by_adversary": "protected_by_mitigating_control",
    "inline_mitigations_already_exist": "protected_by_mitigating_control",
}
# VEX status (first word of Suppression.reason for kind "vex") -> CycloneDX analysis state
_VEX_STATE = {
    "not_affected": "not_affected",
    "false_positive": "false_positive",
    "fixed": "resolved",
    "resolved": "resolved",
    "resolved_with_pedigree": "resolved_with_pedigree",
}

_DATA_SOURCES = {
    "debian-tracker": ("Debian Security Tracker", "https://security-tracker.debian.org/tracker/{id}"),
    "alpine-secdb": ("Alpine SecDB", "https://secdb.alpinelinux.org/"),
}


def _id_source(vid: str) -> dict[str, str]:
    u = vid.upper()
    if u.startswith("CVE-"):
        name = "NVD"
    elif u.startswith("GHSA-"):
        name = "GitHub Advisory Database"
    elif u.startswith(("DSA-", "DLA-", "TEMP-")):
        name = "Debian Security Tracker"
    else:
        name = "OSV"
    return {"name": name, "url": _vulns.vuln_url(vid)}


def _data_source(f: Finding) -> dict[str, str]:
    ds = f.data_source or ""
    if ds in _DATA_SOURCES:
        name, url = _DATA_SOURCES[ds]
        return {"name": name, "url": url.format(id=f.id)}
    if ds.startswith("osv"):
        return {"name": "OSV", "url": f"https://osv.dev/vulnerability/{(f.advisory_ids or (f.id,))[0]}"}
    if ds:
        return {"name": ds, "url": _vulns.vuln_url(f.id)}
    return _id_source(f.id)


def _advisory_url(ref: str) -> str | None:
    """A reference as an http(s) URL CycloneDX accepts (an IRI reference), or None: characters
    a URL may not hold are percent-encoded (raw bytes as %XX, like every other format)."""
    from urllib.parse import quote, urlsplit

    text = re.sub(r"%(?![0-9A-Fa-f]{2})", "%25", ref.strip())  # a lone % is no escape
    url = quote(raw_bytes(text), safe=":/?#@!$&'()*+,;=%-._~")
    head, sep, frag = url.partition("#")
    url = head + sep + frag.replace("#", "%23")  # one fragment delimiter; a later # is data
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme in ("http", "https") and parts.hostname else None


def _cvss_severity(score: float) -> str:
    if score >= 9.0:
        return "critical"
    if score >= 7.0:
        return "high"
    if score >= 4.0:
        return "medium"
    if score > 0.0:
        return "low"
    return "none"


def _timestamp(value: str) -> str | None:
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value.strip().replace("z", "Z"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _analysis(f: Finding) -> dict[str, Any]:
    s = f.suppressed
    assert s is not None
    if s.kind == "vex":
        status, _, detail = s.reason.partition(":")
        state = _VEX_STATE.get(status.strip(), "not_affected")
        detail = detail.strip() if status.strip() in _VEX_STATE else s.reason
    else:
        state = "not_affected"
        detail = f"Ignored by {s.source or 'an ignore file'}"
        if s.expires:
            detail += f" until {s.expires}"
        detail += f": {s.reason}" if s.reason else " (no reason given)"
    a: dict[str, Any] = {"state": state}
    just = OPENVEX_TO_CDX_JUSTIFICATION.get(s.justification, s.justification)
    if just in CDX_JUSTIFICATIONS and state == "not_affected":
        a["justification"] = just
    if s.kind == "vex":
        note = "; ".join(x for x in (s.justification, f"VEX {s.source}" if s.source else "") if x)
        detail = f"{detail} ({note})" if detail and note else detail or note
    if detail:
        a["detail"] = detail
    return a


def vulnerability(f: Finding, component_ref: str, bom_ref: str) -> dict[str, Any]:
    """One CycloneDX vulnerability for one Finding (affecting one component)."""
    vd: dict[str, Any] = {"bom-ref": bom_ref, "id": f.id, "source": _data_source(f)}
    refs = [{"id": a, "source": _id_source(a)} for a in dict.fromkeys(f.aliases) if a and a != f.id]
    if refs:
        vd["references"] = refs
    ratings: list[dict[str, Any]] = []
    for c in f.cvss:
        method = _CVSS_METHOD.get(c.version, _CVSS_METHOD.get(c.version.split(".")[0], "other"))
        r: dict[str, Any] = {}
        if c.source:
            r["source"] = {"name": c.source}
        r.update({"score": c.score, "severity": _cvss_severity(c.score), "method": method})
        if c.vector:
            r["vector"] = c.vector
        ratings.append(r)
    sev_rating: dict[str, Any] = {"severity": _CDX_SEVERITY[_vulns.severity(f)], "method": "other"}
    if f.severity_source:
        sev_rating = {"source": {"name": f.severity_source}, **sev_rating}
    ratings.append(sev_rating)
    vd["ratings"] = ratings
    cwes = [int(c) for c in getattr(f, "cwes", ()) if str(c).isdigit()]
    if cwes:
        vd["cwes"] = cwes
    if f.description or f.title:
        vd["description"] = f.description or f.title
    if f.title and f.description and f.title not in f.description:
        vd["detail"] = f.title
    if f.fixed_versions:
        vd["recommendation"] = f"Upgrade {f.package.name} to {f.fixed_versions[0]}"
    elif f.status == "wont_fix":
        vd["recommendation"] = f"The distribution will not fix {f.id} in {f.package.name}"
    advisories = [{"url": u} for u in dict.fromkeys(filter(None, map(_advisory_url, f.references)))]
    if advisories:
        vd["advisories"] = advisories
    pub, upd = _timestamp(f.published), _timestamp(f.modified)
    if pub:
        vd["published"] = pub
    if upd:
        vd["updated"] = upd
    if f.suppressed is not None:
        vd["analysis"] = _analysis(f)
    status = "unaffected" if (f.suppressed is not None and f.suppressed.kind == "vex") else "affected"
    vd["affects"] = [
        {
            "ref": component_ref,
            "versions": [{"version": f.installed_version or f.package.version, "status": status}],
        }
    ]
    props = [
        {"name": "containment:ecosystem", "value": f.ecosystem},
        {"name": "containment:status", "value": f.status},
    ]
    if f.title:
        props.append({"name": "containment:title", "value": f.title})
    if f.suppressed is not None:
        props.append({"name": "containment:suppressed:kind", "value": f.suppressed.kind})
    vd["properties"] = props
    return vd


def to_cyclonedx_vulns(report: ScanReport) -> dict[str, Any]:
    """The inventory's SBOM plus `vulnerabilities[]`, one per finding (suppressed ones carry an
    `analysis`). Each `affects[].ref` is the bom-ref of the package's component; a finding whose
    package is not in the inventory gets a component of its own."""
    inv = report.inventory
    refs = bom_refs(inv.packages)
    by_pkg: dict[Package, str] = {}
    for i, p in enumerate(inv.packages):
        by_pkg.setdefault(p, refs[i])
    used = set(refs.values())
    extra: list[dict[str, Any]] = []
    findings = _vulns.sorted_findings(report.findings)
    for f in findings:
        if f.package not in by_pkg:
            ref = _ref_base(f.package)
            n = 0
            while ref in used:
                n += 1
                h = hashlib.sha256(
                    raw_bytes(f"{f.package.purl}|{f.package.path}|{f.package.layer}|x{n}")
                ).hexdigest()
                ref = f"{_ref_base(f.package)}{'&' if '?' in f.package.purl else '?'}package-id={h[:16]}"
            used.add(ref)
            by_pkg[f.package] = ref
            extra.append(component(f.package, ref))
    doc = to_cyclonedx(
        inv,
        extra_components=extra,
        warnings=(*inv.warnings, *report.warnings),
        gaps=report.all_gaps,
    )
    vulns = []
    vrefs: set[str] = set()
    for f in findings:
        cref = by_pkg[f.package]
        vref = f"{escape(f.id)}/{cref}"
        n = 1
        while vref in vrefs or vref in used:
            n += 1
            vref = f"{escape(f.id)}/{cref}#{n}"
        vrefs.add(vref)
        vulns.append(vulnerability(f, cref, vref))
    if _checks.VULN in report.scanners:
        doc["vulnerabilities"] = vulns
    props = doc["metadata"].setdefault("properties", [])
    if _checks.VULN in report.scanners:
        for key in ("built_at", "updated_at"):
            if report.db.get(key):
                props.append({"name": f"containment:db:{key}", "value": str(report.db[key])})
    props += [{"name": "containment:scanner", "value": s} for s in report.scanners]
    subject = doc["metadata"]["component"]
    found: list[dict[str, Any]] = []
    if _checks.CONFIG in report.scanners:
        misconfigs = _checks.sorted_misconfigurations(report.misconfigurations)
        props += _check_counts("misconfigurations", misconfigs)
        found += [{"name": PROP_MISCONFIGURATION, "value": _misconfiguration(m)} for m in misconfigs]
    if _checks.SECRET in report.scanners:
        secrets = _checks.sorted_secrets(report.secrets)
        props += _check_counts("secrets", secrets)
        found += [{"name": PROP_SECRET, "value": _secret(s)} for s in secrets]
    if found:
        subject["properties"] = [*subject.get("properties", []), *found]
    return doc


# ------------------------------------------------------------------ misconfigurations, secrets

PROP_MISCONFIGURATION = "containment:misconfiguration"
PROP_SECRET = "containment:secret"


def _check_counts(kind: str, items: list[Misconfiguration] | list[SecretFinding]) -> list[dict[str, Any]]:
    silenced = sum(1 for x in items if x.suppressed is not None)
    return [
        {"name": f"containment:{kind}:total", "value": str(len(items) - silenced)},
        {"name": f"containment:{kind}:suppressed", "value": str(silenced)},
    ]


def _common(x: Misconfiguration | SecretFinding) -> dict[str, Any]:
    r = x.rule
    return {
        "rule": r.id,
        "title": r.title,
        "severity": _checks.severity(r.severity),
        "kind": r.kind,
        "aliases": list(r.aliases),
    }


def _where(x: Misconfiguration | SecretFinding) -> dict[str, Any]:
    loc = x.location
    return {
        "path": loc.path,
        "start_line": loc.start_line,
        "end_line": loc.end_line,
        "field": loc.field,
        "layer": loc.layer,
    }


def _value(d: dict[str, Any]) -> str:
    """A property value: one line of JSON (its strings escaped as every output escapes them)."""
    return escape(json.dumps(d, ensure_ascii=False, separators=(",", ":")))


def _misconfiguration(m: Misconfiguration) -> str:
    return _value(
        {
            **_common(m),
            "message": m.message,
            "resource": m.resource,
            **_where(m),
            "source": m.source,
            "level": m.level,
            "suppressed": _checks.suppression_text(m.suppressed) or None,
        }
    )


def _secret(s: SecretFinding) -> str:
    return _value(
        {
            **_common(s),
            "match": s.match,
            **_where(s),
            "removed_in": s.removed_in,
            "suppressed": _checks.suppression_text(s.suppressed) or None,
        }
    )
