"""Composer (Packagist) versions, ordered as composer/semver does.

``normalize`` follows ``VersionParser::normalize``: trim, drop ``as`` aliases, ``@stability``
flags and ``+build`` metadata, accept an optional ``v``, 1 to 4 numbers (padded to four:
``1.2`` -> ``1.2.0.0``) or a date version (``2010.01.02`` / ``20100102``), then an optional
stability suffix (``stable``, ``RC``, ``beta``/``b``, ``alpha``/``a``, ``patch``/``pl``/``p``,
optionally numbered) and an optional ``dev`` suffix; numeric branches ``1.x-dev`` normalize to
``1.9999999.9999999.9999999-dev``. Comparison is PHP's ``version_compare`` on the normalized
strings, as ``Comparator::compare`` does, so ``dev < alpha < beta < RC < stable < patch``.

Named branches (``dev-master``, ``dev-feature``) are not orderable against versions (Composer
only matches them by name) and raise ``InvalidVersion``.
"""

from __future__ import annotations

import re
from typing import Any

from ._base import BaseVersion, InvalidVersion

_MODIFIER = r"[._-]?(?:(stable|beta|b|RC|alpha|a|patch|pl|p)((?:[.-]?\d+)*+)?)?([.-]?dev)?"
_CLASSICAL = re.compile(r"v?(\d{1,5}+)(\.\d++)?(\.\d++)?(\.\d++)?" + _MODIFIER, re.I | re.A)
_DATE = re.compile(r"v?(\d{4}(?:[.:-]?\d{2}){1,6}(?:[.:-]?\d{1,3}){0,2})" + _MODIFIER, re.I | re.A)
_ALIAS = re.compile(r"([^,\s]++) ++as ++([^,\s]++)")
_STABILITY_FLAG = re.compile(r"@(?:stable|RC|beta|alpha|dev)$", re.I)
_BUILD = re.compile(r"([^,\s+]++)\+[^\s]++")
_DEV_BRANCH = re.compile(r"(.*?)[.-]?dev", re.I | re.S)
_BRANCH = re.compile(r"v?(\d++)(\.(?:\d++|[xX*]))?(\.(?:\d++|[xX*]))?(\.(?:\d++|[xX*]))?", re.I | re.A)
_PHP_WS = " \t\n\r\x00\x0b"


def _expand_stability(s: str) -> str:
    s = s.lower()
    return {"a": "alpha", "b": "beta", "p": "patch", "pl": "patch", "rc": "RC"}.get(s, s)


def _normalize_branch(name: str) -> str:
    name = name.strip(_PHP_WS)
    m = _BRANCH.fullmatch(name)
    if m:
        version = ""
        for i in range(1, 5):
            version += m[i].replace("*", "x").replace("X", "x") if m[i] else ".x"
        return version.replace("x", "9999999") + "-dev"
    return "dev-" + name


def normalize(version: str) -> str:
    """composer/semver ``VersionParser::normalize`` (raises InvalidVersion where it throws)."""
    orig = version
    version = version.strip(_PHP_WS)
    m = _ALIAS.fullmatch(version)
    if m:
        version = m[1]
    m2 = _STABILITY_FLAG.search(version)
    if m2:
        version = version[: m2.start()]
    if version in ("master", "trunk", "default"):
        version = "dev-" + version
    if version[:4].lower() == "dev-":
        return "dev-" + version[4:]
    m = _BUILD.fullmatch(version)
    if m:
        version = m[1]
    index = 0
    m = _CLASSICAL.fullmatch(version)
    if m:
        version = m[1] + (m[2] or ".0") + (m[3] or ".0") + (m[4] or ".0")
        index = 5
    else:
        m = _DATE.fullmatch(version)
        if m:
            version = re.sub(r"\D", ".", m[1])
            index = 2
    if m and index:
        groups: list[str | None] = [None, *m.groups()]
        stability = groups[index]
        if stability:
            if stability == "stable":
                return version
            num = groups[index + 1] or ""
            version += "-" + _expand_stability(stability) + num.lstrip(".-")
        if groups[index + 2]:
            version += "-dev"
        return version
    m = _DEV_BRANCH.fullmatch(version)
    if m:
        normalized = _normalize_branch(m[1])
        if "dev-" not in normalized:
            return normalized
    raise InvalidVersion(f"Invalid version string {orig!r}")


