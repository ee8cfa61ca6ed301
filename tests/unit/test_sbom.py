"""SBOM writers: valid against the official CycloneDX 1.6 schema and SPDX 2.3 rules."""

from __future__ import annotations

import json

from containment.model import Inventory, LayerInfo, OSInfo, Package
from containment.report.cyclonedx import PROP_LAYER, to_cyclonedx
from containment.report.spdx import to_spdx

LAYER = "sha256:" + "a" * 64


def inventory() -> Inventory:
    pk = [
        Package(
            "libc6",
            "2.36-9",
            "deb",
            "pkg:deb/debian/libc6@2.36-9?arch=amd64&distro=debian-12",
            "var/lib/dpkg/status",
            "dpkg-status",
            "glibc",
            "2.36-9",
            ("LGPL-2.1-or-later",),
            layer=LAYER,
        ),
        Package(
            "requests",
            "2.19.0",
            "pypi",
            "pkg:pypi/requests@2.19.0",
            "app/x.dist-info/METADATA",
            "python-installed",
            licenses=("Apache 2.0",),
            layer=LAYER,
        ),
        Package(
            "lodash",
            "4.17.4",
            "npm",
            "pkg:npm/lodash@4.17.4",
            "app/package-lock.json",
            "npm-lock",
            licenses=("MIT OR Apache-2.0",),
            dev=True,
            layer=LAYER,
        ),
        Package(
            "lodash",
            "4.17.4",
            "npm",
            "pkg:npm/lodash@4.17.4",
            "app/node_modules/lodash/package.json",
            "npm-installed",
            licenses=("Custom: weird license",),
            layer=LAYER,
        ),
    ]
    return Inventory(
        "oci:./img",
        "image",
        OSInfo("debian", "12", "Debian GNU/Linux 12"),
        tuple(pk),
        (LayerInfo(0, LAYER, "sha256:" + "b" * 64),),
        "sha256:" + "c" * 64,
        "sha256:" + "d" * 64,
    )


def test_cyclonedx_is_valid_and_carries_layers():
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    doc = to_cyclonedx(inventory())
    err = JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(doc))
    assert err is None, err
    comps = [c for c in doc["components"] if c["type"] == "library"]
    assert len({c["bom-ref"] for c in comps}) == 4  # duplicate purls get distinct refs
    assert all({"name": PROP_LAYER, "value": LAYER} in c["properties"] for c in comps)
    assert {"expression": "MIT OR Apache-2.0"} in [lic for c in comps for lic in c.get("licenses", [])]
    assert doc["components"][0]["type"] == "operating-system"


def test_spdx_is_valid():
    from spdx_tools.spdx.parser.jsonlikedict.json_like_dict_parser import JsonLikeDictParser
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    doc = to_spdx(inventory())
    parsed = JsonLikeDictParser().parse(json.loads(json.dumps(doc)))
    problems = validate_full_spdx_document(parsed)
    assert problems == [], [p.validation_message for p in problems]
    purls = [r["referenceLocator"] for p in doc["packages"] for r in p.get("externalRefs", [])]
    assert "pkg:pypi/requests@2.19.0" in purls
    assert any(e["licenseId"].startswith("LicenseRef-") for e in doc["hasExtractedLicensingInfos"])


def test_spdx_ids_agree_with_cyclonedx_lib():
    from cyclonedx import spdx

    from containment.report.licenses import _spdx_ids, spdx_id

    ids = list(_spdx_ids().values())
    assert len(ids) > 500
    for t in [*ids, *(i.lower() for i in ids), *(i.upper() for i in ids), "Custom license", ""]:
        assert spdx_id(t) == spdx.fixup_id(t.strip()) if t.strip() else spdx_id(t) is None
