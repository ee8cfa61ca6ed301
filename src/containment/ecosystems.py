"""Facts about each package ecosystem, in one table. Imports nothing of the project.

Two tables:

- ``LANGUAGES``: one row per purl type a cataloger emits for language/application packages:
  its OSV ecosystem (or why there is none), version scheme, name normalization and report label.
- ``OS_FEEDS``: every OSV ecosystem base name of a distribution, with its version scheme.
  (Which os-release maps to which of them, and how the release is spelled, is
  ``containment.distros``.)

Name rules (``names``): ``pep503`` (lowercase, runs of ``-_.`` become ``-``), ``lower``, or
``as-is`` (case-sensitive registries: npm, Go module paths, Maven coordinates, ...).
Every OSV ecosystem's package names are normalized the same way on import and on lookup
(``containment.advisories.names``), so a matcher passes names as the package manager spells them.

Kept in step with the OSV schema's list of ecosystems
(https://ossf.github.io/osv-schema/#defined-ecosystems); ``tests/unit/test_ecosystems.py``
checks every catalogued purl type has a row, and every row names an OSV ecosystem or says why not.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Ecosystem:
    purl_type: str
    osv: str  # OSV ecosystem name; "" when OSV publishes none for it (see `note`)
    scheme: str  # version scheme (containment.versions.SCHEMES)
    names: str  # "pep503" | "lower" | "as-is"
    label: str  # how reports group installed packages ("Python", "Node.js")
    note: str = ""  # why no OSV ecosystem, when osv == "" (or why its feed is special)
    feed: bool = True  # osv.dev publishes `<osv>/all.zip` for it (what `db update` downloads)


LANGUAGES: tuple[Ecosystem, ...] = (
    Ecosystem("pypi", "PyPI", "pep440", "pep503", "Python"),
    Ecosystem("npm", "npm", "npm", "as-is", "Node.js"),
    Ecosystem("golang", "Go", "go", "as-is", "Go"),
    Ecosystem("maven", "Maven", "maven", "as-is", "Java"),
    Ecosystem("gem", "RubyGems", "rubygems", "as-is", "Ruby"),
    Ecosystem("composer", "Packagist", "composer", "lower", "PHP"),
    Ecosystem("nuget", "NuGet", "nuget", "lower", ".NET"),
    Ecosystem("cargo", "crates.io", "semver", "lower", "Rust"),
    Ecosystem("hex", "Hex", "semver", "lower", "Elixir"),
    Ecosystem("pub", "Pub", "pub", "lower", "Dart"),
    Ecosystem("swift", "SwiftURL", "semver-coerced", "as-is", "Swift"),
    Ecosystem(
        "conan",
        "ConanCenter",
        "conan",
        "lower",
        "C/C++ (Conan)",
        note="OSV defines ConanCenter but publishes no feed for it (no ConanCenter/all.zip); its "
        "advisories come from `db import` of OSV records another source writes",
        feed=False,
    ),
    Ecosystem("cran", "CRAN", "cran", "as-is", "R"),
    Ecosystem(
        "cocoapods",
        "",
        "semver",
        "as-is",
        "CocoaPods",
        note="OSV defines no CocoaPods ecosystem; GHSA publishes no CocoaPods advisories",
    ),
    Ecosystem(
        "pear",
        "",
        "composer",
        "as-is",
        "PHP (PECL/PEAR)",
        note="OSV defines no PECL/PEAR ecosystem; PHP advisories are published for Packagist only",
    ),
    Ecosystem(
        "luarocks",
        "",
        "semver",
        "lower",
        "Lua",
        note="OSV defines no LuaRocks ecosystem; no database publishes one",
    ),
    Ecosystem(
        "brew",
        "",
        "semver",
        "as-is",
        "Homebrew",
        note="OSV defines no Homebrew ecosystem: formulae repackage upstream projects, whose advisories "
        "are per upstream project, not per formula",
    ),
    Ecosystem(
        "nix",
        "",
        "semver",
        "as-is",
        "Nix",
        note="OSV defines no Nix ecosystem; nixpkgs tracks vulnerabilities in its issue tracker only",
    ),
    # OS package types without an OSV ecosystem (in OS_TYPES: grouped and purl-qualified as OS packages)
    Ecosystem(
        "alpm",
        "",
        "rpm",  # libalpm's vercmp is rpmvercmp over [epoch:]version-pkgrel
        "lower",
        "Arch Linux",
        note="OSV defines no Arch Linux ecosystem; Arch's advisories (ASA) are published only on "
        "security.archlinux.org",
    ),
    Ecosystem(
        "ebuild",
        "",
        "semver",
        "as-is",
        "Gentoo",
        note="OSV defines no Gentoo ecosystem; Gentoo's GLSAs are not published as OSV",
    ),
)

# OSV ecosystem base name (lowercase, before ":release") -> version scheme, for distributions.
OS_FEEDS: dict[str, str] = {
    "debian": "dpkg",
    "ubuntu": "dpkg",
    "alpine": "apk",
    "chainguard": "apk",
    "wolfi": "apk",
    "minimos": "apk",
    "alpaquita": "apk",
    "bellsoft hardened containers": "apk",
    "red hat": "rpm",
    "rocky linux": "rpm",
    "almalinux": "rpm",
    "suse": "rpm",
    "opensuse": "rpm",
    "mageia": "rpm",
    "openeuler": "rpm",
    "photon os": "rpm",
    "azure linux": "rpm",
    "mariner": "rpm",
    "fedora": "rpm",
    "oracle linux": "rpm",
    "amazon linux": "rpm",
    "echo": "dpkg",
}

BY_TYPE: dict[str, Ecosystem] = {e.purl_type: e for e in LANGUAGES}
BY_OSV: dict[str, Ecosystem] = {e.osv.lower(): e for e in LANGUAGES if e.osv}
OS_TYPES = frozenset({"deb", "apk", "rpm", "alpm", "ebuild"})


def osv_ecosystem(purl_type: str) -> str:
    """The OSV ecosystem of a language package type, "" when it has none."""
    e = BY_TYPE.get(purl_type)
    return e.osv if e else ""


def base(ecosystem: str) -> str:
    """ "Debian:12" -> "debian", "PyPI" -> "pypi" (lowercase base name)."""
    return ecosystem.split(":", 1)[0].strip().lower()


def scheme_of(ecosystem: str) -> str | None:
    """The version scheme of an OSV ecosystem name ("Debian:12" -> "dpkg"), None if unknown."""
    b = base(ecosystem)
    e = BY_OSV.get(b)
    if e is not None:
        return e.scheme
    if b in OS_FEEDS:
        return OS_FEEDS[b]
    return _OTHER_SCHEMES.get(b)


# OSV ecosystems no cataloger emits, or named by a row without `osv` (the advisories may still exist).
_OTHER_SCHEMES = {"bitnami": "semver", "semver": "semver", "cocoapods": "semver", "bioconductor": "cran"}


def name_rule(ecosystem: str) -> str:
    """How package names of an OSV ecosystem are normalized (see the module docstring)."""
    b = base(ecosystem)
    e = BY_OSV.get(b)
    if e is not None:
        return e.names
    if b in OS_FEEDS:
        return "lower"
    return "as-is"


def label(purl_type: str) -> str:
    e = BY_TYPE.get(purl_type)
    return e.label if e else purl_type
