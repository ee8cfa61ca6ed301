"""containment's own JSON for a scan (schema `scan-1`, docs/report-json.md).

Every kind a scan looks for has its own list: `findings` / `suppressed` (vulnerabilities),
`misconfigurations` and `secrets` (each item's own to_json, suppressed ones kept and marked),
and its own counts in `summary`. `scanners` says which kinds were looked for; a kind whose
scanner did not run is absent (its list and its counts), so "clean" (an empty list) and "not
looked at" (no key) differ.

The schema file ships as `containment/data/scan-1.schema.json`. `schema_version` changes only
when a field is removed, renamed or changes meaning; new fields are added to the same version
(and to the schema file, in the same change)."""

from __future__ import annotations

from typing import Any

from containment.model import Misconfiguration, ScanReport, SecretFinding
from containment.report import _checks
from containment.report._vulns import counts, sorted_findings

SCHEMA = "https://containment.invalid/schema/scan-1.json"
SCHEMA_VERSION = 1


def schema_path() -> Any:
    """The JSON Schema of this output (an importlib.resources Traversable)."""
    from importlib.resources import files

    return files("containment").joinpath("data/scan-1.schema.json")


def to_json(report: ScanReport, packages: bool = False) -> dict[str, Any]:
    """The report; `packages=True` (--list-all-pkgs) adds `packages`: every package of the
    inventory, vulnerable or not."""
    inv = report.inventory
    active = sorted_findings(report.active)
    suppressed = sorted_findings(report.suppressed)
    warnings = list(dict.fromkeys([*inv.warnings, *report.warnings]))
    summary: dict[str, Any] = {}
    if _checks.VULN in report.scanners:
        summary.update(
            {
                "total": len(active),
                "severities": counts(active),
                "suppressed": len(suppressed),
                "suppressed_severities": counts(suppressed),
            }
        )
    summary["packages"] = len(inv.packages)
    summary["complete"] = report.complete
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "target": inv.target,
        "kind": inv.kind,
        "image_digest": inv.image_digest or None,
        "image_id": inv.image_id or None,
        "os": inv.os.to_json() if inv.os else None,
        "layers": [layer.to_json() for layer in inv.layers],
        "db": dict(report.db),
        "scanners": list(report.scanners),
        "summary": summary,
    }
    if _checks.VULN in report.scanners:
        doc["findings"] = [f.to_json() for f in active]
        doc["suppressed"] = [f.to_json() for f in suppressed]
    if _checks.CONFIG in report.scanners:
        misconfigs = _checks.sorted_misconfigurations(report.misconfigurations)
        summary["misconfigurations"] = _checks.kind_counts(misconfigs)
        doc["misconfigurations"] = [_misconfiguration(m) for m in misconfigs]
        doc["workloads"] = [w.to_json() for w in report.workloads]
    if _checks.SECRET in report.scanners:
        secrets = _checks.sorted_secrets(report.secrets)
        summary["secrets"] = _checks.kind_counts(secrets)
        doc["secrets"] = [_secret(s) for s in secrets]
    doc["warnings"] = warnings
    doc["gaps"] = [g.to_json() for g in report.all_gaps]
    if packages:
        doc["packages"] = [p.to_json() for p in inv.packages]
    return doc


def _misconfiguration(m: Misconfiguration) -> dict[str, Any]:
    """The model's own JSON, plus `layer` (as a vulnerability finding has it) at the top."""
    return {**m.to_json(), "layer": m.location.layer}


def _secret(s: SecretFinding) -> dict[str, Any]:
    """The model's own JSON (its `match` is masked), plus `layer` at the top."""
    return {**s.to_json(), "layer": s.location.layer}
