"""Fuzz every output format with hostile names and metadata: arbitrary unicode, lone surrogates
(the form undecodable bytes take, containment.escape), control characters, rich markup, odd
licenses and purls. Every format must serialize the way the CLI does it (dump_json + to_utf8)
into valid UTF-8 and a valid document, never raise."""

from __future__ import annotations

import json
from functools import cache

import jsonschema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from containment.catalog.base import purl as make_purl
from containment.cli.common import dump_json
from containment.escape import to_utf8
from containment.model import (
    CVSS,
    NO_ADVISORIES,
    SEVERITIES,
    UNREADABLE,
    UNSUPPORTED,
    Finding,
    Gap,
    Inventory,
    LayerInfo,
    OSInfo,
    Package,
    ScanReport,
    Suppression,
)
from containment.report import cyclonedx, findings_json, inventory, sarif, spdx, table

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# every code point, surrogates included (hypothesis leaves category Cs out unless asked)
ANY_CHAR = st.one_of(st.characters(), st.characters(categories=["Cs"]))
TEXT = st.text(ANY_CHAR, max_size=24)
RAW_BYTES = st.binary(max_size=12).map(lambda b: b.decode("utf-8", "surrogateescape"))
NASTY = st.sampled_from(
    ["", "%", "%FF", "[/]", "[bold]x", "\x1b[31m", "\n", "\u2028", "\ud800", "\udcff", "#", "?", "@", "/"]
)
NAME = st.one_of(TEXT, RAW_BYTES, NASTY, st.builds(lambda a, b, c: a + b + c, TEXT, RAW_BYTES, NASTY))
PATH = st.lists(NAME, min_size=1, max_size=4).map("/".join)
LICENSE = st.one_of(
    NAME,
    st.sampled_from(
        [
            "MIT",
            "Apache-2.0 OR MIT",
            "GPL-2.0-only WITH Classpath-exception-2.0",
            "(MIT",
            "MIT AND",
            "BSD",
            "LicenseRef-x",
        ]
    ),
)
TYPES = st.sampled_from(["deb", "apk", "rpm", "pypi", "npm", "golang", "maven", "gem", "cargo", "nuget"])
DIGEST = st.one_of(st.just(""), st.sampled_from(["sha256:" + c * 64 for c in "0123456789abcdef"]))


@st.composite
def purls(draw, type_: str, name: str, version: str) -> str:
    choice = draw(st.integers(0, 2))
    if choice == 0:
        try:
            return make_purl(type_, name, version, draw(st.one_of(st.none(), NAME)), {"arch": draw(NAME)})
        except (ValueError, TypeError):  # packageurl refuses some names (empty, "/" for golang)
            return draw(NAME)
    if choice == 1:
        return f"pkg:{type_}/{draw(NAME)}@{draw(NAME)}"
    return draw(NAME)


@st.composite
def packages(draw) -> Package:
    t = draw(TYPES)
    name, version = draw(NAME), draw(NAME)
    return Package(
        name=name,
        version=version,
        type=t,
        purl=draw(purls(t, name, version)),
        path=draw(PATH),
        cataloger=draw(st.sampled_from(["dpkg-status", "python-installed", "npm-lock", "java-archive"])),
        source_name=draw(NAME),
        source_version=draw(NAME),
        licenses=tuple(draw(st.lists(LICENSE, max_size=3))),
        dev=draw(st.booleans()),
        layer=draw(DIGEST),
    )


@st.composite
def inventories(draw) -> Inventory:
    os_info = draw(st.one_of(st.none(), st.builds(OSInfo, NAME, NAME, NAME, NAME, st.tuples(NAME))))
    layers = tuple(
        LayerInfo(i, draw(DIGEST), draw(DIGEST), draw(NAME), draw(st.integers(0, 1 << 40)), draw(NAME))
        for i in range(draw(st.integers(0, 2)))
    )
    return Inventory(
        target=draw(NAME),
        kind=draw(st.sampled_from(["image", "filesystem"])),
        os=os_info,
        packages=tuple(draw(st.lists(packages(), max_size=5))),
        layers=layers,
        image_digest=draw(DIGEST),
        image_id=draw(DIGEST),
        warnings=tuple(draw(st.lists(NAME, max_size=2))),
        gaps=tuple(draw(st.lists(GAPS, max_size=2))),
    )


GAPS = st.builds(Gap, st.sampled_from([UNREADABLE, NO_ADVISORIES, UNSUPPORTED]), NAME, NAME)


