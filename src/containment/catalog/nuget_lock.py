"""NuGet: `packages.lock.json`, central package management props, `packages.config`.

- `packages.lock.json` (`"version": 1|2`): `dependencies` -> target framework (`net8.0`,
  `net8.0/linux-x64` for a runtime identifier) -> package -> `{type, requested, resolved,
  contentHash, dependencies}`. Types Direct, Transitive and CentralTransitive are packages;
  Project (another project of the solution) is skipped. One package per name@version
  across frameworks (extra lists the frameworks).
- `Directory.Packages.props` / `Packages.props`: `<PackageVersion Include= Version=>` (central
  package management), `<GlobalPackageReference>`, and the older `<PackageReference
  Update= Version=>` of Microsoft.Build.CentralPackageVersions. `$(Prop)` versions are taken
  from the file's own `<PropertyGroup>`; items whose version cannot be resolved, or that are
  version ranges (`[1.0,2.0)`), are skipped (Trivy skips them too). These files declare
  versions; whether a project uses each is not known from the file (extra central=True).
- `packages.config`: `<package id= version= developmentDependency="true">` (-> dev).

NuGet package ids are case-insensitive; names are kept as written.
"""

from __future__ import annotations

import json
import re
from typing import Any
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as DET

from containment.catalog.base import Cataloger, FileTree, purl
from containment.model import CatalogError, Package

_PROP = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_.\-]*)\)")


def _pkg(name: str, version: str, path: str, cataloger: str, dev: bool, extra: dict[str, Any]) -> Package:
    return Package(
        name=name,
        version=version,
        type="nuget",
        purl=purl("nuget", name, version),
        path=path,
        cataloger=cataloger,
        dev=dev,
        extra=extra,
    )


def _valid_id(s: object) -> bool:
    return isinstance(s, str) and bool(s) and not any(c.isspace() or c in "/\\" for c in s)


class NugetLockCataloger(Cataloger):
    name = "nuget-packages-lock"
    version = 1
    max_size = 32 * 1024 * 1024

    def wants(self, path: str, mode: int, size: int) -> bool:
        return path.endswith("packages.lock.json") and (
            path == "packages.lock.json" or path.endswith("/packages.lock.json")
        )

    def parse(self, path: str, data: bytes, tree: FileTree) -> list[Package]:
        try:
            doc = json.loads(data.decode("utf-8-sig"))
        except (ValueError, RecursionError) as e:
            raise CatalogError(f"{path}: packages.lock.json is not valid JSON ({e})") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("dependencies"), dict):
            raise CatalogError(f"{path}: packages.lock.json has no 'dependencies' object")
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for framework, pkgs in doc["dependencies"].items():
            if not isinstance(pkgs, dict):
                continue
            for name, info in pkgs.items():
                if not isinstance(info, dict) or not _valid_id(name):
                    continue
                kind = info.get("type")
                if kind == "Project":
                    continue
                version = info.get("resolved")
                if not isinstance(version, str) or not version.strip():
                    continue
                version = version.strip()
                entry = found.setdefault((name, version), {"frameworks": [], "direct": False})
                if framework not in entry["frameworks"]:
                    entry["frameworks"].append(str(framework))
                if kind == "Direct":
                    entry["direct"] = True
                    req = info.get("requested")
                    if isinstance(req, str):
                        entry["requested"] = req
        return [_pkg(n, v, path, self.name, False, extra) for (n, v), extra in found.items()]


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _xml(path: str, data: bytes, what: str) -> Element:
    try:
        return DET.fromstring(data)
    except Exception as e:  # ParseError, entity/DTD refusal, bad encoding
        raise CatalogError(f"{path}: not a readable {what} ({type(e).__name__}: {e})") from None


class NugetCentralPackagesCataloger(Cataloger):
    name = "nuget-central-packages"
    version = 1
    max_size = 8 * 1024 * 1024

    def wants(self, path: str, mode: int, size: int) -> bool:
        if not path.endswith("ackages.props"):
            return False
        base = path.rsplit("/", 1)[-1]
        return base in ("Directory.Packages.props", "Packages.props")

    def parse(self, path: str, data: bytes, tree: FileTree) -> list[Package]:
        root = _xml(path, data, "MSBuild props file")
        if _local(root.tag) != "Project":
            raise CatalogError(f"{path}: not an MSBuild project file (root is not <Project>)")
        props: dict[str, str] = {}
        for group in root:
            if _local(group.tag) == "PropertyGroup":
                for p in group:
                    k = _local(p.tag)
                    if k:
                        props[k] = (p.text or "").strip()

        def expand(s: str) -> str:
            for _ in range(8):  # nested $(A) -> $(B) -> value, bounded
                if "$(" not in s:
                    break
                s = _PROP.sub(lambda m: props.get(m.group(1), m.group(0)), s)
                if len(s) > 256:
                    break
            return s

        out: list[Package] = []
        seen: set[tuple[str, str]] = set()
        for group in root:
            if _local(group.tag) != "ItemGroup":
                continue
            for item in group:
                tag = _local(item.tag)
                if tag not in ("PackageVersion", "GlobalPackageReference", "PackageReference"):
                    continue
                name = (item.get("Include") or item.get("Update") or "").strip()
                raw = item.get("Version")
                if raw is None:
                    v_el = next((c for c in item if _local(c.tag) == "Version"), None)
                    raw = (v_el.text or "") if v_el is not None else ""
                version = expand(raw.strip())
                if (
                    not _valid_id(name)
                    or not version
                    or "$(" in version
                    or version[0] in "[("
                    or "*" in version
                ):
                    continue
                if (name, version) in seen:
                    continue
                seen.add((name, version))
                extra: dict[str, Any] = {"central": True}
                if tag == "GlobalPackageReference":
                    extra["global"] = True
                out.append(_pkg(name, version, path, self.name, False, extra))
        return out


class NugetPackagesConfigCataloger(Cataloger):
    name = "nuget-packages-config"
    version = 1
    max_size = 8 * 1024 * 1024

    def wants(self, path: str, mode: int, size: int) -> bool:
        return path.endswith("packages.config") and (
            path == "packages.config" or path.endswith("/packages.config")
        )

    def parse(self, path: str, data: bytes, tree: FileTree) -> list[Package]:
        root = _xml(path, data, "packages.config")
        if _local(root.tag) != "packages":
            raise CatalogError(f"{path}: not a NuGet packages.config (root is not <packages>)")
        out: list[Package] = []
        for el in root:
            if _local(el.tag) != "package":
                continue
            name = (el.get("id") or "").strip()
            version = (el.get("version") or "").strip()
            if not _valid_id(name) or not version:
                continue
            extra: dict[str, Any] = {}
            tfm = el.get("targetFramework")
            if tfm:
                extra["target_framework"] = tfm
            dev = (el.get("developmentDependency") or "").strip().lower() == "true"
            out.append(_pkg(name, version, path, self.name, dev, extra))
        return out


CATALOGERS: list[Cataloger] = [
    NugetLockCataloger(),
    NugetCentralPackagesCataloger(),
    NugetPackagesConfigCataloger(),
]
