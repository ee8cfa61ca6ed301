"""Bun's text lockfile `bun.lock` (Bun >= 1.1.39; the default since 1.2).

JSONC: JSON that allows trailing commas (and comments). Layout::

    {
      "lockfileVersion": 1,
      "workspaces": {
        "": {"name": "app", "dependencies": {...}, "devDependencies": {...}},
        "packages/a": {"name": "@app/a", "version": "1.0.0", "dependencies": {...}}
      },
      "packages": {
        "ms": ["ms@2.1.3", "", {}, "sha512-..."],
        "debug/ms": ["ms@2.0.0", "", {}, "sha512-..."],
        "sc": ["string-width@1.0.2", "", {"dependencies": {...}}, "sha512-..."],
        "@app/a": ["@app/a@workspace:packages/a"]
      }
    }

Each `packages` value is an array whose first element is the resolved `name@version`:
npm packages are `[ident, registry ("" = default), info, integrity]`; workspaces
`[ident]`; git/github `[ident, info, bunTag]`; tarballs and folders `[ident, info]`. The key
is the install path: `name` at the top level, `parent/name` (scoped names keep their slash)
for a copy nested under `parent`, so the real name is taken from the identifier (aliases:
key `sc`, identifier `string-width@1.0.2`).

Reported: npm-registry packages (identifier version is a concrete version), one per distinct
name and version, install keys in `extra["locations"]`. Workspace members are reported as
local packages (`extra["local"]`) when the `workspaces` map gives them a version (Trivy
reports workspaces too); the root project is not a package. Git, github, tarball, `file:`
and `link:` sources have no registry version and are skipped.

Dev marking: a package is dev when it is reachable from some workspace's
`devDependencies` but not from any workspace's `dependencies`, `optionalDependencies` or
`peerDependencies`, following each package's dependencies (incl. optional and peer) with
Node's nested lookup (`parent/child` before `child`). Unreachable packages are not dev.

`bun.lockb` (the binary lockfile of Bun < 1.2) is not read: it is an undocumented binary
format (`bun bun.lockb` prints it as a yarn.lock; Bun 1.2 migrates it to bun.lock).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from containment.catalog._js_common import (
    Collector,
    basename,
    is_npm_name,
    is_registry_version,
    split_name_version,
    str_map,
    under_node_modules,
)
from containment.catalog._lockutil import decode_text, dev_only
from containment.catalog.base import Cataloger, FileTree
from containment.model import CatalogError, Package

# Strings (kept), comments (dropped). The string pattern is the unrolled form; an unterminated
# string or comment runs to the end of the text, so hostile input cannot make matching quadratic.
_STRING = r'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\Z)'
_STR_OR_COMMENT = re.compile(_STRING + r"|//[^\n]*|/\*.*?(?:\*/|\Z)", re.S)
# Strings (kept), a comma followed only by whitespace and a closing bracket (dropped).
_STR_OR_TRAILING_COMMA = re.compile(_STRING + r"|,(?=\s*[}\]])")


def jsonc_to_json(text: str) -> str:
    """Drop comments and trailing commas outside strings, leaving plain JSON."""
    if "/" in text:
        text = _STR_OR_COMMENT.sub(lambda m: m.group(0) if m.group(0)[0] == '"' else " ", text)
    return _STR_OR_TRAILING_COMMA.sub(lambda m: m.group(0) if m.group(0)[0] == '"' else "", text)


def _components(key: str) -> list[str]:
    """An install key `a/@s/b/c` -> the package names along it: ['a', '@s/b', 'c']."""
    parts = key.split("/")
    out: list[str] = []
    i = 0
    while i < len(parts):
        p = parts[i]
        if p.startswith("@") and i + 1 < len(parts):
            out.append(f"{p}/{parts[i + 1]}")
            i += 2
        else:
            out.append(p)
            i += 1
    return out


def _resolve(scope: list[str], dep: str, keys: dict[str, Any]) -> str | None:
    """Node's lookup: `scope/dep`, then each shorter scope, then `dep` at the top level."""
    for n in range(len(scope), -1, -1):
        cand = "/".join([*scope[:n], dep])
        if cand in keys:
            return cand
    return None


