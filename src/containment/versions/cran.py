"""R package versions (CRAN, Bioconductor): R's ``package_version`` / ``numeric_version``.

Reference: R ``src/library/base/R/version.R``. A version is a sequence of non-negative integers
separated by ``.`` or ``-`` (``1.0-12``, ``0.4.1``, ``2.18.0.1``; a package version has at least
two). Comparison (``Ops.numeric_version`` via ``.encode_numeric_version``): every component is
written in octal, left-padded to a common width, the pieces concatenated and the strings
right-padded with zeros to a common length, then compared as strings; that is, components
compare numerically from the left and missing trailing components count as 0, so ``1.0`` ==
``1.0.0`` and ``1.2-3`` == ``1.2.3``. Anything else (letters, empty components) is invalid, as
R's strict parser says.
"""

from __future__ import annotations

import re

from ._base import InvalidVersion, KeyedVersion

_VALID = re.compile(r"[0-9]+(?:[.-][0-9]+)*")
_MAX_LEN = 256


class RVersion(KeyedVersion):
    __slots__ = ("parts",)

    def __init__(self, text: str, parts: tuple[int, ...]) -> None:
        super().__init__(text)
        self.parts = parts
        key = list(parts)
        while key and key[-1] == 0:
            key.pop()
        self._key = tuple(key)


def parse(text: str) -> RVersion:
    if not isinstance(text, str):
        raise InvalidVersion("version must be a string")
    s = text.strip()
    if len(s) > _MAX_LEN or not _VALID.fullmatch(s):
        raise InvalidVersion(f"not an R package version: {text!r}")
    return RVersion(text, tuple(int(p) for p in re.split(r"[.-]", s)))


def compare(a: str, b: str) -> int:
    return parse(a)._cmp(parse(b))
