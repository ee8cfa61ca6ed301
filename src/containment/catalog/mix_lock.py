"""Elixir `mix.lock`: an Elixir map literal written by Mix.

    %{
      "phoenix": {:hex, :phoenix, "1.7.10", "<inner sha256>", [:mix],
                  [{:castore, ">= 0.0.0", [hex: :castore, repo: "hexpm", optional: true]}, ...],
                  "hexpm", "<outer sha256>"},
      "mylib": {:git, "https://github.com/acme/mylib.git", "<sha>", [branch: "main"]},
    }

The file is read with a small parser for the Elixir term syntax Mix writes (maps, tuples,
lists, keyword lists, atoms, strings, numbers), bounded in nesting, so entries spanning
several lines or older, shorter hex tuples (3, 6 or 7 elements) read the same.

Hex entries become packages: the name is the Hex package name (the tuple's second element;
the map key is the OTP application name, in extra when it differs), the repository
`hexpm:<org>` of a private organisation becomes the purl namespace. `:git` and `:path`
entries have no Hex version and are skipped, like Trivy does (syft's parser also reads hex
entries only). mix.lock does not say which dependencies are `only: [:dev, :test]`, so dev is
never set.
"""

from __future__ import annotations

import re
from typing import Any

from containment.catalog.base import Cataloger, FileTree, purl
from containment.model import CatalogError, Package

