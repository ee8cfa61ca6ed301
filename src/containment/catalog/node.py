"""Installed npm packages: the `package.json` at the root of each package in `node_modules`.

By npm's (and Node's resolution) rules a package is a directory directly under a
`node_modules` directory, `node_modules/<name>` or `node_modules/@scope/<name>`; nested
package.json files inside a package (`node_modules/foo/lib/package.json`, `dist/esm/...`)
only set module options for that subtree and are not packages, and a project's own
package.json outside `node_modules` is a project, left to the lockfile catalogers.
(syft's image cataloger takes every package.json with a name and version; we do not.)

Global installs (`usr/lib/node_modules`, `usr/local/lib/node_modules`) are node_modules
too. Debian/Ubuntu ship Node modules as OS packages under `usr/share/nodejs/<name>`,
`usr/lib/nodejs/<name>` and `usr/lib/<triplet>/nodejs/<name>`, on Node's default search
path; those are reported too (syft does) but marked `extra["distro_packaged"]` so the
inventory can tell them from npm-installed copies (their fixes are backported by the distro).

npm >= 7 keeps a hidden lockfile, `<project>/node_modules/.package-lock.json`, that says
which installed packages are dev-only (`"dev": true`); when it is in the same tree it is
used to set `dev`. It yields no packages itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from containment.catalog.base import Cataloger, FileTree, purl
from containment.model import CatalogError, Package

_PJ = "/package.json"
_NM = "node_modules/"
_HIDDEN_LOCK = "node_modules/.package-lock.json"
_DISTRO_DIRS = ("usr/share/nodejs/", "usr/lib/nodejs/")
_GLOBAL_DIRS = ("usr/lib/node_modules/", "usr/local/lib/node_modules/")


def _is_package_dir(rest: str) -> bool:
    """`rest` (the part after node_modules/) names a package: `name` or `@scope/name`."""
    if rest.startswith("@"):
        scope, sep, name = rest.partition("/")
        return bool(sep) and len(scope) > 1 and bool(name) and "/" not in name and name[0] != "."
    return bool(rest) and "/" not in rest and rest[0] != "."


def _package_location(path: str) -> tuple[str, int] | None:
    """('node_modules' | 'distro', index of the first node_modules/ or -1) for a package root."""
    head = path[: -len(_PJ)]
    i = head.rfind(_NM)
    if i >= 0 and (i == 0 or head[i - 1] == "/"):
        if not _is_package_dir(head[i + len(_NM) :]):
            return None
        first = head.find(_NM)
        while first > 0 and head[first - 1] != "/":
            first = head.find(_NM, first + 1)
        return "node_modules", first
    for prefix in _DISTRO_DIRS:
        if head.startswith(prefix):
            return ("distro", -1) if _is_package_dir(head[len(prefix) :]) else None
    if head.startswith("usr/lib/"):  # usr/lib/<triplet>/nodejs/<name>
        j = head.find("/nodejs/", 8)
        if j > 8 and "/" not in head[8:j] and _is_package_dir(head[j + 8 :]):
            return "distro", -1
    return None


def _without_password(url: str) -> str:
    """A URL with any `user:password@` credentials dropped (private registry tokens)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, tail = rest.partition("/")
    userinfo, at, host = authority.rpartition("@")
    if at and ":" in userinfo:
        return f"{scheme}://{host}{slash}{tail}"
    return url


@lru_cache(maxsize=4)
def _dev_keys(lock: bytes) -> frozenset[str]:
    """Keys (`node_modules/a/node_modules/b`) the hidden lockfile marks dev-only.

    Cached by the bytes object (its hash is computed once), so a tree with thousands of
    packages parses its hidden lockfile once.
    """
    try:
        doc = json.loads(lock)
    except (ValueError, RecursionError):
        return frozenset()
    packages = doc.get("packages") if isinstance(doc, dict) else None
    if not isinstance(packages, dict):
        return frozenset()
    return frozenset(k for k, v in packages.items() if isinstance(v, dict) and v.get("dev") is True)


