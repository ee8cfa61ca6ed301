"""sbt lock files written by sbt-dependency-lock (`build.sbt.lock`, any `*.sbt.lock`).

JSON: `{"lockVersion": 1, "configurations": [...], "dependencies": [{"org", "name", "version",
"artifacts": [{"name", "hash"}], "configurations": ["compile", "runtime", "test", ...]}]}`.
Names carry the Scala binary suffix as published (`cats-core_2.13`), which is the Maven
artifactId (Package.name; the org is the purl namespace and extra["group_id"]). A dependency locked only for test configurations (`test`, `it`, or names
containing `test`) is dev=True.
"""

from __future__ import annotations

import json
from typing import Any

from containment.catalog.base import Cataloger, FileTree, purl
from containment.model import CatalogError, Package


def _is_test_conf(conf: str) -> bool:
    c = conf.lower()
    return c in ("test", "it") or "test" in c


class SbtLockCataloger(Cataloger):
    name = "sbt-lockfile"
    version = 1
    max_size = 16 * 1024 * 1024

    def wants(self, path: str, mode: int, size: int) -> bool:
        return path.endswith(".sbt.lock")

    def parse(self, path: str, data: bytes, tree: FileTree) -> list[Package]:
        try:
            doc = json.loads(data)
        except (ValueError, RecursionError) as e:
            raise CatalogError(f"{path}: sbt lock file is not valid JSON ({e})") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("dependencies"), list):
            raise CatalogError(f"{path}: sbt lock file has no dependencies list")
        out: list[Package] = []
        seen: set[tuple[str, str, str]] = set()
        for dep in doc["dependencies"]:
            if not isinstance(dep, dict):
                continue
            org, name, version = dep.get("org"), dep.get("name"), dep.get("version")
            if not all(isinstance(x, str) and x for x in (org, name, version)):
                continue
            assert isinstance(org, str) and isinstance(name, str) and isinstance(version, str)
            if (org, name, version) in seen:
                continue
            seen.add((org, name, version))
            confs_raw = dep.get("configurations")
            confs = (
                sorted({c for c in confs_raw if isinstance(c, str)}) if isinstance(confs_raw, list) else []
            )
            extra: dict[str, Any] = {"group_id": org}
            if confs:
                extra["configurations"] = confs
            out.append(
                Package(
                    name=name,
                    version=version,
                    type="maven",
                    purl=purl("maven", name, version, namespace=org),
                    path=path,
                    cataloger=self.name,
                    dev=bool(confs) and all(_is_test_conf(c) for c in confs),
                    extra=extra,
                )
            )
        return out


CATALOGERS: list[Cataloger] = [SbtLockCataloger()]
