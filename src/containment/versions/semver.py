"""Semantic Versioning 2.0.0, strict (https://semver.org).

``MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]`` with no leading zeros in numbers or numeric
pre-release identifiers. Precedence: numbers numerically; a pre-release is older than the
release; pre-release identifiers compare numerically when both are numeric, numeric ones
are older than alphanumeric ones, alphanumerics compare in ASCII order, and a shorter list
that is a prefix of a longer one is older. Build metadata is ignored.

Used for crates.io (the Rust ``semver`` crate additionally tie-breaks equal versions by
build metadata in its ``Ord``; vulnerability ranges use precedence, as here), Hex (Elixir's
``Version`` is SemVer 2.0 and ignores build), SwiftURL, Bitnami, CocoaPods, ConanCenter and
OSV ``SEMVER`` ranges. Known deviations: CocoaPods' own ``Pod::Version`` and Conan's version
model accept more shapes (fewer or more than three numbers, ``cci.2023...``); such strings
raise ``InvalidVersion`` here instead of being guessed at.
"""

from __future__ import annotations

import re
from typing import Any

from ._base import BaseVersion, InvalidVersion

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


class SemVer(BaseVersion):
    __slots__ = ("major", "minor", "patch", "prerelease", "build", "_key")

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

    def _cmp(self, other: Any) -> int:
        a, b = self._key, other._key
        if a == b:
            return 0
        return -1 if a < b else 1  # type: ignore[operator]

    def _hash_key(self) -> object:
        return self._key


def parse(text: str) -> SemVer:
    if not isinstance(text, str):
        raise InvalidVersion("version must be a string")
    m = SEMVER_RE.fullmatch(text)
    if m is None:
        raise InvalidVersion(f"not a SemVer 2.0 version: {text!r}")
    return SemVer(text, int(m[1]), int(m[2]), int(m[3]), m[4], m[5])


def compare(a: str, b: str) -> int:
    return parse(a)._cmp(parse(b))
