"""Known vectors per scheme, including the tricky cases each reference documents."""

from __future__ import annotations

import pytest

from containment.versions import SCHEMES, InvalidVersion, compare, parse, scheme_for
from containment.versions.golang import compare_toolchain
from containment.versions.rpm import rpmvercmp

# (scheme, a, b, expected compare(a, b))
VECTORS: list[tuple[str, str, str, int]] = [
    # dpkg
    ("dpkg", "1.0~rc1", "1.0", -1),
    ("dpkg", "1.0~~", "1.0~", -1),
    ("dpkg", "1.0~", "1.0", -1),
    ("dpkg", "1.0", "1.0+b1", -1),
    ("dpkg", "1.0", "1.0-0", 0),
    ("dpkg", "1.0-1", "1.0-1.0", -1),
    ("dpkg", "1:0.1", "9.9", 1),
    ("dpkg", "0:1.0", "1.0", 0),
    ("dpkg", "1.0a", "1.0+", -1),  # letters before non-letters
    ("dpkg", "1.0a", "1.0.", -1),
    ("dpkg", "1.0", "1.0a", -1),
    ("dpkg", "1.01", "1.1", 0),
    ("dpkg", "1.0.0", "1.0", 1),
    ("dpkg", "2.36-9+deb12u4", "2.36-9+deb12u10", -1),
    ("dpkg", "1.2.3-1ubuntu0.22.04.1", "1.2.3-1ubuntu0.22.04.2", -1),
    ("dpkg", "1.0-1~bpo11+1", "1.0-1", -1),
    ("dpkg", "2:1.0", "10:0.1", -1),
    ("dpkg", "1.0-a-b", "1.0-a-c", -1),  # revision is after the last hyphen
    ("dpkg", "1.18.36", "1.18.4", 1),
    ("dpkg", "1.0+really0.9", "1.0", 1),
    # rpm (rpmvercmp cases in the spirit of rpm's own rpmvercmp.at)
    ("rpm", "1.0", "1.0", 0),
    ("rpm", "1.0", "2.0", -1),
    ("rpm", "2.0.1", "2.0", 1),
    ("rpm", "2.0.1a", "2.0.1", 1),
    ("rpm", "5.5p1", "5.5p2", -1),
    ("rpm", "5.5p10", "5.5p1", 1),
    ("rpm", "10xyz", "10.1xyz", -1),
    ("rpm", "xyz10", "xyz10.1", -1),
    ("rpm", "xyz.4", "8", -1),
    ("rpm", "xyz.4", "2", -1),
    ("rpm", "5.5p2", "5.6p1", -1),
    ("rpm", "6.0.rc1", "6.0", 1),
    ("rpm", "10b2", "10a1", 1),
    ("rpm", "1.0aa", "1.0a", 1),
    ("rpm", "10.0001", "10.1", 0),
    ("rpm", "10.0001", "10.0039", -1),
    ("rpm", "4.999.9", "5.0", -1),
    ("rpm", "20101121", "20101122", -1),
    ("rpm", "2_0", "2_0", 0),
    ("rpm", "2.0", "2_0", 0),
    ("rpm", "a", "a", 0),
    ("rpm", "a+", "a+", 0),
    ("rpm", "a+", "a_", 0),
    ("rpm", "+a", "_a", 0),
    ("rpm", "1.0a", "1.0.a", 0),
    ("rpm", "1.0~rc1", "1.0", -1),
    ("rpm", "1.0~rc1", "1.0~rc2", -1),
    ("rpm", "1.0~rc1~git123", "1.0~rc1", -1),
    ("rpm", "1.0^", "1.0", 1),
    ("rpm", "1.0^git1", "1.0", 1),
    ("rpm", "1.0^git1", "1.01", -1),
    ("rpm", "1.0^20160101", "1.0.1", -1),
    ("rpm", "1.0^20160101^git1", "1.0^20160101", 1),
    ("rpm", "1.0~rc1^git1", "1.0~rc1", 1),
    ("rpm", "1.0^git1~pre", "1.0^git1", -1),
    ("rpm", "1:1.0-1", "2.0-1", 1),
    ("rpm", "0:1.0-1", "1.0-1", 0),
    ("rpm", "1.0-1.el8", "1.0-1.el8_2", -1),
    ("rpm", "1.0", "1.0-1", -1),  # missing release sorts first
    # apk
    ("apk", "1.0_rc1", "1.0", -1),
    ("apk", "1.0_alpha", "1.0_beta", -1),
    ("apk", "1.0_beta", "1.0_pre", -1),
    ("apk", "1.0_pre", "1.0_rc", -1),
    ("apk", "1.0_p1", "1.0", 1),
    ("apk", "1.0_cvs", "1.0_svn", -1),
    ("apk", "1.0_git1", "1.0_hg1", -1),
    ("apk", "1.0_hg1", "1.0_p1", -1),
    ("apk", "1.0a", "1.0", 1),
    ("apk", "1.0a", "1.0b", -1),
    ("apk", "1.0a", "1.0.1", -1),
    ("apk", "1.0-r1", "1.0", 1),
    ("apk", "1.0-r10", "1.0-r9", 1),
    ("apk", "1.0_rc1-r1", "1.0-r0", -1),
    ("apk", "1.01", "1.1", -1),  # leading zero: string comparison
    ("apk", "1.0", "1.00", -1),
    ("apk", "1.2.3", "1.2", 1),
    ("apk", "2.10", "2.9", 1),
    ("apk", "1.0~abc", "1.0", 1),
    ("apk", "1.0~abc", "1.0~abd", -1),
    ("apk", "1.0_rc1_p2", "1.0_rc1", 1),
    ("apk", "1.0_rc", "1.0_rc1", -1),
    ("apk", "3.0.13-r0", "3.0.8-r0", 1),
    # pep440
    ("pep440", "1.0", "1.0.0", 0),
    ("pep440", "1.0a1", "1.0", -1),
    ("pep440", "1.0.dev1", "1.0a1", -1),
    ("pep440", "1.0.post1", "1.0", 1),
    ("pep440", "1.0+local", "1.0", 1),
    ("pep440", "1!0.1", "2.0", 1),
    ("pep440", "1.0rc1", "1.0c1", 0),
    ("pep440", "v1.0", "1.0", 0),
    ("pep440", "1.0-1", "1.0.post1", 0),
    # npm
    ("npm", "1.0.0-alpha", "1.0.0-alpha.1", -1),
    ("npm", "1.0.0-alpha.1", "1.0.0-alpha.beta", -1),
    ("npm", "1.0.0-alpha.beta", "1.0.0-beta", -1),
    ("npm", "1.0.0-beta.2", "1.0.0-beta.11", -1),
    ("npm", "1.0.0-rc.1", "1.0.0", -1),
    ("npm", "1.0.0+build.1", "1.0.0+build.2", 0),
    ("npm", "v1.2.3", "1.2.3", 0),
    ("npm", "=1.2.3", "1.2.3", 0),
    ("npm", "  1.2.3  ", "1.2.3", 0),
    ("npm", "1.2.3beta", "1.2.3-beta", 0),
    ("npm", "1.2.3-0", "1.2.3-a", -1),
    ("npm", "1.2.3-01", "1.2.3-1", 0),
    ("npm", "1.0.0-99999999999999999", "1.0.0-99999999999999998", 0),  # JavaScript numbers
    # go
    ("go", "v1.2.3", "1.2.3", 0),
    ("go", "v1.2.3-pre", "v1.2.3", -1),
    ("go", "v0.0.0-20210101000000-abcdef123456", "v0.0.0-20220101000000-abcdef123456", -1),
    ("go", "v0.0.0-20210101000000-abcdef123456", "v0.0.1", -1),
    ("go", "v1.2.4-0.20210101000000-abcdef123456", "v1.2.3", 1),
    ("go", "v2.0.0+incompatible", "v2.0.0", 0),
    ("go", "v1", "v1.0.0", 0),
    ("go", "v1.2", "v1.2.0", 0),
    ("go", "go1.21rc1", "go1.21.0", -1),
    ("go", "go1.21.5", "1.21.5", 0),
    ("go", "go1.21.5", "go1.21.10", -1),
    ("go", "go1.9beta2", "go1.9rc1", -1),
    ("go", "go1.20", "v1.20.0", 0),
    ("go", "go1", "v1.0.0", 0),
    ("go", "v1.10.0", "v1.9.0", 1),
    # maven
    ("maven", "1", "1.0", 0),
    ("maven", "1.0", "1.0.0", 0),
    ("maven", "1-alpha", "1-beta", -1),
    ("maven", "1-beta", "1-milestone", -1),
    ("maven", "1-milestone", "1-rc", -1),
    ("maven", "1-rc", "1-cr", 0),
    ("maven", "1-rc", "1-snapshot", -1),
    ("maven", "1-snapshot", "1", -1),
    ("maven", "1", "1-ga", 0),
    ("maven", "1", "1-final", 0),
    ("maven", "1", "1.RELEASE", 0),
    ("maven", "1", "1-sp", -1),
    ("maven", "1-sp", "1-foo", -1),
    ("maven", "1-foo", "1-1", -1),
    ("maven", "1-1", "1.1", -1),
    ("maven", "1.0-alpha1", "1.0-a1", 0),
    ("maven", "1.0-b1", "1.0-beta-1", 0),
    ("maven", "1.0-M1", "1.0-milestone-1", 0),
    ("maven", "1.0-RC1", "1.0-rc-1", 0),
    ("maven", "1.0-SNAPSHOT", "1.0-snapshot", 0),
    ("maven", "1.0.0.X1", "1.0.0-X2", -1),
    ("maven", "2.0.1", "2.0.1-xyz", -1),
    ("maven", "2.0.1-123", "2.0.1-xyz", 1),
    ("maven", "1.0-alpha-1-SNAPSHOT", "1.0-alpha-1", -1),
    ("maven", "1.0", "1.0.1", -1),
    ("maven", "1.0.10", "1.0.9", 1),
    ("maven", "1.0.100000000000000000000", "1.0.99999999999999999999", 1),
    ("maven", "5.3.0.Final", "5.3.0", 0),
    ("maven", "2.13.4.1", "2.13.4", 1),
    # rubygems
    ("rubygems", "1.0", "1", 0),
    ("rubygems", "1.0.a", "1.a", 0),
    ("rubygems", "1.0.0.pre1", "1.0.0", -1),
    ("rubygems", "1.0.0-rc1", "1.0.0.pre.rc1", 0),
    ("rubygems", "1.0.0.beta10", "1.0.0.beta2", 1),
    ("rubygems", "2.0.0.rc1", "2.0.0.b1", 1),
    ("rubygems", "1.0.a.2", "1.0.a.10", -1),
    ("rubygems", "1.0.0.A", "1.0.0.a", -1),
    ("rubygems", "", "0", 0),
    ("rubygems", "5.2.4.3", "5.2.4.10", -1),
    ("rubygems", "1.9.3", "1.10.0", -1),
    # nuget
    ("nuget", "1.0", "1.0.0.0", 0),
    ("nuget", "1.0.0-ALPHA", "1.0.0-alpha", 0),
    ("nuget", "1.0.0-alpha", "1.0.0", -1),
    ("nuget", "1.0.0-beta.2", "1.0.0-beta.10", -1),
    ("nuget", "1.0.0-1", "1.0.0-a", -1),
    ("nuget", "1.0.0+abc", "1.0.0+def", 0),
    ("nuget", "1.2.3.4", "1.2.3", 1),
    ("nuget", "1.2.3-alpha.1", "1.2.3-alpha", 1),
    ("nuget", "01.2.3", "1.2.3", 0),
    # composer
    ("composer", "1.0.0-dev", "1.0.0-alpha", -1),
    ("composer", "1.0.0-alpha", "1.0.0-beta", -1),
    ("composer", "1.0.0-beta2", "1.0.0-beta10", -1),
    ("composer", "1.0.0-beta", "1.0.0-RC1", -1),
    ("composer", "1.0.0-RC1", "1.0.0", -1),
    ("composer", "1.0.0", "1.0.0-patch1", -1),
    ("composer", "1.0.0-p1", "1.0.0-pl1", 0),
    ("composer", "v1.0", "1.0.0.0", 0),
    ("composer", "1.0.0-stable", "1.0.0", 0),
    ("composer", "1.0.0+build", "1.0.0", 0),
    ("composer", "1.0.0-a1", "1.0.0-alpha1", 0),
    ("composer", "1.0", "1.0.0.1", -1),
    ("composer", "1.x-dev", "1.99.0", 1),
    ("composer", "2010-01-02", "2010.01.03", -1),
    # pub
    ("pub", "1.0.0-dev", "1.0.0", -1),
    ("pub", "1.0.0+1", "1.0.0", 1),
    ("pub", "1.0.0+2", "1.0.0+10", -1),
    ("pub", "1.0.0-1", "1.0.0-a", -1),
    ("pub", "1.0.0-beta.2", "1.0.0-beta.10", -1),
    ("pub", "1.0.0-0x10", "1.0.0-15", 1),  # Dart int.tryParse reads hexadecimal
    ("pub", "01.0.0", "1.0.0", 0),
    # semver 2.0 (semver.org precedence example)
    ("semver", "1.0.0-alpha", "1.0.0-alpha.1", -1),
    ("semver", "1.0.0-alpha.1", "1.0.0-alpha.beta", -1),
    ("semver", "1.0.0-alpha.beta", "1.0.0-beta", -1),
    ("semver", "1.0.0-beta", "1.0.0-beta.2", -1),
    ("semver", "1.0.0-beta.2", "1.0.0-beta.11", -1),
    ("semver", "1.0.0-beta.11", "1.0.0-rc.1", -1),
    ("semver", "1.0.0-rc.1", "1.0.0", -1),
    ("semver", "1.0.0+a", "1.0.0+b", 0),
    ("semver", "2.0.0", "10.0.0", -1),
    ("semver", "1.0.0-0", "1.0.0--", -1),
    # cran: R package_version (base R version.R: integers split on . or -, trailing zeros ignored)
    ("cran", "1.0-12", "1.0-2", 1),
    ("cran", "1.2-3", "1.2.3", 0),
    ("cran", "1.0", "1.0.0", 0),
    ("cran", "1.0", "1.0.1", -1),
    ("cran", "0.9.22", "1.0", -1),
    ("cran", "1.2.2-2", "1.2.2", 1),
    ("cran", "2.18.0.1", "2.19.0", -1),
    ("cran", "1.5.0.9000", "1.5.1", -1),
    ("cran", "01.10", "1.9", 1),
    # conan: Conan 2 conans/model/version.py (items int when all digits, pre after "-", build after "+")
    ("conan", "1.2.12", "1.2.13", -1),
    ("conan", "1.2", "1.2.0", 0),  # trailing zero items do not count
    ("conan", "1.1.1", "1.1.1s", -1),
    ("conan", "1.1.1s", "1.1.1t", -1),
    ("conan", "1.1.1t", "1.1.2", -1),
    ("conan", "1.1.1t", "1.1.10", -1),  # deviation: Conan's text comparison says 1.1.10 < 1.1.1t
    ("conan", "1.1.1w", "3.0.8", -1),
    ("conan", "1.0.2zg", "1.0.2zh", -1),
    ("conan", "1.84.0-rc.1", "1.84.0", -1),  # a pre-release before its release
    ("conan", "1.84.0-rc.1", "1.84.0-rc.2", -1),
    ("conan", "1.84.0-rc.2", "1.84.0-rc.10", -1),
    ("conan", "1.84.0-rc.1", "1.83.0", 1),
    ("conan", "1.0+1", "1.0", 1),  # a build after the plain version
    ("conan", "1.0+1", "1.0+2", -1),
    ("conan", "cci.20230101", "cci.20230201", -1),
    ("conan", "2023.01", "cci.20230101", -1),  # text items after numbers
    ("conan", "system", "1.0", 1),
    # semver-coerced: osv.dev semver_index.coerce, then SemVer 2.0
    ("semver-coerced", "1.20", "1.20.0", 0),
    ("semver-coerced", "1.19.2", "1.20", -1),
    ("semver-coerced", "v2.1", "2.1.0", 0),
    ("semver-coerced", "1.02.003", "1.2.3", 0),
    ("semver-coerced", "1.0.0-rc.01", "1.0.0-rc.1", 0),
    ("semver-coerced", "1.0.0-rc.1", "1.0.0", -1),
    ("semver-coerced", "2", "1.9.9", 1),
]


