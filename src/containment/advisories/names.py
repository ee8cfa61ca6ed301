"""Package-name normalization per ecosystem, the same on import and on lookup.

``normalize(ecosystem, name)`` is what the store indexes and what ``AdvisoryStore.affected``
looks up, so a matcher may pass a name as the package manager spells it. The rule of each
ecosystem (PEP 503 for PyPI, lowercase for NuGet/Packagist/crates.io/... and every
distribution, as written for npm/Go/Maven/RubyGems/...) is in ``containment.ecosystems``.
Surrounding whitespace is always stripped.
"""

from __future__ import annotations

import re

from containment.ecosystems import name_rule

_PEP503 = re.compile(r"[-_.]+")
_cache: dict[str, str] = {}


def ecosystem_base(ecosystem: str) -> str:
    """ "Debian:12" -> "Debian", "PyPI" -> "PyPI"."""
    return ecosystem.split(":", 1)[0].strip()


def _kind(ecosystem: str) -> str:
    k = _cache.get(ecosystem)
    if k is None:
        k = name_rule(ecosystem)
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
