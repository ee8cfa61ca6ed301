"""CocoaPods `Podfile.lock`.

YAML with `PODS:` (each entry `"Name (version)"`, or a one-key mapping from that string to
the pod's own dependencies), `DEPENDENCIES`, `SPEC REPOS`, `EXTERNAL SOURCES`,
`CHECKOUT OPTIONS`, `SPEC CHECKSUMS`, `COCOAPODS`.

Subspecs (`Firebase/Core (10.18.0)`, `GoogleUtilities/NSData+zlib (7.12.0)`) are parts of
their root pod, installed from one podspec at one version: as CocoaPods does, they collapse
into one package for the root pod (`Firebase`), with the subspecs used in extra["subspecs"].
(Trivy and syft list each subspec line as its own package; advisories name the root pod.)
Extra also has the spec checksum, the spec repository (`trunk` or a private repo URL) and an
external source (`:path`, `:git`, `:podspec`) when declared. Podfile.lock does not tell
which pods are test-only targets, so dev is never set.
"""

from __future__ import annotations

import re
from typing import Any

from containment.catalog.base import Cataloger, FileTree, purl
from containment.catalog.pubspec_lock import load_yaml
from containment.model import CatalogError, Package

_ENTRY = re.compile(r"^\s*(\S+)\s+\(([^()]+)\)\s*$")


def split_entry(s: str) -> tuple[str, str] | None:
    """`Firebase/Core (10.18.0)` -> (`Firebase/Core`, `10.18.0`); None if not a pod entry."""
    m = _ENTRY.match(s)
    if m is None:
        return None
    name, version = m.group(1), m.group(2).strip()
    if not version or version.startswith("from ") or any(c in version for c in "<>=~ "):
        return None
    return name, version


class PodfileLockCataloger(Cataloger):
    name = "cocoapods-podfile-lock"
    version = 1
    max_size = 8 * 1024 * 1024

    def wants(self, path: str, mode: int, size: int) -> bool:
        return path.endswith("Podfile.lock") and (path == "Podfile.lock" or path.endswith("/Podfile.lock"))

    def parse(self, path: str, data: bytes, tree: FileTree) -> list[Package]:
        doc = load_yaml(path, data, "Podfile.lock")
        if not isinstance(doc, dict) or not isinstance(doc.get("PODS"), list):
            raise CatalogError(f"{path}: Podfile.lock has no PODS list")
        pods: dict[tuple[str, str], list[str]] = {}  # (root, version) -> subspecs
        for item in doc["PODS"]:
            if isinstance(item, dict) and len(item) == 1:
                item = next(iter(item))
            if not isinstance(item, str):
                continue
            parsed = split_entry(item)
            if parsed is None:
                continue
            full, version = parsed
            root, _, sub = full.partition("/")
            if not root:
                continue
            subs = pods.setdefault((root, version), [])
            if sub and sub not in subs:
                subs.append(sub)

        def section(key: str) -> dict[Any, Any]:
            v = doc.get(key)
            return v if isinstance(v, dict) else {}

        checksums = section("SPEC CHECKSUMS")
        external = section("EXTERNAL SOURCES")
        repos: dict[str, str] = {}
        for repo, names in section("SPEC REPOS").items():
            if isinstance(repo, str) and isinstance(names, list):
                for n in names:
                    if isinstance(n, str):
                        repos.setdefault(n, repo)

        out: list[Package] = []
        for (root, version), subs in pods.items():
            extra: dict[str, Any] = {}
            if subs:
                extra["subspecs"] = subs
            if isinstance(checksums.get(root), str):
                extra["checksum"] = checksums[root]
            if root in repos:
                extra["spec_repo"] = repos[root]
            src = external.get(root)
            if isinstance(src, dict):
                extra["external_source"] = {
                    str(k).lstrip(":"): v for k, v in src.items() if isinstance(v, (str, int, float))
                }
            try:
                p = purl("cocoapods", root, version)
            except ValueError:
                continue
            out.append(
                Package(
                    name=root,
                    version=version,
                    type="cocoapods",
                    purl=p,
                    path=path,
                    cataloger=self.name,
                    extra=extra,
                )
            )
        return out


CATALOGERS: list[Cataloger] = [PodfileLockCataloger()]
