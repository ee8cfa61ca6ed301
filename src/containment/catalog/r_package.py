"""Installed R packages: the `DESCRIPTION` file of each package in an R library.

An R library is a directory of installed packages, one subdirectory each, named after the
package (`R CMD INSTALL` / `install.packages()` put them there): R's own library
(`usr/lib/R/library/`, `usr/local/lib/R/library/`, `opt/R/<ver>/lib/R/library/`), site libraries
(`usr/local/lib/R/site-library/`, `usr/lib/R/site-library/`), user libraries
(`~/R/<platform>-library/<ver>/`) and project libraries (`renv/library/...`). Each
`<library>/<package>/DESCRIPTION` is a DCF file (Debian control format: `Field: value`,
continuation lines start with white space; `Encoding:` names the charset, UTF-8 or latin1).
Installing adds `Built:` (`R 4.3.1; x86_64-pc-linux-gnu; <date>; unix`) and, for packages from a
repository, `Repository:` (`CRAN`, `RSPM`, ...); R's base packages say `Priority: base`.

A DESCRIPTION counts when its `Package:` is the name of the directory it sits in (the same test
R's `installed.packages()` relies on; a source checkout or any other file called DESCRIPTION
does not qualify) and `Version:` is an R package version (integers separated by `.` or `-`).

purl (purl-spec `cran`): `pkg:cran/<Package>@<Version>` (names are case-sensitive). Matched
against OSV's `CRAN` ecosystem with R's version order (containment.versions.cran). Bioconductor
packages (`biocViews:` or `Repository: Bioconductor ...`) are marked in `extra` and keep the
same purl type (purl has no Bioconductor type; its package names are disjoint from CRAN's).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable

from containment.catalog.base import Cataloger, FileTree, MiB, purl
from containment.model import CatalogError, Package

_VERSION = re.compile(r"[0-9]+(?:[.-][0-9]+)+")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9.]*[A-Za-z0-9]")  # Writing R Extensions 1.1.1
_MAX_FIELD = 8192


def parse_dcf(text: str) -> dict[str, str]:
    """The first record of a DCF file: {field: value with continuation lines joined}."""
    out: dict[str, str] = {}
    last = ""
    for raw in text.split("\n"):
        line = raw.rstrip("\r")
        if not line.strip():
            if out:
                break  # DESCRIPTION holds one record
            continue
        if line[0] in " \t":
            if last and len(out[last]) < _MAX_FIELD:
                out[last] = (out[last] + " " + line.strip()).strip()
            continue
        k, sep, v = line.partition(":")
        k = k.strip()
        if not sep or not k or " " in k:
            last = ""
            continue
        if k in out:
            last = ""  # a repeated field: the first wins
            continue
        out[k] = v.strip()[:_MAX_FIELD]
        last = k
    return out


class RPackageCataloger(Cataloger):
    name = "r-package-installed"
    version = 1
    max_size = 1 * MiB

    def wants(self, path: str, mode: int, size: int) -> bool:
        return path.endswith("/DESCRIPTION") and path.count("/") >= 1

    def parse(self, path: str, data: bytes, tree: FileTree) -> Iterable[Package]:
        if b"\x00" in data[:65536]:
            raise CatalogError(f"{path}: binary data, not an R DESCRIPTION file")
        text = data.decode("utf-8", "replace")
        fields = parse_dcf(text)
        if fields.get("Encoding", "").lower().replace("-", "") in ("latin1", "iso88591"):
            fields = parse_dcf(data.decode("latin-1"))
        name = fields.get("Package", "")
        version = fields.get("Version", "")
        if name != posixpath.basename(posixpath.dirname(path)) or not _NAME.fullmatch(name):
            return []
        if not _VERSION.fullmatch(version):
            return []
        extra: dict[str, object] = {}
        repo = fields.get("Repository", "")
        if "biocViews" in fields or repo.lower().startswith("bioconductor"):
            extra["repository"] = "Bioconductor"
        elif repo:
            extra["repository"] = repo[:256]
        for key, field in (("Priority", "priority"), ("Built", "built"), ("RemoteType", "remote_type")):
            if fields.get(key):
                extra[field] = fields[key][:256]
        for key, field in (("URL", "url"), ("Title", "title")):
            if fields.get(key):
                extra[field] = fields[key][:1024]
        lic = " ".join(fields.get("License", "").split())[:1024]
        return [
            Package(
                name=name,
                version=version,
                type="cran",
                purl=purl("cran", name, version),
                path=path,
                cataloger=self.name,
                licenses=(lic,) if lic else (),
                extra=extra,
            )
        ]


CATALOGERS: list[Cataloger] = [RPackageCataloger()]
