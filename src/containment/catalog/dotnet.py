"""NuGet packages of a built .NET application: its `<app>.deps.json`.

`dotnet build/publish` writes `<app>.deps.json` beside the app: `libraries` lists every
library of the dependency graph, keyed `Name/Version`, each with a `type`:
- `package`: a NuGet package -> reported;
- `runtimepack`: the .NET runtime packed into a self-contained app, keyed
  `runtimepack.Microsoft.NETCore.App.Runtime.linux-x64/8.0.1` -> reported as the NuGet
  package it comes from (`Microsoft.NETCore.App.Runtime.linux-x64`), which advisories name;
- `project` (the app and its project references) and `reference` (plain assembly
  references) are not NuGet packages -> skipped.

`targets[<runtimeTarget.name>]` lists, for the framework/RID the app runs on, the assets
each library deploys (`runtime`, `native`, `runtimeTargets`, `resources`). A package
with none of them (meta-packages such as NETStandard.Library, analyzers, reference packs)
or flagged `compileOnly` ships no code into the app. Such packages are still reported (the
dependency graph names them), with `extra["runtime"] = False`; packages that deploy
assets get `extra["runtime"] = True`; with no usable `targets` the key is absent.
deps.json has no notion of development dependencies, so nothing is marked `dev`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from containment.catalog.base import Cataloger, FileTree, purl
from containment.model import CatalogError, Package

_SUFFIX = ".deps.json"
_REPORTED = frozenset({"package", "runtimepack"})
_RUNTIMEPACK = "runtimepack."
_ASSETS = ("runtime", "native", "runtimeTargets", "resources")


def _runtime_target(doc: dict[str, Any]) -> dict[str, Any] | None:
    """The `targets` entry of the runtime target (the framework[/RID] the app runs on)."""
    targets = doc.get("targets")
    if not isinstance(targets, dict) or not targets:
        return None
    rt = doc.get("runtimeTarget")
    name = rt.get("name") if isinstance(rt, dict) else rt  # very old files: a plain string
    if isinstance(name, str) and isinstance(targets.get(name), dict):
        return targets[name]
    candidates = [v for v in targets.values() if isinstance(v, dict)]
    if len(candidates) == 1:
        return candidates[0]
    with_rid = [v for k, v in targets.items() if isinstance(v, dict) and "/" in k]
    return with_rid[0] if len(with_rid) == 1 else None


def _deploys(entry: Any) -> bool:
    if not isinstance(entry, dict) or entry.get("compileOnly") is True:
        return False
    return any(isinstance(entry.get(k), dict) and entry[k] for k in _ASSETS)


class DotnetDepsCataloger(Cataloger):
    """NuGet packages (and bundled runtime packs) listed in .NET `*.deps.json` files."""

    name = "dotnet-deps"
    version = 1

    def wants(self, path: str, mode: int, size: int) -> bool:
        return path.endswith(_SUFFIX)

    def parse(self, path: str, data: bytes, tree: FileTree) -> Iterable[Package]:
        try:
            doc = json.loads(data)
        except (ValueError, RecursionError) as e:
            raise CatalogError(f"{path}: not valid JSON ({e})") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("libraries"), dict):
            raise CatalogError(f"{path}: not a .NET deps.json (no libraries object)")
        target = _runtime_target(doc)
        out: list[Package] = []
        for key, lib in doc["libraries"].items():
            if not isinstance(lib, dict):
                continue
            kind = lib.get("type")
            if kind not in _REPORTED:
                continue
            name, sep, version = key.partition("/")
            name, version = name.strip(), version.strip()
            if kind == "runtimepack" and name.startswith(_RUNTIMEPACK):
                name = name[len(_RUNTIMEPACK) :]
            if not sep or not name or not version:
                continue
            try:
                package_url = purl("nuget", name, version)
            except (ValueError, TypeError):
                continue  # a name no registry would accept
            extra: dict[str, Any] = {"library_type": kind}
            if target is not None:
                extra["runtime"] = _deploys(target.get(key))
            sha = lib.get("sha512")
            if isinstance(sha, str) and sha.startswith("sha512-") and len(sha) < 200:
                extra["sha512"] = sha
            nuget_path = lib.get("path")
            if isinstance(nuget_path, str) and nuget_path and len(nuget_path) < 512:
                extra["nuget_path"] = nuget_path
            out.append(
                Package(
                    name=name,
                    version=version,
                    type="nuget",
                    purl=package_url,
                    path=path,
                    cataloger=self.name,
                    extra=extra,
                )
            )
        return out


CATALOGERS: list[Cataloger] = [DotnetDepsCataloger()]
