"""The seam between the layer walk and the catalogers.

A cataloger declares which files it wants (`wants`, called for every regular file the walk
meets, with the path relative to the root and no leading slash) and turns their bytes into
packages (`parse`). It never opens an image or the host filesystem itself: the walk hands it
bytes, read once, within `max_size`.

Two delivery modes:
- collected (default): every wanted file of one layer (or one directory tree) is gathered
  first, then `parse` is called once per wanted file with a `FileTree` that holds all the
  other wanted files of that tree, so a cataloger can look at siblings (a package.json
  beside its lockfile, a pom's parent, a dist-info's RECORD).
- immediate (`immediate = True`): `parse` is called as the file streams by and its bytes are
  dropped right after; the tree is empty. For large files read for a small fact (binaries,
  archives), so memory stays bounded by one file.
- paths only (`paths_only = True`): the file is never read; `parse` is called with its path,
  empty bytes and an empty tree, for catalogers whose facts are in the path itself (Nix store
  paths: `nix/store/<hash>-<name>-<version>/...`). Identical packages (same path and purl)
  that several files of one tree yield are kept once.

A cataloger raises `CatalogError` for input it cannot read at all, or reads only in part (then
with the packages it did read); the walk turns that into a warning naming the file and a gap
(the result is marked incomplete) and goes on. Anything it can partly read, it partly reads.
"""

from __future__ import annotations

import posixpath
from abc import abstractmethod
from collections.abc import Iterable, Iterator, Mapping

from containment.analyzers import LayerAnalyzer
from containment.escape import escape
from containment.model import Package

MiB = 1024 * 1024


class FileTree:
    """The wanted files of one layer or directory: path (no leading slash) -> bytes."""

    def __init__(self, files: Mapping[str, bytes] | None = None) -> None:
        self._files: dict[str, bytes] = dict(files or {})

    def get(self, path: str) -> bytes | None:
        return self._files.get(path.lstrip("/"))

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and path.lstrip("/") in self._files

    def paths(self) -> Iterator[str]:
        return iter(self._files)

    def sibling(self, path: str, name: str) -> bytes | None:
        """The file `name` in the same directory as `path` (if it was wanted)."""
        return self.get(posixpath.join(posixpath.dirname(path), name))

    def under(self, directory: str) -> Iterator[str]:
        d = directory.strip("/") + "/"
        return (p for p in self._files if p.startswith(d))

    def __len__(self) -> int:
        return len(self._files)


class Cataloger(LayerAnalyzer):
    """One package format: a LayerAnalyzer of the `packages` group (containment.analyzers).
    Subclasses are stateless: one instance serves every layer."""

    group = "packages"
    # Exact paths of the package databases it reads (var/lib/dpkg/status, ...). Found there as
    # something it cannot read (a directory, a link, a file it may not open), the result is
    # incomplete, not empty: the walk's visitor says so (layers.visitor.LayerVisitor).
    databases: frozenset[str] = frozenset()

    @abstractmethod
    def wants(self, path: str, mode: int, size: int) -> bool:
        """Cheap test on every regular file: path has no leading slash; mode is st_mode bits."""

    @abstractmethod
    def parse(self, path: str, data: bytes, tree: FileTree) -> Iterable[Package]:
        """Packages found in one wanted file."""


def purl(
    type_: str,
    name: str,
    version: str | None,
    namespace: str | None = None,
    qualifiers: Mapping[str, str] | None = None,
    subpath: str | None = None,
) -> str:
    """A canonical purl string (packageurl-python does the encoding rules per type).

    Undecodable bytes in the parts (lone surrogates, containment.escape) are written as the
    `%XX` text every report shows, then percent-encoded like any text: the purl decodes to
    the name the SBOM carries (up to the type's own case rule, e.g. npm's lower case)."""
    from packageurl import PackageURL  # only catalogers need it; a warm scan imports none of them

    q = {k: escape(v) for k, v in (qualifiers or {}).items() if v}
    return PackageURL(
        type=type_,
        namespace=escape(namespace) if namespace else None,
        name=escape(name),
        version=escape(version) if version else None,
        qualifiers=q or None,
        subpath=escape(subpath) if subpath else subpath,
    ).to_string()


def run_cataloger(cataloger: Cataloger, files: Mapping[str, bytes], mode: int = 0o100644) -> list[Package]:
    """Feed a cataloger a small in-memory tree the way the walk does (for tests and `scan fs`)."""
    if cataloger.paths_only:
        seen: dict[tuple[str, str], Package] = {}
        for p in sorted(files):
            if cataloger.wants(p, mode, len(files[p])):
                for pkg in cataloger.parse(p, b"", FileTree()):
                    seen.setdefault((pkg.path, pkg.purl), pkg)
        return list(seen.values())
    wanted = {
        p: d for p, d in files.items() if cataloger.wants(p, mode, len(d)) and len(d) <= cataloger.max_size
    }
    tree = FileTree({} if cataloger.immediate else wanted)
    out: list[Package] = []
    for p, d in sorted(wanted.items()):
        out.extend(cataloger.parse(p, d, tree))
    return out
