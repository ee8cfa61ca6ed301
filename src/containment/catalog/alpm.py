"""Arch Linux (and other libalpm/pacman users: Manjaro, Artix, MSYS2) installed packages.

pacman's local database is a directory per installed package,
`var/lib/pacman/local/<name>-<version>/`, holding `desc` (the package's fields), `files` and a
gzipped `mtree`; `var/lib/pacman/local/ALPM_DB_VERSION` holds the schema number (9). Only `desc`
is read. Its format (libalpm be_local.c `local_database_read`): a `%FIELD%` line, then one value
per line until a blank line; lists (LICENSE, DEPENDS, PROVIDES, ...) are several value lines.
Fields used: NAME, VERSION (`[epoch:]pkgver-pkgrel`), BASE (the pkgbase the package was built
from, the "source package"), ARCH, LICENSE, URL, PACKAGER, SIZE, BUILDDATE, INSTALLDATE, REASON
(1 = installed as a dependency).

purl (purl-spec `alpm`): `pkg:alpm/<name>@<version>?arch=<arch>&upstream=<base>` (upstream only
when the base differs from the name, as for apk); the inventory adds the namespace (the OS id:
`arch`, `manjaro`, ...) and `distro=`, as for the other OS package types. OSV publishes no Arch
Linux advisories (containment.ecosystems says so), so these are inventoried, not matched.
"""

from __future__ import annotations

from collections.abc import Iterable

from containment.catalog.base import Cataloger, FileTree, MiB, purl
from containment.model import CatalogError, Package

DB_DIR = "var/lib/pacman/local/"
_MAX_FIELD = 4096
_MAX_VALUES = 1024
_LISTS = frozenset({"LICENSE"})


def parse_desc(text: str) -> dict[str, list[str]]:
    """`%FIELD%` sections of a pacman desc file -> {FIELD: [values]} (first section wins)."""
    out: dict[str, list[str]] = {}
    cur: list[str] | None = None
    for raw in text.split("\n"):
        line = raw.rstrip("\r")
        if not line.strip():
            cur = None
            continue
        if len(line) > 2 and line[0] == "%" and line[-1] == "%" and " " not in line:
            key = line[1:-1]
            if key in out:
                cur = None  # a repeated field: the first one wins
                continue
            cur = out.setdefault(key, [])
            continue
        if cur is not None and len(cur) < _MAX_VALUES:
            cur.append(line.strip()[:_MAX_FIELD])
    return out


def _valid(s: str) -> bool:
    return bool(s) and len(s) <= 256 and not any(c.isspace() or c == "/" for c in s)


def _int(values: list[str] | None) -> int | None:
    v = values[0] if values else ""
    return int(v) if 0 < len(v) <= 18 and v.isascii() and v.isdigit() else None


class AlpmDBCataloger(Cataloger):
    name = "alpm-db"
    version = 1
    max_size = 4 * MiB

    def wants(self, path: str, mode: int, size: int) -> bool:
        if not path.startswith(DB_DIR) or not path.endswith("/desc"):
            return False
        return path.count("/", len(DB_DIR)) == 1  # var/lib/pacman/local/<dir>/desc

    def parse(self, path: str, data: bytes, tree: FileTree) -> Iterable[Package]:
        if b"\x00" in data[:65536]:
            raise CatalogError(f"{path}: binary data, not a pacman desc file")
        fields = parse_desc(data.decode("utf-8", "replace"))
        name = (fields.get("NAME") or [""])[0]
        version = (fields.get("VERSION") or [""])[0]
        if not fields:
            raise CatalogError(f"{path}: no %FIELD% sections (not a pacman local database desc)")
        if not _valid(name) or not _valid(version):
            return []
        base = (fields.get("BASE") or [""])[0]
        if not _valid(base):
            base = ""
        arch = (fields.get("ARCH") or [""])[0]
        if not _valid(arch):
            arch = ""
        qualifiers = {"arch": arch}
        if base and base != name:
            qualifiers["upstream"] = base
        extra: dict[str, object] = {}
        if arch:
            extra["arch"] = arch
        for key, field in (("URL", "url"), ("PACKAGER", "packager")):
            if fields.get(key):
                extra[field] = fields[key][0]
        for key, field in (
            ("SIZE", "installed_size"),
            ("BUILDDATE", "build_time"),
            ("INSTALLDATE", "install_time"),
        ):
            n = _int(fields.get(key))
            if n is not None:
                extra[field] = n
        if _int(fields.get("REASON")) == 1:
            extra["reason"] = "dependency"
        licenses = tuple(dict.fromkeys(v for v in fields.get("LICENSE", ()) if v))[:64]
        try:
            package_url = purl("alpm", name, version, qualifiers=qualifiers)
        except ValueError:
            return []
        return [
            Package(
                name=name,
                version=version,
                type="alpm",
                purl=package_url,
                path=path,
                cataloger=self.name,
                source_name=base or name,
                source_version=version,
                licenses=licenses,
                extra=extra,
            )
        ]


CATALOGERS: list[Cataloger] = [AlpmDBCataloger()]
