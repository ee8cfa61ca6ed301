"""Policy files: every error names the file, the line and the field; hostile input is refused in
one line; what loads means what it says (version ranges in the package's scheme, key ids)."""

from __future__ import annotations

import datetime as dt
import json
import textwrap
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from containment.model import ConfigError, Package, PolicyError
from containment.policy.policyfile import (
    ATTESTATION_TYPES,
    PolicyFileError,
    load_policy,
    parse_policy,
    schema_path,
)

ROOT = Path(__file__).resolve().parents[3]
DIFF = "sha256:" + "ab" * 32


def parse(text: str, source: str = "policy.yaml", base_dir: str = ".") -> object:
    return parse_policy(textwrap.dedent(text).lstrip("\n"), source, base_dir)


def error(text: str, **kw: str) -> str:
    with pytest.raises(PolicyFileError) as e:
        parse(text, **kw)
    msg = str(e.value)
    assert "\n" not in msg and "Traceback" not in msg
    return msg


def test_example_policy_loads_and_the_schema_is_valid_json_schema():
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(json.loads(schema_path().read_text()))
    p = load_policy(ROOT / "examples" / "policy.yaml")
    assert set(p.stages) == {"dev", "test", "prod"}
    prod = p.stages["prod"]
    assert prod.max_score == 40 and prod.max_severity == {"CRITICAL": 0, "HIGH": 5}
    assert prod.required_attestations == (ATTESTATION_TYPES["vuln"],)
    assert prod.misconfig_deny == ("CTM-IMG-001",) and prod.no_debug and prod.secrets == "deny"
    assert p.exceptions[0].expires == dt.date(2026, 12, 31) and p.exceptions[0].stages == ("test", "prod")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            """
            stages:
              prod:
                max_score: 40
                max_scor: 3
            """,
            "policy.yaml:4: stages.prod: unknown key 'max_scor' (did you mean max_score?)",
        ),
        (
            """
            stages:
              dev: {}
              prod:
                max_score: high
            """,
            "policy.yaml:4: stages.prod.max_score: expected a number from 0 to 100, got 'high'",
        ),
        ("stages:\n  prod:\n    max_score: 101\n", "policy.yaml:3: stages.prod.max_score: expected a number"),
        (
            "stages:\n  prod:\n    max_severity: {CRITICAL: 0, SEVERE: 1}\n",
            "policy.yaml:3: stages.prod.max_severity: unknown key 'SEVERE': expected a severity",
        ),
        (
            "stages:\n  prod:\n    max_severity:\n      HIGH: lots\n",
            "policy.yaml:4: stages.prod.max_severity.HIGH: expected a count (0 or more), got 'lots'",
        ),
        (
            "stages:\n  prod:\n    fixable_only: maybe\n",
            "policy.yaml:3: stages.prod.fixable_only: expected true or false",
        ),
        (
            "stages:\n  prod:\n    secrets: sometimes\n",
            "policy.yaml:3: stages.prod.secrets: expected deny or allow",
        ),
        ("stagez:\n  prod: {}\n", "policy.yaml:1: unknown key 'stagez' (did you mean stages?)"),
        ("version: 1\n", "policy.yaml:1: missing key 'stages'"),
        ("stages: {}\n", "policy.yaml:1: stages: expected at least one entry"),
        (
            "stages:\n  prod:\n    banned_packages:\n      - left-pad\n",
            "policy.yaml:4: stages.prod.banned_packages[0]: 'left-pad' is not a purl glob",
        ),
        (
            "stages:\n  prod:\n    banned_packages:\n      - 'pkg:npm/[abc'\n",
            "policy.yaml:4: stages.prod.banned_packages[0]: unclosed '['",
        ),
        (
            "stages:\n  prod:\n    banned_packages:\n      - {purl: pkg:pypi/pyyaml, versions: '~5'}\n",
            "policy.yaml:4: stages.prod.banned_packages[0].versions: bad version range '~5'",
        ),
        (
            "stages:\n  prod:\n    banned_packages:\n      - pkg:deb/debian/openssl@<not:a:version!\n",
            "policy.yaml:4: stages.prod.banned_packages[0]: 'not:a:version!' is not a dpkg version",
        ),
        (
            "stages:\n  prod:\n    banned_packages:\n      - pkg:*/x@<1.0\n",
            "a version range needs a purl type with a version scheme",
        ),
        (
            "stages:\n  prod:\n    banned_packages:\n      - {purl: pkg:npm/x, version: '1'}\n",
            "policy.yaml:4: stages.prod.banned_packages[0]: expected a purl glob",
        ),
        (
            "stages:\n  prod:\n    allowed_base_images:\n      - diff_ids: [sha256:xyz]\n",
            "policy.yaml:4: stages.prod.allowed_base_images[0].diff_ids[0]: expected a layer diff_id",
        ),
        (
            f"stages:\n  prod:\n    allowed_base_images:\n      - {{ref: 'oci:base', diff_ids: ['{DIFF}']}}\n",
            "policy.yaml:4: stages.prod.allowed_base_images[0]: expected either `ref`",
        ),
        (
            "stages:\n  prod:\n    required_attestations: [provenance]\n",
            "policy.yaml:3: stages.prod.required_attestations[0]: 'provenance' is not a predicate type URI",
        ),
        (
            "stages:\n  prod:\n    required_signatures: [nokey.pub]\n",
            "policy.yaml:3: stages.prod.required_signatures[0]: 'nokey.pub' is neither a key id",
        ),
        (
            """
            stages: {prod: {}}
            exceptions:
              - id: CVE-2024-1
                reason: r
                approver: a
                expires: 2026-13-01
            """,
            "policy.yaml:6: exceptions[0].expires: expected a date YYYY-MM-DD, got '2026-13-01'",
        ),
        (
            "stages: {prod: {}}\nexceptions:\n  - {id: X, reason: r, approver: a, expires: next week}\n",
            "policy.yaml:3: exceptions[0].expires: expected a date YYYY-MM-DD, got 'next week'",
        ),
        (
            "stages: {prod: {}}\nexceptions:\n  - id: CVE-2024-1\n    reason: r\n    expires: 2026-01-01\n",
            "policy.yaml:3: exceptions[0]: missing key 'approver'",
        ),
        (
            "stages: {prod: {}}\nexceptions:\n  - {id: X, reason: r, approver: a, expires: 2026-01-01, stages: [prdo]}\n",
            "exceptions[0].stages[0]: unknown stage 'prdo' (did you mean prod?)",
        ),
        (
            "stages: {prod: {}}\nexceptions:\n  - {id: X, reason: r, approver: a, expires: 2026-01-01, image: 'a[b'}\n",
            "policy.yaml:3: exceptions[0].image: bad glob: unclosed '['",
        ),
        ("stages:\n  prod: {}\n  prod: {}\n", "policy.yaml:3: duplicate key 'prod' (first at line 2)"),
        ("stages: [\n", "policy.yaml:2: invalid YAML"),
        ("- a\n- b\n", "policy.yaml:1: expected a mapping with `stages:`"),
        ("", "policy.yaml: empty policy"),
        ("stages: {a: {}}\n---\nstages: {b: {}}\n", "2 YAML documents"),
    ],
)
def test_errors_name_file_line_field_and_fix(text, expected):
    assert expected in error(text)


