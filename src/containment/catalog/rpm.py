"""RPM packages from the rpm database, read in pure Python (no rpm binary at run time).

Files: `var/lib/rpm/{rpmdb.sqlite,Packages,Packages.db}` and the same names under
`usr/lib/sysimage/rpm/` (Fedora 36+, openSUSE). The container format is recognised from the
bytes (SQLite, Berkeley DB hash, NDB), not from the name; see `rpmdb.py`.

Each header gives NAME, EPOCH, VERSION, RELEASE, ARCH, SOURCERPM, LICENSE, VENDOR, SIZE.
`gpg-pubkey` pseudo-packages (imported signing keys) are skipped.

- Package.version = `[epoch:]version-release` (the form rpm compares).
- purl (as syft writes it): version `version-release`, qualifiers `arch`, `epoch` (when set)
  and `upstream=<SOURCERPM file name>`; the inventory adds namespace (os id) and `distro=`.
- source_name / source_version from SOURCERPM `name-version-release.src.rpm`; the source
  version takes the binary's epoch (rpm has no separate source epoch), as Trivy does.
- licenses: LICENSE is one expression (`GPLv2+ and LGPLv2+`, `MIT AND BSD-3-Clause`): kept whole.
"""

from __future__ import annotations

from collections.abc import Iterable

from containment.catalog import rpmdb
from containment.catalog.base import Cataloger, FileTree, MiB, purl
from containment.model import CatalogError, Package

DB_PATHS = frozenset(
    {
        "var/lib/rpm/Packages",
        "var/lib/rpm/Packages.db",
        "var/lib/rpm/rpmdb.sqlite",
        "usr/lib/sysimage/rpm/Packages",
        "usr/lib/sysimage/rpm/Packages.db",
        "usr/lib/sysimage/rpm/rpmdb.sqlite",
    }
)


def split_sourcerpm(sourcerpm: str) -> tuple[str, str, str]:
    """`openssl-1.1.1k-7.el8_6.src.rpm` -> ('openssl', '1.1.1k', '7.el8_6'); ('', '', '') if malformed."""
    s = sourcerpm.strip()
    for suffix in (".src.rpm", ".nosrc.rpm"):
        if s.endswith(suffix):
            s = s[: -len(suffix)]
            break
    else:
        if s.endswith(".rpm"):
            s = s[:-4].rpartition(".")[0]  # name-version-release.<arch>.rpm
        else:
            return "", "", ""
    parts = s.rsplit("-", 2)
    if len(parts) != 3 or not all(parts):
        return "", "", ""
    return parts[0], parts[1], parts[2]


def _clean(s: str) -> str:
    return s if s and len(s) <= 512 and not any(c.isspace() for c in s) else ""


class RpmDBCataloger(Cataloger):
    name = "rpm-db"
    version = 1
    max_size = 512 * MiB
    immediate = True  # needs no siblings; a 100 MB Packages file is dropped right after parsing

    databases = DB_PATHS

    def wants(self, path: str, mode: int, size: int) -> bool:
        return path in DB_PATHS

    def parse(self, path: str, data: bytes, tree: FileTree) -> Iterable[Package]:
        out: list[Package] = []
        seen: set[tuple[str, str, str]] = set()
        unreadable = 0
        try:
            for blob in rpmdb.iter_blobs(data):
                hdr = rpmdb.parse_header(blob)
                if hdr is None:
                    # BDB keeps a 4-byte "next header number" record under key 0: not a header
                    if len(blob) != 4:
                        unreadable += 1
                    continue
                pkg = self._package(path, hdr)
                if pkg is None:
                    continue
                key = (pkg.name, pkg.version, hdr.arch)
                if key in seen:
                    continue
                seen.add(key)
                out.append(pkg)
        except rpmdb.RpmDBError as e:
            if not out:
                raise CatalogError(f"{path}: {e}") from None
            # a database damaged past its first packages: keep them, say the rest is missing
            raise CatalogError(
                f"{path}: {e} (after {len(out)} packages; the rest were not read)", out
            ) from None
        except (MemoryError, RecursionError) as e:  # pragma: no cover - defensive
            raise CatalogError(f"{path}: rpm database too large or malformed ({type(e).__name__})") from None
        if not out and unreadable:
            raise CatalogError(
                f"{path}: {unreadable} records in the rpm database, none a readable rpm header"
            )
        return out

    def _package(self, path: str, hdr: rpmdb.RpmHeader) -> Package | None:
        name = _clean(hdr.name)
        version = _clean(hdr.version)
        if not name or not version or name == "gpg-pubkey":
            return None
        release = _clean(hdr.release)
        arch = _clean(hdr.arch)
        epoch = hdr.epoch
        vr = f"{version}-{release}" if release else version
        full = f"{epoch}:{vr}" if epoch is not None else vr
        sourcerpm = _clean(hdr.sourcerpm)
        src_name, src_ver, src_rel = split_sourcerpm(sourcerpm) if sourcerpm else ("", "", "")
        if src_name:
            src_vr = f"{src_ver}-{src_rel}"
            source_version = f"{epoch}:{src_vr}" if epoch is not None else src_vr
        else:
            source_version = ""
        qualifiers = {
            "arch": arch,
            "epoch": str(epoch) if epoch is not None else "",
            "upstream": sourcerpm,
        }
        extra: dict[str, object] = {"release": release}
        if arch:
            extra["arch"] = arch
        if epoch is not None:
            extra["epoch"] = epoch
        if sourcerpm:
            extra["sourcerpm"] = sourcerpm
        if hdr.vendor and hdr.vendor != "(none)":
            extra["vendor"] = hdr.vendor[:256]
        if hdr.size is not None:
            extra["size"] = hdr.size
        if hdr.modularitylabel:
            extra["modularitylabel"] = hdr.modularitylabel[:256]
        lic = " ".join(hdr.license.split())[:1024]
        return Package(
            name=name,
            version=full,
            type="rpm",
            purl=purl("rpm", name, vr, qualifiers=qualifiers),
            path=path,
            cataloger=self.name,
            source_name=src_name,
            source_version=source_version,
            licenses=(lic,) if lic and lic != "(none)" else (),
            extra=extra,
        )


CATALOGERS: list[Cataloger] = [RpmDBCataloger()]
