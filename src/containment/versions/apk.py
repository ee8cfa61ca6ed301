"""Alpine package versions, ordered as apk-tools does (``apk version -t``).

Grammar: ``digit{.digit}...{letter}{_suffix{number}}...{~hash}{-r#}`` where suffix is one of
``alpha beta pre rc`` (pre-releases, older than no suffix) or ``cvs svn git hg p`` (newer).
Tokens are compared pairwise while both sides have the same token kind; a digit group
after a dot that starts with ``0`` on either side is compared as a string (Gentoo rule, so
"1.01" < "1.1" and "1.0" < "1.00"); numbers are unsigned 64-bit like apk's. When one side
runs out of matching tokens, a pre-release suffix loses, otherwise the side whose next
token comes earlier in the grammar wins (so "1.0a" > "1.0_p1" > "1.0" and "1.0-r1" > "1.0").

This follows current apk-tools (2.14 / 3.x, with the ``~hash`` token and the strict grammar
where a digit may not follow a letter). Strings apk considers invalid raise ``InvalidVersion``
(apk itself would order every invalid version below the valid ones).
"""

from __future__ import annotations

from typing import Any

from ._base import BaseVersion, InvalidVersion

T_INITIAL_DIGIT, T_DIGIT, T_LETTER, T_SUFFIX, T_SUFFIX_NO, T_COMMIT_HASH, T_REVISION_NO, T_END = range(8)

_SUFFIXES = {"alpha": 0, "beta": 1, "pre": 2, "rc": 3, "cvs": 5, "svn": 6, "git": 7, "hg": 8, "p": 9}
_SUFFIX_NONE = 4
_U64 = 2**64 - 1
_HEX = frozenset("0123456789abcdefABCDEF")

# A token: (kind, number, text, suffix)
Token = tuple[int, int, str, int]


def _digits(s: str, i: int) -> int:
    n = len(s)
    while i < n and "0" <= s[i] <= "9":
        i += 1
    return i


def tokenize(s: str) -> list[Token]:
    """Split a valid apk version into tokens; raise InvalidVersion when apk would not accept it."""
    n = len(s)
    j = _digits(s, 0)
    if j == 0:
        raise InvalidVersion(f"apk version must start with a digit: {s!r}")
    toks: list[Token] = [(T_INITIAL_DIGIT, int(s[:j]) & _U64, s[:j], 0)]
    kind = T_INITIAL_DIGIT
    i = j
    while i < n:
        c = s[i]
        if "a" <= c <= "z":
            if kind > T_DIGIT:
                break
            kind = T_LETTER
            toks.append((kind, 0, c, 0))
            i += 1
        elif c == "." or "0" <= c <= "9":
            if c == ".":
                if kind > T_DIGIT:
                    break
                i += 1
            if kind in (T_INITIAL_DIGIT, T_DIGIT):
                kind = T_DIGIT
            elif kind == T_SUFFIX:
                kind = T_SUFFIX_NO
            else:
                break
            j = _digits(s, i)
            if j == i:
                break
            toks.append((kind, int(s[i:j]) & _U64, s[i:j], 0))
            i = j
        elif c == "_":
            if kind > T_SUFFIX_NO:
                break
            j = i + 1
            while j < n and "a" <= s[j] <= "z":
                j += 1
            suf = _SUFFIXES.get(s[i + 1 : j])
            if suf is None:
                break
            kind = T_SUFFIX
            toks.append((kind, 0, s[i + 1 : j], suf))
            i = j
        elif c == "~":
            if kind >= T_COMMIT_HASH:
                break
            j = i + 1
            while j < n and s[j] in _HEX:
                j += 1
            if j == i + 1:
                break
            kind = T_COMMIT_HASH
            toks.append((kind, 0, s[i + 1 : j], 0))
            i = j
        elif c == "-":
            if kind >= T_REVISION_NO or s[i + 1 : i + 2] != "r":
                break
            i += 2
            j = _digits(s, i)
            if j == i:
                break
            kind = T_REVISION_NO
            toks.append((kind, int(s[i:j]) & _U64, s[i:j], 0))
            i = j
        else:
            break
    else:
        return toks
    raise InvalidVersion(f"invalid apk version: {s!r}")


def _token_cmp(a: Token, b: Token) -> int:
    kind = a[0]
    if kind == T_DIGIT and (a[2][0] == "0" or b[2][0] == "0") or kind == T_COMMIT_HASH:
        x: object = a[2].encode()
        y: object = b[2].encode()
    elif kind == T_LETTER:
        x, y = a[2], b[2]
    elif kind == T_SUFFIX:
        x, y = a[3], b[3]
    else:
        x, y = a[1], b[1]
    if x == y:
        return 0
    return -1 if x < y else 1  # type: ignore[operator]


def compare_tokens(ta: list[Token], tb: list[Token]) -> int:
    k = 0
    n = min(len(ta), len(tb))
    while k < n and ta[k][0] == tb[k][0]:
        r = _token_cmp(ta[k], tb[k])
        if r:
            return r
        k += 1
    a = ta[k] if k < len(ta) else None
    b = tb[k] if k < len(tb) else None
    ka = a[0] if a else T_END
    kb = b[0] if b else T_END
    if ka == kb:
        return 0
    if a is not None and ka == T_SUFFIX and a[3] < _SUFFIX_NONE:
        return -1
    if b is not None and kb == T_SUFFIX and b[3] < _SUFFIX_NONE:
        return 1
    return -1 if ka > kb else 1


class ApkVersion(BaseVersion):
    __slots__ = ("tokens",)

    def __init__(self, text: str, tokens: list[Token]) -> None:
        super().__init__(text)
        self.tokens = tokens

    def _cmp(self, other: Any) -> int:
        return compare_tokens(self.tokens, other.tokens)

    def _hash_key(self) -> object:
        out: list[tuple[int, object]] = []
        for kind, num, txt, suf in self.tokens:
            if kind == T_SUFFIX:
                out.append((kind, suf))
            elif kind in (T_LETTER, T_COMMIT_HASH) or (kind == T_DIGIT and txt[0] == "0"):
                out.append((kind, txt))
            else:
                out.append((kind, num))
        return tuple(out)


def parse(text: str) -> ApkVersion:
    if not isinstance(text, str):
        raise InvalidVersion("version must be a string")
    return ApkVersion(text, tokenize(text))


def compare(a: str, b: str) -> int:
    return parse(a)._cmp(parse(b))
