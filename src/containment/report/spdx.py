"""SPDX 2.3 JSON, written directly and validated with spdx-tools in the tests."""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from containment import __version__
from containment.escape import escape, raw_bytes
from containment.model import Inventory, Package
from containment.report import _gaps
from containment.report.licenses import license_ref, spdx_expression, spdx_id

_ID_SAFE = re.compile(r"[^A-Za-z0-9.-]+")
# what SPDX 2.3 (and spdx-tools) accept as a purl locator; anything else is left out
_PURL = re.compile(r"^pkg:.+(\/.+)?\/.+(@.+)?(\?.+)?(#.+)?$")


def _spdx_id(prefix: str, text: str) -> str:
    h = hashlib.sha256(raw_bytes(text)).hexdigest()[:12]
    return f"SPDXRef-{prefix}-{_ID_SAFE.sub('-', text)[:48].strip('-')}-{h}"


def _declared(p: Package, refs: dict[str, str]) -> str:
    """The declared license expression; texts that are no SPDX id become LicenseRef-s whose
    text goes to `refs` (two texts that sanitize alike get distinct refs)."""
    licenses = [lic for lic in p.licenses if lic.strip()]
    if not licenses:
        return "NOASSERTION"
    parts = []
    for lic in licenses:
        expr = spdx_expression(lic)
        if expr:
            parts.append(f"({expr})" if len(licenses) > 1 else expr)
            continue
        lid = spdx_id(lic)
        if lid:
            parts.append(lid)
        else:
            ref = license_ref(lic)
            if refs.get(ref, lic) != lic:
                ref = f"{ref}-{hashlib.sha256(raw_bytes(lic)).hexdigest()[:8]}"
            refs.setdefault(ref, lic)
            parts.append(ref)
    return " AND ".join(dict.fromkeys(parts))


def to_spdx(inv: Inventory) -> dict[str, Any]:
    name = inv.target
    root_id = "SPDXRef-Target"
    root: dict[str, Any] = {
        "SPDXID": root_id,
        "name": name,
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": False,
        "licenseConcluded": "NOASSERTION",
        "licenseDeclared": "NOASSERTION",
        "copyrightText": "NOASSERTION",
        "primaryPackagePurpose": "CONTAINER" if inv.kind == "image" else "SOURCE",
    }
    if inv.image_digest:
        root["versionInfo"] = inv.image_digest
        alg, _, hexd = inv.image_digest.partition(":")
        root["checksums"] = [{"algorithm": alg.upper(), "checksumValue": hexd}]
    packages = [root]
    relationships = [
        {"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": root_id}
    ]
    extracted: dict[str, str] = {}
    if inv.os is not None:
        os_id = _spdx_id("OperatingSystem", f"{inv.os.id}-{inv.os.version_id}")
        packages.append(
            {
                "SPDXID": os_id,
                "name": inv.os.id,
                "versionInfo": inv.os.version_id or "NOASSERTION",
                "downloadLocation": "NOASSERTION",
                "filesAnalyzed": False,
                "licenseConcluded": "NOASSERTION",
                "licenseDeclared": "NOASSERTION",
                "copyrightText": "NOASSERTION",
                "primaryPackagePurpose": "OPERATING-SYSTEM",
                "description": inv.os.name,
            }
        )
        relationships.append(
            {"spdxElementId": root_id, "relationshipType": "CONTAINS", "relatedSpdxElement": os_id}
        )
    seen: set[str] = set()
    for i, p in enumerate(inv.packages):
        pid = _spdx_id("Package", f"{p.type}-{p.name}-{p.version}-{p.path}-{p.layer}-{i}")
        while pid in seen:
            pid += "x"
        seen.add(pid)
        where = f"found at /{p.path}" + (f" in layer {p.layer}" if p.layer else "") + f" by {p.cataloger}"
        pkg: dict[str, Any] = {
            "SPDXID": pid,
            "name": p.name,
            "versionInfo": p.version or "NOASSERTION",
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": False,
            "licenseConcluded": "NOASSERTION",
            "licenseDeclared": _declared(p, extracted),
            "copyrightText": "NOASSERTION",
            "sourceInfo": where,
            "primaryPackagePurpose": "LIBRARY",
        }
        locator = escape(p.purl)
        if _PURL.match(locator) and not any(c.isspace() for c in locator):
            pkg["externalRefs"] = [
                {"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": locator}
            ]
        if p.source_name and p.source_name != p.name:
            pkg["comment"] = f"source package {p.source_name} {p.source_version}".strip()
        packages.append(pkg)
        relationships.append(
            {"spdxElementId": root_id, "relationshipType": "CONTAINS", "relatedSpdxElement": pid}
        )
        if p.dev:
            relationships.append(
                {"spdxElementId": pid, "relationshipType": "DEV_DEPENDENCY_OF", "relatedSpdxElement": root_id}
            )
    doc: dict[str, Any] = {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": name,
        "documentNamespace": f"https://containment.invalid/spdx/{_ID_SAFE.sub('-', name)[:64]}-{uuid.uuid4()}",
        "creationInfo": {
            "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "creators": [f"Tool: containment-{__version__}"],
        },
        "packages": packages,
        "relationships": relationships,
    }
    comment = _gaps.spdx_comment(inv.warnings, inv.gaps, "the packages listed may not be all")
    if comment:
        doc["creationInfo"]["comment"] = comment
    if extracted:
        doc["hasExtractedLicensingInfos"] = [
            {"licenseId": ref, "extractedText": text, "name": text[:200]}
            for ref, text in sorted(extracted.items())
        ]
    return doc