@pytest.mark.parametrize(("scheme", "a", "b", "expected"), VECTORS)
def test_vector(scheme: str, a: str, b: str, expected: int) -> None:
    assert compare(scheme, a, b) == expected
    assert compare(scheme, b, a) == -expected
    va, vb = parse(scheme, a), parse(scheme, b)
    assert (va < vb) == (expected < 0)
    assert (va == vb) == (expected == 0)
    if expected == 0:
        assert hash(va) == hash(vb)


INVALID: list[tuple[str, str]] = [
    ("dpkg", ""),
    ("dpkg", "1.0 1"),
    ("dpkg", "a:1.0"),
    ("dpkg", "1:"),
    ("dpkg", "1.0-"),
    ("dpkg", "-1"),
    ("dpkg", "99999999999:1.0"),
    ("rpm", ""),
    ("rpm", "1:"),
    ("apk", ""),
    ("apk", "a1"),
    ("apk", "1.0-1"),
    ("apk", "1.0_foo"),
    ("apk", "1.0a1"),
    ("apk", "1.0-r"),
    ("apk", "1.0-r1-r2"),
    ("pep440", "1.0-foo-bar"),
    ("pep440", "not a version"),
    ("npm", "1.2"),
    ("npm", "1.2.3.4"),
    ("npm", "9007199254740992.0.0"),
    ("npm", "1.2.3-+"),
    ("go", "1.2.3.4"),
    ("go", "v01.2.3"),
    ("go", "v1.2-pre"),
    ("go", "go1.21.x"),
    ("go", "gofoo"),
    ("maven", ""),
    ("rubygems", "1..0"),
    ("rubygems", "junk"),
    ("nuget", "1.0.0.0.0"),
    ("nuget", "1.0.0-01"),
    ("nuget", "1.0.0-"),
    ("nuget", "a.b"),
    ("composer", "dev-master"),
    ("composer", "foo"),
    ("pub", "1.0"),
    ("pub", "1.0.0-"),
    ("semver", "01.0.0"),
    ("semver", "1.0.0-01"),
    ("semver", "v1.0.0"),
    ("semver", "1.0"),
    ("cran", ""),
    ("cran", "1.0a"),
    ("cran", "1..0"),
    ("cran", "v1.0"),
    ("cran", "1.0-"),
    ("conan", ""),
    ("conan", "[>1.0 <2.0]"),  # a version range, not a version
    ("conan", "1.0 beta"),
    ("conan", "-1.0"),
    ("semver-coerced", ""),
    ("semver-coerced", "1.0.0.0"),
    ("semver-coerced", "one"),
    ("semver-coerced", "1.0.0_beta"),
]


