"""npm lockfiles: `package-lock.json`, `npm-shrinkwrap.json` and the hidden lockfile
`node_modules/.package-lock.json`.

Formats (https://docs.npmjs.com/cli/configuring-npm/package-lock-json):

- lockfileVersion 1 (npm 5-6): a nested `dependencies` tree keyed by package name; each
  entry has `version`, `resolved`, `integrity`, `dev`, `optional`, `bundled`, `requires` and
  its own nested `dependencies` (installed under its node_modules). An aliased dependency
  (`"sc": "npm:string-width@^1"`) has `"version": "npm:string-width@1.0.2"`: reported under
  the real name. Entries whose version is a git URL, a tarball URL or `file:` path are not
  registry packages and are skipped (their nested dependencies are still read).
- lockfileVersion 2 and 3 (npm >= 7): a flat `packages` map keyed by install path
  (`node_modules/a`, `node_modules/a/node_modules/b`); the root `""` entry is the project
  itself and is not reported. The name is the last `node_modules/` segment of the key unless
  the entry sets `name` (aliases). v2 also carries the v1 tree; the `packages` map wins.
- Workspaces and `file:` directory dependencies: `node_modules/<name>` is a link
  (`link: true`, `resolved: "packages/foo"`) to an entry keyed by the directory, which holds
  the name and version. Like Trivy (and syft), the linked package is reported, marked
  `extra["local"] = True`; a link without target, or a target without a version, yields
  nothing. The workspace's own nested `packages/foo/node_modules/x` entries are ordinary
  packages.
- Dev marking: `dev: true` means the package is only in the devDependencies tree. npm
  writes `devOptional: true` for a package that is a devDependency *and* an optional
  dependency of a production package; `npm install --omit=dev` still installs it, so it is
  not dev-only (Trivy reads only `dev` too). `optional` and `peer` do not make a package dev.
- A package installed at the same version in several places is one package; the install
  paths are kept in `extra["locations"]`; it is dev-only only if every copy is.
- `license` (v3) fills `licenses`; `resolved` (credentials stripped) and `integrity` go
  into `extra`.

Wanted files: `package-lock.json` and `npm-shrinkwrap.json` not inside any node_modules
(a published package's own lockfile is not what is installed; Trivy skips them too).

The hidden lockfile (`<project>/node_modules/.package-lock.json`, npm >= 7, same v3 format
without the root entry) describes exactly what is installed in that node_modules. It is
handled by `NpmHiddenLockCataloger`, which is NOT in `CATALOGERS`: the `npm-installed`
cataloger (node.py) already reports every installed package from its package.json and uses
the hidden lockfile for dev marking, so cataloging it here too would report each installed
package twice. Neither syft nor Trivy read it. Wire `NPM_HIDDEN_LOCK` in when node_modules
package.json files are not cataloged.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from containment.catalog._js_common import (
    NM,
    Collector,
    basename,
    is_npm_name,
    is_registry_version,
    license_names,
    split_name_version,
    under_node_modules,
)
from containment.catalog._lockutil import load_json
from containment.catalog.base import Cataloger, FileTree
from containment.model import CatalogError, Package

_LOCK_NAMES = frozenset({"package-lock.json", "npm-shrinkwrap.json"})
_HIDDEN = "node_modules/.package-lock.json"
_NM_SLASH = NM + "/"


def _is_install_path(key: str) -> bool:
    return key.startswith(_NM_SLASH) or ("/" + _NM_SLASH) in key


def _name_from_path(key: str) -> str:
    i = key.rfind(_NM_SLASH)
    return key[i + len(_NM_SLASH) :] if i >= 0 else ""


def _licenses(entry: dict[str, Any]) -> tuple[str, ...]:
    return license_names(entry.get("license")) or license_names(entry.get("licenses"))


def _parse_packages(packages: dict[str, Any], coll: Collector) -> None:
    """lockfileVersion 2/3 (and the hidden lockfile): the flat `packages` map."""
    entries = {k: v for k, v in packages.items() if isinstance(k, str) and isinstance(v, dict)}
    # Link targets (workspace / file: directories) -> the node_modules path linking to them.
    links: dict[str, str] = {}
    for key, entry in entries.items():
        if entry.get("link") is True and _is_install_path(key):
            target = entry.get("resolved")
            if isinstance(target, str) and target.strip("/"):
                links.setdefault(target.rstrip("/"), key)

    for key, entry in entries.items():
        if key == "" or entry.get("link") is True:
            continue
        local = False
        if _is_install_path(key):
            install = key
        else:
            # A link target, or something inside one that is not under its node_modules.
            prefix, link = key, None
            while True:
                link = links.get(prefix)
                if link is not None:
                    break
                i = prefix.rfind("/")
                if i < 0:
                    break
                prefix = prefix[:i]
            if link is None:
                continue
            install = link + key[len(prefix) :]
            local = True
        name = entry.get("name")
        if not is_npm_name(name):
            name = _name_from_path(install)
        version = entry.get("version")
        if not is_npm_name(name) or not is_registry_version(version):
            continue
        coll.add(
            name,
            version,
            dev=entry.get("dev") is True,
            location=key,
            resolved="" if local else entry.get("resolved", ""),
            integrity=entry.get("integrity", ""),
            licenses=_licenses(entry),
            local=local,
        )


def _parse_dependencies(deps: dict[str, Any], coll: Collector) -> None:
    """lockfileVersion 1: the nested `dependencies` tree, walked without recursion."""
    stack: list[tuple[dict[str, Any], str]] = [(deps, "")]
    while stack:
        level, prefix = stack.pop()
        for key, entry in level.items():
            if not isinstance(key, str) or not isinstance(entry, dict):
                continue
            location = f"{prefix}{_NM_SLASH}{key}"
            name, version = key, entry.get("version")
            if isinstance(version, str) and version.startswith("npm:"):
                name, version = split_name_version(version[4:])
            if is_npm_name(name) and is_registry_version(version):
                coll.add(
                    name,
                    version,
                    dev=entry.get("dev") is True,
                    location=location,
                    resolved=entry.get("resolved", ""),
                    integrity=entry.get("integrity", ""),
                )
            nested = entry.get("dependencies")
            if isinstance(nested, dict) and nested:
                stack.append((nested, location + "/"))


def parse_npm_lock(path: str, data: bytes, cataloger: str) -> list[Package]:
    doc = load_json(path, data)
    if not isinstance(doc, dict):
        raise CatalogError(f"{path}: not an npm lockfile (top level is not a JSON object)")
    packages = doc.get("packages")
    dependencies = doc.get("dependencies")
    if not isinstance(packages, dict) and not isinstance(dependencies, dict) and "lockfileVersion" not in doc:
        raise CatalogError(f"{path}: not an npm lockfile (no lockfileVersion, packages or dependencies)")
    coll = Collector(path, cataloger)
    if isinstance(packages, dict) and doc.get("lockfileVersion") != 1:
        _parse_packages(packages, coll)
    elif isinstance(dependencies, dict):
        _parse_dependencies(dependencies, coll)
    return coll.packages()


class NpmLockCataloger(Cataloger):
    """package-lock.json / npm-shrinkwrap.json, lockfileVersion 1, 2 and 3."""

    name = "npm-package-lock"
    version = 1

    def wants(self, path: str, mode: int, size: int) -> bool:
        return basename(path) in _LOCK_NAMES and not under_node_modules(path)

    def parse(self, path: str, data: bytes, tree: FileTree) -> Iterable[Package]:
        return parse_npm_lock(path, data, self.name)


class NpmHiddenLockCataloger(Cataloger):
    """`<project>/node_modules/.package-lock.json` (npm >= 7): what is installed there."""

    name = "npm-hidden-lock"
    version = 1

    def wants(self, path: str, mode: int, size: int) -> bool:
        if not path.endswith(_HIDDEN):
            return False
        head = path[: -len(_HIDDEN)]
        return head == "" or (head.endswith("/") and not under_node_modules(head))

    def parse(self, path: str, data: bytes, tree: FileTree) -> Iterable[Package]:
        return parse_npm_lock(path, data, self.name)


NPM_HIDDEN_LOCK = NpmHiddenLockCataloger()

CATALOGERS: list[Cataloger] = [NpmLockCataloger()]
