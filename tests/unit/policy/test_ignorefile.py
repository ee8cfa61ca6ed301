"""`.containmentignore` (YAML) and `.trivyignore` (plain) parsing and application."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from containment.model import PolicyError, Suppression
from containment.policy.ignorefile import IgnoreRule, load_ignorefile, parse_ignorefile
from tests.unit.report.fixtures import DJANGO, DJANGO_CVE, GLIBC_CVE, GO_VULN, UNFIXED

TODAY = dt.date(2025, 6, 1)
ALL = (GLIBC_CVE, DJANGO_CVE, GO_VULN, UNFIXED)


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_trivyignore_plain_format(tmp_path):
    p = write(
        tmp_path,
        ".trivyignore",
        "# accepted risks\n\nCVE-2023-4911\nGHSA-jh3w-4vvf-mjgr exp:2099-01-01  # django, until upgrade\n"
        "  CVE-2023-39325 exp:2024-01-01\n",
    )
    rules = load_ignorefile(p)
    assert [(r.id, r.expires, r.line) for r in rules.rules] == [
        ("CVE-2023-4911", None, 3),
        ("GHSA-jh3w-4vvf-mjgr", dt.date(2099, 1, 1), 4),
        ("CVE-2023-39325", dt.date(2024, 1, 1), 5),
    ]
    out, warnings = rules.apply(ALL, TODAY)
    assert out[0].suppressed == Suppression("ignorefile", "", str(p))
    # matched through an alias
    assert out[1].suppressed == Suppression("ignorefile", "", str(p), expires="2099-01-01")
    # expired: reported again, with a warning naming id, date and file
    assert out[2].suppressed is None
    assert warnings == [
        f"{p}:5: ignore entry CVE-2023-39325 expired on 2024-01-01 and no longer suppresses "
        "(1 finding reported again); renew its date or remove it"
    ]
    assert out[3] is UNFIXED


def test_expiry_is_inclusive():
    rules = parse_ignorefile("CVE-2023-4911 exp:2025-06-01\n", ".trivyignore")
    assert rules.apply([GLIBC_CVE], TODAY)[0][0].suppressed is not None
    out, warnings = rules.apply([GLIBC_CVE], TODAY + dt.timedelta(days=1))
    assert out[0].suppressed is None and len(warnings) == 1


def test_yaml_format_with_scopes(tmp_path):
    p = write(
        tmp_path,
        ".containmentignore",
        """\
