"""OpenVEX and CycloneDX VEX: parsing, matching and suppression."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from containment.model import PolicyError, Suppression
from containment.policy.vex import image_matches, load_vex, parse_vex
from containment.report.cyclonedx import to_cyclonedx_vulns
from tests.unit.report.fixtures import (
    DIGEST,
    DJANGO_CVE,
    GLIBC_CVE,
    GO_VULN,
    UNFIXED,
    inventory,
)

ALL = (GLIBC_CVE, DJANGO_CVE, GO_VULN, UNFIXED)


def openvex(*statements, **doc):
    return {
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": "https://example.com/vex/1",
        "author": "security@example.com",
        "timestamp": "2024-05-01T00:00:00Z",
        "version": 1,
        "statements": list(statements),
        **doc,
    }


def write(tmp_path, doc, name="doc.vex.json"):
    p = tmp_path / name
    p.write_text(json.dumps(doc))
    return p


def test_openvex_not_affected_by_alias_and_purl(tmp_path):
    p = write(
        tmp_path,
        openvex(
            {
                "vulnerability": {"name": "GHSA-jh3w-4vvf-mjgr", "aliases": ["CVE-2023-36053"]},
                "products": [{"@id": "pkg:pypi/django"}],
                "status": "not_affected",
                "justification": "vulnerable_code_not_in_execute_path",
                "impact_statement": "EmailValidator is never called",
            },
            {
                "vulnerability": {"name": "CVE-2023-4911"},
                "products": [{"@id": "pkg:deb/debian/libc6@2.36-9+deb12u1"}],
                "status": "under_investigation",
            },
        ),
    )
    doc = load_vex(p)
    assert doc.format == "openvex" and len(doc.statements) == 2
    out, warnings = doc.apply(ALL, inventory())
    assert warnings == []
    assert out[1].suppressed == Suppression(
        "vex", "not_affected: EmailValidator is never called", str(p), "vulnerable_code_not_in_execute_path"
    )
    assert out[0].suppressed is None  # under_investigation does not suppress
    assert out[2] is GO_VULN and out[3] is UNFIXED


def test_openvex_product_versions_and_qualifiers():
    def hits(product, finding=GLIBC_CVE):
        doc = parse_vex(
            json.dumps(
                openvex(
                    {
                        "vulnerability": {"name": finding.id},
                        "products": [product],
                        "status": "not_affected",
                        "justification": "component_not_present",
                    }
                )
            )
        )
        return doc.apply([finding], inventory())[0][0].suppressed is not None

    assert hits({"@id": "pkg:deb/debian/libc6"})
    assert hits({"@id": "pkg:deb/debian/libc6@2.36-9+deb12u1"})
    assert hits({"@id": "pkg:deb/debian/libc6@2.36-9%2Bdeb12u1"})
    assert not hits({"@id": "pkg:deb/debian/libc6@2.36-9+deb12u3"})
    assert hits({"@id": "pkg:deb/debian/libc6?arch=amd64"})
    assert not hits({"@id": "pkg:deb/debian/libc6?arch=arm64"})
    assert not hits({"@id": "pkg:deb/debian/libc-bin"})
    assert not hits({"@id": "pkg:deb/*"})  # no globs in VEX
    assert hits({"@id": "x", "identifiers": {"purl": "pkg:deb/debian/libc6"}} | {"@id": ""})
    assert hits("pkg:deb/debian/libc6")  # the old string form
    assert hits({"@id": "pkg:pypi/Django"}, DJANGO_CVE)


def test_openvex_image_products():
    inv = inventory()

    def apply(product, finding=GO_VULN, inv=inv):
        doc = parse_vex(
            json.dumps(
                openvex(
                    {
                        "vulnerability": {"@id": "https://pkg.go.dev/vuln/GO-2023-2102"},
                        "products": [product],
                        "status": "fixed",
                    }
                )
            )
        )
        return doc.apply([finding], inv)

    digest_hex = DIGEST.split(":")[1]
    with_sub = {"@id": f"pkg:oci/app@sha256%3A{digest_hex}", "subcomponents": [{"@id": "pkg:golang/stdlib"}]}
    (f,), _ = apply(with_sub)
    assert f.suppressed == Suppression("vex", "fixed", "<vex>")
    assert apply({**with_sub, "subcomponents": [{"@id": "pkg:golang/other"}]})[0][0].suppressed is None
    assert apply({"@id": f"pkg:oci/app@sha256%3A{'0' * 64}"})[0][0].suppressed is None
    assert apply({"@id": "registry.example.com/team/app:1.0"})[0][0].suppressed is not None
    assert apply({"@id": "registry.example.com/team/app:2.0"})[0][0].suppressed is None
    assert apply({"@id": "registry.example.com/team/app"})[0][0].suppressed is not None
    assert apply({"@id": f"registry.example.com/team/app@{DIGEST}"})[0][0].suppressed is not None
    assert apply({"@id": DIGEST})[0][0].suppressed is not None
    assert apply({"@id": "pkg:oci/app?tag=1.0"})[0][0].suppressed is not None
    assert (
        apply({"@id": "pkg:oci/app?repository_url=registry.example.com/team/app"})[0][0].suppressed
        is not None
    )
    assert apply({"@id": "pkg:oci/other"})[0][0].suppressed is None
    # without the inventory, image products cannot be checked: nothing suppressed, a warning
    (f,), warnings = apply({"@id": "registry.example.com/team/app:1.0"}, inv=None)
    assert f.suppressed is None
    assert warnings == ["<vex>: statements about an image product were not applied (no scan target given)"]


def test_image_matches_docker_hub_names():
    inv = replace(inventory(), target="docker.io/library/python:3.12-slim", image_digest="", image_id="")
    assert image_matches("python:3.12-slim", inv)
    assert image_matches("pkg:docker/python?tag=3.12-slim", inv)
    assert not image_matches("python:3.11", inv)
    assert not image_matches("pkg:oci/python@sha256%3A" + "e" * 64, inv)


def test_package_product_with_subcomponents_uses_the_binary_path():
    # "in example.com/app, the stdlib vulnerability is not reachable": the app and stdlib share a path
    doc = parse_vex(
        json.dumps(
            openvex(
                {
                    "vulnerability": {"name": "CVE-2023-39325"},
                    "products": [
                        {"@id": "pkg:golang/example.com/app", "subcomponents": [{"@id": "pkg:golang/stdlib"}]}
                    ],
                    "status": "not_affected",
                    "justification": "vulnerable_code_not_in_execute_path",
                }
            )
        )
    )
    assert doc.apply([GO_VULN], inventory())[0][0].suppressed is not None
    other = replace(GO_VULN, package=replace(GO_VULN.package, path="usr/bin/other"))
    assert doc.apply([other], inventory())[0][0].suppressed is None


def test_latest_statement_wins_and_warnings():
    s1 = {
        "vulnerability": {"name": "CVE-2023-4911"},
        "products": [{"@id": "pkg:deb/debian/libc6"}],
        "status": "not_affected",
        "timestamp": "2024-06-01T00:00:00Z",
    }
    s2 = {**s1, "status": "affected", "timestamp": "2024-05-01T00:00:00Z", "action_statement": "upgrade"}
    doc = parse_vex(json.dumps(openvex(s1, s2)), "v.json")
    (f,), warnings = doc.apply([GLIBC_CVE], inventory())
    assert f.suppressed == Suppression("vex", "not_affected", "v.json")  # s1 is newer
    assert warnings == [
        "v.json: statement 1 (CVE-2023-4911): not_affected without justification or impact_statement "
        "(OpenVEX requires one)"
    ]
    s2["timestamp"] = "2024-07-01T00:00:00Z"
    doc = parse_vex(json.dumps(openvex(s1, s2)), "v.json")
    assert doc.apply([GLIBC_CVE], inventory())[0][0].suppressed is None


def test_already_suppressed_untouched():
    ign = Suppression("ignorefile", "r", ".containmentignore")
    f = replace(GLIBC_CVE, suppressed=ign)
    doc = parse_vex(
        json.dumps(
            openvex(
                {"vulnerability": "CVE-2023-4911", "products": ["pkg:deb/debian/libc6"], "status": "fixed"}
            )
        )
    )
    assert doc.apply([f])[0][0].suppressed is ign


# ------------------------------------------------------------------------ CycloneDX VEX


def cdx_vex(*vulns, components=None):
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "metadata": {
            "component": {"bom-ref": "app", "type": "container", "name": "registry.example.com/team/app"}
        },
        "components": components
        if components is not None
        else [{"bom-ref": "dj", "type": "library", "name": "django", "purl": "pkg:pypi/django@4.2.1"}],
        "vulnerabilities": list(vulns),
    }


def test_cyclonedx_vex(tmp_path):
    p = write(
        tmp_path,
        cdx_vex(
            {
                "id": "CVE-2023-36053",
                "analysis": {
                    "state": "not_affected",
                    "justification": "code_not_reachable",
                    "detail": "unused",
                },
                "affects": [{"ref": "urn:cdx:3e671687-395b-41f5-a30f-a58921a69b79/1#dj"}],
            },
            {
                "id": "GO-2023-2102",
                "analysis": {"state": "false_positive"},
                "affects": [{"ref": "pkg:golang/stdlib@go1.21.0"}],
            },
            {
                "id": "CVE-2023-4911",
                "references": [{"id": "DSA-5514-1", "source": {"name": "debian"}}],
                "analysis": {"state": "exploitable"},
                "affects": [{"ref": "app"}],
            },
            {"id": "CVE-2010-4756", "analysis": {"state": "resolved"}, "affects": [{"ref": "app"}]},
            {"id": "CVE-2000-0001"},  # no analysis: no statement
        ),
        "vex.cdx.json",
    )
    doc = load_vex(p)
    assert doc.format == "cyclonedx" and len(doc.statements) == 4
    out, warnings = doc.apply(ALL, inventory())
    assert warnings == []
    assert out[1].suppressed == Suppression("vex", "not_affected: unused", str(p), "code_not_reachable")
    assert out[2].suppressed == Suppression("vex", "false_positive", str(p))
    assert out[0].suppressed is None  # exploitable
    assert out[3].suppressed == Suppression("vex", "resolved", str(p))  # the whole image (metadata component)


def test_cyclonedx_roundtrip_of_our_own_output():
    """Our CycloneDX report with analyses, read back as VEX, suppresses the same findings."""
    from tests.unit.report.fixtures import report

    r = report()
    doc = parse_vex(json.dumps(to_cyclonedx_vulns(r)), "prev.cdx.json")
    out, warnings = doc.apply([replace(f, suppressed=None) for f in r.findings], r.inventory)
    assert warnings == []
    assert [f.id for f in out if f.suppressed] == ["CVE-2023-36053", "CVE-2010-4756"]


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ("{", "v.json: not a JSON VEX document"),
        ("[]", "v.json: a VEX document is a JSON object"),
        ('{"hello": 1}', "v.json: neither OpenVEX"),
        (
            json.dumps(openvex({"products": ["pkg:npm/x"], "status": "fixed"})),
            "statement 1: `vulnerability` needs a name",
        ),
        (
            json.dumps(openvex({"vulnerability": "CVE-1", "status": "fixed"})),
            "statement 1: no `products` for CVE-1",
        ),
        (
            json.dumps(openvex({"vulnerability": "CVE-1", "products": ["pkg:npm/x"], "status": "ok"})),
            "statement 1: status 'ok' is not one of not_affected, affected, fixed, under_investigation",
        ),
        (
            json.dumps(
                openvex(
                    {
                        "vulnerability": "CVE-1",
                        "products": ["pkg:npm/x"],
                        "status": "not_affected",
                        "justification": "meh",
                    }
                )
            ),
            "justification 'meh' is not one of",
        ),
        (
            json.dumps(
                openvex(
                    {
                        "vulnerability": "CVE-1",
                        "products": [{"@id": "p", "subcomponents": ["x"]}],
                        "status": "fixed",
                    }
                )
            ),
            "subcomponent 'x' is not a purl",
        ),
        (json.dumps({**openvex(), "statements": {}}), "OpenVEX `statements` must be a list"),
        (
            json.dumps(cdx_vex({"id": "CVE-1", "analysis": {"state": "nope"}, "affects": [{"ref": "dj"}]})),
            "analysis.state 'nope'",
        ),
        (
            json.dumps(cdx_vex({"id": "CVE-1", "analysis": {"state": "not_affected"}})),
            "no `affects` for CVE-1",
        ),
        (json.dumps(cdx_vex({"analysis": {"state": "not_affected"}})), "vulnerabilities[0]: `id` is missing"),
        (
            json.dumps(cdx_vex({"id": "CVE-1", "analysis": {"state": "not_affected"}, "affects": [{}]})),
            "needs a `ref`",
        ),
    ],
)
def test_invalid_documents(doc, message):
    with pytest.raises(PolicyError) as e:
        parse_vex(doc, "v.json")
    assert message in str(e.value)
    assert "\n" not in str(e.value)


def test_missing_file(tmp_path):
    with pytest.raises(PolicyError, match="VEX document not found"):
        load_vex(tmp_path / "nope.json")


def test_unknown_affects_ref_warns():
    doc = parse_vex(
        json.dumps(
            cdx_vex({"id": "CVE-1", "analysis": {"state": "not_affected"}, "affects": [{"ref": "ghost"}]})
        ),
        "v.json",
    )
    assert doc.statements == ()
    assert doc.warnings == (
        "v.json: vulnerabilities[0]: affects ref 'ghost' is not a component of the document",
    )


_keys = st.sampled_from(
    [
        "@context",
        "statements",
        "vulnerability",
        "name",
        "@id",
        "aliases",
        "products",
        "subcomponents",
        "status",
        "justification",
        "impact_statement",
        "timestamp",
        "identifiers",
        "purl",
        "bomFormat",
        "vulnerabilities",
        "components",
        "bom-ref",
        "analysis",
        "state",
        "affects",
        "ref",
        "id",
        "references",
        "metadata",
        "component",
    ]
)
_values = st.sampled_from(
    [
        "https://openvex.dev/ns/v0.2.0",
        "CycloneDX",
        "not_affected",
        "fixed",
        "affected",
        "false_positive",
        "component_not_present",
        "pkg:pypi/django",
        "pkg:oci/app",
        "CVE-2023-36053",
        "2024-01-01T00:00:00Z",
        "urn:cdx:x/1#dj",
        "dj",
        "",
        "pkg:",
        "sha256:" + "c" * 64,
    ]
)
_json = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=6), _values
    ),
    lambda c: st.lists(c, max_size=4) | st.dictionaries(_keys | st.text(max_size=4), c, max_size=5),
    max_leaves=40,
)


@settings(max_examples=500, deadline=None)
@given(doc=_json, kind=st.sampled_from(["openvex", "cyclonedx", "raw"]))
def test_fuzz_vex_garbage_raises_only_policy_error(doc, kind):
    if kind == "openvex" and isinstance(doc, dict):
        doc = {"@context": "https://openvex.dev/ns/v0.2.0", **doc}
    elif kind == "cyclonedx" and isinstance(doc, dict):
        doc = {"bomFormat": "CycloneDX", **doc}
    try:
        vex = parse_vex(json.dumps(doc), "f.json")
    except PolicyError as e:
        assert str(e).startswith("f.json: ") and "\n" not in str(e)
        return
    vex.apply(ALL, inventory())
    vex.apply(ALL)


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=200))
def test_fuzz_vex_bytes(data):
    try:
        parse_vex(data, "f.json")
    except PolicyError:
        pass


def test_cyclonedx_subject_with_digest_version():
    doc = cdx_vex({"id": "CVE-2023-4911", "analysis": {"state": "not_affected"}, "affects": [{"ref": "app"}]})
    doc["metadata"]["component"]["version"] = DIGEST
    vex = parse_vex(json.dumps(doc), "v.json")
    assert vex.apply([GLIBC_CVE], inventory())[0][0].suppressed is not None
    other = replace(inventory(), target="registry.example.com/team/other:1", image_digest="", image_id="")
    assert vex.apply([GLIBC_CVE], other)[0][0].suppressed is None
