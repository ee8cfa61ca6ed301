"""Lua modules installed with LuaRocks: the rockspecs in a rocks tree.

`luarocks install` keeps, per installed rock, `<tree>/lib/luarocks/rocks-<lua version>/<name>/
<version>/` holding the rock's `<name>-<version>.rockspec` and a `rock_manifest` (LuaRocks 2
used `.../lib/luarocks/rocks/<name>/<version>/`). Trees: `/usr/local` (the default system tree),
`~/.luarocks`, OpenResty/Kong's `/usr/local/openresty/luajit`, ... The directory names are
LuaRocks' own record of what is installed (name lowercased, version `<module version>-<rockspec
revision>`); the rockspec (a Lua file of assignments: `package = "LPeg"`, `version =
"1.0.2-1"`, `description = { license = "MIT/X11", homepage = ..., summary = ... }`) adds the
name as written, license and homepage. It is read with a small tokenizer for Lua literals and
table constructors, never executed; what it cannot read (function calls, variables) is
skipped, and the package still comes from the directory names.

purl (purl-spec `luarocks`): `pkg:luarocks/<name>@<version>` with the full version (module
version and rockspec revision); names are lowercased by the purl type. OSV publishes no
LuaRocks advisories: inventoried, not matched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from containment.catalog.base import Cataloger, FileTree, MiB, purl
from containment.model import CatalogError, Package

_ROCKS_DIR = re.compile(r"rocks(-[0-9]+\.[0-9]+)?")
_VERSION = re.compile(r"[0-9A-Za-z._~+]+-[0-9]+")
_MAX_DEPTH = 32
_MAX_TOKENS = 200_000


class LuaSyntax(ValueError):
    pass


_SIMPLE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<num>0[xX][0-9a-fA-F]+|[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?|\.[0-9]+)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>\.\.\.|\.\.|==|~=|<=|>=|[{}\[\]=,;().:+\-*/%^#<>])
    """,
    re.VERBOSE,
)
_LONG_OPEN = re.compile(r"\[(=*)\[")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}


def _unescape(body: str) -> str:
    if "\\" not in body:
        return body
    out: list[str] = []
    i = 0
    while i < len(body):
        c = body[i]
        if c != "\\" or i + 1 >= len(body):
            out.append(c)
            i += 1
            continue
        n = body[i + 1]
        if n.isdigit():
            j = i + 1
            while j < len(body) and j < i + 4 and body[j].isdigit():
                j += 1
            out.append(chr(min(int(body[i + 1 : j]), 255)))
            i = j
            continue
        out.append(_ESCAPES.get(n, n))
        i += 2
    return "".join(out)


def _long_bracket(text: str, pos: int) -> tuple[str, int] | None:
    """The body of a long bracket `[==[ ... ]==]` at pos and the position after it; None when
    there is none at pos. An unterminated one runs to the end (Lua would refuse the chunk)."""
    m = _LONG_OPEN.match(text, pos)
    if m is None:
        return None
    close = "]" + m.group(1) + "]"
    end = text.find(close, m.end())
    if end < 0:
        return text[m.end() :], len(text)
    return text[m.end() : end], end + len(close)


def _tokens(text: str) -> Iterator[tuple[str, str]]:
    """Lua tokens (kind, value); strings unescaped. Every scan moves forward: linear time."""
    pos = 0
    n = 0
    size = len(text)
    while pos < size:
        c = text[pos]
        if c == "-" and text.startswith("--", pos):
            lb = _long_bracket(text, pos + 2)
            if lb is not None:
                pos = lb[1]
            else:
                nl = text.find("\n", pos)
                pos = size if nl < 0 else nl + 1
            continue
        n += 1
        if n > _MAX_TOKENS:
            raise LuaSyntax("too many tokens")
        if c == "[":
            lb = _long_bracket(text, pos)
            if lb is not None:
                body, pos = lb
                yield ("str", body[1:] if body.startswith("\n") else body)
                continue
        if c in "\"'":
            j = pos + 1
            while j < size and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            if j >= size or text[j] != c:
                raise LuaSyntax("unterminated string")
            yield ("str", _unescape(text[pos + 1 : j]))
            pos = j + 1
            continue
        m = _SIMPLE.match(text, pos)
        if m is None:
            yield ("bad", c)
            pos += 1
            continue
        pos = m.end()
        kind = m.lastgroup or ""
        if kind == "ws":
            n -= 1
            continue
        yield (kind, m.group(kind))