# --- PHP version_compare ------------------------------------------------------------------


def _special(form: str) -> int:
    for name, order in (("dev", 0), ("alpha", 1), ("a", 1), ("beta", 2), ("b", 2), ("RC", 3), ("rc", 3),
                        ("#", 4), ("pl", 5), ("p", 5)):  # fmt: skip
        if form.startswith(name):
            return order
    return -1


def _canonicalize(v: str) -> str:
    def isdig(c: str) -> bool:
        return "0" <= c <= "9"

    def isndig(c: str) -> bool:
        return not isdig(c) and c != "."

    out = [v[0]]
    lp = v[0]
    for c in v[1:]:
        lq = out[-1]
        if c in "-_+":
            if lq != ".":
                out.append(".")
        elif (isndig(lp) and isdig(c)) or (isdig(lp) and isndig(c)):
            if lq != ".":
                out.append(".")
            out.append(c)
        elif not (c.isascii() and c.isalnum()):  # C isalnum
            if lq != ".":
                out.append(".")
        else:
            out.append(c)
        lp = c
    return "".join(out)


def _strtol(s: str) -> int:
    m = re.match(r"[0-9]+", s)
    v = int(m[0]) if m else 0
    return min(v, 2**63 - 1)


def _isdigit(c: str) -> bool:
    return "0" <= c <= "9"


def php_version_compare(v1: str, v2: str) -> int:
    """PHP's ``version_compare($v1, $v2)`` (-1/0/1)."""
    if not v1 or not v2:
        if not v1 and not v2:
            return 0
        return 1 if v1 else -1
    s1 = v1 if v1[0] == "#" else _canonicalize(v1)
    s2 = v2 if v2[0] == "#" else _canonicalize(v2)
    p1 = p2 = 0
    n1: int | None = 0
    n2: int | None = 0
    compare = 0
    while p1 < len(s1) and p2 < len(s2) and n1 is not None and n2 is not None:
        d1 = s1.find(".", p1)
        d2 = s2.find(".", p2)
        n1 = d1 if d1 >= 0 else None
        n2 = d2 if d2 >= 0 else None
        e1 = s1[p1 : d1 if d1 >= 0 else len(s1)]
        e2 = s2[p2 : d2 if d2 >= 0 else len(s2)]
        g1 = bool(e1) and _isdigit(e1[0])
        g2 = bool(e2) and _isdigit(e2[0])
        if g1 and g2:
            l1, l2 = _strtol(e1), _strtol(e2)
            compare = (l1 > l2) - (l1 < l2)
        elif not g1 and not g2:
            compare = _sign(_special(e1) - _special(e2))
        elif g1:
            compare = _sign(_special("#N#") - _special(e2))
        else:
            compare = _sign(_special(e1) - _special("#N#"))
        if compare:
            break
        if n1 is not None:
            p1 = n1 + 1
        if n2 is not None:
            p2 = n2 + 1
    if compare == 0:
        if n1 is not None:
            rest = s1[p1:]
            compare = 1 if rest[:1] and _isdigit(rest[0]) else php_version_compare(rest, "#N#")
        elif n2 is not None:
            rest = s2[p2:]
            compare = -1 if rest[:1] and _isdigit(rest[0]) else php_version_compare("#N#", rest)
    return compare


def _sign(x: int) -> int:
    return (x > 0) - (x < 0)


class ComposerVersion(BaseVersion):
    __slots__ = ("normalized",)

    def __init__(self, text: str, normalized: str) -> None:
        super().__init__(text)
        self.normalized = normalized

    def _cmp(self, other: Any) -> int:
        return php_version_compare(self.normalized, other.normalized)


def parse(text: str) -> ComposerVersion:
    if not isinstance(text, str):
        raise InvalidVersion("version must be a string")
    n = normalize(text)
    if n.startswith("dev-"):
        raise InvalidVersion(f"branch {text!r} is not orderable")
    return ComposerVersion(text, n)


def compare(a: str, b: str) -> int:
    return parse(a)._cmp(parse(b))
