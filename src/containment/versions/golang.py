"""Go module versions (golang.org/x/mod/semver) and Go toolchain versions.

Module versions are SemVer with a leading ``v``; ``v1`` and ``v1.2`` are shorthands for
``v1.0.0`` and ``v1.2.0`` (without pre-release or build). Pseudo-versions such as
``v0.0.0-20210101000000-abcdef123456`` are ordinary pre-releases, and ``+incompatible`` is
build metadata, ignored in comparisons. Numbers have no size limit. OSV's Go ecosystem
writes versions without the ``v``; both spellings are accepted.

Go toolchain / standard-library versions (``go1.21.5``, ``go1.21rc1``, ``go1.9beta2``, ``go1``)
are mapped to SemVer the way Go's vulnerability tooling does (govulncheck / pkgsite):
``go1.21rc1`` -> ``v1.21.0-rc.1``, ``go1.20`` -> ``v1.20.0``. Note that this makes ``go1.21``
equal ``go1.21.0``; the toolchain's own ordering (Go 1.21+'s ``go/version``, where the
language version ``1.21`` sorts before ``1.21rc1``) is available as ``compare_toolchain``.
"""

from __future__ import annotations

import re

from ._base import InvalidVersion
from .semver import SemVer

_NUM = r"(?:0|[1-9][0-9]*)"
_PRE_ID = r"(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)"
_BUILD_ID = r"[0-9a-zA-Z-]+"
_GO_SEMVER_RE = re.compile(
    rf"v?({_NUM})(?:\.({_NUM})(?:\.({_NUM})(?:-({_PRE_ID}(?:\.{_PRE_ID})*))?(?:\+({_BUILD_ID}(?:\.{_BUILD_ID})*))?)?)?"
)
_GO_TAG_RE = re.compile(r"go([0-9]+\.[0-9]+)(\.[0-9]+|)((beta|rc|-pre)([0-9]+))?")


def go_tag_to_semver(tag: str) -> str | None:
    """``go1.21rc1`` -> ``v1.21.0-rc.1`` (None when not a Go release tag)."""
    fields = tag.split()
    if not fields:
        return None
    tag = fields[0]
    if tag == "go1":
        return "v1.0.0"
    if tag == "go1.0":
        return None
    m = _GO_TAG_RE.fullmatch(tag)
    if m is None:
        return None
    version = "v" + m[1] + (m[2] or ".0")
    if m[3]:
        version += "-" + m[4].lstrip("-") + "." + m[5]
    return version


class GoVersion(SemVer):
    """Semantic versioning as Go's module system orders it (same order as SemVer 2.0; a distinct
    type so a Go version never compares with another scheme's)."""

    __slots__ = ()

    @property
    def canonical(self) -> str:
        v = f"v{self.major}.{self.minor}.{self.patch}"
        return v + (f"-{self.prerelease}" if self.prerelease else "")


def parse(text: str) -> GoVersion:
    if not isinstance(text, str):
        raise InvalidVersion("version must be a string")
    s = text
    if s.startswith("go"):
        mapped = go_tag_to_semver(s)
        if mapped is None:
            raise InvalidVersion(f"not a Go release version: {text!r}")
        s = mapped
    m = _GO_SEMVER_RE.fullmatch(s)
    if m is None:
        raise InvalidVersion(f"not a Go semantic version: {text!r}")
    return GoVersion(text, int(m[1]), int(m[2] or 0), int(m[3] or 0), m[4], m[5])


def compare(a: str, b: str) -> int:
    return parse(a)._cmp(parse(b))


# --- Go toolchain ordering (go/version.Compare) -------------------------------------------

_KIND_RE = re.compile(r"[a-z]+")


def _cut_int(x: str) -> tuple[str, str] | None:
    i = 0
    while i < len(x) and "0" <= x[i] <= "9":
        i += 1
    if i == 0 or (x[0] == "0" and i != 1):
        return None
    return x[:i], x[i:]


def _cmp_int(x: str, y: str) -> int:
    if x == y:
        return 0
    if len(x) != len(y):
        return -1 if len(x) < len(y) else 1
    return -1 if x < y else 1


def _gover(x: str) -> tuple[str, str, str, str, str]:
    """(major, minor, patch, kind, pre) as go/version's internal parse; raises when malformed."""
    bad = InvalidVersion(f"not a Go toolchain version: {x!r}")
    c = _cut_int(x)
    if c is None:
        raise bad
    major, x = c
    if x == "":
        return major, "0", "0", "", ""
    if x[0] != ".":
        raise bad
    c = _cut_int(x[1:])
    if c is None:
        raise bad
    minor, x = c
    if x == "":
        return major, minor, ("0" if _cmp_int(minor, "21") < 0 else ""), "", ""
    if x[0] == ".":
        c = _cut_int(x[1:])
        if c is None or c[1] != "":
            raise bad
        return major, minor, c[0], "", ""
    m = _KIND_RE.match(x)
    if m is None:
        raise bad
    kind, x = m[0], x[m.end() :]
    if x == "":
        return major, minor, "", kind, ""
    c = _cut_int(x)
    if c is None or c[1] != "":
        raise bad
    return major, minor, "", kind, c[0]


def compare_toolchain(a: str, b: str) -> int:
    """go/version.Compare on ``go1.21rc1``-style (or bare ``1.21rc1``) versions."""
    va = _gover(a[2:] if a.startswith("go") else a)
    vb = _gover(b[2:] if b.startswith("go") else b)
    for i in range(3):
        r = _cmp_int(va[i], vb[i])
        if r:
            return r
    if va[3] != vb[3]:
        return -1 if va[3] < vb[3] else 1
    return _cmp_int(va[4], vb[4])
