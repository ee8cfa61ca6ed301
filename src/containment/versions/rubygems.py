"""RubyGems versions, ordered as ``Gem::Version#<=>`` (RubyGems 3.x).

Valid strings match ``\\s*[0-9]+(\\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\\.[0-9A-Za-z-]+)*)?\\s*`` (an
empty or blank string is "0"). A ``-`` is read as ``.pre.``. Segments are the runs of digits
(integers) and of letters (strings). Canonical segments drop trailing zeros of the leading
numeric part and of the rest (so "1.0" == "1" and "1.0.a" == "1.a"). Segments compare
pairwise (a missing one is 0): a string is older than a number, numbers numerically,
strings bytewise (case-sensitive). A version is a pre-release when it contains a letter.
"""

from __future__ import annotations

import re
from typing import Any

from ._base import BaseVersion, InvalidVersion

_PATTERN = re.compile(
    r"[ \t\n\v\f\r]*([0-9]+(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?)?[ \t\n\v\f\r]*"
)
_SEGMENT = re.compile(r"[0-9]+|[a-zA-Z]+")

Segment = int | str


def _strip_zeros(segs: list[Segment]) -> list[Segment]:
    end = len(segs)
    while end and segs[end - 1] == 0:
        end -= 1
    return segs[:end]


class GemVersion(BaseVersion):
    __slots__ = ("version", "segments", "canonical")

    def __init__(self, text: str, version: str) -> None:
        super().__init__(text)
        self.version = version
        segs: list[Segment] = [int(s) if s.isdigit() else s for s in _SEGMENT.findall(version)]
        self.segments = segs
        k = next((i for i, s in enumerate(segs) if isinstance(s, str)), len(segs))
        self.canonical: tuple[Segment, ...] = tuple(_strip_zeros(segs[:k]) + _strip_zeros(segs[k:]))

    @property
    def prerelease(self) -> bool:
        return any(c.isalpha() for c in self.version)

    def _cmp(self, other: Any) -> int:
        if self.version == other.version or self.canonical == other.canonical:
            return 0
        a, b = self.canonical, other.canonical
        for i in range(max(len(a), len(b))):
            x: Segment = a[i] if i < len(a) else 0
            y: Segment = b[i] if i < len(b) else 0
            if x == y:
                continue
            if isinstance(x, str) and isinstance(y, int):
                return -1
            if isinstance(x, int) and isinstance(y, str):
                return 1
            assert type(x) is type(y)
            if isinstance(x, str):
                ex, ey = x.encode(), str(y).encode()
                return -1 if ex < ey else 1
            return -1 if x < y else 1  # type: ignore[operator]
        return 0

    def _hash_key(self) -> object:
        return self.canonical


def parse(text: str) -> GemVersion:
    if not isinstance(text, str):
        raise InvalidVersion("version must be a string")
    m = _PATTERN.fullmatch(text)
    if m is None:
        raise InvalidVersion(f"Malformed version number string {text!r}")
    core = m[1] or "0"
    return GemVersion(text, core.replace("-", ".pre."))


def compare(a: str, b: str) -> int:
    return parse(a)._cmp(parse(b))
