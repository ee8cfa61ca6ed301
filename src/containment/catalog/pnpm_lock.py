"""pnpm lockfiles: `pnpm-lock.yaml`, lockfileVersion 5.x, 6.x and 9.x.

Formats (https://github.com/pnpm/spec/tree/master/lockfile):
- 5.x (pnpm 3-7): `packages` keyed by dependency path `/name/1.0.0`,
  `/@scope/name/1.0.0_peer@2.0.0` (peer suffix after `_`), or with a registry host first
  (`registry.example.com/name/1.0.0`).
- 6.x (pnpm 8): keys `/name@1.0.0`, `/@scope/name@1.0.0(peer@2.0.0)` (peer suffixes in
  parentheses).
  In 5.x and 6.x each package has `dev: true` (only in the devDependencies tree),
  `dev: false` (only production) or no `dev` (both): only `dev: true` is dev-only. (Trivy
  drops dev packages; we mark them.)
- 9.x (pnpm 9+): `packages` keyed `name@1.0.0` (no peers) holds resolution metadata;
  `snapshots` keyed `name@1.0.0(peer@2.0.0)` holds each variant's resolved dependencies;
  `importers` (one per workspace project, `.` for the root) hold `dependencies`,
  `optionalDependencies` and `devDependencies`. There is no `dev` flag: a package is dev
  when it is reachable from some importer's devDependencies through the snapshots and not
  from any importer's dependencies or optionalDependencies (Trivy forgets
  optionalDependencies there; we count them as production). Unreachable: not dev.
  pnpm 11 may put an "env lockfile" (configDependencies / packageManagerDependencies) in a
  separate YAML document of the same file: that document is skipped.

Peer suffixes are stripped, so peer variants of one version are one package. An alias
(`sc: string-width@1.0.2`) is the real package. Entries with `name`/`version` fields
(tarballs, git, `file:` packages) are reported under those when the version is a concrete
version (as Trivy does), with the tarball URL or repo in `extra["resolved"]`; `file:`
directories are marked `extra["local"]`. `link:` dependencies never appear in `packages`
and are not reported. Anything without a concrete version is skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml

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

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _lock_version(v: Any) -> float | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v.strip())
        except ValueError:
            return None
    return None


def _is_env_doc(doc: dict[str, Any]) -> bool:
    importers = doc.get("importers")
    if not isinstance(importers, dict):
        return False
    return any(
        isinstance(imp, dict) and ("configDependencies" in imp or "packageManagerDependencies" in imp)
        for imp in importers.values()
    )


def _resolution(info: dict[str, Any]) -> tuple[str, str, bool]:
    """(resolved URL, integrity, is a local directory) from a package's `resolution`."""
    res = info.get("resolution")
    if not isinstance(res, dict):
        return "", "", False
    resolved = res.get("tarball")
    if not isinstance(resolved, str):
        repo, commit = res.get("repo"), res.get("commit")
        resolved = f"{repo}#{commit}" if isinstance(repo, str) and isinstance(commit, str) else ""
    integrity = res.get("integrity")
    return resolved, integrity if isinstance(integrity, str) else "", "directory" in res


def _key_name_version(key: str, major: float) -> tuple[str, str]:
    """A v5/v6 dependency path -> (name, version without peer suffix)."""
    k = key
    if k.startswith("/"):
        k = k[1:]
    else:
        host, sep, rest = k.partition("/")
        if not sep or "." not in host or ":" in host:
            return "", ""  # file:, link:, or not a dependency path
        k = rest  # a non-default registry host
    if major < 6:
        if k.startswith("@"):
            scope, _, rest = k.partition("/")
            bare, _, version = rest.partition("/")
            name = f"{scope}/{bare}"
        else:
            name, _, version = k.partition("/")
        version = version.partition("_")[0]
    else:
        name, version = split_name_version(k)
        version = version.partition("(")[0]
    return name, version


def _parse_v5_v6(packages: dict[str, Any], major: float, coll: Collector) -> None:
    for key, info in packages.items():
        if not isinstance(key, str) or not isinstance(info, dict):
            continue
        resolved, integrity, directory = _resolution(info)
        name, version = info.get("name"), info.get("version")
        if not isinstance(name, str) or not name:
            name, version = _key_name_version(key, major)
        if not is_npm_name(name) or not is_registry_version(version):
            continue
        coll.add(
            name,
            version,
            dev=info.get("dev") is True,
            resolved=resolved,
            integrity=integrity,
            local=directory or key.startswith("file:"),
        )


def _strip_peers(key: str) -> str:
    return key.partition("(")[0]


