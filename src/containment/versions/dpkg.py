"""Debian package versions, ordered as dpkg does (``dpkg --compare-versions``).

Format ``[epoch:]upstream[-revision]``: the epoch is the part before the first colon, the
revision the part after the last hyphen. Parts are compared with dpkg's ``verrevcmp``:
alternating runs of non-digits (compared character by character, where ``~`` sorts before
everything, even the end of the string, and letters sort before every other character) and
runs of digits (compared numerically). A missing revision equals an empty one ("1.0" ==
"1.0-0" because "" and "0" compare equal).

Like dpkg, strings with an invalid syntax that dpkg only warns about (upstream not starting
with a digit, unusual characters) are still compared; hard errors (empty, embedded blanks,
bad epoch, empty revision or upstream) raise ``InvalidVersion``.
"""

from __future__ import annotations

from typing import Any

from ._base import BaseVersion, InvalidVersion, sign

_INT_MAX = 2**31 - 1
_BLANK = " \t"


def _order(c: int) -> int:
    # c is a byte value (0 = end of string); bytes >= 0x80 behave as signed chars in dpkg.
    if 0x30 <= c <= 0x39:
        return 0
    if 0x41 <= c <= 0x5A or 0x61 <= c <= 0x7A:
        return c
    if c == 0x7E:  # '~'
        return -1
    if c:
        return (c - 256 if c >= 0x80 else c) + 256
    return 0


def _isdigit(c: int) -> bool:
    return 0x30 <= c <= 0x39


def verrevcmp(a: bytes, b: bytes) -> int:
    """dpkg's comparison of one version part (upstream or revision)."""
    i = j = 0
    la, lb = len(a), len(b)
    while i < la or j < lb:
        first_diff = 0
        while (i < la and not _isdigit(a[i])) or (j < lb and not _isdigit(b[j])):
            ac = _order(a[i]) if i < la else 0
            bc = _order(b[j]) if j < lb else 0
            if ac != bc:
                return sign(ac - bc)
            i += 1
            j += 1
        while i < la and a[i] == 0x30:
            i += 1
        while j < lb and b[j] == 0x30:
            j += 1
        while i < la and j < lb and _isdigit(a[i]) and _isdigit(b[j]):
            if not first_diff:
                first_diff = a[i] - b[j]
            i += 1
            j += 1
        if i < la and _isdigit(a[i]):
            return 1
        if j < lb and _isdigit(b[j]):
            return -1
        if first_diff:
            return sign(first_diff)
    return 0


def _canon(part: bytes) -> tuple[object, ...]:
    """A value equal for parts that verrevcmp says are equal (for hashing)."""
    out: list[object] = []
    i, n = 0, len(part)
    while i < n:
        s = i
        while i < n and not _isdigit(part[i]):
            i += 1
        nd = part[s:i]
        s = i
        while i < n and _isdigit(part[i]):
            i += 1
        out.append((nd, int(part[s:i] or b"0")))
    if out == [(b"", 0)]:
        return ()
    return tuple(out)


class DpkgVersion(BaseVersion):
    __slots__ = ("epoch", "upstream", "revision")

    def __init__(self, text: str, epoch: int, upstream: bytes, revision: bytes) -> None:
        super().__init__(text)
        self.epoch = epoch
        self.upstream = upstream
        self.revision = revision

    def _cmp(self, other: Any) -> int:
        if self.epoch != other.epoch:
            return -1 if self.epoch < other.epoch else 1
        r = verrevcmp(self.upstream, other.upstream)
        if r:
            return r
        return verrevcmp(self.revision, other.revision)

    def _hash_key(self) -> object:
        return (self.epoch, _canon(self.upstream), _canon(self.revision))


def parse(text: str) -> DpkgVersion:
    if not isinstance(text, str):
        raise InvalidVersion("version must be a string")
    s = text.strip(_BLANK)
    if not s:
        raise InvalidVersion("version string is empty")
    if any(c in _BLANK for c in s):
        raise InvalidVersion(f"version string has embedded spaces: {text!r}")
    if "\x00" in s:
        raise InvalidVersion(f"version string has a NUL byte: {text!r}")
    epoch = 0
    colon = s.find(":")
    if colon >= 0:
        head = s[:colon]
        # strtol: optional leading blanks (none here) and sign, then digits up to the colon
        digits = head[1:] if head[:1] in "+-" else head
        if not head or not digits:
            raise InvalidVersion(f"epoch in version is empty: {text!r}")
        if not (digits.isascii() and digits.isdigit()):
            raise InvalidVersion(f"epoch in version is not number: {text!r}")
        value = int(digits)
        if head[0] == "-" and value:
            raise InvalidVersion(f"epoch in version is negative: {text!r}")
        if value > _INT_MAX:
            raise InvalidVersion(f"epoch in version is too big: {text!r}")
        epoch = value
        s = s[colon + 1 :]
        if not s:
            raise InvalidVersion(f"nothing after colon in version number: {text!r}")
    hyphen = s.rfind("-")
    if hyphen >= 0:
        upstream, revision = s[:hyphen], s[hyphen + 1 :]
        if not revision:
            raise InvalidVersion(f"revision number is empty: {text!r}")
    else:
        upstream, revision = s, ""
    if not upstream:
        raise InvalidVersion(f"upstream version is empty: {text!r}")
    return DpkgVersion(
        text, epoch, upstream.encode("utf-8", "surrogatepass"), revision.encode("utf-8", "surrogatepass")
    )


def compare(a: str, b: str) -> int:
    return parse(a)._cmp(parse(b))