def _info(entry: list[Any]) -> dict[str, Any]:
    if len(entry) >= 4 and isinstance(entry[2], dict):
        return entry[2]
    if len(entry) >= 2 and isinstance(entry[1], dict):
        return entry[1]
    return {}


def parse_bun_lock(path: str, data: bytes, cataloger: str) -> list[Package]:
    try:
        doc = json.loads(jsonc_to_json(decode_text(data)))
    except (ValueError, RecursionError) as exc:
        raise CatalogError(f"{path}: not a valid bun.lock ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("packages", {}), dict):
        raise CatalogError(f"{path}: not a bun lockfile (no packages map)")
    packages: dict[str, Any] = {
        k: v for k, v in doc.get("packages", {}).items() if isinstance(k, str) and isinstance(v, list) and v
    }
    workspaces = doc.get("workspaces")
    workspaces = (
        {k: v for k, v in workspaces.items() if isinstance(v, dict)} if isinstance(workspaces, dict) else {}
    )

    coll = Collector(path, cataloger)
    ids: dict[str, tuple[str, str]] = {}
    ws_keys: set[str] = set()
    for key, entry in packages.items():
        ident = entry[0]
        if not isinstance(ident, str):
            continue
        name, ref = split_name_version(ident)
        local = False
        if ref.startswith("workspace:"):
            ws_keys.add(key)
            ws = workspaces.get(ref[len("workspace:") :], {})
            ref = ws.get("version") if isinstance(ws.get("version"), str) else ""
            local = True
        if not is_npm_name(name) or not is_registry_version(ref):
            continue
        integrity = entry[3] if len(entry) >= 4 and isinstance(entry[3], str) else ""
        coll.add(name, ref, location=key, integrity=integrity, local=local)
        ids[key] = (name, ref)

    graph: dict[str, list[str]] = {}
    for key, entry in packages.items():
        if key in ws_keys:
            continue  # a workspace is a root of its own (below), not a path through
        info = _info(entry)
        scope = _components(key)
        targets: list[str] = []
        for section in ("dependencies", "optionalDependencies", "peerDependencies"):
            for dep in str_map(info.get(section)):
                t = _resolve(scope, dep, packages)
                if t is not None:
                    targets.append(t)
        graph[key] = targets

    if not workspaces:
        return coll.packages()
    prod: list[str] = []
    dev: list[str] = []
    for ws in workspaces.values():
        ws_name = ws.get("name")
        scope = _components(ws_name) if isinstance(ws_name, str) and ws_name else []
        for section, roots in (
            ("dependencies", prod),
            ("optionalDependencies", prod),
            ("peerDependencies", prod),
            ("devDependencies", dev),
        ):
            for dep in str_map(ws.get(section)):
                t = _resolve(scope, dep, packages)
                if t is not None:
                    roots.append(t)
    dev_nodes = dev_only(prod, dev, graph)
    dev_keys = {ids[k] for k in dev_nodes if k in ids}
    prod_keys = {v for k, v in ids.items() if k not in dev_nodes}
    coll.set_dev(dev_keys - prod_keys)
    return coll.packages()


class BunLockCataloger(Cataloger):
    """bun.lock (text lockfile). bun.lockb (binary) is out of scope."""

    name = "bun-lock"
    version = 1

    def wants(self, path: str, mode: int, size: int) -> bool:
        return basename(path) == "bun.lock" and not under_node_modules(path)

    def parse(self, path: str, data: bytes, tree: FileTree) -> Iterable[Package]:
        return parse_bun_lock(path, data, self.name)


CATALOGERS: list[Cataloger] = [BunLockCataloger()]
