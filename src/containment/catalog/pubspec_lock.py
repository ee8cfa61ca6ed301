"""Dart / Flutter `pubspec.lock`.

YAML: `packages: {name: {dependency, description, source, version}}` and `sdks:`.
- `source: sdk` packages (flutter, flutter_test, sky_engine, ...) ship with the SDK and are
  skipped, as Trivy and syft do.
- `source: hosted` (pub.dev or a custom server: extra hosted_url when not pub.dev), `git`
  (extra url/resolved_ref), `path` are reported.
- `dependency: "direct dev"` -> dev=True. The lock does not record what is reachable from
  which direct dependency, so transitive dependencies of dev-only packages are not marked
  (Trivy does the same without a pub cache).
- `dependency` is kept in extra ("direct main", "direct dev", "transitive", "direct overridden").
"""

from __future__ import annotations

from typing import Any

import yaml

from containment.catalog.base import Cataloger, FileTree, purl
from containment.model import CatalogError, Package

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_PUB_HOSTS = ("https://pub.dev", "https://pub.dartlang.org", "https://pub.dev/", "https://pub.dartlang.org/")


def load_yaml(path: str, data: bytes, what: str) -> Any:
    """yaml.safe_load, every failure (including deep nesting) as CatalogError."""
    try:
        return yaml.load(data, Loader=_Loader)  # noqa: S506 - a safe loader
    except (yaml.YAMLError, RecursionError, ValueError, TypeError) as e:
        raise CatalogError(f"{path}: {what} is not valid YAML ({type(e).__name__})") from None


class PubspecLockCataloger(Cataloger):
    name = "dart-pubspec-lock"
    version = 1
    max_size = 8 * 1024 * 1024

    def wants(self, path: str, mode: int, size: int) -> bool:
        return path.endswith("pubspec.lock") and (path == "pubspec.lock" or path.endswith("/pubspec.lock"))

    def parse(self, path: str, data: bytes, tree: FileTree) -> list[Package]:
        doc = load_yaml(path, data, "pubspec.lock")
        if not isinstance(doc, dict):
            raise CatalogError(f"{path}: pubspec.lock is not a YAML mapping")
        pkgs = doc.get("packages")
        if pkgs is None:
            return []  # a project without dependencies: `packages: {}` or no key at all
        if not isinstance(pkgs, dict):
            raise CatalogError(f"{path}: pubspec.lock 'packages' is not a mapping")
        out: list[Package] = []
        for name, info in pkgs.items():
            if not isinstance(name, str) or not name or not isinstance(info, dict):
                continue
            source = info.get("source")
            if source == "sdk":
                continue
            version = info.get("version")
            if isinstance(version, (int, float)) and not isinstance(version, bool):
                version = str(version)
            if not isinstance(version, str) or not version.strip():
                continue
            version = version.strip()
            dependency = info.get("dependency")
            extra: dict[str, Any] = {}
            if isinstance(dependency, str):
                extra["dependency"] = dependency
            if isinstance(source, str):
                extra["source"] = source
            desc = info.get("description")
            qualifiers: dict[str, str] = {}
            if isinstance(desc, dict):
                url = desc.get("url")
                if source == "hosted" and isinstance(url, str) and url and url not in _PUB_HOSTS:
                    extra["hosted_url"] = url
                    qualifiers["repository_url"] = url
                if source == "git":
                    if isinstance(url, str):
                        extra["url"] = url
                    ref = desc.get("resolved-ref")
                    if isinstance(ref, str):
                        extra["resolved_ref"] = ref
                if source == "path" and isinstance(desc.get("path"), str):
                    extra["local_path"] = desc["path"]
            out.append(
                Package(
                    name=name,
                    version=version,
                    type="pub",
                    purl=purl("pub", name, version, qualifiers=qualifiers),
                    path=path,
                    cataloger=self.name,
                    dev=dependency == "direct dev",
                    extra=extra,
                )
            )
        return out


CATALOGERS: list[Cataloger] = [PubspecLockCataloger()]
