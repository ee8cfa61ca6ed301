"""Debian packages: the dpkg status database and distroless `status.d` stanzas.

Sources:
- `var/lib/dpkg/status`: one deb822 stanza per package known to dpkg. Only packages whose
  files are on disk count: the third word of `Status:` (want, error flag, state) must be a
  state in which the package's files are unpacked (`installed`, and the transitional states
  `unpacked`, `half-configured`, `triggers-awaited`, `triggers-pending`). `not-installed`,
  `config-files` (only conffiles left) and `half-installed` (unpack failed midway) are skipped.
- `var/lib/dpkg/status.d/<name>`: distroless images (rules_distroless / bazel) write one file
  per package (sometimes several stanzas per file) and usually no `Status:` field; a stanza
  without `Status:` counts as installed. `*.md5sums` files there are file lists, not stanzas.
- `usr/share/doc/<package>/copyright`: read through the tree (collected mode) for licenses:
  `License:` fields (machine-readable DEP-5 files, and the same field in free-form files) and
  references to `/usr/share/common-licenses/<name>`.

Versions are kept exactly as dpkg writes them (with epoch). The purl has no namespace (the
inventory adds the OS id and `distro=`), qualifiers `arch` and, when the source package differs
from the binary one by name or version, `upstream=src` or `upstream=src@version` as syft writes it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from containment.catalog.base import Cataloger, FileTree, purl
from containment.model import CatalogError, Package

STATUS_PATH = "var/lib/dpkg/status"
STATUS_D = "var/lib/dpkg/status.d/"
DOC_PREFIX = "usr/share/doc/"

# dpkg states in which the package's files are on disk.
_PRESENT_STATES = frozenset(
    {"installed", "unpacked", "half-configured", "triggers-awaited", "triggers-pending"}
)
_WANTED_FIELDS = frozenset(
    {"package", "version", "architecture", "source", "status", "maintainer", "installed-size"}
)
_MAX_LICENSES = 64
_MAX_FIELD = 4096
_COMMON_LICENSE = re.compile(r"/usr/share/common-licenses/([A-Za-z0-9][A-Za-z0-9_.+\-]*)")
_CONNECTORS = frozenset({"or", "and", "and/or", "&", "|", "/"})


def _stanzas(text: str) -> Iterator[dict[str, str]]:
    """deb822 stanzas as {lower-cased field: first-line value} for the fields we use.

    Blank (or whitespace-only) lines end a stanza; lines starting with space or tab continue
    the previous field (skipped: no wanted field is multi-line); `#` lines are comments.
    """
    cur: dict[str, str] = {}
    for raw in text.split("\n"):
        line = raw.rstrip("\r")
        if not line.strip():
            if cur:
                yield cur
                cur = {}
            continue
        first = line[0]
        if first in " \t" or first == "#":
            continue
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key = key.strip().lower()
        if key in _WANTED_FIELDS and key not in cur:
            cur[key] = value.strip()[:_MAX_FIELD]
        else:
            cur[""] = ""  # the stanza has fields, even if none we use
    if cur:
        yield cur


def parse_source(source: str, version: str, name: str) -> tuple[str, str]:
    """`Source: src (srcver)` -> (src, srcver); no version means the binary's version."""
    source = source.strip()
    if not source:
        return name, version
    src, _, rest = source.partition("(")
    src = src.strip() or name
    srcver = rest.partition(")")[0].strip() if rest else ""
    return src, srcver or version


def copyright_licenses(data: bytes) -> tuple[str, ...]:
    """Licenses named in a Debian copyright file, sorted and unique."""
    text = data.decode("utf-8", "replace")
    found: set[str] = set()
    for raw in text.split("\n"):
        line = raw.rstrip("\r")
        if line[:8].lower() == "license:":
            found.update(_license_field(line[8:]))
        if "/usr/share/common-licenses/" in line:
            for m in _COMMON_LICENSE.finditer(line):
                lic = m.group(1).rstrip(".")
                if lic:
                    found.add(lic)
        if len(found) >= _MAX_LICENSES:
            break
    return tuple(sorted(found))


