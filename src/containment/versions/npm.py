"""npm versions, ordered as node-semver (``semver.compare``) does.

Parsing follows node-semver's ``SemVer`` constructor: the input is trimmed (JavaScript
whitespace), may be at most 256 UTF-16 units long, and is matched against the FULL regex
(``v?`` + strict SemVer) or, in loose mode (the default here, as npm accepts ``=1.2.3``,
``v 1.2.3``, ``1.2.3beta``), the LOOSE one (leading ``v``/``=``/blanks, leading zeros, the
hyphen before a pre-release optional). Major/minor/patch above 2**53-1 are refused.

Comparison: main numbers, then pre-release as node does it: identifiers that are all digits
and below 2**53-1 are numbers; two equal identifiers continue, otherwise the first differing
pair decides through ``compareIdentifiers`` (numeric vs numeric as JavaScript numbers, numeric
before alphanumeric, strings by code unit). Build metadata is ignored.
"""

from __future__ import annotations

import re
from typing import Any

from ._base import BaseVersion, InvalidVersion

MAX_LENGTH = 256
MAX_SAFE_INTEGER = 2**53 - 1

# ECMAScript WhiteSpace + LineTerminator (what String.prototype.trim and \s use).
_JS_WS = "\t\n\x0b\x0c\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_JS_WS_CLASS = "".join(f"\\u{ord(c):04x}" for c in _JS_WS)

_LDN = "[a-zA-Z0-9-]"
_NONNUM = f"[0-9]*[a-zA-Z-]{_LDN}*"
_NUM = "0|[1-9][0-9]*"
_NUM_LOOSE = "[0-9]+"
_PRE_ID = f"(?:{_NONNUM}|{_NUM})"
_PRE_ID_LOOSE = f"(?:{_NONNUM}|{_NUM_LOOSE})"
_BUILD = rf"(?:\+({_LDN}+(?:\.{_LDN}+)*))"
FULL_RE = re.compile(rf"v?({_NUM})\.({_NUM})\.({_NUM})(?:-({_PRE_ID}(?:\.{_PRE_ID})*))?{_BUILD}?")
LOOSE_RE = re.compile(
    rf"[v={_JS_WS_CLASS}]*({_NUM_LOOSE})\.({_NUM_LOOSE})\.({_NUM_LOOSE})"
    rf"(?:-?({_PRE_ID_LOOSE}(?:\.{_PRE_ID_LOOSE})*))?{_BUILD}?"
)

Ident = int | str


def _is_numeric(ident: Ident) -> bool:
    return isinstance(ident, int) or (ident.isascii() and ident.isdigit())


def _js_number(ident: Ident) -> float | int:
    if isinstance(ident, int):
        return ident
    v = int(ident)
    if v <= MAX_SAFE_INTEGER:
        return v
    try:
        return float(v)  # JavaScript Number(): nearest double
    except OverflowError:
        return float("inf")


def compare_identifiers(a: Ident, b: Ident) -> int:
    anum, bnum = _is_numeric(a), _is_numeric(b)
    if anum and bnum:
        x, y = _js_number(a), _js_number(b)
        return 0 if x == y else (-1 if x < y else 1)
    if anum:
        return -1
    if bnum:
        return 1
    assert isinstance(a, str) and isinstance(b, str)
    if a == b:
        return 0
    return -1 if a.encode("utf-16-be") < b.encode("utf-16-be") else 1


class NpmVersion(BaseVersion):
    __slots__ = ("major", "minor", "patch", "prerelease", "build", "normalized")

    def __init__(
        self, text: str, major: int, minor: int, patch: int, prerelease: list[Ident], build: list[str]
    ) -> None:
        super().__init__(text)
        self.major = major
        self.minor = minor
        self.patch = patch
        self.prerelease = prerelease
        self.build = build
        v = f"{major}.{minor}.{patch}"
        if prerelease:
            v += "-" + ".".join(str(p) for p in prerelease)
        self.normalized = v

    def _cmp(self, other: Any) -> int:
        if self.normalized == other.normalized:
            return 0
        a = (self.major, self.minor, self.patch)
        b = (other.major, other.minor, other.patch)
        if a != b:
            return -1 if a < b else 1
        pa, pb = self.prerelease, other.prerelease
        if pa and not pb:
            return -1
        if pb and not pa:
            return 1
        if not pa and not pb:
            return 0
        i = 0
        while True:
            x = pa[i] if i < len(pa) else None
            y = pb[i] if i < len(pb) else None
            if x is None and y is None:
                return 0
            if y is None:
                return 1
            if x is None:
                return -1
            if type(x) is type(y) and x == y:
                i += 1
                continue
            return compare_identifiers(x, y)

    def _hash_key(self) -> object:
        # Identifiers above 2**53 may compare equal as JavaScript numbers; keep the hash coarse there.
        return (self.major, self.minor, self.patch, len(self.prerelease))


def _utf16_len(s: str) -> int:
    return len(s) + sum(1 for c in s if ord(c) > 0xFFFF)


def parse(text: str, loose: bool = True) -> NpmVersion:
    if not isinstance(text, str):
        raise InvalidVersion("version must be a string")
    if _utf16_len(text) > MAX_LENGTH:
        raise InvalidVersion(f"version is longer than {MAX_LENGTH} characters")
    m = (LOOSE_RE if loose else FULL_RE).fullmatch(text.strip(_JS_WS))
    if m is None:
        raise InvalidVersion(f"Invalid Version: {text!r}")
    nums = []
    for g in (m[1], m[2], m[3]):
        n = int(g)
        if n > MAX_SAFE_INTEGER:
            raise InvalidVersion(f"version component too large: {text!r}")
        nums.append(n)
    pre: list[Ident] = []
    if m[4]:
        for ident in m[4].split("."):
            if ident.isdigit() and int(ident) < MAX_SAFE_INTEGER:
                pre.append(int(ident))
            else:
                pre.append(ident)
    build = m[5].split(".") if m[5] else []
    return NpmVersion(text, nums[0], nums[1], nums[2], pre, build)


def compare(a: str, b: str, loose: bool = True) -> int:
    return parse(a, loose)._cmp(parse(b, loose))
