"""NVD CVE JSON 2.0 records as the NVD API 2.0 and the nvdcve-2.0-*.json feeds write them.

The metrics of CVE-2023-0286 and CVE-2019-11358 are NVD's own (cvssMetricV31 Primary by
nvd@nist.gov and a CNA's Secondary; cvssMetricV2), copied with their exact shape; texts, CPE
configurations and references are left out (containment does not read them)."""

from __future__ import annotations

import copy
import gzip
import json
import zipfile
from pathlib import Path
from typing import Any

CVE_2023_0286: dict[str, Any] = {
    "id": "CVE-2023-0286",
    "sourceIdentifier": "openssl-security@openssl.org",
    "published": "2023-02-08T20:15:24.267",
    "lastModified": "2025-03-20T21:15:16.550",
    "vulnStatus": "Modified",
    "cveTags": [],
    "descriptions": [
        {"lang": "en", "value": "There is a type confusion vulnerability relating to X.400 ..."}
    ],
    "metrics": {
        "cvssMetricV31": [
            {
                "source": "nvd@nist.gov",
                "type": "Primary",
                "cvssData": {
                    "version": "3.1",
                    "vectorString": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:H",
                    "baseScore": 7.4,
                    "baseSeverity": "HIGH",
                    "attackVector": "NETWORK",
                    "attackComplexity": "HIGH",
                    "privilegesRequired": "NONE",
                    "userInteraction": "NONE",
                    "scope": "UNCHANGED",
                    "confidentialityImpact": "HIGH",
                    "integrityImpact": "NONE",
                    "availabilityImpact": "HIGH",
                },
                "exploitabilityScore": 2.2,
                "impactScore": 5.2,
            },
            {
                "source": "134c704f-9b21-4f2e-91b3-4a467353bcc0",
                "type": "Secondary",
                "cvssData": {
                    "version": "3.1",
                    "vectorString": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:H",
                    "baseScore": 7.4,
                    "baseSeverity": "HIGH",
                    "attackVector": "NETWORK",
                    "attackComplexity": "HIGH",
                    "privilegesRequired": "NONE",
                    "userInteraction": "NONE",
                    "scope": "UNCHANGED",
                    "confidentialityImpact": "HIGH",
                    "integrityImpact": "NONE",
                    "availabilityImpact": "HIGH",
                },
                "exploitabilityScore": 2.2,
                "impactScore": 5.2,
            },
        ]
    },
    "weaknesses": [
        {"source": "nvd@nist.gov", "type": "Primary", "description": [{"lang": "en", "value": "CWE-843"}]}
    ],
    "configurations": [],
    "references": [
        {"url": "https://www.openssl.org/news/secadv/20230207.txt", "source": "openssl-security@openssl.org"}
    ],
}

CVE_2019_11358: dict[str, Any] = {
    "id": "CVE-2019-11358",
    "sourceIdentifier": "cve@mitre.org",
    "published": "2019-04-20T00:29:00.247",
    "lastModified": "2026-06-17T02:12:46.053",
    "vulnStatus": "Modified",
    "cveTags": [],
    "descriptions": [
        {"lang": "en", "value": "jQuery before 3.4.0 ... mishandles jQuery.extend(true, {}, ...)"}
    ],
    "metrics": {
        "cvssMetricV31": [
            {
                "source": "nvd@nist.gov",
                "type": "Primary",
                "cvssData": {
                    "version": "3.1",
                    "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
                    "baseScore": 6.1,
                    "baseSeverity": "MEDIUM",
                    "attackVector": "NETWORK",
                    "attackComplexity": "LOW",
                    "privilegesRequired": "NONE",
                    "userInteraction": "REQUIRED",
                    "scope": "CHANGED",
                    "confidentialityImpact": "LOW",
                    "integrityImpact": "LOW",
                    "availabilityImpact": "NONE",
                },
                "exploitabilityScore": 2.8,
                "impactScore": 2.7,
            }
        ],
        "cvssMetricV2": [
            {
                "source": "nvd@nist.gov",
                "type": "Primary",
                "cvssData": {
                    "version": "2.0",
                    "vectorString": "AV:N/AC:M/Au:N/C:N/I:P/A:N",
                    "baseScore": 4.3,
                    "accessVector": "NETWORK",
                    "accessComplexity": "MEDIUM",
                    "authentication": "NONE",
                    "confidentialityImpact": "NONE",
                    "integrityImpact": "PARTIAL",
                    "availabilityImpact": "NONE",
                },
                "baseSeverity": "MEDIUM",
                "exploitabilityScore": 8.6,
                "impactScore": 2.9,
                "acInsufInfo": False,
                "obtainAllPrivilege": False,
                "obtainUserPrivilege": False,
                "obtainOtherPrivilege": False,
                "userInteractionRequired": True,
            }
        ],
    },
    "weaknesses": [],
    "configurations": [],
    "references": [],
}


def cve(cid: str, **metrics: list[dict[str, Any]]) -> dict[str, Any]:
    """A CVE in the same shape with other metrics (cvssMetricV2=[...], cvssMetricV40=[...])."""
    return {
        "id": cid,
        "sourceIdentifier": "cve@mitre.org",
        "published": "2024-01-01T00:00:00.000",
        "lastModified": "2024-01-02T00:00:00.000",
        "vulnStatus": "Analyzed",
        "descriptions": [{"lang": "en", "value": cid}],
        "metrics": metrics,
    }


def metric(vector: str, version: str, source: str = "nvd@nist.gov", type_: str = "Primary") -> dict[str, Any]:
    return {"source": source, "type": type_, "cvssData": {"version": version, "vectorString": vector}}


def feed(*cves: dict[str, Any]) -> dict[str, Any]:
    """The envelope of NVD's CVE JSON 2.0 feed files (and API 2.0 responses)."""
    return {
        "resultsPerPage": len(cves),
        "startIndex": 0,
        "totalResults": len(cves),
        "format": "NVD_CVE",
        "version": "2.0",
        "timestamp": "2026-12-01T03:00:01.123",
        "vulnerabilities": [{"cve": copy.deepcopy(c)} for c in cves],
    }


def write_feed(path: Path, *cves: dict[str, Any]) -> Path:
    """nvdcve-2.0-<name>.json, .json.gz or .json.zip (by the path's suffix), pretty-printed as NVD does."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(feed(*cves), indent=2).encode()
    if path.name.endswith(".gz"):
        path.write_bytes(gzip.compress(data))
    elif path.name.endswith(".zip"):
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr(path.name[: -len(".zip")], data)
    else:
        path.write_bytes(data)
    return path
