"""SwiftPM `Package.resolved` (also Xcode's `*.xcworkspace/xcshareddata/swiftpm/Package.resolved`).

- v1: `{"object": {"pins": [{"package", "repositoryURL", "state": {"branch", "revision",
  "version"}}]}, "version": 1}`
- v2 / v3: `{"pins": [{"identity", "kind", "location", "state": {...}}], "version": 2|3}`
  (v3 adds `originHash`).

Package identity follows the purl spec for swift: namespace = source host and owner path
(`github.com/apple`), name = repository without `.git`; Package.name is the full
`github.com/apple/swift-nio` (as Trivy and the OSV SwiftURL ecosystem name it). scp-style
(`git@github.com:apple/swift-nio.git`) and `ssh://` URLs normalise to the same. A local
repository (kind `localSourceControl`, or a location without a host) keeps only the name.

Pins without `state.version` (pinned to a branch or a bare revision) are reported with an
empty version and the branch / revision in extra: a branch name or commit is not a version
that advisories can be compared against (syft also leaves the version empty; Trivy uses the
branch name as the version).
"""

from __future__ import annotations

import json
import re
from typing import Any

from containment.catalog.base import Cataloger, FileTree, purl
from containment.model import CatalogError, Package

_SCP = re.compile(r"^(?:[\w.\-]+@)?([\w.\-]+):(?!//)(.+)$")


def split_location(location: str) -> tuple[str, str]:
    """(namespace, name) of a package location: `https://github.com/a/b.git` -> (`github.com/a`, `b`)."""
    loc = location.strip()
    host = ""
    if "://" in loc:
        scheme, _, rest = loc.partition("://")
        if scheme.lower() == "file":
            path = rest
        else:
            netloc, _, path = rest.partition("/")
            host = netloc.rsplit("@", 1)[-1].split(":", 1)[0].lower()
    elif not loc.startswith(("/", ".", "~")) and (m := _SCP.match(loc)):
        host, path = m.group(1).lower(), m.group(2)
    else:
        path = loc
    path = path.split("?", 1)[0].split("#", 1)[0].strip("/")
    if path.endswith(".git"):
        path = path[:-4]
    parts = [p for p in path.split("/") if p]
    if not parts:
        return "", ""
    name = parts[-1]
    if not host:
        return "", name
    return "/".join([host, *parts[:-1]]), name


class SwiftPackageResolvedCataloger(Cataloger):
    name = "swift-package-resolved"
    version = 1
    max_size = 8 * 1024 * 1024

    def wants(self, path: str, mode: int, size: int) -> bool:
        return path.endswith("Package.resolved") and (
            path == "Package.resolved" or path.endswith("/Package.resolved")
        )

    def parse(self, path: str, data: bytes, tree: FileTree) -> list[Package]:
        try:
            doc = json.loads(data)
        except (ValueError, RecursionError) as e:
            raise CatalogError(f"{path}: Package.resolved is not valid JSON ({e})") from None
        if not isinstance(doc, dict):
            raise CatalogError(f"{path}: Package.resolved is not a JSON object")
        obj = doc.get("object")
        pins = obj.get("pins") if isinstance(obj, dict) else doc.get("pins")
        if not isinstance(pins, list):
            raise CatalogError(f"{path}: Package.resolved has no pins list")
        out: list[Package] = []
        seen: set[tuple[str, str, str]] = set()
        for pin in pins:
            if not isinstance(pin, dict):
                continue
            location = pin.get("location", pin.get("repositoryURL"))
            identity = pin.get("identity", pin.get("package"))
            state = pin.get("state")
            if not isinstance(location, str) or not isinstance(state, dict):
                continue
            namespace, name = split_location(location)
            if pin.get("kind") in ("localSourceControl", "fileSystem"):
                namespace = ""
            if not name:
                continue
            version = state.get("version")
            version = version.strip() if isinstance(version, str) else ""
            if (namespace, name, version) in seen:
                continue
            seen.add((namespace, name, version))
            extra: dict[str, Any] = {"location": location}
            if isinstance(identity, str) and identity:
                extra["identity"] = identity
            for k in ("branch", "revision"):
                if isinstance(state.get(k), str) and state[k]:
                    extra[k] = state[k]
            if isinstance(pin.get("kind"), str):
                extra["kind"] = pin["kind"]
            out.append(
                Package(
                    name=f"{namespace}/{name}" if namespace else name,
                    version=version,
                    type="swift",
                    purl=purl("swift", name, version, namespace=namespace or None),
                    path=path,
                    cataloger=self.name,
                    extra=extra,
                )
            )
        return out


CATALOGERS: list[Cataloger] = [SwiftPackageResolvedCataloger()]