@pytest.mark.parametrize(("scheme", "text"), INVALID)
def test_invalid(scheme: str, text: str) -> None:
    with pytest.raises(InvalidVersion):
        parse(scheme, text)
    assert issubclass(InvalidVersion, ValueError)


def test_npm_strict_and_loose() -> None:
    from containment.versions import npm

    assert npm.parse("1.2.3-", loose=True).prerelease == ["-"]  # as node-semver's LOOSE regex
    with pytest.raises(InvalidVersion):
        npm.parse("1.2.3-", loose=False)
    with pytest.raises(InvalidVersion):
        npm.parse("=1.2.3", loose=False)
    assert npm.compare("v1.2.3", "1.2.3", loose=False) == 0
    with pytest.raises(InvalidVersion):
        npm.parse("1" * 300 + ".0.0")


def test_rpmvercmp_direct() -> None:
    assert rpmvercmp("1.0~rc1", "1.0") == -1
    assert rpmvercmp("1.0^", "1.0") == 1
    assert rpmvercmp("", "") == 0


def test_go_toolchain_order() -> None:
    assert compare_toolchain("go1.21", "go1.21rc1") == -1
    assert compare_toolchain("go1.21rc1", "go1.21rc2") == -1
    assert compare_toolchain("go1.21rc2", "go1.21.0") == -1
    assert compare_toolchain("go1.20", "go1.20.0") == 0
    assert compare_toolchain("1.21.0", "1.21.1") == -1
    with pytest.raises(InvalidVersion):
        compare_toolchain("go1.21.1rc1", "go1.21")