def _dep_target(name: str, ref: Any) -> str | None:
    """A snapshot/importer dependency (`ms: 2.1.3`, `sc: string-width@1.0.2`) -> package key."""
    if not isinstance(ref, str) or not ref or ref.startswith("link:"):
        return None
    base = _strip_peers(ref)
    if base.startswith("@") or "@" in base:
        return base  # an alias: the ref names the real package
    return f"{name}@{base}"


def _importer_refs(section: Any) -> Iterable[tuple[str, Any]]:
    if not isinstance(section, dict):
        return ()
    out = []
    for name, spec in section.items():
        if not isinstance(name, str):
            continue
        ref = spec.get("version") if isinstance(spec, dict) else spec
        out.append((name, ref))
    return out


def _parse_v9(doc: dict[str, Any], coll: Collector) -> None:
    packages = doc.get("packages")
    packages = packages if isinstance(packages, dict) else {}
    ids: dict[str, tuple[str, str]] = {}
    for key, info in packages.items():
        if not isinstance(key, str):
            continue
        info = info if isinstance(info, dict) else {}
        name, ref = split_name_version(_strip_peers(key))
        version = info.get("version")
        if not is_registry_version(version):
            version = ref
        alt = info.get("name")
        if isinstance(alt, str) and alt:
            name = alt
        if not is_npm_name(name) or not is_registry_version(version):
            continue
        resolved, integrity, directory = _resolution(info)
        coll.add(
            name,
            version,
            resolved=resolved,
            integrity=integrity,
            local=directory or ref.startswith("file:"),
        )
        ids[_strip_peers(key)] = (name, version)

    graph: dict[str, list[str]] = {}
    snapshots = doc.get("snapshots")
    if isinstance(snapshots, dict):
        for skey, snap in snapshots.items():
            if not isinstance(skey, str) or not isinstance(snap, dict):
                continue
            targets = graph.setdefault(_strip_peers(skey), [])
            for section in ("dependencies", "optionalDependencies"):
                for name, ref in str_map(snap.get(section)).items():
                    t = _dep_target(name, ref)
                    if t is not None:
                        targets.append(t)

    importers = doc.get("importers")
    if not isinstance(importers, dict) or not importers:
        return
    prod: list[str] = []
    dev: list[str] = []
    for imp in importers.values():
        if not isinstance(imp, dict):
            continue
        for section, roots in (
            ("dependencies", prod),
            ("optionalDependencies", prod),
            ("devDependencies", dev),
        ):
            for name, ref in _importer_refs(imp.get(section)):
                t = _dep_target(name, ref)
                if t is not None:
                    roots.append(t)
    dev_nodes = dev_only(prod, dev, graph)
    dev_keys = {ids[k] for k in dev_nodes if k in ids}
    prod_keys = {v for k, v in ids.items() if k not in dev_nodes}
    coll.set_dev(dev_keys - prod_keys)


def _load_docs(path: str, text: str) -> list[Any]:
    docs: list[Any] = []
    try:
        for d in yaml.load_all(text, Loader=_Loader):  # noqa: S506 - a safe loader
            docs.append(d)
            if len(docs) > 16:
                break
    except (yaml.YAMLError, RecursionError, ValueError, TypeError) as exc:
        if not any(isinstance(d, dict) for d in docs):
            raise CatalogError(f"{path}: not valid YAML ({exc})") from None
    return docs


def parse_pnpm_lock(path: str, data: bytes, cataloger: str) -> list[Package]:
    docs = _load_docs(path, decode_text(data))
    doc = next((d for d in docs if isinstance(d, dict) and not _is_env_doc(d)), None)
    if doc is None:
        if any(d is not None for d in docs) and not any(isinstance(d, dict) for d in docs):
            raise CatalogError(f"{path}: not a pnpm lockfile (top level is not a mapping)")
        return []
    coll = Collector(path, cataloger)
    major = _lock_version(doc.get("lockfileVersion"))
    packages = doc.get("packages")
    if major is None:
        if "snapshots" in doc:
            major = 9.0
        elif isinstance(packages, dict) and any(
            isinstance(k, str) and k.startswith("/") and "@" in k[2:] for k in packages
        ):
            major = 6.0
        else:
            major = 5.0
    if major >= 9:
        _parse_v9(doc, coll)
    elif isinstance(packages, dict):
        _parse_v5_v6(packages, major, coll)
    return coll.packages()


class PnpmLockCataloger(Cataloger):
    """pnpm-lock.yaml, lockfileVersion 5.x, 6.x and 9.x."""

    name = "pnpm-lock"
    version = 1

    def wants(self, path: str, mode: int, size: int) -> bool:
        return basename(path) == "pnpm-lock.yaml" and not under_node_modules(path)

    def parse(self, path: str, data: bytes, tree: FileTree) -> Iterable[Package]:
        return parse_pnpm_lock(path, data, self.name)


CATALOGERS: list[Cataloger] = [PnpmLockCataloger()]
