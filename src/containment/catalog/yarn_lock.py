"""Yarn lockfiles: `yarn.lock` of Yarn classic (v1) and Yarn berry (v2+).

Yarn classic (v1) uses its own indentation format::

    "@babel/code-frame@^7.0.0", "@babel/code-frame@^7.10.4":
      version "7.12.13"
      resolved "https://registry.yarnpkg.com/@babel/code-frame/-/code-frame-7.12.13.tgz#..."
      integrity sha512-...
      dependencies:
        "@babel/highlight" "^7.12.13"

Each block header lists the patterns (`name@range`) that resolved to the block's version.
Yarn berry writes YAML with a `__metadata` block; keys are descriptors
(`"ms@npm:2.1.2, ms@npm:^2.1.1"`) and each entry has `version`, `resolution`
(`ms@npm:2.1.2`), `dependencies`, `languageName` and `linkType`.

What is reported (one package per distinct name and version):
- only registry packages: v1 blocks whose patterns use a semver range, a dist-tag or the
  `npm:` protocol; berry entries whose `resolution` uses the `npm:` protocol. Workspaces
  (`workspace:`), `link:`/`portal:`/`file:` directories, git and tarball-URL sources and
  berry `patch:` variants (the patched package's `npm:` entry is reported already) are
  skipped, as Trivy does. Workspace packages are not reported: the lockfile holds no real
  version for them (berry writes `0.0.0-use.local`, v1 lists none).
- aliases (`"sc@npm:string-width@^1.0.0"`) are reported under the real package name
  (`string-width`), the name whose advisories apply; the resolution/resolved URL agree.

Dev marking needs the project's package.json (the lockfile's sibling, read via the tree)
and, for workspaces (`"workspaces": [...]` or `{"packages": [...]}`), each workspace's
package.json. As Trivy does, the lock graph is walked from the manifests' `dependencies`,
`optionalDependencies` (and `peerDependencies`) and from their `devDependencies`: a package
reachable only from devDependencies is dev. Without a sibling package.json nothing is
marked dev. A package the walk cannot reach is not marked dev (never hide a package that
may ship).

Wanted files: `yarn.lock` outside node_modules and `.yarn` (cache copies are not the
project's), and every `package.json` outside node_modules, only so that a lockfile can read
its siblings and workspace manifests; a package.json alone produces no packages.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote

import yaml

from containment.catalog._js_common import (
    Collector,
    Manifest,
    basename,
    is_npm_name,
    is_registry_version,
    project_roots,
    split_name_version,
    str_map,
    under_node_modules,
)
from containment.catalog._lockutil import decode_text, dev_only
from containment.catalog.base import Cataloger, FileTree
from containment.model import CatalogError, Package

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Entry:
    __slots__ = ("descriptors", "name", "version", "resolved", "integrity", "deps", "registry", "workspace")

    def __init__(self) -> None:
        self.descriptors: list[str] = []
        self.name = ""
        self.version = ""
        self.resolved = ""
        self.integrity = ""
        self.deps: dict[str, str] = {}
        self.registry = False  # a registry package we report
        self.workspace = False  # a workspace: the walk does not go through it


# ---------------------------------------------------------------- yarn classic (v1) syntax


def _take(s: str, stop: str = "") -> tuple[str, str]:
    """One token from the start of `s` (a JSON-quoted string, or up to whitespace / a stop char)."""
    if s.startswith('"'):
        i, n = 1, len(s)
        while i < n:
            c = s[i]
            if c == "\\":
                i += 2
                continue
            if c == '"':
                raw = s[: i + 1]
                try:
                    tok = json.loads(raw)
                except ValueError:
                    tok = raw[1:-1]
                return (tok if isinstance(tok, str) else raw[1:-1]), s[i + 1 :]
            i += 1
        return s[1:], ""
    i, n = 0, len(s)
    while i < n and not s[i].isspace() and s[i] not in stop:
        i += 1
    return s[:i], s[i:]


def _header_patterns(content: str) -> list[str]:
    """`"a@^1", a@~1.2` -> ['a@^1', 'a@~1.2'] (the trailing colon already removed)."""
    out: list[str] = []
    rest = content
    while rest:
        rest = rest.lstrip(" \t,")
        if not rest:
            break
        if rest.startswith('"'):
            tok, rest = _take(rest)
        else:
            i = rest.find(",")
            tok, rest = (rest, "") if i < 0 else (rest[:i], rest[i:])
            tok = tok.strip()
        if tok:
            out.append(tok)
    return out


def _key_value(content: str) -> tuple[str, str]:
    key, rest = _take(content, stop=":")
    rest = rest.lstrip()
    if rest.startswith(":"):
        rest = rest[1:].lstrip()
    value, _ = _take(rest) if rest else ("", "")
    return key, value


def _parse_classic(text: str) -> list[_Entry]:
    entries: list[_Entry] = []
    cur: _Entry | None = None
    section = ""
    for line in text.splitlines():
        content = line.strip()
        if not content or content.startswith("#"):
            continue
        indent = len(line) - len(line.lstrip(" \t"))
        if indent == 0:
            section = ""
            cur = None
            if content.endswith(":"):
                pats = _header_patterns(content[:-1])
                if pats:
                    cur = _Entry()
                    cur.descriptors = pats
                    entries.append(cur)
            continue
        if cur is None:
            continue
        if content.endswith(":") and " " not in content.rstrip(":").strip('"'):
            # a nested map: dependencies:, optionalDependencies:, ...
            section = _take(content, stop=":")[0]
            continue
        key, value = _key_value(content)
        if section and indent > 2:
            if section in ("dependencies", "optionalDependencies") and key:
                cur.deps[key] = value
            continue
        section = ""
        if key == "version":
            cur.version = value
        elif key == "resolved":
            cur.resolved = value
        elif key == "integrity":
            cur.integrity = value
    return entries


def _classify_classic(e: _Entry) -> None:
    for pattern in e.descriptors:
        name, spec = split_name_version(pattern)
        if not name:
            continue
        if spec.startswith("npm:"):
            inner = spec[4:]
            real, _ = split_name_version(inner)
            if real and not inner.startswith(("^", "~", "<", ">", "=")):
                name = real
        elif ":" in spec or "/" in spec:
            continue  # git, github shorthand, file:, link:, tarball URL
        if is_npm_name(name) and is_registry_version(e.version):
            e.name = name
            e.registry = True
            return


# ---------------------------------------------------------------- yarn berry (v2+)


def _parse_berry(path: str, text: str) -> list[_Entry]:
    try:
        doc = yaml.load(text, Loader=_Loader)  # noqa: S506 - a safe loader
    except (yaml.YAMLError, RecursionError, ValueError, TypeError) as exc:
        raise CatalogError(f"{path}: not a valid yarn berry lockfile ({exc})") from None
    if not isinstance(doc, dict):
        raise CatalogError(f"{path}: not a yarn lockfile (top level is not a mapping)")
    entries: list[_Entry] = []
    for key, val in doc.items():
        if key == "__metadata" or not isinstance(key, str) or not isinstance(val, dict):
            continue
        e = _Entry()
        e.descriptors = [d.strip() for d in key.split(",") if d.strip()]
        e.deps = str_map(val.get("dependencies"))
        version = val.get("version")
        e.version = str(version) if isinstance(version, (str, int, float)) else ""
        resolution = val.get("resolution")
        if isinstance(resolution, str):
            name, ref = split_name_version(resolution)
            e.workspace = ref.startswith("workspace:")
            if ref.startswith("npm:") and val.get("linkType") != "soft":
                ver = ref[4:]
                if not is_registry_version(ver):
                    ver = e.version
                if is_npm_name(name) and is_registry_version(ver):
                    e.name, e.version, e.registry = name, ver, True
        entries.append(e)
    return entries


# ---------------------------------------------------------------- dev marking


def _dev_entries(entries: list[_Entry], manifests: list[Manifest]) -> set[int]:
    index: dict[str, int] = {}
    by_name: dict[str, list[int]] = defaultdict(list)
    for i, e in enumerate(entries):
        for d in e.descriptors:
            index.setdefault(d, i)
            name, _ = split_name_version(d)
            if name and (not by_name[name] or by_name[name][-1] != i):
                by_name[name].append(i)

    def lookup(name: str, spec: str, fallback: bool) -> list[int]:
        for cand in (f"{name}@{spec}", f"{name}@npm:{spec}"):
            i = index.get(cand)
            if i is not None:
                return [i]
        return list(by_name.get(name, ())) if fallback else []

    graph: dict[int, list[int]] = {}
    for i, e in enumerate(entries):
        if e.workspace:
            continue
        targets: list[int] = []
        for name, spec in e.deps.items():
            targets.extend(lookup(name, spec, fallback=False))
        for d in e.descriptors:
            # berry `patch:` variant -> the package it patches (`typescript@npm:^5.0.0`)
            _, spec = split_name_version(d)
            if spec.startswith("patch:"):
                j = index.get(unquote(spec[6:].partition("#")[0]))
                if j is not None:
                    targets.append(j)
        graph[i] = targets

    prod: list[int] = []
    dev: list[int] = []
    for m in manifests:
        for name, spec in m.prod.items():
            prod.extend(lookup(name, spec, fallback=True))
        for name, spec in m.dev.items():
            dev.extend(lookup(name, spec, fallback=True))
    return dev_only(prod, dev, graph)


def parse_yarn_lock(path: str, data: bytes, tree: FileTree, cataloger: str) -> list[Package]:
    text = decode_text(data)
    berry = text.startswith("__metadata:") or "\n__metadata:" in text
    if berry:
        entries = _parse_berry(path, text)
    else:
        entries = _parse_classic(text)
        for e in entries:
            _classify_classic(e)
        if not entries and text.strip() and "yarn lockfile v1" not in text:
            raise CatalogError(f"{path}: not a yarn lockfile (no entries)")

    coll = Collector(path, cataloger)
    for e in entries:
        if e.registry:
            coll.add(e.name, e.version, resolved=e.resolved, integrity=e.integrity)

    manifests = project_roots(path, tree)
    if manifests:
        dev_idx = _dev_entries(entries, manifests)
        prod_keys = {(e.name, e.version) for i, e in enumerate(entries) if e.registry and i not in dev_idx}
        dev_keys = {(e.name, e.version) for i, e in enumerate(entries) if e.registry and i in dev_idx}
        coll.set_dev(dev_keys - prod_keys)
    return coll.packages()


def _in_yarn_dir(path: str) -> bool:
    return path.startswith(".yarn/") or "/.yarn/" in path


class YarnLockCataloger(Cataloger):
    """yarn.lock of Yarn classic (v1) and berry (v2+), dev-marked via the sibling package.json."""

    name = "yarn-lock"
    version = 1

    def wants(self, path: str, mode: int, size: int) -> bool:
        base = basename(path)
        if base == "yarn.lock":
            return not under_node_modules(path) and not _in_yarn_dir(path)
        return base == "package.json" and not under_node_modules(path)

    def parse(self, path: str, data: bytes, tree: FileTree) -> Iterable[Package]:
        if basename(path) != "yarn.lock":
            return []  # a package.json: read only as a lockfile's sibling / workspace
        return parse_yarn_lock(path, data, tree, self.name)


CATALOGERS: list[Cataloger] = [YarnLockCataloger()]
