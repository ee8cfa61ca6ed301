"""CycloneDX 1.6 JSON. Written directly (one pass, no object model) and checked against the
official 1.6 schema in the tests; components carry bom-ref, purl, type and the layer diff_id."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from typing import Any

from containment import __version__
from containment.model import Inventory, Package
from containment.report.licenses import spdx_expression, spdx_id

PROP_LAYER = "containment:layer:diff_id"
PROP_PATH = "containment:location:path"
PROP_CATALOGER = "containment:cataloger"


def bom_refs(packages: tuple[Package, ...] | list[Package]) -> dict[int, str]:
    """A unique, stable bom-ref per package (its purl, disambiguated like syft's package-id)."""
    refs: dict[int, str] = {}
    used: set[str] = set()
    for i, p in enumerate(packages):
        ref = p.purl
        if ref in used:
            h = hashlib.sha256(f"{p.purl}|{p.path}|{p.layer}|{i}".encode()).hexdigest()[:16]
            ref = f"{p.purl}{'&' if '?' in p.purl else '?'}package-id={h}"
        used.add(ref)
        refs[i] = ref
    return refs


def _licenses(p: Package) -> list[dict[str, Any]]:
    if not p.licenses:
        return []
    if len(p.licenses) == 1:
        expr = spdx_expression(p.licenses[0])
        if expr:
            return [{"expression": expr}]
    out = []
    for lic in p.licenses:
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


def to_cyclonedx(inv: Inventory, extra_components: list[dict[str, Any]] | None = None) -> dict[str, Any]:
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
        },
        "components": components,
        "dependencies": [{"ref": "target", "dependsOn": [c["bom-ref"] for c in components]}],
    }
    return doc
