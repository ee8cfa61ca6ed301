"""Gentoo packages: Portage's installed-package database (the "vdb"), `var/db/pkg/`.

Portage keeps a directory per installed package, `var/db/pkg/<category>/<PF>/`, where PF is
`<PN>-<PVR>` (name, version, optional `-r<N>` revision). Each holds one small file per ebuild
variable: `CATEGORY`, `PF`, `SLOT`, `LICENSE`, `SIZE` (installed bytes), `repository`, `EAPI`,
`USE`, `DESCRIPTION`, `HOMEPAGE`, ... plus `CONTENTS` (the file list: `obj <path> <md5> <mtime>`,
`dir <path>`, `sym <path> -> <target> <mtime>`) and `environment.bz2`.

Read: `PF`, `CATEGORY`, `SLOT`, `LICENSE`, `SIZE`, `repository`, `HOMEPAGE` and `CONTENTS`
(only that it is there: some trimmed databases, like syft's test data, keep nothing else). The
package comes out once per directory, from the first of those files present (in that order).
Name and version: PF split where the version starts (PMS 3.2: `\\d+(\\.\\d+)*[a-z]?`, suffixes
`_alpha _beta _pre _rc _p` with optional numbers, then `-r<N>`); PF and CATEGORY from their files
when present, else from the directory names.

purl (the proposed `ebuild` type): `pkg:ebuild/<category>/<PN>@<PVR>`, qualifier `slot` when not
"0"; the inventory adds `distro=`. LICENSE is a Gentoo license expression: a plain list (all
apply) becomes one license each; one with `|| ( MIT BSD )` choices or USE-conditional groups
(`ssl? ( openssl )`) is kept whole. OSV publishes no Gentoo
advisories (GLSAs are not in OSV): inventoried, not matched.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable

from containment.catalog.base import Cataloger, FileTree, MiB, purl
from containment.model import CatalogError, Package

DB_DIR = "var/db/pkg/"
# the files read, in the order that picks the one a package is reported from
FILES = ("PF", "CATEGORY", "SLOT", "LICENSE", "SIZE", "repository", "HOMEPAGE", "CONTENTS")
_ANCHORS = FILES
_SMALL = 64 * 1024  # every file but CONTENTS is one short line
_MAX_CONTENTS = 4 * MiB
_VERSION = re.compile(r"\d+(?:\.\d+)*[a-z]?(?:_(?:alpha|beta|pre|rc|p)\d*)*(?:-r\d+)?")
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9+_-]*")
_CATEGORY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9+_.-]*")


def split_pf(pf: str) -> tuple[str, str] | None:
    """`openssl-3.0.13-r2` -> ('openssl', '3.0.13-r2'); None when there is no valid version."""
    i = pf.find("-")
    while i > 0:
        name, version = pf[:i], pf[i + 1 :]
        if _VERSION.fullmatch(version) and _NAME.fullmatch(name):
            return name, version
        i = pf.find("-", i + 1)
    return None


def _one_line(data: bytes | None) -> str:
    if not data or len(data) > _SMALL or b"\x00" in data:
        return ""
    return " ".join(data.decode("utf-8", "replace").split())


class PortageCataloger(Cataloger):
    name = "portage-vdb"
    version = 2
    max_size = 4 * MiB

    def wants(self, path: str, mode: int, size: int) -> bool:
        if not path.startswith(DB_DIR):
            return False
        parts = path[len(DB_DIR) :].split("/")
        if len(parts) != 3 or parts[2] not in FILES:
            return False
        # CONTENTS is wanted only as a marker (for databases trimmed to it): a big one is not
        # worth holding in memory, and a real entry has PF beside it anyway
        return size <= (_MAX_CONTENTS if parts[2] == "CONTENTS" else _SMALL)

    def parse(self, path: str, data: bytes, tree: FileTree) -> Iterable[Package]:
        d = posixpath.dirname(path)
        this = posixpath.basename(path)
        for f in _ANCHORS:  # report the package once, from the first file present
            if f == this:
                break
            if posixpath.join(d, f) in tree:
                return []
        cat_dir, pf_dir = d[len(DB_DIR) :].split("/")
        pf = _one_line(data if this == "PF" else tree.get(posixpath.join(d, "PF"))) or pf_dir
        category = (
            _one_line(data if this == "CATEGORY" else tree.get(posixpath.join(d, "CATEGORY"))) or cat_dir
        )
        if pf.startswith("-MERGING-") or pf_dir.startswith("-MERGING-"):
            return []  # a package portage was in the middle of installing
        split = split_pf(pf)
        if split is None or not _CATEGORY.fullmatch(category):
            if this == "PF":
                raise CatalogError(f"{path}: {pf[:80]!r} is not <name>-<version> (not a Portage vdb entry)")
            return []
        name, version = split

        def value(f: str) -> str:
            return _one_line(data if this == f else tree.get(posixpath.join(d, f)))

        slot = value("SLOT").split("/", 1)[0]
        extra: dict[str, object] = {"category": category}
        if slot:
            extra["slot"] = value("SLOT")
        repo = value("repository")
        if repo:
            extra["repository"] = repo[:256]
        homepage = value("HOMEPAGE")
        if homepage:
            extra["homepage"] = homepage[:1024]
        size = value("SIZE")
        if size.isascii() and size.isdigit() and len(size) <= 18:
            extra["installed_size"] = int(size)
        lic = value("LICENSE")[:1024]
        # a plain list means all of them apply (PMS 7.3.1); with `||` groups or USE-conditional
        # groups (`ssl? ( openssl )`) the expression is kept whole
        licenses = (lic,) if "(" in lic or "|" in lic else tuple(dict.fromkeys(lic.split()))[:64]
        try:
            package_url = purl(
                "ebuild", name, version, namespace=category, qualifiers={"slot": slot if slot != "0" else ""}
            )
        except ValueError:
            return []
        return [
            Package(
                name=name,
                version=version,
                type="ebuild",
                purl=package_url,
                path=path,
                cataloger=self.name,
                licenses=licenses if lic else (),
                extra=extra,
            )
        ]


CATALOGERS: list[Cataloger] = [PortageCataloger()]
