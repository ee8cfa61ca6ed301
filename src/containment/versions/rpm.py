"""RPM versions ``[epoch:]version[-release]``, ordered as rpm does (``rpmvercmp``).

``rpmvercmp`` splits each string into maximal runs of ASCII digits or ASCII letters; every
other character only separates runs. ``~`` sorts before anything (even the end of the
string), ``^`` sorts after the end of the string but before any further run. A numeric run
is newer than an alphabetic one; numeric runs compare as integers, alphabetic ones bytewise.

EVR: the epoch is the leading digits before a ``:`` (a missing epoch is 0, as in rpm and dnf),
the release is the text after the last ``-``. A missing release sorts before any release
(even an empty one), as rpm's Python ``rpm.ver`` / ``labelCompare`` order them (rpm 4.18).
Note that rpm's dependency matching (``rpmdsCompare``) instead treats a missing release as a
wildcard; for "is installed ``v`` inside ``[introduced, fixed)``" with release-less bounds,
both give the same answer.
"""

from __future__ import annotations

from typing import Any

from ._base import BaseVersion, InvalidVersion


def _isdigit(c: str) -> bool:
    return "0" <= c <= "9"


def _isalpha(c: str) -> bool:
    return "a" <= c <= "z" or "A" <= c <= "Z"


def _isalnum(c: str) -> bool:
    return _isdigit(c) or _isalpha(c)


def rpmvercmp(a: str, b: str) -> int:
    """rpm's ``rpmvercmp`` on two version (or release) strings."""
    if a == b:
        return 0
    i = j = 0
    la, lb = len(a), len(b)
    while i < la or j < lb:
        while i < la and not _isalnum(a[i]) and a[i] not in "~^":
            i += 1
        while j < lb and not _isalnum(b[j]) and b[j] not in "~^":
            j += 1
        ca = a[i] if i < la else ""
        cb = b[j] if j < lb else ""
        if ca == "~" or cb == "~":
            if ca != "~":
                return 1
            if cb != "~":
                return -1
            i += 1
            j += 1
            continue
        if ca == "^" or cb == "^":
            if not ca:
                return -1
            if not cb:
                return 1
            if ca != "^":
                return 1
            if cb != "^":
                return -1
            i += 1
            j += 1
            continue
        if not (ca and cb):
            break
        si, sj = i, j
        if _isdigit(ca):
            while i < la and _isdigit(a[i]):
                i += 1
            while j < lb and _isdigit(b[j]):
                j += 1
            isnum = True
        else:
            while i < la and _isalpha(a[i]):
                i += 1
            while j < lb and _isalpha(b[j]):
                j += 1
            isnum = False
        if sj == j:  # segment types differ: numeric is newer than alpha
            return 1 if isnum else -1
        sa, sb = a[si:i], b[sj:j]
        if isnum:
            sa = sa.lstrip("0")
            sb = sb.lstrip("0")
            if len(sa) != len(sb):
                return 1 if len(sa) > len(sb) else -1
        if sa != sb:  # ASCII runs: str order is byte order
            return -1 if sa < sb else 1
    if i >= la and j >= lb:
        return 0
    return -1 if i >= la else 1


class RpmVersion(BaseVersion):
    __slots__ = ("epoch", "version", "release")

    def __init__(self, text: str, epoch: str, version: str, release: str | None) -> None:
        super().__init__(text)
        self.epoch = epoch
        self.version = version
        self.release = release

    def _cmp(self, other: Any) -> int:
        r = rpmvercmp(self.epoch, other.epoch)
        if r:
            return r
        r = rpmvercmp(self.version, other.version)
        if r:
            return r
        if self.release is None or other.release is None:
            if self.release is other.release:
                return 0
            return -1 if self.release is None else 1
        return rpmvercmp(self.release, other.release)

    def evr(self) -> tuple[str, str, str | None]:
        return self.epoch, self.version, self.release


def parse(text: str) -> RpmVersion:
    if not isinstance(text, str):
        raise InvalidVersion("version must be a string")
    if not text or "\x00" in text:
        raise InvalidVersion(f"invalid rpm version: {text!r}")
    k = 0
    while k < len(text) and _isdigit(text[k]):
        k += 1
    hyphen = text.rfind("-", k)
    if k < len(text) and text[k] == ":":
        epoch = text[:k] or "0"
        rest_start = k + 1
    else:
        epoch = "0"
        rest_start = 0
    if hyphen >= 0:
        version, release = text[rest_start:hyphen], text[hyphen + 1 :]
    else:
        version, release = text[rest_start:], None
    if not version:
        raise InvalidVersion(f"rpm version part is empty: {text!r}")
    return RpmVersion(text, epoch, version, release)


def compare(a: str, b: str) -> int:
    return parse(a)._cmp(parse(b))
