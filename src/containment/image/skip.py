"""`--skip-dirs` / `--skip-files`: globs over the paths the layer walk sees, as in Trivy.

Paths are relative to the scanned root (the image's `/`, the `dir:` rootfs, the `scan fs`
directory), without a leading slash; a pattern's leading `/` or `./` is dropped, so
`/usr/lib/python3*`, `./node_modules` and `usr/lib/python3*` mean the same. In a pattern `*` and `?`
match within one path component, `[abc]` one of those characters, and `**` as a whole component
any number of components (`**/node_modules` is every node_modules directory, at any depth;
`opt/**` is opt and all below it).

A skipped directory hides everything below it; a skipped file is never read. Catalogers never
see either, so no package, OS release file or secret comes from them. Deletions (whiteouts) still
apply: skipping is about what is read, not about what a layer removes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from containment.model import ContainmentError


class SkipPatternError(ContainmentError):
    """A --skip-dirs / --skip-files pattern that cannot be used."""


def _component(part: str, pattern: str) -> str:
    out = []
    i = 0
    while i < len(part):
        c = part[i]
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            j = part.find("]", i + 2 if part[i + 1 : i + 2] in ("!", "^", "]") else i + 1)
            if j < 0:
                raise SkipPatternError(f"{pattern!r}: '[' has no closing ']'; write [[] for a literal '['")
            body = part[i + 1 : j]
            if body[:1] in ("!", "^"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\").replace("/", "") + "]")
            i = j
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def normalize_pattern(pattern: str) -> str:
    p = pattern.strip()
    while p.startswith(("./", "/")):
        p = p[2:] if p.startswith("./") else p[1:]
    return p.rstrip("/")


def glob_regex(pattern: str) -> str:
    """A regex (no anchors) matching the paths the glob matches."""
    p = normalize_pattern(pattern)
    if not p or p == ".":
        raise SkipPatternError(
            f"{pattern!r}: an empty pattern would skip nothing or everything; give a path or a glob"
        )
    parts = p.split("/")
    rx = ""
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if part == "**":
            if last:
                rx = rx[:-1] + "(?:/.*)?" if rx else ".*"
            else:
                rx += "(?:[^/]+/)*"
        else:
            rx += _component(part, pattern) + ("" if last else "/")
    return rx


def split_patterns(values: Iterable[str] | None) -> tuple[str, ...]:
    """Repeated flags and comma-separated lists alike (`--skip-dirs a,b --skip-dirs c`)."""
    out: list[str] = []
    for v in values or ():
        out.extend(x for x in (s.strip() for s in v.split(",")) if x)
    return tuple(out)


@dataclass(frozen=True)
class SkipRules:
    dirs: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    _dirs: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)
    _files: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.dirs:
            rx = "|".join(f"(?:{glob_regex(p)})" for p in self.dirs)
            object.__setattr__(self, "_dirs", re.compile(f"(?:{rx})(?:/|\\Z)", re.DOTALL))
        if self.files:
            rx = "|".join(f"(?:{glob_regex(p)})" for p in self.files)
            object.__setattr__(self, "_files", re.compile(f"(?:{rx})", re.DOTALL))

    @classmethod
    def from_flags(cls, dirs: Iterable[str] | None, files: Iterable[str] | None) -> SkipRules | None:
        """Rules from --skip-dirs / --skip-files values; None when there are none."""
        d, f = split_patterns(dirs), split_patterns(files)
        for flag, patterns in (("--skip-dirs", d), ("--skip-files", f)):
            for p in patterns:
                try:
                    glob_regex(p)
                except SkipPatternError as e:
                    raise SkipPatternError(f"{flag} {e}") from None
        return cls(d, f) if d or f else None

    def __bool__(self) -> bool:
        return bool(self.dirs or self.files)

    def key(self) -> str:
        """Part of the layer cache key: facts read with other rules are other facts."""
        spec = "\0".join([*map(normalize_pattern, self.dirs), "\1", *map(normalize_pattern, self.files)])
        return hashlib.sha256(spec.encode("utf-8", "surrogateescape")).hexdigest()[:16]

    def skips_dir(self, path: str) -> bool:
        """Is this directory, or one above it, skipped?"""
        return self._dirs is not None and self._dirs.match(path) is not None

    def skips(self, path: str) -> bool:
        """Is this file skipped: by a file glob, or by a skipped directory above it?"""
        if self._files is not None and self._files.fullmatch(path):
            return True
        if self._dirs is not None:
            parent = path.rpartition("/")[0]
            return bool(parent) and self._dirs.match(parent) is not None
        return False