@st.composite
def reports(draw) -> ScanReport:
    inv = draw(inventories())
    pool = list(inv.packages) or [draw(packages())]
    findings = []
    for _ in range(draw(st.integers(0, 4))):
        suppressed = draw(
            st.one_of(
                st.none(),
                st.builds(
                    Suppression,
                    st.sampled_from(["vex", "ignorefile"]),
                    NAME,
                    NAME,
                    st.one_of(
                        st.just(""), st.sampled_from(["component_not_present", "code_not_reachable"]), NAME
                    ),
                    st.one_of(st.just(""), st.just("2030-01-01")),
                ),
            )
        )
        findings.append(
            Finding(
                id=draw(st.one_of(NAME.filter(bool), st.sampled_from(["CVE-2024-1", "GHSA-xxxx-yyyy-zzzz"]))),
                aliases=tuple(draw(st.lists(NAME, max_size=2))),
                package=draw(st.sampled_from(pool)),
                ecosystem=draw(NAME),
                installed_version=draw(NAME),
                fixed_versions=tuple(draw(st.lists(NAME, max_size=2))),
                status=draw(st.sampled_from(["fixed", "affected", "wont_fix"])),
                severity=draw(st.sampled_from(SEVERITIES)),
                severity_source=draw(NAME),
                cvss=tuple(
                    draw(
                        st.lists(
                            st.builds(
                                CVSS,
                                st.sampled_from(["2.0", "3.1", "4.0"]),
                                NAME,
                                st.floats(0, 10, allow_nan=False),
                                NAME,
                            ),
                            max_size=2,
                        )
                    )
                ),
                title=draw(NAME),
                description=draw(NAME),
                data_source=draw(
                    st.one_of(NAME, st.sampled_from(["osv:PyPI", "debian-tracker", "alpine-secdb"]))
                ),
                advisory_ids=tuple(draw(st.lists(NAME, max_size=2))),
                references=tuple(
                    draw(st.lists(st.one_of(NAME, NAME.map(lambda s: "https://x.invalid/" + s)), max_size=2))
                ),
                published=draw(st.one_of(NAME, st.just("2024-01-02T03:04:05Z"))),
                modified=draw(NAME),
                suppressed=suppressed,
            )
        )
    return ScanReport(
        inv,
        tuple(findings),
        warnings=tuple(draw(st.lists(NAME, max_size=2))),
        gaps=tuple(draw(st.lists(GAPS, max_size=2))),
    )


def serialize(doc: dict) -> dict:
    """What the CLI writes, read back: valid UTF-8 and valid JSON, or this raises."""
    return json.loads(to_utf8(dump_json(doc)).decode("utf-8"))


@cache
def _cdx_validator():  # type: ignore[no-untyped-def]
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    return JsonStrictValidator(SchemaVersion.V1_6)


def valid_cyclonedx(doc: dict) -> None:
    err = _cdx_validator().validate_str(json.dumps(doc))
    assert err is None, err
    refs = [c["bom-ref"] for c in doc["components"]] + [v["bom-ref"] for v in doc.get("vulnerabilities", [])]
    assert len(refs) == len(set(refs)), "bom-refs must be unique"


def valid_spdx(doc: dict) -> None:
    from spdx_tools.spdx.parser.jsonlikedict.json_like_dict_parser import JsonLikeDictParser
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    problems = validate_full_spdx_document(JsonLikeDictParser().parse(doc))
    assert problems == [], [p.validation_message for p in problems]


@FUZZ
@given(inventories())
def test_sboms_and_inventory_formats(inv):
    valid_cyclonedx(serialize(cyclonedx.to_cyclonedx(inv)))
    valid_spdx(serialize(spdx.to_spdx(inv)))
    doc = serialize(inventory.to_json(inv))
    assert len(doc["packages"]) == len(inv.packages)  # nothing dropped
    text = to_utf8(inventory.to_table(inv)).decode("utf-8")
    assert "\x1b" not in text


@FUZZ
@given(reports())
def test_vulnerability_formats(report):
    from tests.unit.report.test_vuln_reports import scan_schema

    jsonschema.Draft202012Validator(scan_schema()).validate(serialize(findings_json.to_json(report)))
    jsonschema.Draft4Validator(_sarif()).validate(serialize(sarif.to_sarif(report)))
    doc = serialize(cyclonedx.to_cyclonedx_vulns(report))
    valid_cyclonedx(doc)
    assert len(doc["vulnerabilities"]) == len(report.findings)
    for color in (False, True):
        text = to_utf8(table.to_table(report, color=color)).decode("utf-8")
        if not color:
            assert "\x1b" not in text


@cache
def _sarif() -> dict:
    from tests.unit.report.test_vuln_reports import sarif_schema

    return sarif_schema()
