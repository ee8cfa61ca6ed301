"""Rust crates from Cargo.lock (format v1 with a `[metadata]` checksum table, v2, v3, v4).

- Every `[[package]]` with a `source` (registry, sparse registry, git) is reported, with the
  source and checksum in `extra`. Packages without a `source` are the workspace's own crates
  (members and local `path` dependencies): they are the project itself, not third-party
  code, and are not reported (like a Go main module).
- Cargo.lock records one graph for all dependency kinds. A crate is marked dev when it is
  reachable only through a workspace crate's `[dev-dependencies]` (tests, examples,
  benches), read from the workspace crates' Cargo.toml files in the same tree (the sibling
  Cargo.toml and member manifests below it). `[build-dependencies]` are not dev: they run in
  every release build. Without the manifests nothing is marked dev (Trivy marks none).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable
from typing import Any

from containment.catalog._lockutil import (
    as_dict,
    as_list,
    as_str,
    basename,
    load_toml,
    load_toml_or_none,
    reachable,
)
from containment.catalog.base import Cataloger, FileTree, purl
from containment.model import CatalogError, Package

Node = tuple[str, str, str]  # name, version, source
_MAX_MANIFESTS = 2000


def _parse_dep_ref(ref: str) -> tuple[str, str, str]:
    """`name`, `name version` or `name version (source)` (v1 and ambiguous v2+ entries)."""
    ref = ref.strip()
    source = ""
    if ref.endswith(")") and " (" in ref:
        ref, _, source = ref[:-1].partition(" (")
    parts = ref.split()
    name = parts[0] if parts else ""
    version = parts[1] if len(parts) > 1 else ""
    return name, version, source


def _manifest_deps(manifest: dict[str, Any]) -> tuple[set[str], set[str]]:
    """(normal + build, dev) dependency crate names of one Cargo.toml, targets included."""
    workspace_deps = as_dict(as_dict(manifest.get("workspace")).get("dependencies"))

    def names(table: Any) -> set[str]:
        out: set[str] = set()
        for key, spec in as_dict(table).items():
            spec = as_dict(spec)
            real = as_str(spec.get("package"))
            if not real and spec.get("workspace") is True:
                real = as_str(as_dict(workspace_deps.get(key)).get("package"))
            out.add(real or key)
        return out

    tables = [manifest] + [as_dict(t) for t in as_dict(manifest.get("target")).values()]
    normal: set[str] = set()
    dev: set[str] = set()
    for t in tables:
        normal |= names(t.get("dependencies")) | names(t.get("build-dependencies"))
        normal |= names(t.get("build_dependencies"))
        dev |= names(t.get("dev-dependencies")) | names(t.get("dev_dependencies"))
    return normal, dev


class CargoLockCataloger(Cataloger):
    name = "rust-cargo-lock"
    version = 1
    max_size = 32 * 1024 * 1024

    def wants(self, path: str, mode: int, size: int) -> bool:
        if path.endswith("Cargo.lock"):
            return basename(path) == "Cargo.lock"
        return (
            path.endswith("Cargo.toml") and basename(path) == "Cargo.toml" and "/.cargo/registry/" not in path
        )

    def parse(self, path: str, data: bytes, tree: FileTree) -> Iterable[Package]:
        if basename(path) != "Cargo.lock":
            return []  # manifests are only read beside their lock
        doc = load_toml(path, data)
        if "package" in doc and not isinstance(doc["package"], list):
            raise CatalogError(f"{path}: Cargo.lock `package` is not an array of tables")
        lock_version = doc.get("version")
        checksums = {k: v for k, v in as_dict(doc.get("metadata")).items() if isinstance(v, str)}

        entries: list[tuple[Node, dict[str, Any]]] = []
        for p in as_list(doc.get("package")):
            p = as_dict(p)
            name, version = as_str(p.get("name")), as_str(p.get("version"))
            if name and version:
                entries.append(((name, version, as_str(p.get("source"))), p))
        by_name: dict[str, list[Node]] = {}
        for node, _ in entries:
            by_name.setdefault(node[0], []).append(node)

        def resolve(ref: Any) -> list[Node]:
            # an ambiguous reference (not valid Cargo output) links to every candidate, so that
            # nothing is marked dev on a guess
            if not isinstance(ref, str):
                return []
            name, version, source = _parse_dep_ref(ref)
            cands = [c for c in by_name.get(name, ()) if not version or c[1] == version]
            if source:
                cands = [c for c in cands if c[2] == source] or cands
            return cands

        graph: dict[Node, list[tuple[Node, str]]] = {}
        for node, p in entries:
            graph[node] = [(d, d[0]) for ref in as_list(p.get("dependencies")) for d in resolve(ref)]

        dev_nodes = self._dev_nodes(path, tree, entries, graph)

        out: list[Package] = []
        for node, p in entries:
            name, version, source = node
            if not source:
                continue  # workspace member or local path crate
            checksum = as_str(p.get("checksum"))
            if not checksum:
                checksum = as_str(checksums.get(f"checksum {name} {version} ({source})"))
                if checksum == "<none>":
                    checksum = ""
            try:
                p_url = purl("cargo", name, version)
            except ValueError:
                continue
            extra = {"source": source, "checksum": checksum, "lock_version": lock_version}
            out.append(
                Package(
                    name=name,
                    version=version,
                    type="cargo",
                    purl=p_url,
                    path=path,
                    cataloger=self.name,
                    dev=node in dev_nodes,
                    extra={k: v for k, v in extra.items() if v},
                )
            )
        return out

    def _dev_nodes(
        self,
        path: str,
        tree: FileTree,
        entries: list[tuple[Node, dict[str, Any]]],
        graph: dict[Node, list[tuple[Node, str]]],
    ) -> set[Node]:
        members = [node for node, _ in entries if not node[2]]
        if not members:
            return set()
        # workspace crates' manifests: the sibling Cargo.toml and any Cargo.toml below it
        root = posixpath.dirname(path)
        manifests: dict[str, tuple[set[str], set[str]]] = {}
        candidates = [posixpath.join(root, "Cargo.toml")] if root else ["Cargo.toml"]
        candidates += [p for p in (tree.under(root) if root else tree.paths()) if basename(p) == "Cargo.toml"]
        for mpath in candidates[:_MAX_MANIFESTS]:
            manifest = load_toml_or_none(tree.get(mpath))
            if manifest is None:
                continue
            crate = as_str(as_dict(manifest.get("package")).get("name"))
            if crate and crate not in manifests:
                manifests[crate] = _manifest_deps(manifest)
        if not manifests:
            return set()

        member_set = set(members)

        def edges(node: Node) -> list[Node]:
            deps = graph.get(node, [])
            if node in member_set and node[0] in manifests:
                normal, dev = manifests[node[0]]
                return [d for d, n in deps if n in normal or n not in dev]
            return [d for d, _ in deps]

        main = reachable(members, edges)
        everything = reachable(members, lambda n: [d for d, _ in graph.get(n, [])])
        return everything - main


CATALOGERS: list[Cataloger] = [CargoLockCataloger()]