vulnerabilities:
  - id: CVE-2023-36053
    purls: [pkg:pypi/Django]
    reason: EmailValidator is not used
  - id: PYSEC-2023-100            # alias also works, scoped to another package: no match
    purls: [pkg:npm/*]
  - id: CVE-2023-4911
    purls: ["pkg:deb/debian/libc6@2.36-9+deb12u1?distro=debian-12"]
    paths: [var/lib/dpkg]
    expires: 2099-12-31
    reason: no setuid binaries
  - id: CVE-2023-39325
    paths: ["/opt/**"]
  - id: CVE-2010-4756
    expires: 2020-01-01
""",
    )
    rules = load_ignorefile(p)
    assert rules.rules[0] == IgnoreRule(
        "CVE-2023-36053", ("pkg:pypi/Django",), (), None, "EmailValidator is not used", 2, "vuln"
    )
    out, warnings = rules.apply(ALL, TODAY)
    assert out[1].suppressed == Suppression("ignorefile", "EmailValidator is not used", str(p))
    assert out[0].suppressed == Suppression("ignorefile", "no setuid binaries", str(p), expires="2099-12-31")
    assert out[2].suppressed is None  # path does not match
    assert out[3].suppressed is None
    assert warnings == [
        f"{p}:14: ignore entry CVE-2010-4756 expired on 2020-01-01 and no longer suppresses "
        "(1 finding reported again); renew its date or remove it"
    ]


def test_purl_scopes():
    def hits(purls, finding=DJANGO_CVE):
        rules = parse_ignorefile(yaml.safe_dump([{"id": finding.id, "purls": purls}]), "x.yaml")
        return rules.apply([finding], TODAY)[0][0].suppressed is not None

    assert hits(["pkg:pypi/django"])
    assert hits(["pkg:pypi/django@4.2.1"])
    assert not hits(["pkg:pypi/django@4.2.2"])
    assert hits(["pkg:pypi/*"])
    assert not hits(["pkg:npm/*"])
    assert not hits(["pkg:pypi/djangorestframework"])
    assert hits(["pkg:npm/x", "pkg:PyPI/Django"])
    assert hits(["pkg:deb/debian/libc6"], GLIBC_CVE)
    assert hits(["pkg:deb/debian/libc6?distro=debian-12"], GLIBC_CVE)
    assert not hits(["pkg:deb/debian/libc6?distro=debian-11"], GLIBC_CVE)
    assert hits(["pkg:golang/stdlib"], GO_VULN)
    go_mod = replace(GO_VULN, package=replace(GO_VULN.package, purl="pkg:golang/golang.org/x/net@v0.15.0"))
    assert hits(["pkg:golang/golang.org/x"], go_mod)  # namespace prefix
    assert not hits(["pkg:golang/golang.org/x/netx"], go_mod)


def test_already_suppressed_is_kept():
    vex = Suppression("vex", "not_affected", "v.json", "component_not_present")
    f = replace(DJANGO_CVE, suppressed=vex)
    out, _ = parse_ignorefile("CVE-2023-36053\n").apply([f], TODAY)
    assert out[0].suppressed is vex


def test_yaml_list_and_trivy_keys():
    text = """\
- CVE-2023-4911
- id: GHSA-jh3w-4vvf-mjgr
  statement: accepted
  expired_at: 2099-01-01
"""
    rules = parse_ignorefile(text, ".containmentignore")
    assert [(r.id, r.reason, r.expires) for r in rules.rules] == [
        ("CVE-2023-4911", "", None),
        ("GHSA-jh3w-4vvf-mjgr", "accepted", dt.date(2099, 1, 1)),
    ]
    assert len(parse_ignorefile("", ".containmentignore")) == 0
    assert len(parse_ignorefile("# nothing\n\n", ".trivyignore")) == 0
    assert len(parse_ignorefile(b"\xef\xbb\xbfCVE-2023-4911\n", ".trivyignore")) == 1  # BOM


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            ".trivyignore",
            "CVE-2023-1\nCVE-2023-2 exp:2024-13-01\n",
            ".trivyignore:2: exp: '2024-13-01' is not a date",
        ),
        (
            ".trivyignore",
            "CVE-2023-1 expires=2024-01-01\n",
            ".trivyignore:1: unexpected 'expires=2024-01-01'",
        ),
        ("i.yaml", "- id: CVE-1\n  expire: 2024-01-01\n", "i.yaml:1: unknown field 'expire'"),
        ("i.yaml", "- id: CVE-1\n- reason: x\n", "i.yaml:2: `id` is missing"),
        ("i.yaml", "- id: CVE-1\n  purls: django\n", "i.yaml:1: 'django' in `purls` is not a purl"),
        ("i.yaml", "- id: CVE-1\n  paths: [1]\n", "i.yaml:1: `paths` must be a list of strings"),
        ("i.yaml", "- id: CVE-1\n  expires: tomorrow\n", "i.yaml:1: expires 'tomorrow' is not a date"),
        (
            "i.yaml",
            "- id: CVE-1\n  reason: x: y\n",
            "i.yaml:2: not valid YAML (mapping values are not allowed here)",
        ),
        ("i.yaml", "ignore:\n  - id: CVE-1\n", "i.yaml:1: unknown top-level key 'ignore'"),
        ("i.yaml", "vulnerabilities: CVE-1\n", "`vulnerabilities` must be a list"),
        ("i.yaml", "- 42\n", "i.yaml: entry 1 must be a mapping"),
        (".containmentignore", "id: CVE-1\n", "unknown top-level key 'id'"),
    ],
)
def test_errors_name_file_and_line(tmp_path, name, text, message):
    p = write(tmp_path, name, text)
    with pytest.raises(PolicyError) as e:
        load_ignorefile(p)
    assert message in str(e.value).replace(str(tmp_path) + "/", "")
    assert "\n" not in str(e.value)


def test_missing_and_binary_files(tmp_path):
    with pytest.raises(PolicyError, match="ignore file not found"):
        load_ignorefile(tmp_path / "nope")
    (tmp_path / "bin").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(PolicyError, match="not UTF-8"):
        load_ignorefile(tmp_path / "bin")


_tokens = st.sampled_from(
    [
        "CVE-2023-4911",
        "exp:",
        "exp:2024-01-01",
        "- ",
        "id:",
        "purls:",
        "paths:",
        "expires:",
        "reason:",
        "#",
        "\n",
        "  ",
        "[",
        "]",
        "{",
        "}",
        ":",
        "pkg:pypi/x",
        "*",
        "&a",
        "*a",
        "!!python/object:os.system",
        "2024-02-30",
        "'",
        '"',
        "vulnerabilities:",
        "? ",
        "|",
        ">",
        "%YAML 1.1\n",
        "---\n",
        "\t",
        "~",
        "null",
        "1e9",
    ]
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parts=st.lists(st.one_of(_tokens, st.text(max_size=8)), max_size=40), yaml_name=st.booleans())
def test_fuzz_garbage_raises_only_policy_error(parts, yaml_name):
    text = "".join(parts)
    try:
        rules = parse_ignorefile(text, "f.yaml" if yaml_name else ".trivyignore")
    except PolicyError as e:
        assert str(e).startswith(("f.yaml", ".trivyignore")) and "\n" not in str(e)
        return
    rules.apply(ALL, TODAY)


_json_scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=10), st.dates())
_entry = st.dictionaries(
    st.sampled_from(["id", "purls", "paths", "expires", "reason", "statement", "expired_at", "x"]),
    st.recursive(
        _json_scalar, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=4), c, max_size=3)
    ),
    max_size=6,
)


@settings(max_examples=300, deadline=None)
@given(entries=st.lists(st.one_of(_entry, _json_scalar), max_size=5), wrap=st.booleans())
def test_fuzz_structured_yaml(entries, wrap):
    doc = {"vulnerabilities": entries} if wrap else entries
    try:
        rules = parse_ignorefile(yaml.safe_dump(doc), "f.yaml")
    except PolicyError:
        return
    rules.apply([GLIBC_CVE, replace(DJANGO_CVE, package=DJANGO)], TODAY)


def test_one_ignore_file_covers_every_kind(tmp_path):
    """As Trivy's .trivyignore.yaml: misconfigurations by our id or a peer's alias, secrets by
    rule id, each scoped by path; a bare id in the plain format matches any kind."""
    from containment.model import Location, Misconfiguration, Rule, SecretFinding

    df = Rule("CTM-DF-002", "latest tag", "MEDIUM", "dockerfile", aliases=("DL3007",))
    sec = Rule("CTM-SEC-048", "JWT", "MEDIUM", "secret")
    m1 = Misconfiguration(df, "uses latest", Location("legacy/Dockerfile", 1))
    m2 = Misconfiguration(df, "uses latest", Location("app/Dockerfile", 1))
    s1 = SecretFinding(sec, "eyJh****", Location("tests/fixtures/token.txt", 3))
    s2 = SecretFinding(sec, "eyJh****", Location("app/config.js", 9))
    p = write(
        tmp_path,
        ".trivyignore.yaml",
        """\
misconfigurations:
  - id: DL3007
    paths: [legacy/Dockerfile]
    statement: frozen legacy image
secrets:
  - id: CTM-SEC-048
    paths: ["tests/**"]
""",
    )
    out, _ = load_ignorefile(p).apply([m1, m2, s1, s2], TODAY)
    assert [x.suppressed is not None for x in out] == [True, False, True, False]
    assert out[0].suppressed.reason == "frozen legacy image"
    # a secrets entry never silences a misconfiguration with the same id, and vice versa
    q = write(tmp_path, "kinds.yaml", "secrets:\n  - id: CTM-DF-002\n")
    out, _ = load_ignorefile(q).apply([m1], TODAY)
    assert out[0].suppressed is None
    plain = write(tmp_path, ".trivyignore", "CTM-SEC-048\nDL3007\n")
    out, _ = load_ignorefile(plain).apply([m1, s2], TODAY)
    assert all(x.suppressed is not None for x in out)
