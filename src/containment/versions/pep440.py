"""Python package versions (PEP 440), delegated to ``packaging.version`` — the reference.

Legacy (non-PEP 440) strings raise ``InvalidVersion``, as modern pip/packaging refuse them.
"""

from __future__ import annotations

from typing import Any

from packaging.version import InvalidVersion as _PackagingInvalid
from packaging.version import Version

from ._base import BaseVersion, InvalidVersion


class Pep440Version(BaseVersion):
    __slots__ = ("version",)

    def __init__(self, text: str, version: Version) -> None:
        super().__init__(text)
        self.version = version

    def _cmp(self, other: Any) -> int:
        a, b = self.version, other.version
        if a == b:
            return 0
        return -1 if a < b else 1

    def _hash_key(self) -> object:
        return hash(self.version)


def parse(text: str) -> Pep440Version:
    if not isinstance(text, str):
        raise InvalidVersion("version must be a string")
    try:
        return Pep440Version(text, Version(text))
    except _PackagingInvalid as exc:
        raise InvalidVersion(str(exc)) from None


def compare(a: str, b: str) -> int:
    return parse(a)._cmp(parse(b))
