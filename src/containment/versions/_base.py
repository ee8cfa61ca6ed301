"""Shared base for version schemes: the error type and a comparable version object."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any


class InvalidVersion(ValueError):
    """A string that the scheme cannot parse as a version."""


class BaseVersion(ABC):
    """A parsed version of one scheme; orderable against versions of the same class.

    Subclasses implement ``_cmp`` (-1/0/1) and may override ``_hash_key`` with a value that is
    equal for every pair of versions that compare equal (the default is constant per class,
    which is correct but makes hashing degenerate).
    """

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    @abstractmethod
    def _cmp(self, other: Any) -> int: ...

    def _hash_key(self) -> object:
        return type(self).__name__

    def _check(self, other: object) -> BaseVersion:
        if type(other) is not type(self):
            raise TypeError(f"cannot compare {type(self).__name__} with {type(other).__name__}")
        assert isinstance(other, BaseVersion)
        return other

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._cmp(other) == 0

    def __ne__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._cmp(other) != 0

    def __lt__(self, other: object) -> bool:
        return self._cmp(self._check(other)) < 0

    def __le__(self, other: object) -> bool:
        return self._cmp(self._check(other)) <= 0

    def __gt__(self, other: object) -> bool:
        return self._cmp(self._check(other)) > 0

    def __ge__(self, other: object) -> bool:
        return self._cmp(self._check(other)) >= 0

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._hash_key()))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.text!r})"

    def __str__(self) -> str:
        return self.text


class KeyedVersion(BaseVersion):
    """A version whose order is the order of one tuple, `_key`, set by the subclass."""

    __slots__ = ("_key",)
    _key: tuple[Any, ...]

    def _cmp(self, other: Any) -> int:
        a, b = self._key, other._key
        if a == b:
            return 0
        return -1 if a < b else 1

    def _hash_key(self) -> object:
        return self._key


def sign(x: int) -> int:
    return (x > 0) - (x < 0)
