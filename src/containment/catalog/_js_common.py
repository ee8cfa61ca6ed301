"""Helpers shared by the JavaScript lockfile catalogers (npm_lock, yarn_lock, pnpm_lock, bun_lock).

- `Collector` folds the entries of one lockfile into one Package per (name, version): a
  package installed at several places (nested `node_modules`, several peer-dependency
  variants) is reported once, with every place kept in `extra["locations"]`; it is dev-only
  only if every occurrence is.
- `is_npm_name` / `is_registry_version` tell a registry package from a local directory,
  a git checkout or a tarball URL.
- `project_roots` reads the project's own package.json (the lockfile's sibling) and the
  package.json of each of its workspaces, for the formats whose lockfile does not say which
  dependencies are dev-only (yarn).
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, TypeGuard

from containment.catalog.base import FileTree, purl
from containment.model import Package

NM = "node_modules"
# A lockfile with more entries than this is hostile (real ones hold a few thousand).
MAX_ENTRIES = 500_000
# Workspace globs and member manifests read per lockfile (real monorepos: tens to hundreds).
MAX_WORKSPACES = 5_000


def basename(path: str) -> str:
    i = path.rfind("/")
    return path[i + 1 :] if i >= 0 else path


def under_node_modules(path: str) -> bool:
    """The file sits inside some `node_modules` directory (a published package's own files)."""
    return path.startswith("node_modules/") or "/node_modules/" in path


def is_npm_name(name: Any) -> TypeGuard[str]:
    """A plausible npm package name: `name` or `@scope/name`, no spaces, at most 214 chars."""
    if not isinstance(name, str) or not name or len(name) > 214:
        return False
    if any(c.isspace() or ord(c) < 0x20 for c in name):
        return False
    if name[0] == "@":
        scope, sep, rest = name.partition("/")
        return bool(sep) and len(scope) > 1 and bool(rest) and "/" not in rest and "@" not in rest
    return "/" not in name and "@" not in name and name not in (".", "..")


def is_registry_version(version: Any) -> TypeGuard[str]:
    """A concrete registry version (semver: `1.2.3`, `1.0.0-rc.1+b2`), not a URL, path or range."""
    if not isinstance(version, str) or not version or len(version) > 256:
        return False
    if not version[0].isdigit():
        return False
    return not any(c in version for c in ":/ \t\n\r\"'^~<>=*|()[]{}")


def split_name_version(ident: str) -> tuple[str, str]:
    """`name@version` or `@scope/name@version` -> (name, version); ('', '') if no separator."""
    i = ident.find("@", 1)
    if i <= 0:
        return "", ""
    return ident[:i], ident[i + 1 :]


def npm_purl(name: str, version: str) -> str:
    if name.startswith("@") and "/" in name:
        scope, _, bare = name.partition("/")
        return purl("npm", bare, version, namespace=scope)
    return purl("npm", name, version)


def strip_credentials(url: str) -> str:
    """A URL with `user:password@` userinfo dropped (private registry tokens must not leak)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, tail = rest.partition("/")
    _userinfo, at, host = authority.rpartition("@")
    if at:
        return f"{scheme}://{host}{slash}{tail}"
    return url


def license_names(value: Any) -> tuple[str, ...]:
    """package.json-style `license`: an SPDX expression string, legacy `{type}` or a list of them."""
    out: list[str] = []
    items = value if isinstance(value, list) else [value]
    for item in items[:32]:
        if isinstance(item, dict):
            item = item.get("type")
        if isinstance(item, str):
            s = item.strip()
            if s and s not in out:
                out.append(s)
    return tuple(out)


@dataclass
class _Acc:
    name: str
    version: str
    dev: bool
    locations: list[str] = field(default_factory=list)
    resolved: str = ""
    integrity: str = ""
    licenses: tuple[str, ...] = ()
    local: bool = False


class Collector:
    """One Package per (name, version) of one lockfile."""

    def __init__(self, path: str, cataloger: str) -> None:
        self.path = path
        self.cataloger = cataloger
        self._acc: dict[tuple[str, str], _Acc] = {}

    def __len__(self) -> int:
        return len(self._acc)

    def __contains__(self, key: object) -> bool:
        return key in self._acc

    def add(
        self,
        name: str,
        version: str,
        *,
        dev: bool = False,
        location: str = "",
        resolved: Any = "",
        integrity: Any = "",
        licenses: tuple[str, ...] = (),
        local: bool = False,
    ) -> None:
        key = (name, version)
        acc = self._acc.get(key)
        if acc is None:
            if len(self._acc) >= MAX_ENTRIES:
                return
            acc = self._acc[key] = _Acc(name, version, dev, local=local)
        else:
            acc.dev = acc.dev and dev
            acc.local = acc.local and local
        if location and location not in acc.locations and len(acc.locations) < 64:
            acc.locations.append(location)
        if not acc.resolved and isinstance(resolved, str) and resolved:
            acc.resolved = strip_credentials(resolved)
        if not acc.integrity and isinstance(integrity, str) and integrity:
            acc.integrity = integrity
        if not acc.licenses and licenses:
            acc.licenses = licenses

    def set_dev(self, dev_keys: set[tuple[str, str]]) -> None:
        """Mark exactly the given (name, version) keys dev-only (graph-derived formats)."""
        for key, acc in self._acc.items():
            acc.dev = key in dev_keys

    def packages(self) -> list[Package]:
        out = []
        for acc in sorted(self._acc.values(), key=lambda a: (a.name, a.version)):
            extra: dict[str, Any] = {}
            if acc.resolved:
                extra["resolved"] = acc.resolved
            if acc.integrity:
                extra["integrity"] = acc.integrity
            if acc.locations:
                extra["locations"] = sorted(acc.locations)
            if acc.local:
                extra["local"] = True
            out.append(
                Package(
                    name=acc.name,
                    version=acc.version,
                    type="npm",
                    purl=npm_purl(acc.name, acc.version),
                    path=self.path,
                    cataloger=self.cataloger,
                    licenses=acc.licenses,
                    dev=acc.dev,
                    extra=extra,
                )
            )
        return out


def load_json_or_none(data: bytes | None) -> Any:
    if data is None:
        return None
    try:
        return json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None


def str_map(v: Any) -> dict[str, str]:
    """A {name: spec} map (dependencies, devDependencies, ...), keeping only string pairs."""
    if not isinstance(v, dict):
        return {}
    return {k: s for k, s in v.items() if isinstance(k, str) and isinstance(s, str)}


def workspace_globs(manifest: dict[str, Any]) -> list[str]:
    """package.json `workspaces`: a list of globs, or `{"packages": [...]}` (yarn v1)."""
    ws = manifest.get("workspaces")
    if isinstance(ws, dict):
        ws = ws.get("packages")
    if not isinstance(ws, list):
        return []
    return [g for g in ws[:MAX_WORKSPACES] if isinstance(g, str) and g]


def _glob_match(rel: str, pattern: str) -> bool:
    """Does the directory `rel` match the workspace glob? `*` stays within one path segment,
    `**` spans any number of segments (as in npm/yarn workspace patterns)."""
    pattern = pattern.strip()
    if pattern.startswith("!"):  # a negation excludes, it never adds a workspace
        return False
    pat = [p for p in pattern.split("/") if p not in ("", ".")]
    parts = [p for p in rel.split("/") if p]
    if any(p == ".." for p in pat):
        return False
    # Iterative matching with a memo over (i, j); bounded by len(pat) * len(parts).
    seen: set[tuple[int, int]] = set()
    stack = [(0, 0)]
    while stack:
        i, j = stack.pop()
        if (i, j) in seen:
            continue
        seen.add((i, j))
        if i == len(pat):
            if j == len(parts):
                return True
            continue
        if pat[i] == "**":
            stack.append((i + 1, j))
            if j < len(parts):
                stack.append((i, j + 1))
        elif j < len(parts) and fnmatchcase(parts[j], pat[i]):
            stack.append((i + 1, j + 1))
    return False


@dataclass
class Manifest:
    """The dependency sections of one package.json."""

    path: str
    name: str
    version: str
    prod: dict[str, str]  # dependencies + optionalDependencies (+ peerDependencies)
    dev: dict[str, str]


def _manifest(path: str, doc: Any) -> Manifest | None:
    if not isinstance(doc, dict):
        return None
    prod = {}
    prod.update(str_map(doc.get("peerDependencies")))
    prod.update(str_map(doc.get("dependencies")))
    prod.update(str_map(doc.get("optionalDependencies")))
    name = doc.get("name")
    version = doc.get("version")
    return Manifest(
        path=path,
        name=name if isinstance(name, str) else "",
        version=version if isinstance(version, str) else "",
        prod=prod,
        dev=str_map(doc.get("devDependencies")),
    )


def project_roots(lock_path: str, tree: FileTree) -> list[Manifest] | None:
    """The project's package.json (sibling of the lockfile) and its workspaces' package.json.

    None when the sibling is absent or unreadable: the caller then marks nothing dev-only.
    """
    root_doc = load_json_or_none(tree.sibling(lock_path, "package.json"))
    root = _manifest(posixpath.join(posixpath.dirname(lock_path), "package.json"), root_doc)
    if root is None:
        return None
    out = [root]
    globs = workspace_globs(root_doc)
    if globs:
        base = posixpath.dirname(lock_path)
        prefix = base + "/" if base else ""
        for p in _candidate_manifests(tree, prefix):
            rel = p[len(prefix) : -len("/package.json")]
            if rel and any(_glob_match(rel, g) for g in globs):
                m = _manifest(p, load_json_or_none(tree.get(p)))
                if m is not None:
                    out.append(m)
                    if len(out) > MAX_WORKSPACES:
                        break
    return out


def _candidate_manifests(tree: FileTree, prefix: str) -> Iterator[str]:
    paths: Iterable[str] = tree.under(prefix) if prefix else tree.paths()
    for p in paths:
        if p.endswith("/package.json") and not under_node_modules(p):
            yield p