def test_every_problem_counted_first_by_line():
    msg = error("stages:\n  prod:\n    max_scor: 1\n    secrets: no\n")
    assert (
        msg.startswith("policy.yaml:3: stages.prod: unknown key 'max_scor'") and "(and 1 more problem)" in msg
    )


def test_policy_file_error_is_both_policy_and_config_error():
    with pytest.raises(PolicyError):
        parse("stages: 3\n")
    with pytest.raises(ConfigError):
        parse("stages: 3\n")


def test_hostile_files_are_refused_in_one_line(tmp_path):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    assert "alias expansion" in error(bomb)
    assert "binary data" in error("stages:\x00\n")
    assert "nested" in error("stages: " + "[" * 500 + "]" * 500 + "\n")
    big = tmp_path / "big.yaml"
    big.write_bytes(b"# " + b"x" * (2 * 1024 * 1024))
    with pytest.raises(PolicyFileError, match="over 1024 KiB"):
        load_policy(big)
    with pytest.raises(PolicyFileError, match="not found"):
        load_policy(tmp_path / "missing.yaml")
    with pytest.raises(PolicyFileError, match="is a directory"):
        load_policy(tmp_path)
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(b"stages: {caf\xe9: {}}\n")
    with pytest.raises(PolicyFileError, match="not UTF-8"):
        load_policy(bad)


