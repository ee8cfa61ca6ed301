"""Exact version comparison per ecosystem.

``compare(scheme, a, b)`` returns -1, 0 or 1; ``parse(scheme, v)`` returns an orderable
version object (versions of one scheme compare with ``<``, ``==`` ...); both raise
``InvalidVersion`` (a ``ValueError``) for strings the scheme cannot parse.
``scheme_for(ecosystem)`` maps an OSV ecosystem name ("Debian:12", "PyPI", ...) to a scheme.

Schemes (each module's docstring states its reference and any documented deviation):
``dpkg``, ``rpm``, ``apk``, ``pep440``, ``npm``, ``go``, ``maven``, ``rubygems``, ``nuget``,
``composer``, ``pub``, ``cran`` (R package_version), ``conan`` (Conan 2's Version model),
``semver`` (strict SemVer 2.0) and ``semver-coerced`` (SemVer after osv.dev's coercion).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from containment.ecosystems import scheme_of

from . import apk, composer, conan, cran, dpkg, golang, maven, npm, nuget, pep440, pub, rpm, rubygems, semver
from ._base import BaseVersion, InvalidVersion


class Scheme(NamedTuple):
    name: str
    parse: Callable[[str], BaseVersion]
    description: str


SCHEMES: dict[str, Scheme] = {
    s.name: s
    for s in (
        Scheme("dpkg", dpkg.parse, "Debian/Ubuntu dpkg versions"),
        Scheme("rpm", rpm.parse, "RPM epoch:version-release (rpmvercmp)"),
        Scheme("apk", apk.parse, "Alpine apk-tools versions"),
        Scheme("pep440", pep440.parse, "Python PEP 440 (packaging)"),
        Scheme("npm", npm.parse, "node-semver, loose"),
        Scheme("go", golang.parse, "Go module semver and go toolchain tags"),
        Scheme("maven", maven.parse, "Maven ComparableVersion"),
        Scheme("rubygems", rubygems.parse, "Gem::Version"),
        Scheme("nuget", nuget.parse, "NuGet.Versioning"),
        Scheme("composer", composer.parse, "composer/semver"),
        Scheme("pub", pub.parse, "Dart pub_semver"),
        Scheme("cran", cran.parse, "R package_version (CRAN, Bioconductor)"),
        Scheme("semver", semver.parse, "SemVer 2.0.0 strict"),
        Scheme("semver-coerced", semver.parse_coerced, "SemVer 2.0.0 after osv.dev's coercion"),
        Scheme("conan", conan.parse, "Conan 2 Version model"),
    )
}


def scheme_for(ecosystem: str) -> str:
    """The scheme for an OSV ecosystem ("Debian:12" -> "dpkg"); KeyError when unknown."""
    s = scheme_of(ecosystem)
    if s is None:
        raise KeyError(f"no version scheme for ecosystem {ecosystem!r}")
    return s


def _scheme(name: str) -> Scheme:
    try:
        return SCHEMES[name]
    except KeyError:
        raise KeyError(f"unknown version scheme {name!r}") from None


def parse(scheme: str, version: str) -> BaseVersion:
    return _scheme(scheme).parse(version)


def compare(scheme: str, a: str, b: str) -> int:
    p = _scheme(scheme).parse
    return p(a)._cmp(p(b))


__all__ = ["SCHEMES", "BaseVersion", "InvalidVersion", "Scheme", "compare", "parse", "scheme_for"]
