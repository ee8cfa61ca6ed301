"""Everything the single layer walk feeds: one interface, one registry.

An analyzer sees every entry of a layer (or directory tree) as it streams by, asks for the
files it wants (`wants`, a cheap test on path, mode and size), and turns their bytes into facts
(`parse`). Facts are plain frozen models with to_json/from_json, kept in the layer cache:

| group      | analyzers                                   | facts                   | scanner |
|------------|---------------------------------------------|-------------------------|---------|
| `packages` | package catalogers (catalog/), OS identity  | Package (+ os files)    | vuln, sbom |
| `secrets`  | credential patterns (checks/secrets.py)     | SecretFinding (masked)  | secret  |
| `config`   | Dockerfile / Kubernetes / Compose parsers   | ConfigDoc               | config  |
| `files`    | file-system hygiene (checks/image.py)       | FileFact                | config  |

Each group is cached apart under a key derived from the source of every analyzer registered
in it (`group_key`): changing a secret pattern re-reads layers for secrets only, and package
facts stay cached. The checks that judge config documents and file facts run after squashing
(checks/), over cached facts: adding or changing such a check invalidates no cache at all.

Delivery modes (see catalog/base.py for the long form): collected (default; parse gets a
FileTree of the layer's other wanted files), `immediate` (parse as the file streams by) and
`paths_only` (parse gets the path alone). `wants_entries`: `entry` is also called for every
entry (directories, links, files), for facts in metadata alone (modes, setuid bits).
"""

from __future__ import annotations

import hashlib
import importlib
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from containment.catalog.base import FileTree
    from containment.image.walk import Entry

MiB = 1024 * 1024

GROUPS = ("packages", "secrets", "config", "files")

# group -> modules whose ANALYZERS (or CATALOGERS) the walk runs; the cache key of a group is a
# digest of these modules' source (and of the walk's own fact layout), so computing it imports
# none of them (a warm scan imports no analyzer).
_GROUP_MODULES: dict[str, tuple[str, ...]] = {
    "secrets": ("containment.checks.secrets", "containment.checks.secret_rules"),
    "config": (
        "containment.checks.configfiles",
        "containment.checks.dockerfile",
        "containment.checks.kubernetes",
        "containment.checks.compose",
        "containment.checks.yamlload",
    ),
    "files": ("containment.checks.filefacts",),
}

# Libraries whose version changes what a group's analyzers make (a parser upgrade re-reads).
_GROUP_LIBRARIES: dict[str, tuple[str, ...]] = {"config": ("dockerfile", "PyYAML")}

# Which groups each scanner needs from the walk.
SCANNER_GROUPS: Mapping[str, tuple[str, ...]] = {
    "vuln": ("packages",),
    "sbom": ("packages",),
    "secret": ("secrets",),
    "config": ("config", "files"),
}


class LayerAnalyzer(ABC):
    """One analyzer. Stateless: one instance serves every layer, on several threads."""

    name: str = ""  # stable id (written into the facts it makes)
    version: int = 1  # bump when output changes (the source digest changes too)
    group: str = "packages"  # one of GROUPS: where its facts go and which cache entry holds them
    max_size: int = 64 * MiB  # bigger wanted files are skipped with a warning
    immediate: bool = False
    paths_only: bool = False
    wants_entries: bool = False
    databases: frozenset[str] = frozenset()  # exact paths whose absence as a file is a gap

    @abstractmethod
    def wants(self, path: str, mode: int, size: int) -> bool:
        """Cheap test on every regular file: path has no leading slash; mode is st_mode bits."""

    @abstractmethod
    def parse(self, path: str, data: bytes, tree: FileTree) -> Iterable[Any]:
        """Facts found in one wanted file."""

    def entry(self, e: Entry) -> Iterable[Any]:
        """Facts from one entry's metadata (only called when `wants_entries`)."""
        return ()

    def finish(self, facts: list[Any]) -> list[Any]:
        """Once per layer, after the walk: the facts of this analyzer's group, for it to condense
        (one fact per cache directory instead of one per file)."""
        return facts


def _module_file(module: str) -> Path:
    import containment

    root = Path(containment.__file__).resolve().parent
    rel = module.split(".", 1)[1].replace(".", "/")
    return root / f"{rel}.py"


def group_key(group: str) -> str:
    """A digest naming what produced a group's facts; any source change gives a new key."""
    if group == "packages":
        from containment.catalog.registry import source_key

        return source_key()
    h = hashlib.sha256(group.encode())
    for m in _GROUP_MODULES[group]:
        p = _module_file(m)
        h.update(m.encode())
        try:
            h.update(p.read_bytes())
        except OSError:
            h.update(b"-")
    for lib in _GROUP_LIBRARIES.get(group, ()):
        from importlib.metadata import PackageNotFoundError, version

        try:
            h.update(f"{lib}={version(lib)}".encode())
        except PackageNotFoundError:
            h.update(f"{lib}=-".encode())
    return h.hexdigest()[:16]


_loaded: dict[str, list[LayerAnalyzer]] = {}


def analyzers(group: str) -> list[LayerAnalyzer]:
    """The registered analyzers of one group (imported on first use)."""
    if group not in _loaded:
        if group == "packages":
            from containment.catalog.registry import all_catalogers

            _loaded[group] = list(all_catalogers())
        else:
            out: list[LayerAnalyzer] = []
            for m in _GROUP_MODULES[group]:
                out.extend(getattr(importlib.import_module(m), "ANALYZERS", ()))
            _loaded[group] = out
    return _loaded[group]


def groups_for(scanners: Iterable[str]) -> tuple[str, ...]:
    wanted: list[str] = []
    for s in scanners:
        for g in SCANNER_GROUPS.get(s, ()):
            if g not in wanted:
                wanted.append(g)
    return tuple(g for g in GROUPS if g in wanted)


def registered() -> Iterator[tuple[str, LayerAnalyzer]]:
    for g in GROUPS:
        for a in analyzers(g):
            yield g, a


__all__ = ["GROUPS", "LayerAnalyzer", "analyzers", "group_key", "groups_for", "registered"]