class _Parser:
    """Top-level `name = <literal>` assignments of a Lua chunk; tables become dicts/lists."""

    def __init__(self, text: str) -> None:
        self.toks = list(_tokens(text))
        self.i = 0

    def peek(self, k: int = 0) -> tuple[str, str]:
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else ("eof", "")

    def take(self) -> tuple[str, str]:
        t = self.peek()
        self.i += 1
        return t

    def chunk(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        while self.peek()[0] != "eof":
            kind, val = self.peek()
            if kind == "name" and self.peek(1) == ("op", "=") and self.peek(2) != ("op", "="):
                self.i += 2
                start = self.i
                try:
                    v = self.expr(0)
                except LuaSyntax:
                    self.i = start
                    self.skip_statement()
                    continue
                out.setdefault(val, v)
            else:
                self.take()
        return out

    def skip_statement(self) -> None:
        depth = 0
        while self.peek()[0] != "eof":
            kind, val = self.peek()
            if kind == "op" and val in "{([":
                depth += 1
            elif kind == "op" and val in "})]":
                depth = max(0, depth - 1)
            elif depth == 0 and kind == "name" and self.peek(1) == ("op", "="):
                return
            self.i += 1

    def expr(self, depth: int) -> Any:
        v = self.atom(depth)
        while self.peek() == ("op", ".."):
            self.take()
            w = self.atom(depth)
            if not isinstance(v, (str, int, float)) or not isinstance(w, (str, int, float)):
                raise LuaSyntax("concatenation of non-literals")
            v = f"{v}{w}"
        kind, val = self.peek()
        if kind in ("str", "num") or (kind == "op" and val not in ",;}]"):
            # a call, arithmetic or an index after a literal: not a literal expression
            raise LuaSyntax("not a literal expression")
        return v

    def atom(self, depth: int) -> Any:
        kind, val = self.take()
        if kind == "str":
            return val
        if kind == "num":
            try:
                return int(val, 0) if val[:2].lower() == "0x" or val.isdigit() else float(val)
            except ValueError:
                return val
        if kind == "op" and val == "-" and self.peek()[0] == "num":
            v = self.atom(depth)
            return -v if isinstance(v, (int, float)) else v
        if kind == "name" and val in ("true", "false", "nil"):
            return {"true": True, "false": False, "nil": None}[val]
        if kind == "op" and val == "{":
            return self.table(depth + 1)
        raise LuaSyntax(f"unexpected {val!r}")

    def table(self, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            raise LuaSyntax("tables nested too deeply")
        named: dict[Any, Any] = {}
        items: list[Any] = []
        while True:
            kind, val = self.peek()
            if kind == "eof":
                raise LuaSyntax("unterminated table")
            if (kind, val) == ("op", "}"):
                self.take()
                break
            if kind == "name" and self.peek(1) == ("op", "=") and self.peek(2) != ("op", "="):
                self.i += 2
                named.setdefault(val, self.expr(depth))
            elif (kind, val) == ("op", "["):
                self.take()
                key = self.expr(depth)
                if self.take() != ("op", "]") or self.take() != ("op", "="):
                    raise LuaSyntax("bad table key")
                v = self.expr(depth)
                if isinstance(key, (str, int, float, bool)):
                    named.setdefault(key, v)
            else:
                items.append(self.expr(depth))
            if self.peek()[0] == "op" and self.peek()[1] in ",;":
                self.take()
            elif self.peek() != ("op", "}"):
                raise LuaSyntax("expected , or }")
        if named and items:
            named.update({i + 1: v for i, v in enumerate(items) if i + 1 not in named})
            return named
        return named if named else items


def parse_rockspec(text: str) -> dict[str, Any]:
    """The top-level literal assignments of a rockspec ({} when none can be read)."""
    try:
        return _Parser(text).chunk()
    except (LuaSyntax, RecursionError):
        return {}


class LuaRocksCataloger(Cataloger):
    name = "lua-rocks-installed"
    version = 1
    max_size = 1 * MiB

    def wants(self, path: str, mode: int, size: int) -> bool:
        if not path.endswith(".rockspec"):
            return False
        parts = path.split("/")
        # .../lib/luarocks/rocks[-5.1]/<name>/<version>/<name>-<version>.rockspec
        return (
            len(parts) >= 5
            and parts[-5] == "luarocks"
            and _ROCKS_DIR.fullmatch(parts[-4]) is not None
            and parts[-1] == f"{parts[-3]}-{parts[-2]}.rockspec"
        )

    def parse(self, path: str, data: bytes, tree: FileTree) -> Iterable[Package]:
        parts = path.split("/")
        dir_name, dir_version = parts[-3], parts[-2]
        if not _VERSION.fullmatch(dir_version) or not dir_name or len(dir_name) > 256:
            return []
        if b"\x00" in data[:65536]:
            raise CatalogError(f"{path}: binary data, not a rockspec")
        spec = parse_rockspec(data.decode("utf-8", "replace"))
        name = spec.get("package")
        name = name if isinstance(name, str) and name.lower() == dir_name.lower() else dir_name
        tree_parts = parts[:-6] if len(parts) >= 6 and parts[-6] == "lib" else parts[:-5]
        extra: dict[str, object] = {"rocks_tree": "/".join(tree_parts) or "/", "lua_version": parts[-4][6:]}
        if not extra["lua_version"]:
            del extra["lua_version"]
        rockspec_version = spec.get("version")
        if isinstance(rockspec_version, str) and rockspec_version != dir_version:
            extra["rockspec_version"] = rockspec_version[:256]
        desc = spec.get("description")
        licenses: tuple[str, ...] = ()
        if isinstance(desc, dict):
            lic = desc.get("license")
            if isinstance(lic, str) and lic.strip():
                licenses = (" ".join(lic.split())[:1024],)
            for key in ("homepage", "summary"):
                v = desc.get(key)
                if isinstance(v, str) and v.strip():
                    extra[key] = " ".join(v.split())[:1024]
        source = spec.get("source")
        if isinstance(source, dict) and isinstance(source.get("url"), str):
            extra["source_url"] = source["url"][:1024]
        try:
            package_url = purl("luarocks", name, dir_version)
        except ValueError:
            return []
        return [
            Package(
                name=name,
                version=dir_version,
                type="luarocks",
                purl=package_url,
                path=path,
                cataloger=self.name,
                licenses=licenses,
                extra=extra,
            )
        ]


CATALOGERS: list[Cataloger] = [LuaRocksCataloger()]
