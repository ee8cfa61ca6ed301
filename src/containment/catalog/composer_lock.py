"""PHP packages from composer.lock.

- `packages` are runtime dependencies; `packages-dev` are dev (a name in both counts once,
  as runtime).
- Names are `vendor/package` (purl namespace `vendor`, name `package`).
- Versions are reported exactly as the lock gives them (`v6.4.3`, `1.2.3`, `dev-main`,
  `2.x-dev`), as Composer itself displays them and as Trivy and syft report them. Composer's
  own comparison ignores a leading `v`; `extra["normalized_version"]` holds the version without
  it (and `version_normalized` when the lock has one) for matching.
- Licenses come from `license` (a list of SPDX expressions, or a single string in old locks).
- Platform requirements (`php`, `ext-*`) are not packages and never appear in these lists.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from containment.catalog._lockutil import as_dict, as_list, as_str, basename, load_json
from containment.catalog.base import Cataloger, FileTree, purl
from containment.model import CatalogError, Package


def _licenses(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    return tuple(v.strip() for v in as_list(value) if isinstance(v, str) and v.strip())


class ComposerLockCataloger(Cataloger):
    name = "php-composer-lock"
    version = 1
    max_size = 32 * 1024 * 1024

    def wants(self, path: str, mode: int, size: int) -> bool:
        return path.endswith("composer.lock") and basename(path) == "composer.lock"

    def parse(self, path: str, data: bytes, tree: FileTree) -> Iterable[Package]:
        doc = load_json(path, data)
        if not isinstance(doc, dict):
            raise CatalogError(f"{path}: composer.lock is not a JSON object")
        out: list[Package] = []
        seen: set[str] = set()
        for section, dev in (("packages", False), ("packages-dev", True)):
            for entry in as_list(doc.get(section)):
                entry = as_dict(entry)
                full, version = as_str(entry.get("name")).strip(), as_str(entry.get("version")).strip()
                if not full or not version or full.lower() in seen:
                    continue
                vendor, _, name = full.rpartition("/")
                if not name:
                    continue
                try:
                    p_url = purl("composer", name, version, namespace=vendor)
                except ValueError:
                    continue
                seen.add(full.lower())
                source = as_dict(entry.get("source"))
                dist = as_dict(entry.get("dist"))
                extra = {
                    "normalized_version": version[1:]
                    if version[:1] in "vV" and version[1:2].isdigit()
                    else "",
                    "version_normalized": as_str(entry.get("version_normalized")),
                    "package_type": as_str(entry.get("type")),
                    "source_url": as_str(source.get("url")),
                    "source_reference": as_str(source.get("reference")),
                    "dist_url": as_str(dist.get("url")),
                }
                out.append(
                    Package(
                        name=full,
                        version=version,
                        type="composer",
                        purl=p_url,
                        path=path,
                        cataloger=self.name,
                        licenses=_licenses(entry.get("license")),
                        dev=dev,
                        extra={k: v for k, v in extra.items() if v},
                    )
                )
        return out


CATALOGERS: list[Cataloger] = [ComposerLockCataloger()]
