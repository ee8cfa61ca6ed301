"""Installed PHP packages: Composer's `<vendor-dir>/composer/installed.json`.

Composer writes the list of packages it installed into `vendor/composer/installed.json`
(the vendor dir can be renamed with `config.vendor-dir`, but Composer's own files always
sit in its `composer/` subdirectory). Two shapes:
- Composer 1: a JSON array of package objects;
- Composer 2: `{"packages": [...], "dev": bool, "dev-package-names": [...]}`; the packages
  named in `dev-package-names` were installed only for development (`require-dev` and its
  dependencies) and are marked `dev`. Composer 1 does not record this.

`version` is kept as Composer shows it (`v5.4.3`, `1.2.3`, `dev-main`); `version_normalized`
(`5.4.3.0`) is Composer's internal form. For branch versions the source commit is kept in
`extra["reference"]`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from containment.catalog.base import Cataloger, FileTree, purl
from containment.model import CatalogError, Package

_TAIL = "composer/installed.json"


def _licenses(value: Any) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value if isinstance(value, list) else []
    return tuple(dict.fromkeys(v.strip() for v in items if isinstance(v, str) and v.strip()))


class ComposerInstalledCataloger(Cataloger):
    """Packages Composer installed into a vendor directory (Composer 1 and 2)."""

    name = "php-composer-installed"
    version = 1

    def wants(self, path: str, mode: int, size: int) -> bool:
        return path.endswith(_TAIL) and (len(path) == len(_TAIL) or path[-len(_TAIL) - 1] == "/")

    def parse(self, path: str, data: bytes, tree: FileTree) -> Iterable[Package]:
        try:
            doc = json.loads(data)
        except (ValueError, RecursionError) as e:
            raise CatalogError(f"{path}: not valid JSON ({e})") from None
        dev_names: frozenset[str] = frozenset()
        if isinstance(doc, list):  # Composer 1
            entries: list[Any] = doc
            fmt = 1
        elif isinstance(doc, dict) and isinstance(doc.get("packages"), list):  # Composer 2
            entries = doc["packages"]
            fmt = 2
            names = doc.get("dev-package-names")
            if isinstance(names, list):
                dev_names = frozenset(n.lower() for n in names if isinstance(n, str))
        else:
            raise CatalogError(f"{path}: not a Composer installed.json (no package list)")
        out: list[Package] = []
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            name, version = entry.get("name"), entry.get("version")
            if not isinstance(name, str) or not isinstance(version, str):
                continue
            name, version = name.strip(), version.strip()
            if not name or not version:
                continue
            vendor, sep, short = name.rpartition("/")
            if sep and (not short.strip() or not vendor.strip()):
                continue
            try:
                package_url = purl("composer", short, version, namespace=vendor or None)
            except (ValueError, TypeError):
                continue  # a name no registry would accept
            extra: dict[str, Any] = {"composer_format": fmt}
            kind = entry.get("type")
            if isinstance(kind, str) and kind:
                extra["package_type"] = kind
            source = entry.get("source")
            if isinstance(source, dict) and isinstance(source.get("reference"), str) and source["reference"]:
                extra["reference"] = source["reference"][:100]
            out.append(
                Package(
                    name=name,
                    version=version,
                    type="composer",
                    purl=package_url,
                    path=path,
                    cataloger=self.name,
                    licenses=_licenses(entry.get("license")),
                    dev=name.lower() in dev_names,
                    extra=extra,
                )
            )
        return out


CATALOGERS: list[Cataloger] = [ComposerInstalledCataloger()]
