"""Conan (ConanCenter) versions, ordered as Conan 2's ``Version`` model does.

Reference: conan-io/conan ``conans/model/version.py`` (Conan 2). Conan versions are free-form
(``1.2.13``, ``1.1.1t``, ``3.0.8``, ``cci.20230101``, ``1.84.0-rc.1+build``); the model splits
off a build part after the last ``+`` and a pre-release after the first ``-``, both themselves
compared as versions, and splits the rest on ``.`` into items that are integers when they are
all digits and text otherwise. Trailing zero items do not count (``1.2`` == ``1.2.0``). Items
compare as numbers when both are numbers, otherwise as text; a pre-release sorts before the
same version without one; a build sorts after it.

One deliberate deviation, for a total order: Conan compares a number with a text item as
text, which is not transitive (``1.1.10`` < ``1.1.1t`` < ``1.1.2`` < ``1.1.10``). Here an item
compares by its leading number, then the rest as text (``1t`` is (1, "t")), and text with no
leading digits sorts after every number (as Conan's text comparison puts digits first). This
agrees with Conan wherever Conan's order is consistent, and orders OpenSSL's letter releases
as OpenSSL means them: ``1.1.1`` < ``1.1.1s`` < ``1.1.1t`` < ``1.1.2`` < ``1.1.10``.

Valid text is what Conan accepts as a reference's version: ``[a-zA-Z0-9_][a-zA-Z0-9_+.-]*``.
"""

from __future__ import annotations

import re
from typing import Any

from ._base import InvalidVersion, KeyedVersion

_VALID = re.compile(r"[a-zA-Z0-9_][a-zA-Z0-9_+.-]*")
_LEAD = re.compile(r"([0-9]*)(.*)", re.S)
_MAX_LEN = 256

ItemKey = tuple[int, int, str]


def _item(text: str) -> ItemKey:
    m = _LEAD.fullmatch(text)
    assert m is not None
    digits, rest = m[1], m[2]
    if digits:
        return (0, int(digits), rest)
    return (1, 0, rest)  # no leading number: after every number


def _items(text: str) -> tuple[ItemKey, ...]:
    items = [_item(t) for t in text.split(".")]
    while items and items[-1] == (0, 0, ""):
        items.pop()  # 1.2 == 1.2.0
    return tuple(items)


class ConanVersion(KeyedVersion):
    __slots__ = ()

    def __init__(self, text: str) -> None:
        super().__init__(text)
        value = text.strip()
        build: tuple[ItemKey, ...] | None = None
        pre: tuple[ItemKey, ...] | None = None
        main, plus, b = value.rpartition("+")
        if plus:
            value, build = main, _items(b)
        main, minus, p = value.partition("-")
        if minus:
            value, pre = main, _items(p)
        # (items, 0 = pre-release | 1 = release, pre-release items, 0 = no build | 1 = build, build)
        self._key: tuple[Any, ...] = (
            _items(value),
            0 if pre is not None else 1,
            pre or (),
            0 if build is None else 1,
            build or (),
        )


def parse(text: str) -> ConanVersion:
    if not isinstance(text, str):
        raise InvalidVersion("version must be a string")
    s = text.strip()
    if len(s) > _MAX_LEN or not _VALID.fullmatch(s):
        raise InvalidVersion(f"not a Conan version: {text!r}")
    return ConanVersion(s)


def compare(a: str, b: str) -> int:
    return parse(a)._cmp(parse(b))
