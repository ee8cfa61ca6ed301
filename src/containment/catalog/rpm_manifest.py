"""RPM packages from the manifest CBL-Mariner / Azure Linux distroless images carry instead of
an rpm database: `var/lib/rpmmanifest/container-manifest-2`.

The image build (Azure Linux toolkit, `rpmQueryFormatLong`) writes one line per installed
package, the output of

    rpm -qa --qf '%{NAME}\\t%{VERSION}-%{RELEASE}\\t%{INSTALLTIME}\\t%{BUILDTIME}\\t%{VENDOR}\\t
                  %{EPOCH}\\t%{SIZE}\\t%{ARCH}\\t%{EPOCHNUM}\\t%{SOURCERPM}\\n'

ten tab-separated columns: name, `version-release`, install time, build time, vendor, EPOCH
(`(none)` when the package has none), size, arch, EPOCHNUM (the same epoch as a number, `0`
when none) and the source rpm file name. (`container-manifest-1` beside it holds only
`name-version-release.arch` and is not read.) Learned from the toolkit's query format and the
manifests of `mcr.microsoft.com/cbl-mariner/distroless/*` images (as in syft's test data).

Packages come out exactly as the rpm database cataloger (`rpm.py`) makes them, so both sources
match the same way: version `[epoch:]version-release`, purl version `version-release` with
`arch`, `epoch` and `upstream=<source rpm>` qualifiers, source_name / source_version from the
source rpm (taking the binary's epoch). The epoch is the EPOCH column; `(none)` there with
EPOCHNUM 0 means no epoch (rpm prints 0 for "none"); a non-zero EPOCHNUM counts either way.
A line that does not have the ten columns is skipped; a file with none is an error.
"""

from __future__ import annotations

from collections.abc import Iterable

from containment.catalog.base import Cataloger, FileTree, MiB, purl
from containment.catalog.rpm import split_sourcerpm
from containment.model import CatalogError, Package

MANIFEST_PATHS = frozenset({"var/lib/rpmmanifest/container-manifest-2"})
_COLUMNS = 10
_MAX_FIELD = 512


def _clean(s: str) -> str:
    s = s.strip()
    return s if s and len(s) <= _MAX_FIELD and not any(c.isspace() for c in s) else ""


def _int(s: str) -> int | None:
    s = s.strip()
    return int(s) if 0 < len(s) <= 18 and s.isascii() and s.isdigit() else None


class RpmManifestCataloger(Cataloger):
    name = "rpm-manifest"
    version = 1
    max_size = 16 * MiB

    databases = MANIFEST_PATHS

    def wants(self, path: str, mode: int, size: int) -> bool:
        return path in MANIFEST_PATHS

    def parse(self, path: str, data: bytes, tree: FileTree) -> Iterable[Package]:
        if b"\x00" in data[:65536]:
            raise CatalogError(f"{path}: binary data, not an rpm manifest")
        text = data.decode("utf-8", "replace")
        out: list[Package] = []
        seen: set[tuple[str, str, str]] = set()
        lines = 0
        for raw in text.split("\n"):
            line = raw.rstrip("\r")
            if not line.strip():
                continue
            lines += 1
            cols = line.split("\t")
            if len(cols) != _COLUMNS:
                continue
            pkg = self._package(path, cols)
            if pkg is None:
                continue
            key = (pkg.name, pkg.version, str(pkg.extra.get("arch", "")))
            if key in seen:
                continue
            seen.add(key)
            out.append(pkg)
        if lines and not out:
            raise CatalogError(
                f"{path}: no line with the {_COLUMNS} tab-separated columns of an rpm manifest"
            )
        return out

    def _package(self, path: str, cols: list[str]) -> Package | None:
        name = _clean(cols[0])
        vr = _clean(cols[1])
        if not name or not vr or name == "gpg-pubkey":
            return None
        version, sep, release = vr.rpartition("-")
        if not sep or not version or not release:
            return None
        epoch = _int(cols[5])
        if epoch is None:
            num = _int(cols[8])
            # EPOCH "(none)" with EPOCHNUM 0 is "no epoch"; a non-zero EPOCHNUM is an epoch even
            # when the EPOCH column was written as a literal "(none)" (Trivy documents that form)
            epoch = num if num else None
        arch = _clean(cols[7])
        sourcerpm = _clean(cols[9])
        if sourcerpm == "(none)":
            sourcerpm = ""
        full = f"{epoch}:{vr}" if epoch is not None else vr
        src_name, src_ver, src_rel = split_sourcerpm(sourcerpm) if sourcerpm else ("", "", "")
        source_version = ""
        if src_name:
            src_vr = f"{src_ver}-{src_rel}"
            source_version = f"{epoch}:{src_vr}" if epoch is not None else src_vr
        extra: dict[str, object] = {"release": release}
        if arch:
            extra["arch"] = arch
        if epoch is not None:
            extra["epoch"] = epoch
        if sourcerpm:
            extra["sourcerpm"] = sourcerpm
        vendor = cols[4].strip()
        if vendor and vendor != "(none)":
            extra["vendor"] = vendor[:256]
        size = _int(cols[6])
        if size is not None:
            extra["size"] = size
        install_time = _int(cols[2])
        if install_time is not None:
            extra["install_time"] = install_time
        try:
            package_url = purl(
                "rpm",
                name,
                vr,
                qualifiers={
                    "arch": arch,
                    "epoch": str(epoch) if epoch is not None else "",
                    "upstream": sourcerpm,
                },
            )
        except ValueError:
            return None
        return Package(
            name=name,
            version=full,
            type="rpm",
            purl=package_url,
            path=path,
            cataloger=self.name,
            source_name=src_name,
            source_version=source_version,
            extra=extra,
        )


CATALOGERS: list[Cataloger] = [RpmManifestCataloger()]
