"""NuGet versions, ordered as NuGet.Versioning's ``VersionComparer.Default``.

Parsing follows ``NuGetVersion.TryParse``: the string is trimmed; the version part (before
the first ``-`` or ``+``) has 1 to 4 dot-separated non-negative 32-bit integers (leading zeros
allowed, missing parts are 0); release labels after ``-`` are ``[0-9A-Za-z-]+`` separated by
dots, numeric labels without leading zeros; metadata after ``+`` is ``[0-9A-Za-z-]+`` parts.
Deviation, documented: ``System.Version`` would also accept signs and blanks around the
numbers (``"1. 2"``); such strings raise ``InvalidVersion`` here.

Order: major, minor, patch, revision; a version with release labels is older than one
without; labels compare pairwise (a label that ``Int32.TryParse`` accepts is numeric and
sorts before alphanumeric ones; numbers numerically; others case-insensitively, ordinal);
fewer labels sort first. Metadata is ignored.
"""

from __future__ import annotations

import re

from ._base import InvalidVersion, KeyedVersion

_INT32_MAX = 2**31 - 1
_LABEL = re.compile(r"[0-9A-Za-z-]+")
_NUMBER = re.compile(r"[0-9]+")
_INT32 = re.compile(r"[+-]?[0-9]+")
_DOTNET_WS = " \t\n\x0b\x0c\r\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"

Label = tuple[int, int, str]


def _label_key(label: str) -> Label:
    if _INT32.fullmatch(label):
        n = int(label)
        if -(2**31) <= n <= _INT32_MAX:
            return (0, n, "")
    return (1, 0, label.upper())


def _valid_part(s: str) -> bool:
    if not _LABEL.fullmatch(s):
        return False
    return not (len(s) > 1 and s[0] == "0" and s.isdigit())


class NuGetVersion(KeyedVersion):
    __slots__ = ("numbers", "release_labels", "metadata")

    def __init__(
        self, text: str, numbers: tuple[int, int, int, int], labels: list[str], metadata: str | None
    ):
        super().__init__(text)
        self.numbers = numbers
        self.release_labels = labels
        self.metadata = metadata
        pre: tuple[object, ...] = (1,) if not labels else (0, tuple(_label_key(x) for x in labels))
        self._key: tuple[object, ...] = (numbers, pre)

    @property
    def is_prerelease(self) -> bool:
        return bool(self.release_labels)


def _sections(value: str) -> tuple[str, str | None, str | None]:
    dash = value.find("-")
    plus = value.find("+")
    if dash >= 0 and (plus < 0 or dash < plus):
        version = value[:dash]
        if plus >= 0:
            return version, value[dash + 1 : plus], value[plus + 1 :]
        return version, value[dash + 1 :], None
    if plus >= 0:
        return value[:plus], None, value[plus + 1 :]
    return value, None, None


def parse(text: str) -> NuGetVersion:
    if not isinstance(text, str):
        raise InvalidVersion("version must be a string")
    value = text.strip(_DOTNET_WS)
    bad = InvalidVersion(f"not a valid NuGet version: {text!r}")
    if not value:
        raise bad
    version, release, metadata = _sections(value)
    parts = version.split(".")
    if not 1 <= len(parts) <= 4 or not all(_NUMBER.fullmatch(p) for p in parts):
        raise bad
    nums = [int(p) for p in parts]
    if any(n > _INT32_MAX for n in nums):
        raise bad
    nums += [0] * (4 - len(nums))
    labels: list[str] = []
    if release is not None:
        labels = release.split(".")
        if not all(_valid_part(x) for x in labels):
            raise bad
    if metadata is not None and not all(_LABEL.fullmatch(p) for p in metadata.split(".")):
        raise bad
    return NuGetVersion(text, (nums[0], nums[1], nums[2], nums[3]), labels, metadata)


def compare(a: str, b: str) -> int:
    return parse(a)._cmp(parse(b))
