"""containment's own JSON for a vulnerability scan (schema `scan-1`, docs/report-json.md).

The schema file ships as `containment/data/scan-1.schema.json`. `schema_version` changes only
when a field is removed, renamed or changes meaning; new fields are added to the same version
(and to the schema file, in the same change)."""

from __future__ import annotations

from typing import Any

from containment.model import ScanReport
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
        "summary": {
            "total": len(active),
            "severities": counts(active),
            "suppressed": len(suppressed),
            "suppressed_severities": counts(suppressed),
            "packages": len(inv.packages),
            "complete": report.complete,
        },
        "findings": [f.to_json() for f in active],
        "suppressed": [f.to_json() for f in suppressed],
        "warnings": warnings,
        "gaps": [g.to_json() for g in report.all_gaps],
    }
    if packages:
        doc["packages"] = [p.to_json() for p in inv.packages]
    return doc
