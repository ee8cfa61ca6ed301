"""OSV range semantics and severity choice in the matcher (pure functions)."""

from __future__ import annotations

import pytest

from containment.advisories.types import Advisory, Affected, Event, Range
from containment.match import _primary, evaluate, parse_cvss, query_for, rating, severity_of
from containment.model import OSInfo, Package
from containment.versions import InvalidVersion


def rng(*events: tuple[str, str], type_: str = "ECOSYSTEM") -> Range:
    return Range(type_, tuple(Event(k, v) for k, v in events))


def aff(*ranges: Range, versions: tuple[str, ...] = (), eco: str = "PyPI") -> Affected:
    return Affected("X-1", eco, "pkg", ranges, versions)


@pytest.mark.parametrize(
    ("version", "hit", "fixed"),
    [
        ("0.9", True, ["1.0.1"]),
        ("1.0.0", True, ["1.0.1"]),
        ("1.0.1", False, []),
        ("2.0", True, ["2.1"]),
        ("2.1", False, []),
        ("3.0", False, []),
    ],
)
def test_two_windows(version, hit, fixed):
    a = aff(rng(("introduced", "0"), ("fixed", "1.0.1"), ("introduced", "2.0"), ("fixed", "2.1")))
    got = evaluate(a, version, "pep440")
    assert got[0] is hit
    if hit:
        assert got[1][:1] == fixed


def test_last_affected_includes_itself_and_limit_closes():
    a = aff(rng(("introduced", "1.0"), ("last_affected", "1.4")))
    assert evaluate(a, "1.4", "pep440")[0] is True
    assert evaluate(a, "1.4.1", "pep440")[0] is False
    assert evaluate(a, "0.9", "pep440")[0] is False
    b = aff(rng(("introduced", "0"), ("limit", "2.0")))
    assert evaluate(b, "1.9", "pep440") == (True, [])
    assert evaluate(b, "2.0", "pep440")[0] is False


def test_unfixed_range_is_affected_with_no_fix():
    a = aff(rng(("introduced", "0")))
    assert evaluate(a, "99", "pep440") == (True, [])


def test_explicit_versions_and_git_ranges():
    git = rng(("introduced", "abc123"), ("fixed", "def456"), type_="GIT")
    assert evaluate(aff(git), "1.0", "pep440")[0] is False  # git ranges alone say nothing
    assert evaluate(aff(git, versions=("1.0", "1.1")), "1.1", "pep440")[0] is True


def test_dpkg_backport_versions():
    a = aff(rng(("introduced", "0"), ("fixed", "2.36-9+deb12u4")), eco="Debian:12")
    assert evaluate(a, "2.36-9+deb12u3", "dpkg") == (True, ["2.36-9+deb12u4"])
    assert evaluate(a, "2.36-9+deb12u4", "dpkg")[0] is False
    assert evaluate(a, "2.36-9+deb12u10", "dpkg")[0] is False  # numeric, not text, comparison
    assert evaluate(a, "1:2.0-1", "dpkg")[0] is False  # epoch wins


def test_unparseable_installed_version_raises_for_the_caller():
    with pytest.raises(InvalidVersion):
        evaluate(aff(rng(("introduced", "0"), ("fixed", "1.0"))), "not a version!!", "pep440")


def test_go_semver_and_stdlib():
    a = aff(
        rng(
            ("introduced", "0"),
            ("fixed", "1.19.9"),
            ("introduced", "1.20.0"),
            ("fixed", "1.20.4"),
            type_="SEMVER",
        ),
        eco="Go",
    )
    assert evaluate(a, "1.19.8", "go")[0] is True
    assert evaluate(a, "v1.20.4", "go")[0] is False
    p = Package("stdlib", "go1.19.8", "golang", "pkg:golang/stdlib@1.19.8", "usr/bin/x", "go-binary")
    q = query_for(p, None)
    assert q is not None and q.version == "1.19.8" and q.ecosystems == ("Go",)


def test_os_queries_use_source_package_and_release():
    p = Package(
        "libc6",
        "2.36-9+deb12u3",
        "deb",
        "pkg:deb/debian/libc6@2.36-9",
        "var/lib/dpkg/status",
        "dpkg-status",
        source_name="glibc",
        source_version="2.36-9+deb12u3",
    )
    q = query_for(p, OSInfo("debian", "12"))
    assert q is not None and (q.ecosystems, q.name) == (("Debian:12",), "glibc")
    a = Package(
        "libssl1.1",
        "1.1.1d-r2",
        "apk",
        "pkg:apk/alpine/libssl1.1@1.1.1d-r2",
        "lib/apk/db/installed",
        "apk-db",
        source_name="openssl",
    )
    q2 = query_for(a, OSInfo("alpine", "3.11.5"))
    assert q2 is not None and q2.ecosystems == ("Alpine:v3.11",) and q2.name == "openssl"
    m = Package(
        "jackson-databind",
        "2.14.0",
        "maven",
        "pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.14.0",
        "x.jar",
        "java-archive",
    )
    assert query_for(m, None).name == "com.fasterxml.jackson.core:jackson-databind"  # type: ignore[union-attr]


def test_severity_precedence():
    c3 = parse_cvss("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
    assert c3 is not None and c3.score == 9.8 and rating(c3.score) == "CRITICAL"
    deb = Affected("D", "Debian:12", "glibc", severity=("debian", "low"))
    assert severity_of(True, [deb], [c3]) == ("LOW", "debian")  # the distro's rating for its own package
    ghsa = Affected("G", "PyPI", "x", severity=("ghsa", "MODERATE"))
    assert severity_of(False, [ghsa], [c3]) == ("MEDIUM", "ghsa")
    assert severity_of(False, [Affected("P", "PyPI", "x")], [c3]) == ("CRITICAL", "cvss_v3")
    assert severity_of(False, [Affected("P", "PyPI", "x")], []) == ("UNKNOWN", "")
    assert parse_cvss("CVSS_V3", "garbage") is None


def test_primary_id_prefers_cve_then_ghsa():
    assert _primary(["PYSEC-2021-1", "GHSA-aaaa-bbbb-cccc", "CVE-2021-9"]) == "CVE-2021-9"
    assert _primary(["GO-2023-1", "GHSA-aaaa-bbbb-cccc"]) == "GHSA-aaaa-bbbb-cccc"
    assert _primary(["GO-2023-1"]) == "GO-2023-1"
    assert Advisory("x").aliases == ()


def test_go_platform_specific_advisories():
    from containment.match import _platform_applies

    win = Affected(
        "GO-1",
        "Go",
        "stdlib",
        extra={"ecosystem_specific": {"imports": [{"path": "os", "goos": ["windows"]}]}},
    )
    anyos = Affected(
        "GO-2", "Go", "stdlib", extra={"ecosystem_specific": {"imports": [{"path": "net/http"}]}}
    )
    ppc = Affected(
        "GO-3",
        "Go",
        "stdlib",
        extra={"ecosystem_specific": {"imports": [{"path": "crypto", "goarch": ["ppc64le"]}]}},
    )
    assert not _platform_applies(win, ("linux", "amd64"))
    assert _platform_applies(win, ("windows", "amd64"))
    assert _platform_applies(anyos, ("linux", "amd64"))
    assert not _platform_applies(ppc, ("linux", "amd64"))
    assert _platform_applies(Affected("GO-4", "Go", "x"), ("linux", "amd64"))