def _license_field(value: str) -> list[str]:
    """The licenses of one `License:` synopsis: `GPL-2+ or Artistic, and BSD-3-clause`.

    Alternatives are split at `or` / `and` / `and/or` / commas. An alternative is one short name
    (`GPL-2+`) or a DEP-5 exception form (`GPL-3+ with Bison exception`); other multi-word text
    (free prose after `License:` in an old-style file) is not a license name and is dropped.
    """
    groups: list[list[str]] = [[]]
    for tok in value.replace(",", " , ").split():
        low = tok.lower()
        if tok == "," or low in _CONNECTORS:
            if groups[-1]:
                groups.append([])
            continue
        groups[-1].append(tok)
    out: list[str] = []
    for g in groups:
        if not g:
            continue
        lic = " ".join(g).rstrip(".").strip()
        if not lic or lic.lower() == "none" or len(lic) > 100:
            continue
        if len(g) == 1 or (len(g) >= 3 and g[1].lower() == "with" and g[-1].lower().startswith("exception")):
            out.append(lic)
    return out


def _valid_name(name: str) -> bool:
    return bool(name) and len(name) <= 256 and not any(c.isspace() or c in "/\\" for c in name)


class DpkgCataloger(Cataloger):
    name = "dpkg-status"
    version = 1

    databases = frozenset({STATUS_PATH})

    def wants(self, path: str, mode: int, size: int) -> bool:
        if path == STATUS_PATH:
            return True
        if path.startswith(STATUS_D):
            rest = path[len(STATUS_D) :]
            return (
                bool(rest) and "/" not in rest and not rest.endswith(".md5sums") and not rest.startswith(".")
            )
        if path.startswith(DOC_PREFIX) and path.endswith("/copyright"):
            return path.count("/") == 4
        return False

    def parse(self, path: str, data: bytes, tree: FileTree) -> Iterable[Package]:
        if path.startswith(DOC_PREFIX):
            return []  # copyright files are read through the tree
        distroless = path.startswith(STATUS_D)
        if b"\x00" in data[:65536]:
            raise CatalogError(f"{path}: binary data, not a dpkg status file")
        text = data.decode("utf-8", "replace")
        out: list[Package] = []
        any_fields = False
        any_package = False
        license_cache: dict[str, tuple[str, ...]] = {}
        for st in _stanzas(text):
            any_fields = True
            any_package = any_package or "package" in st
            pkg = self._package(path, st, tree, distroless, license_cache)
            if pkg is not None:
                out.append(pkg)
        if not any_fields and text.strip():
            raise CatalogError(f"{path}: no deb822 stanzas found (not a dpkg status file)")
        if any_fields and not any_package:
            raise CatalogError(f"{path}: no stanza names a Package (not a dpkg status file)")
        return out

    def _package(
        self,
        path: str,
        st: dict[str, str],
        tree: FileTree,
        distroless: bool,
        license_cache: dict[str, tuple[str, ...]],
    ) -> Package | None:
        name = st.get("package", "")
        version = st.get("version", "")
        if not _valid_name(name) or not version or any(c.isspace() for c in version):
            return None
        status = st.get("status")
        if status is not None:
            words = status.split()
            if len(words) != 3 or words[2] not in _PRESENT_STATES:
                return None
        elif not distroless:
            return None  # dpkg always writes Status in var/lib/dpkg/status
        arch = st.get("architecture", "")
        src, srcver = parse_source(st.get("source", ""), version, name)
        qualifiers: dict[str, str] = {"arch": arch}
        if src != name or srcver != version:
            qualifiers["upstream"] = src if srcver == version else f"{src}@{srcver}"
        if name not in license_cache:
            doc = tree.get(f"{DOC_PREFIX}{name}/copyright")
            license_cache[name] = copyright_licenses(doc) if doc else ()
        extra: dict[str, object] = {}
        if arch:
            extra["arch"] = arch
        if st.get("maintainer"):
            extra["maintainer"] = st["maintainer"]
        size = st.get("installed-size", "")
        if 0 < len(size) <= 20 and size.isascii() and size.isdigit():
            extra["installed_size"] = int(size)  # KiB
        if status is not None and status.split()[2] != "installed":
            extra["status"] = status
        return Package(
            name=name,
            version=version,
            type="deb",
            purl=purl("deb", name, version, qualifiers=qualifiers),
            path=path,
            cataloger=self.name,
            source_name=src,
            source_version=srcver,
            licenses=license_cache[name],
            extra=extra,
        )


CATALOGERS: list[Cataloger] = [DpkgCataloger()]
