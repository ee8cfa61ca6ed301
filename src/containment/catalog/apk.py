"""Alpine packages: the apk installed database (`lib/apk/db/installed`).

The database is a sequence of records separated by blank lines; each line is `K:value` with a
one-letter key (apk-tools `apk_db_index_read`): P name, V version, A arch, o origin (source
package), L license, m maintainer, c commit of aports, t build time, S size, I installed size,
U url, T description, plus file records (F directory, R file, a/M modes, Z checksum) that we skip.

purl: `pkg:apk/<name>@<version>?arch=<arch>&upstream=<origin>` (upstream only when the origin
differs from the name); the inventory adds the namespace (`alpine`, `wolfi`, ...) and `distro=`.
Licenses: Alpine writes either an SPDX expression (`MIT AND BSD-2-Clause`, kept whole) or, in
older packages, a space-separated list of names (`MIT BSD GPL2+`, split into names).
"""

from __future__ import annotations

from collections.abc import Iterable

from containment.catalog.base import Cataloger, FileTree, purl
from containment.model import CatalogError, Package

DB_PATHS = frozenset({"lib/apk/db/installed", "usr/lib/apk/db/installed"})
_MAX_FIELD = 4096
_EXPRESSION_WORDS = frozenset({"and", "or", "with"})


def split_licenses(value: str) -> tuple[str, ...]:
    value = " ".join(value.split())
    if not value:
        return ()
    words = value.split(" ")
    if "(" in value or any(w.lower() in _EXPRESSION_WORDS for w in words):
        return (value,)
    seen: dict[str, None] = {}
    for w in words:
        seen.setdefault(w, None)
    return tuple(seen)


def _is_int(s: str) -> bool:
    return 0 < len(s) <= 20 and s.isascii() and s.isdigit()


def _valid(s: str) -> bool:
    return bool(s) and len(s) <= 256 and not any(c.isspace() or c == "/" for c in s)


class ApkCataloger(Cataloger):
    name = "apk-db"
    version = 1

    databases = DB_PATHS

    def wants(self, path: str, mode: int, size: int) -> bool:
        return path in DB_PATHS

    def parse(self, path: str, data: bytes, tree: FileTree) -> Iterable[Package]:
        if b"\x00" in data[:65536]:
            raise CatalogError(f"{path}: binary data, not an apk installed database")
        text = data.decode("utf-8", "replace")
        out: list[Package] = []
        rec: dict[str, str] = {}
        saw_field = False
        for raw in text.split("\n"):
            line = raw.rstrip("\r")
            if not line.strip():
                if rec:
                    pkg = self._package(path, rec)
                    if pkg is not None:
                        out.append(pkg)
                    rec = {}
                continue
            if len(line) < 2 or line[1] != ":":
                continue
            key = line[0]
            if key in "PVAoLmcSIUt":
                saw_field = True
                rec.setdefault(key, line[2:].strip()[:_MAX_FIELD])
        if rec:
            pkg = self._package(path, rec)
            if pkg is not None:
                out.append(pkg)
        if not saw_field and text.strip():
            raise CatalogError(f"{path}: no package records found (not an apk installed database)")
        return out

    def _package(self, path: str, rec: dict[str, str]) -> Package | None:
        name = rec.get("P", "")
        version = rec.get("V", "")
        if not _valid(name) or not _valid(version):
            return None
        arch = rec.get("A", "")
        origin = rec.get("o", "")
        if origin and not _valid(origin):
            origin = ""
        qualifiers = {"arch": arch}
        if origin and origin != name:
            qualifiers["upstream"] = origin
        extra: dict[str, object] = {}
        if arch:
            extra["arch"] = arch
        for key, field in (("m", "maintainer"), ("c", "commit"), ("U", "url")):
            if rec.get(key):
                extra[field] = rec[key]
        for key, field in (("S", "size"), ("I", "installed_size"), ("t", "build_time")):
            if _is_int(rec.get(key, "")):
                extra[field] = int(rec[key])
        return Package(
            name=name,
            version=version,
            type="apk",
            purl=purl("apk", name, version, qualifiers=qualifiers),
            path=path,
            cataloger=self.name,
            source_name=origin or name,
            source_version=version,
            licenses=split_licenses(rec.get("L", "")),
            extra=extra,
        )


CATALOGERS: list[Cataloger] = [ApkCataloger()]