@pytest.mark.parametrize(
    ("ecosystem", "scheme"),
    [
        ("Debian", "dpkg"),
        ("Debian:12", "dpkg"),
        ("Ubuntu:22.04", "dpkg"),
        ("Ubuntu:Pro:18.04:LTS", "dpkg"),
        ("Alpine:v3.19", "apk"),
        ("Red Hat", "rpm"),
        ("Red Hat:enterprise_linux:9::appstream", "rpm"),
        ("Rocky Linux", "rpm"),
        ("AlmaLinux:9", "rpm"),
        ("SUSE", "rpm"),
        ("openSUSE", "rpm"),
        ("PyPI", "pep440"),
        ("npm", "npm"),
        ("Go", "go"),
        ("Maven", "maven"),
        ("RubyGems", "rubygems"),
        ("NuGet", "nuget"),
        ("Packagist", "composer"),
        ("crates.io", "semver"),
        ("Hex", "semver"),
        ("Pub", "pub"),
        ("SwiftURL", "semver-coerced"),
        ("ConanCenter", "conan"),
        ("CocoaPods", "semver"),
        ("Bitnami", "semver"),
        ("SEMVER", "semver"),
    ],
)
def test_scheme_for(ecosystem: str, scheme: str) -> None:
    assert scheme_for(ecosystem) == scheme
    assert scheme in SCHEMES


def test_unknown() -> None:
    with pytest.raises(KeyError):
        scheme_for("Nope")
    with pytest.raises(KeyError):
        compare("nope", "1", "2")


def test_cross_type_comparison_refused() -> None:
    with pytest.raises(TypeError):
        _ = parse("dpkg", "1.0") < parse("rpm", "1.0")  # type: ignore[operator]
    assert parse("dpkg", "1.0") != parse("rpm", "1.0")
