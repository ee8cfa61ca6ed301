"""Gradle dependency lock files.

Packages are Maven artifacts: name = artifactId, purl namespace and extra["group_id"] = group.

- Gradle >= 6: one `gradle.lockfile` per project (also `buildscript-gradle.lockfile` and any
  `*gradle.lockfile`), lines `group:artifact:version=conf1,conf2`, `empty=conf,...` for
  configurations that resolved nothing, `#` comments.
- Gradle 4.8-5.x: one file per configuration, `gradle/dependency-locks/<configuration>.lockfile`,
  lines `group:artifact:version`.

A dependency is dev=True when every configuration it is locked for is a test configuration
(`test...`, or `...Test...` such as `integrationTestRuntimeClasspath`, Android's
`debugUnitTestRuntimeClasspath` / `debugAndroidTestRuntimeClasspath`); this is how Trivy
tells test-only dependencies apart.
"""

from __future__ import annotations

import posixpath
from typing import Any

from containment.catalog.base import Cataloger, FileTree, purl
from containment.model import CatalogError, Package

_PER_CONF_DIR = "gradle/dependency-locks/"


def _is_test_conf(conf: str) -> bool:
    return conf.startswith("test") or "Test" in conf


class GradleLockCataloger(Cataloger):
    name = "gradle-lockfile"
    version = 1
    max_size = 16 * 1024 * 1024

    def wants(self, path: str, mode: int, size: int) -> bool:
        if not path.endswith(".lockfile"):
            return False
        return path.endswith("gradle.lockfile") or _PER_CONF_DIR in path

    def parse(self, path: str, data: bytes, tree: FileTree) -> list[Package]:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise CatalogError(f"{path}: Gradle lockfile is not UTF-8 text") from None
        base = posixpath.basename(path)
        per_conf = not base.endswith("gradle.lockfile")
        file_conf = base[: -len(".lockfile")] if per_conf else ""
        out: list[Package] = []
        index: dict[tuple[str, str, str], int] = {}
        bad = 0
        recognized = 0
        for line in text.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            coords, sep, confs_s = line.partition("=")
            if coords == "empty":
                recognized += 1
                continue
            confs = [c.strip() for c in confs_s.split(",") if c.strip()] if sep else []
            if per_conf and file_conf:
                confs = confs or [file_conf]
            parts = coords.strip().split(":")
            if len(parts) != 3 or not all(parts) or any(c.isspace() for c in coords.strip()):
                bad += 1
                continue
            group, artifact, version = parts
            recognized += 1
            key = (group, artifact, version)
            if key in index:  # the same coordinates twice: merge configurations
                old = out[index[key]]
                merged = sorted(set(old.extra.get("configurations", ())) | set(confs))
                out[index[key]] = self._package(path, group, artifact, version, merged)
                continue
            index[key] = len(out)
            out.append(self._package(path, group, artifact, version, sorted(set(confs))))
        if bad and not recognized:
            raise CatalogError(f"{path}: no Gradle lock entries (group:artifact:version=...) found")
        return out

    def _package(self, path: str, group: str, artifact: str, version: str, confs: list[str]) -> Package:
        extra: dict[str, Any] = {"group_id": group}
        if confs:
            extra["configurations"] = confs
        return Package(
            name=artifact,
            version=version,
            type="maven",
            purl=purl("maven", artifact, version, namespace=group),
            path=path,
            cataloger=self.name,
            dev=bool(confs) and all(_is_test_conf(c) for c in confs),
            extra=extra,
        )


CATALOGERS: list[Cataloger] = [GradleLockCataloger()]