_MAX_DEPTH = 64

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+|\#[^\n]*)
  | (?P<kwstr>"(?:[^"\\]|\\.)*":)(?=\s)
  | (?P<str>"(?:[^"\\]|\\.)*")
  | (?P<qatom>:"(?:[^"\\]|\\.)*")
  | (?P<atom>:[A-Za-z_][\w@]*[?!]?)
  | (?P<kw>[A-Za-z_][\w@]*[?!]?:)(?=\s)
  | (?P<ident>[A-Za-z_][\w@.]*[?!]?)
  | (?P<num>-?\d[\d_]*(?:\.\d[\d_]*)?(?:[eE][+-]?\d+)?)
  | (?P<punct>%\{|=>|[{}\[\],])
    """,
    re.VERBOSE | re.DOTALL,
)

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "0": "\0", "s": " ", "e": "\x1b"}


class Atom(str):
    """An Elixir atom (`:hex`)."""


class _ParseError(Exception):
    pass


def _unquote(s: str) -> str:
    body = s[1:-1]
    if "\\" not in body:
        return body
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), body, flags=re.DOTALL)


def _tokenize(text: str) -> list[tuple[str, str]]:
    toks: list[tuple[str, str]] = []
    pos = 0
    n = len(text)
    while pos < n:
        m = _TOKEN.match(text, pos)
        if m is None:
            raise _ParseError(f"unexpected character {text[pos]!r} at offset {pos}")
        kind = m.lastgroup or ""
        if kind != "ws":
            toks.append((kind, m.group()))
        pos = m.end()
    return toks


class _Parser:
    def __init__(self, toks: list[tuple[str, str]]) -> None:
        self.toks = toks
        self.i = 0

    def peek(self) -> tuple[str, str]:
        return self.toks[self.i] if self.i < len(self.toks) else ("eof", "")

    def next(self) -> tuple[str, str]:
        t = self.peek()
        self.i += 1
        return t

    def expect(self, value: str) -> None:
        kind, v = self.next()
        if v != value or kind != "punct":
            raise _ParseError(f"expected {value!r}, got {v!r}")

    def value(self, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            raise _ParseError("nesting too deep")
        kind, v = self.next()
        if kind == "str":
            return _unquote(v)
        if kind == "atom":
            return Atom(v[1:])
        if kind == "qatom":
            return Atom(_unquote(v[1:]))
        if kind == "num":
            t = v.replace("_", "")
            try:
                return float(t) if ("." in t or "e" in t or "E" in t) else int(t)
            except ValueError:
                return t
        if kind == "ident":
            return {"true": True, "false": False, "nil": None}.get(v, Atom(v))
        if kind == "punct":
            if v == "%{":
                return self.container("}", depth, is_map=True)
            if v == "{":
                return tuple(self.container("}", depth))
            if v == "[":
                return self.container("]", depth)
        raise _ParseError(f"unexpected token {v!r}")

    def container(self, close: str, depth: int, is_map: bool = False) -> Any:
        items: list[Any] = []
        pairs: dict[Any, Any] = {}
        while True:
            kind, v = self.peek()
            if kind == "punct" and v == close:
                self.i += 1
                break
            if kind in ("kw", "kwstr"):  # keyword pair `key: value` / `"key": value`
                self.i += 1
                key: Any = _unquote(v[:-1]) if kind == "kwstr" else v[:-1]
                val = self.value(depth + 1)
                if is_map:
                    pairs[key] = val
                else:
                    items.append((Atom(key) if kind == "kw" else key, val))
            else:
                item = self.value(depth + 1)
                if is_map:
                    self.expect("=>")
                    try:
                        pairs[item] = self.value(depth + 1)
                    except TypeError:  # unhashable key
                        raise _ParseError("unhashable map key") from None
                else:
                    items.append(item)
            kind, v = self.peek()
            if kind == "punct" and v == ",":
                self.i += 1
                continue
            if not (kind == "punct" and v == close):
                raise _ParseError(f"expected ',' or {close!r}, got {v!r}")
        return pairs if is_map else items


def parse_term(text: str) -> Any:
    p = _Parser(_tokenize(text))
    val = p.value(0)
    if p.peek()[0] != "eof":
        raise _ParseError("trailing data after the term")
    return val


class MixLockCataloger(Cataloger):
    name = "elixir-mix-lock"
    version = 1
    max_size = 8 * 1024 * 1024

    def wants(self, path: str, mode: int, size: int) -> bool:
        return path.endswith("mix.lock") and (path == "mix.lock" or path.endswith("/mix.lock"))

    def parse(self, path: str, data: bytes, tree: FileTree) -> list[Package]:
        try:
            doc = parse_term(data.decode("utf-8"))
        except (UnicodeDecodeError, _ParseError, RecursionError) as e:
            raise CatalogError(f"{path}: mix.lock is not a readable Elixir map ({e})") from None
        if not isinstance(doc, dict):
            raise CatalogError(f"{path}: mix.lock does not hold a map")
        out: list[Package] = []
        seen: set[tuple[str, str, str]] = set()
        for app, entry in doc.items():
            if not (isinstance(entry, tuple) and len(entry) >= 3 and entry[0] == "hex"):
                continue
            name, version = entry[1], entry[2]
            if not (isinstance(name, str) and name and isinstance(version, str) and version):
                continue
            repo = entry[6] if len(entry) >= 7 and isinstance(entry[6], str) else "hexpm"
            org = repo.split(":", 1)[1] if repo.startswith("hexpm:") else ""
            if (org, name, version) in seen:
                continue
            seen.add((org, name, version))
            extra: dict[str, Any] = {}
            if isinstance(app, str) and app != name:
                extra["app"] = app
            if repo != "hexpm":
                extra["repo"] = repo
            if len(entry) >= 8 and isinstance(entry[7], str):
                extra["outer_checksum"] = entry[7]
            elif len(entry) >= 4 and isinstance(entry[3], str):
                extra["checksum"] = entry[3]
            if len(entry) >= 6 and isinstance(entry[5], list):
                deps = [d[0] for d in entry[5] if isinstance(d, tuple) and d and isinstance(d[0], str)]
                if deps:
                    extra["dependencies"] = [str(d) for d in deps]
            out.append(
                Package(
                    name=str(name),
                    version=version,
                    type="hex",
                    purl=purl("hex", str(name), version, namespace=org or None),
                    path=path,
                    cataloger=self.name,
                    extra=extra,
                )
            )
        return out


CATALOGERS: list[Cataloger] = [MixLockCataloger()]