def test_key_files_resolve_to_key_ids_relative_to_the_policy(tmp_path):
    from containment.supplychain import keys

    _, pub = keys.generate(b"pw")
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "cosign.pub").write_bytes(pub)
    (tmp_path / "keys" / "junk.pub").write_text("not a key\n")
    kid = "cd" * 32
    f = tmp_path / "policy.yaml"
    f.write_text(f"stages:\n  prod:\n    required_signatures: [keys/cosign.pub, 'sha256:{kid}']\n")
    st = load_policy(f).stages["prod"]
    from cryptography.hazmat.primitives import serialization

    want = keys.key_id(serialization.load_pem_public_key(pub))  # type: ignore[arg-type]
    assert st.required_signatures == (want, kid)
    assert st.signature_names[want] == "keys/cosign.pub"
    f.write_text("stages:\n  prod:\n    required_signatures:\n      - keys/junk.pub\n")
    with pytest.raises(PolicyFileError, match=r"policy.yaml:4: .*junk.pub: not a PEM public key"):
        load_policy(f)


def _pkg(purl: str, version: str) -> Package:
    t = purl[4:].split("/", 1)[0]
    return Package(purl.rsplit("/", 1)[-1], version, t, f"{purl}@{version}", "x", "test")


def test_banned_packages_compare_versions_in_the_package_scheme():
    p = parse(
        """
        stages:
          prod:
            banned_packages:
              - pkg:deb/debian/openssl@<3.0.12
              - {purl: pkg:pypi/PyYAML, versions: ">=5.0, <5.4"}
              - pkg:npm/@evil/*
              - pkg:npm/left-pad@1.3.0
        """
    )
    openssl, pyyaml, evil, leftpad = p.stages["prod"].banned_packages  # type: ignore[attr-defined]
    assert openssl.matches(_pkg("pkg:deb/debian/openssl", "3.0.11-1~deb12u2"))
    assert not openssl.matches(_pkg("pkg:deb/debian/openssl", "3.0.12-1"))  # text order would say <
    assert openssl.matches(_pkg("pkg:deb/debian/openssl", "3.0.9-1"))  # text order would say >
    assert pyyaml.matches(_pkg("pkg:pypi/pyyaml", "5.3.1")) and not pyyaml.matches(
        _pkg("pkg:pypi/pyyaml", "5.4")
    )
    assert not pyyaml.matches(_pkg("pkg:pypi/pyyaml", "4.2"))
    assert evil.matches(_pkg("pkg:npm/%40evil/thing", "1.0.0")) and not evil.matches(
        _pkg("pkg:npm/good", "1")
    )
    assert leftpad.matches(_pkg("pkg:npm/left-pad", "1.3.0")) and not leftpad.matches(
        _pkg("pkg:npm/left-pad", "1.2.0")
    )


def test_unknown_stage_is_bad_input_with_a_suggestion():
    p = parse("stages: {dev: {}, prod: {}}\n")
    with pytest.raises(
        PolicyError, match=r"no stage 'prd'; did you mean prod\? the policy defines dev, prod"
    ):
        p.stage("prd")  # type: ignore[attr-defined]


def test_empty_stage_requires_nothing():
    p = parse("stages:\n  dev:\n  prod: {}\n")
    assert p.stages["dev"].max_score is None and p.stages["dev"].secrets == "allow"  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------- fuzz

_json = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 200) | st.text(max_size=12),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=12), kids, max_size=4),
    max_leaves=20,
)
_keys = st.sampled_from(
    [
        "max_score",
        "max_severity",
        "fixable_only",
        "banned_packages",
        "banned_licenses",
        "allowed_base_images",
        "secrets",
        "misconfigurations",
        "no_debug",
        "required_attestations",
        "required_signatures",
        "CRITICAL",
        "purl",
        "versions",
        "diff_ids",
        "ref",
    ]
)
_stage = st.dictionaries(_keys, _json, max_size=5)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_fuzz_bytes_give_a_policy_or_one_line_error(data):
    try:
        parse_policy(data, "fuzz.yaml")
    except PolicyFileError as e:
        assert "\n" not in str(e) and str(e).startswith("fuzz.yaml")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(st.sampled_from(["dev", "prod", "x y"]), _stage, min_size=1, max_size=2),
    st.lists(
        st.dictionaries(
            st.sampled_from(["id", "reason", "approver", "expires", "purl", "image", "stages"]), _json
        )
    ),
)
def test_fuzz_structured_policies_give_a_policy_or_one_line_error(stages, exceptions):
    text = yaml.safe_dump({"stages": stages, "exceptions": exceptions})
    try:
        parse_policy(text, "fuzz.yaml")
    except PolicyFileError as e:
        msg = str(e)
        assert "\n" not in msg and msg.startswith("fuzz.yaml")
