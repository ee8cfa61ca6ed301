"""Maven versions, ordered as Maven's ``ComparableVersion`` (maven-artifact 3.8.x).

Parsing: lower-cased; ``.`` and ``-`` separate items, and so does every switch between
digits and non-digits; a ``-`` (and a digit/letter switch) opens a nested sub-list. An empty
item is 0. Numbers compare by value (any size). Strings are qualifiers: ``a``/``b``/``m``
directly followed by a digit mean alpha/beta/milestone; ``ga``, ``final`` and ``release`` are
the empty (release) qualifier and ``cr`` is ``rc``; order is
``alpha < beta < milestone < rc = cr < snapshot < "" = ga = final = release < sp < other``
(others lexically). A qualifier that follows a dot and is followed by a digit or ends the
string opens a sub-list like a hyphen would ("1.0.0.X1" < "1.0.0-X2"). Each list drops trailing "null" items (0, release qualifier, empty list), so
``1.0.0 == 1`` and ``1.0-final == 1``. Items of different kinds: number > list > qualifier;
an item compared with nothing compares with 0 / the release qualifier, and a list compared
with nothing is decided by its first item that is not "nothing"-equal.

Verified against the maven-artifact 3.8.7 jar (Debian's build). Maven 3.9 / 4 changed some
edge cases again (combination items such as ``rc1`` as one item); those follow 3.8.7 here.
"""

from __future__ import annotations

from typing import Any, Union

from ._base import BaseVersion, InvalidVersion

_QUALIFIERS = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"]
_ALIASES = {"ga": "", "final": "", "release": "", "cr": "rc"}
_RELEASE_INDEX = str(_QUALIFIERS.index(""))


class _Str:
    __slots__ = ("value", "cq")

    def __init__(self, value: str, followed_by_digit: bool) -> None:
        if followed_by_digit and len(value) == 1:
            value = {"a": "alpha", "b": "beta", "m": "milestone"}.get(value, value)
        self.value = _ALIASES.get(value, value)
        i = _QUALIFIERS.index(self.value) if self.value in _QUALIFIERS else -1
        cq = f"{len(_QUALIFIERS)}-{self.value}" if i == -1 else str(i)
        self.cq = cq.encode("utf-16-be", "surrogatepass")  # Java String.compareTo: UTF-16 code units

    def is_null(self) -> bool:
        return self.cq == _RELEASE_INDEX.encode("utf-16-be", "surrogatepass")

    def __repr__(self) -> str:
        return repr(self.value)


Item = Union[int, _Str, "list[Any]"]


def _bytes_cmp(a: bytes, b: bytes) -> int:
    return 0 if a == b else (-1 if a < b else 1)


def _is_null(item: Item) -> bool:
    if isinstance(item, int):
        return item == 0
    if isinstance(item, _Str):
        return item.is_null()
    return len(item) == 0


def _cmp_item(a: Item, b: Item | None) -> int:
    if isinstance(a, int):
        if b is None:
            return 0 if a == 0 else 1
        if isinstance(b, int):
            return 0 if a == b else (-1 if a < b else 1)
        return 1
    if isinstance(a, _Str):
        if b is None:
            return _bytes_cmp(a.cq, _RELEASE_INDEX.encode("utf-16-be", "surrogatepass"))
        if isinstance(b, _Str):
            return _bytes_cmp(a.cq, b.cq)
        return -1
    # list
    if b is None:  # the first item that differs from "nothing" decides
        for item in a:
            r = _cmp_item(item, None)
            if r:
                return r
        return 0
    if isinstance(b, int):
        return -1
    if isinstance(b, _Str):
        return 1
    for i in range(max(len(a), len(b))):
        left = a[i] if i < len(a) else None
        right = b[i] if i < len(b) else None
        if left is not None:
            r = _cmp_item(left, right)
        elif right is not None:
            r = -_cmp_item(right, None)
        else:
            r = 0
        if r:
            return r
    return 0


def _parse_item(is_digit: bool, buf: str) -> Item:
    return int(buf) if is_digit else _Str(buf, False)


def _normalize(lst: list[Any]) -> None:
    for i in range(len(lst) - 1, -1, -1):
        if _is_null(lst[i]):
            del lst[i]
        elif not isinstance(lst[i], list):
            break


def parse_items(version: str) -> list[Any]:
    version = version.lower()
    items: list[Any] = []
    current = items
    stack = [items]
    is_digit = False
    start = 0
    for i, c in enumerate(version):
        if c == "." or c == "-":
            current.append(0 if i == start else _parse_item(is_digit, version[start:i]))
            start = i + 1
            if c == "-":
                sub: list[Any] = []
                current.append(sub)
                current = sub
                stack.append(sub)
        elif c.isdecimal():
            if not is_digit and i > start:
                # "1.0.0.X1" < "1.0.0-X2": a qualifier after a dot is treated as after a hyphen
                if current:
                    sub = []
                    current.append(sub)
                    current = sub
                    stack.append(sub)
                current.append(_Str(version[start:i], True))
                start = i
                sub = []
                current.append(sub)
                current = sub
                stack.append(sub)
            is_digit = True
        else:
            if is_digit and i > start:
                current.append(_parse_item(True, version[start:i]))
                start = i
                sub = []
                current.append(sub)
                current = sub
                stack.append(sub)
            is_digit = False
    if len(version) > start:
        if not is_digit and current:
            sub = []
            current.append(sub)
            current = sub
            stack.append(sub)
        current.append(_parse_item(is_digit, version[start:]))
    while stack:
        _normalize(stack.pop())
    return items


def canonical(items: list[Any]) -> str:
    out: list[str] = []
    for item in items:
        if out:
            out.append("-" if isinstance(item, list) else ".")
        out.append(
            canonical(item) if isinstance(item, list) else str(item.value if isinstance(item, _Str) else item)
        )
    return "".join(out)


class MavenVersion(BaseVersion):
    __slots__ = ("items", "canonical")

    def __init__(self, text: str, items: list[Any]) -> None:
        super().__init__(text)
        self.items = items
        self.canonical = canonical(items)

    def _cmp(self, other: Any) -> int:
        return _cmp_item(self.items, other.items)


# Longer strings are refused: every "-" nests a list, and comparison recurses per level.
MAX_LENGTH = 512


def parse(text: str) -> MavenVersion:
    if not isinstance(text, str):
        raise InvalidVersion("version must be a string")
    if not text.strip() or len(text) > MAX_LENGTH:
        raise InvalidVersion(f"not a usable Maven version: {text[:80]!r}")
    return MavenVersion(text, parse_items(text))


def compare(a: str, b: str) -> int:
    return parse(a)._cmp(parse(b))
