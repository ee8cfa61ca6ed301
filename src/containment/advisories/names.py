"""Package-name normalization per ecosystem, the same on import and on lookup.

``normalize(ecosystem, name)`` is what the store indexes and what ``AdvisoryStore.affected``
looks up, so a matcher may pass a name as the package manager spells it:

- PyPI: PEP 503 (lowercase, runs of ``-``, ``_``, ``.`` become one ``-``).
- Maven: ``group:artifact`` as written (Maven coordinates are case-sensitive).
- NuGet, Packagist, crates.io, Hex, Pub, ConanCenter: lowercase.
- npm, Go, RubyGems, SwiftURL (and unknown ecosystems): as written.
- OS ecosystems (Debian*, Ubuntu*, Alpine*, Red Hat, Rocky Linux, AlmaLinux, SUSE, ... : every
  ecosystem whose version scheme is dpkg, rpm or apk): lowercase.

Surrounding whitespace is always stripped.
"""

from __future__ import annotations

import re

from containment.versions import scheme_for

_PEP503 = re.compile(r"[-_.]+")
_LOWER = frozenset({"nuget", "packagist", "crates.io", "hex", "pub", "conancenter"})
_AS_IS = frozenset({"npm", "go", "rubygems", "swifturl", "maven"})
_OS_SCHEMES = frozenset({"dpkg", "rpm", "apk"})
_cache: dict[str, str] = {}


def ecosystem_base(ecosystem: str) -> str:
    """ "Debian:12" -> "Debian", "PyPI" -> "PyPI"."""
    return ecosystem.split(":", 1)[0].strip()


def _kind(ecosystem: str) -> str:
    k = _cache.get(ecosystem)
    if k is None:
        base = ecosystem_base(ecosystem).lower()
        if base == "pypi":
            k = "pep503"
        elif base in _LOWER:
            k = "lower"
        elif base in _AS_IS:
            k = "as-is"
        else:
            try:
                k = "lower" if scheme_for(ecosystem) in _OS_SCHEMES else "as-is"
            except KeyError:
                k = "as-is"
        if len(_cache) < 4096:
            _cache[ecosystem] = k
    return k


def normalize(ecosystem: str, name: str) -> str:
    """The lookup key of a package name in an ecosystem (see the module docstring)."""
    k = _kind(ecosystem)
    name = name.strip()
    if k == "pep503":
        return _PEP503.sub("-", name).lower()
    if k == "lower":
        return name.lower()
    return name
