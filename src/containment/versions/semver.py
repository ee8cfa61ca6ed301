"""Semantic Versioning 2.0.0, strict (https://semver.org).

``MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]`` with no leading zeros in numbers or numeric
pre-release identifiers. Precedence: numbers numerically; a pre-release is older than the
release; pre-release identifiers compare numerically when both are numeric, numeric ones
are older than alphanumeric ones, alphanumerics compare in ASCII order, and a shorter list
that is a prefix of a longer one is older. Build metadata is ignored.

Used for crates.io (the Rust ``semver`` crate additionally tie-breaks equal versions by
build metadata in its ``Ord``; vulnerability ranges use precedence, as here), Hex (Elixir's
``Version`` is SemVer 2.0 and ignores build), Bitnami, CocoaPods and OSV ``SEMVER`` ranges.
Known deviation: CocoaPods' own ``Pod::Version`` accepts more shapes (fewer or more than three
numbers); such strings raise ``InvalidVersion`` here instead of being guessed at. (ConanCenter
has its own scheme, ``conan``.)

``parse_coerced`` (scheme ``semver-coerced``) first applies osv.dev's coercion
(``osv/semver_index.py`` ``coerce``): a leading ``v`` is dropped, a missing minor or patch is
``0``, leading zeros are dropped from numbers and numeric pre-release identifiers, and empty
identifiers become ``-``. Used for SwiftURL, whose published records spell fixes as git tags
(GHSA-q36x-r5x4-h4q6: ``"fixed": "1.20"``), compared by osv.dev after this coercion.
"""

from __future__ import annotations

import re

from ._base import InvalidVersion, KeyedVersion

_NUM = r"(?:0|[1-9][0-9]*)"
_PRE_ID = r"(?:0|[1-9][0-9]*|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)"
_BUILD_ID = r"[0-9a-zA-Z-]+"
SEMVER_RE = re.compile(
    rf"({_NUM})\.({_NUM})\.({_NUM})(?:-({_PRE_ID}(?:\.{_PRE_ID})*))?(?:\+({_BUILD_ID}(?:\.{_BUILD_ID})*))?"
)

PreKey = tuple[object, ...]


def prerelease_key(pre: str | None) -> PreKey:
    """Order key of a (valid) pre-release: release sorts after every pre-release."""
    if pre is None:
        return (1,)
    ids: list[tuple[int, int, str]] = []
    for ident in pre.split("."):
        if ident.isdigit():
            ids.append((0, int(ident), ""))
        else:
            ids.append((1, 0, ident))
    return (0, tuple(ids))


class SemVer(KeyedVersion):
    __slots__ = ("major", "minor", "patch", "prerelease", "build")

    def __init__(
        self, text: str, major: int, minor: int, patch: int, prerelease: str | None, build: str | None
    ) -> None:
        super().__init__(text)
        self.major = major
        self.minor = minor
        self.patch = patch
        self.prerelease = prerelease
        self.build = build
        self._key: tuple[object, ...] = (major, minor, patch, prerelease_key(prerelease))


def parse(text: str) -> SemVer:
    if not isinstance(text, str):
        raise InvalidVersion("version must be a string")
    m = SEMVER_RE.fullmatch(text)
    if m is None:
        raise InvalidVersion(f"not a SemVer 2.0 version: {text!r}")
    return SemVer(text, int(m[1]), int(m[2]), int(m[3]), m[4], m[5])


def compare(a: str, b: str) -> int:
    return parse(a)._cmp(parse(b))


_COERCE = re.compile(r"([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(.*)", re.S)
_SUFFIX = re.compile(r"(-[^+]*)?(\+.*)?(.*)", re.S)


def _no_leading_zero(component: str) -> str:
    if component.startswith("."):
        return "." + str(int(component[1:]))
    return str(int(component))


def _coerce_suffix(suffix: str) -> str:
    m = _SUFFIX.fullmatch(suffix)
    assert m is not None
    pre = ""
    if m[1]:
        parts = []
        for c in m[1][1:].split("."):
            parts.append("-" if not c else _no_leading_zero(c) if c.isdecimal() and c.isascii() else c)
        pre = "-" + ".".join(parts)
    build = ""
    if m[2]:
        build = "+" + ".".join(c or "-" for c in m[2][1:].split("."))
    return pre + build + m[3]


def coerce(text: str) -> str:
    """osv.dev's SemVer coercion (``semver_index.coerce``); the result may still be invalid."""
    text = text.removeprefix("v")
    m = _COERCE.fullmatch(text)
    if m is None:
        return text
    return (
        _no_leading_zero(m[1])
        + _no_leading_zero(m[2] or ".0")
        + _no_leading_zero(m[3] or ".0")
        + _coerce_suffix(m[4])
    )


def parse_coerced(text: str) -> SemVer:
    """SemVer 2.0 after osv.dev's coercion (``1.20`` -> ``1.20.0``, ``v2.1`` -> ``2.1.0``)."""
    if not isinstance(text, str):
        raise InvalidVersion("version must be a string")
    if len(text) > 256 or not text.isascii():
        raise InvalidVersion(f"not a SemVer version: {text!r}")
    v = parse(coerce(text))
    return SemVer(text, v.major, v.minor, v.patch, v.prerelease, v.build)
