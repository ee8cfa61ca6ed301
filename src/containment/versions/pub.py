"""Dart/Flutter (pub) versions, ordered as ``pub_semver``'s ``Version.compareTo``.

Parsing: ``MAJOR.MINOR.PATCH[-pre][+build]`` where the numbers are decimal (leading zeros
allowed, must fit a 64-bit int) and pre-release/build identifiers are ``[0-9A-Za-z-]+``.
Each identifier becomes an integer when Dart's ``int.tryParse`` accepts it (decimal with an
optional ``-`` sign, or ``0x`` hexadecimal; 64-bit), otherwise stays a string.

Ordering: numbers, then a pre-release sorts before no pre-release, then pre-release lists,
then — unlike SemVer 2.0 — build metadata: no build sorts before any build, then build
lists. Lists compare item by item: a missing item first, numbers before strings, numbers
numerically, strings by code unit.
"""

from __future__ import annotations

import re
from typing import Any

from ._base import BaseVersion, InvalidVersion

_ID = "[0-9A-Za-z-]+"
PUB_RE = re.compile(rf"([0-9]+)\.([0-9]+)\.([0-9]+)(?:-({_ID}(?:\.{_ID})*))?(?:\+({_ID}(?:\.{_ID})*))?")
_I64_MAX = 2**63 - 1
_DEC = re.compile(r"[+-]?[0-9]+")
_HEX = re.compile(r"([+-]?)0[xX]([0-9a-fA-F]+)")

Part = int | str


def dart_int_try_parse(s: str) -> int | None:
    """Dart VM ``int.tryParse`` on a string without blanks."""
    if _DEC.fullmatch(s):
        v = int(s)
        return v if -(2**63) <= v <= _I64_MAX else None
    m = _HEX.fullmatch(s)
    if m:
        digits = m[2].lstrip("0")
        if len(digits) > 16:
            return None
        v = int(m[2], 16)
        if v > _I64_MAX:
            v -= 2**64  # hexadecimal literals wrap to negative in the Dart VM
        return -v if m[1] == "-" else v
    return None


def _split(text: str | None) -> list[Part]:
    if not text:
        return []
    out: list[Part] = []
    for part in text.split("."):
        n = dart_int_try_parse(part)
        out.append(part if n is None else n)
    return out


def _cmp_lists(a: list[Part], b: list[Part]) -> int:
    for i in range(max(len(a), len(b))):
        x = a[i] if i < len(a) else None
        y = b[i] if i < len(b) else None
        if type(x) is type(y) and x == y:
            continue
        if x is None:
            return -1
        if y is None:
            return 1
        if isinstance(x, int):
            if isinstance(y, int):
                return -1 if x < y else 1
            return -1
        if isinstance(y, int):
            return 1
        ex, ey = x.encode("utf-16-be"), y.encode("utf-16-be")
        return 0 if ex == ey else (-1 if ex < ey else 1)
    return 0


class PubVersion(BaseVersion):
    __slots__ = ("major", "minor", "patch", "prerelease", "build")

    def __init__(self, text: str, major: int, minor: int, patch: int, pre: list[Part], build: list[Part]):
        super().__init__(text)
        self.major = major
        self.minor = minor
        self.patch = patch
        self.prerelease = pre
        self.build = build

    def _cmp(self, other: Any) -> int:
        a = (self.major, self.minor, self.patch)
        b = (other.major, other.minor, other.patch)
        if a != b:
            return -1 if a < b else 1
        if not self.prerelease and other.prerelease:
            return 1
        if not other.prerelease and self.prerelease:
            return -1
        r = _cmp_lists(self.prerelease, other.prerelease)
        if r:
            return r
        if not self.build and other.build:
            return -1
        if not other.build and self.build:
            return 1
        return _cmp_lists(self.build, other.build)

    def _hash_key(self) -> object:
        def k(parts: list[Part]) -> tuple[object, ...]:
            return tuple((type(p).__name__, p) for p in parts)

        return (self.major, self.minor, self.patch, k(self.prerelease), k(self.build))


def parse(text: str) -> PubVersion:
    if not isinstance(text, str):
        raise InvalidVersion("version must be a string")
    m = PUB_RE.fullmatch(text)
    if m is None:
        raise InvalidVersion(f"could not parse pub version {text!r}")
    nums = [int(m[i]) for i in (1, 2, 3)]
    if any(n > _I64_MAX for n in nums):
        raise InvalidVersion(f"pub version number too large: {text!r}")
    return PubVersion(text, nums[0], nums[1], nums[2], _split(m[4]), _split(m[5]))


def compare(a: str, b: str) -> int:
    return parse(a)._cmp(parse(b))