def _is_dev(path: str, first_nm: int, tree: FileTree) -> bool:
    """Whether the hidden lockfile of the outermost project that has one marks this package dev."""
    i = first_nm
    while i >= 0:
        if i == 0 or path[i - 1] == "/":
            lock = tree.get(path[:i] + _HIDDEN_LOCK)
            if lock is not None:
                return path[i : -len(_PJ)] in _dev_keys(lock)
        i = path.find(_NM, i + len(_NM))
    return False


def _license_values(value: Any, out: list[str], depth: int = 0) -> None:
    if isinstance(value, str):
        v = value.strip()
        if v and v not in out:
            out.append(v)
    elif isinstance(value, dict):
        kind = value.get("type")
        if isinstance(kind, str):
            _license_values(kind, out, depth + 1)
    elif isinstance(value, list) and depth == 0:
        for item in value:
            _license_values(item, out, depth + 1)


def licenses_from(doc: dict[str, Any]) -> tuple[str, ...]:
    """`license` (SPDX expression string, or legacy {type, url}), else legacy `licenses` [...]."""
    out: list[str] = []
    _license_values(doc.get("license"), out)
    if not out:
        _license_values(doc.get("licenses"), out)
    return tuple(out)


_LOCKS = ("package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lock")


def _is_application(path: str, tree: FileTree) -> bool:
    """A package.json outside node_modules is an application (reported, like syft does) when an
    installed tree or a lockfile sits beside it; otherwise it is just some file (a fixture, docs)."""
    if any(tree.sibling(path, lock) is not None for lock in _LOCKS):
        return True
    d = path[: -len("package.json")]
    return next(tree.under(d + "node_modules"), None) is not None


class NodeInstalledCataloger(Cataloger):
    """npm packages installed in node_modules (local and global) and distro Node modules."""

    name = "npm-installed"
    version = 1

    def wants(self, path: str, mode: int, size: int) -> bool:
        if path.endswith(_PJ) or path == "package.json":
            return _NM not in path or _package_location(path) is not None
        return path.endswith(_HIDDEN_LOCK) and (
            len(path) == len(_HIDDEN_LOCK) or path[-len(_HIDDEN_LOCK) - 1] == "/"
        )

    def parse(self, path: str, data: bytes, tree: FileTree) -> Iterable[Package]:
        if path.endswith(_HIDDEN_LOCK):
            return []  # read only to mark dev packages
        location = _package_location(path)
        if location is None:
            if _NM in path or not _is_application(path, tree):
                return []
            location = ("application", -1)
        try:
            doc = json.loads(data)
        except (ValueError, RecursionError) as e:
            raise CatalogError(f"{path}: not valid JSON ({e})") from None
        if not isinstance(doc, dict):
            raise CatalogError(f"{path}: not a package.json (top level is not an object)")
        name, version = doc.get("name"), doc.get("version")
        if not isinstance(name, str) or not isinstance(version, str):
            return []
        name, version = name.strip(), version.strip()
        if not name or not version:
            return []
        namespace, short = None, name
        if name.startswith("@") and "/" in name:
            namespace, _, short = name.partition("/")
            if not short:
                return []
        kind, first_nm = location
        extra: dict[str, Any] = {}
        dev = False
        if kind == "application":
            extra["root"] = True  # the project itself: an SBOM component, not a dependency
        elif kind == "distro" or path.startswith(_DISTRO_DIRS):  # also modules nested in a distro one
            extra["distro_packaged"] = True
        else:
            if path.startswith(_GLOBAL_DIRS):
                extra["global"] = True
            dev = _is_dev(path, first_nm, tree)
        if doc.get("private") is True:
            extra["private"] = True
        for key in ("_resolved", "_integrity"):  # written by npm < 7 into installed package.json
            value = doc.get(key)
            if isinstance(value, str) and value and len(value) < 1024:
                extra[key[1:]] = _without_password(value)
        try:
            package_url = purl("npm", short, version, namespace=namespace)
        except (ValueError, TypeError):
            return []  # a name no registry would accept
        return [
            Package(
                name=name,
                version=version,
                type="npm",
                purl=package_url,
                path=path,
                cataloger=self.name,
                licenses=licenses_from(doc),
                dev=dev,
                extra=extra,
            )
        ]


CATALOGERS: list[Cataloger] = [NodeInstalledCataloger()]
