"""The walk's visitor: receives every entry of one layer (or directory tree) and routes the
wanted files to the analyzers that asked (containment.analyzers), of every group walked."""

from __future__ import annotations

import stat
from typing import Any

from containment import fserrors, interrupt
from containment.analyzers import LayerAnalyzer
from containment.catalog import osrelease
from containment.catalog.base import FileTree
from containment.image.walk import Entry
from containment.layers.facts import LayerFacts
from containment.model import (
    UNREADABLE,
    CatalogError,
    ConfigDoc,
    FileFact,
    Gap,
    ImageError,
    Package,
    SecretFinding,
)
from containment.notes import Note
from containment.progress import Progress

MAX_LINK_ENTRIES = 500_000  # symlinks / whiteouts one layer may record (real layers: a few thousand)
PROGRESS_BATCH = 1024  # walked entries counted before progress hears of them (a call per entry costs)


class LayerVisitor:
    """Receives the walk's entries; routes wanted files to the analyzers that asked."""

    def __init__(
        self,
        analyzers: list[LayerAnalyzer],
        name: str,
        progress: Progress | None = None,
        sizes: bool = False,
        groups: tuple[str, ...] = ("packages",),
    ) -> None:
        self.analyzers = analyzers
        self.groups = groups
        self._os = "packages" in groups  # OS identity is a packages fact
        self._on_entry = [a for a in analyzers if a.wants_entries]
        self.name = name
        self.progress = progress or Progress()
        self._sizes = sizes  # count the sizes of files walked as bytes read (directories)
        self._seen = 0
        self._seen_bytes = 0
        self.databases = frozenset().union(*(c.databases for c in analyzers))
        self.facts = LayerFacts(diff_id="", groups=list(groups))
        self.collected: dict[str, bytes] = {}
        self.claims: dict[str, list[LayerAnalyzer]] = {}
        self._last: tuple[str, list[LayerAnalyzer], bool] = ("", [], False)
        self._from_paths: set[tuple[str, str, str]] = set()  # (cataloger, path, purl) of paths_only ones

    # -- walk.Visitor
    def entry(self, e: Entry) -> None:
        self._seen += 1
        if self._sizes:
            self._seen_bytes += e.size
        if self._seen >= PROGRESS_BATCH:
            self._report()
        if e.kind in ("dir", "symlink", "other") and e.path in self.databases:
            self._database_not_a_file(e)
        for a in self._on_entry:
            self._keep(a, a.entry(e))
        if e.kind == "symlink":
            self.facts.symlinks[e.path] = e.link
            self._count("symlinks", len(self.facts.symlinks))
        elif e.kind == "whiteout":
            self.facts.whiteouts.append(e.path)
            self._count("whiteouts", len(self.facts.whiteouts))
        elif e.kind == "opaque":
            self.facts.opaque.append(e.path)
            self._count("opaque directories", len(self.facts.opaque))

    def _count(self, what: str, n: int) -> None:
        if n > MAX_LINK_ENTRIES:
            raise ImageError(
                f"{self.name}: more than {MAX_LINK_ENTRIES} {what} in one layer; refusing it as hostile "
                "(if the image is genuine, unpack it and scan the rootfs with dir:PATH)"
            )

    def wants(self, path: str, mode: int, size: int) -> bool:
        cats = []
        for c in self.analyzers:
            if c.wants(path, mode, size):
                if c.paths_only:
                    self._parse_path(c, path)
                    continue
                if size > c.max_size:
                    if c.group != "packages":  # a huge file is no config file or secret store
                        continue
                    self._gap(
                        path,
                        f"skipped by {c.name}: over its {c.max_size}-byte limit",
                        f"/{path} ({size} bytes)",
                    )
                    continue
                cats.append(c)
        is_os = self._os and path in osrelease.OS_FILES and size <= osrelease.MAX_OS_FILE
        self._last = (path, cats, is_os)
        return bool(cats) or is_os

    def file(self, path: str, data: bytes) -> None:
        interrupt.check()
        lp, cats, is_os = self._last
        if lp != path:  # hard link re-delivery: recompute
            self.wants(path, 0o100755, len(data))
            lp, cats, is_os = self._last
        if is_os:
            self.facts.os_files[path] = data.decode("utf-8", "replace")
        if any(c.group == "packages" for c in cats):
            self.facts.wanted.append(path)
        for c in cats:
            if c.immediate:
                self._parse(c, path, data, FileTree())
            else:
                self.collected[path] = data
                self.claims.setdefault(path, []).append(c)

    def _report(self) -> None:
        self.progress.advance(files=self._seen, read=self._seen_bytes)
        self._seen = self._seen_bytes = 0

    # -- after the walk
    def finish(self) -> LayerFacts:
        self._report()
        tree = FileTree(self.collected)
        for path, cats in self.claims.items():
            interrupt.check()
            for c in cats:
                self._parse(c, path, self.collected[path], tree)
        self.collected.clear()
        f = self.facts
        for a in self.analyzers:
            if a.group == "files":
                f.files = a.finish(f.files)
            elif a.group == "secrets":
                f.secrets = a.finish(f.secrets)
            elif a.group == "config":
                f.configs = a.finish(f.configs)
        return f

    def _parse_path(self, c: LayerAnalyzer, path: str) -> None:
        """A paths_only cataloger: nothing is read; each package is kept once per tree."""
        n = len(self.facts.packages)
        self._parse(c, path, b"", FileTree())
        new = self.facts.packages[n:]
        del self.facts.packages[n:]
        for p in new:
            key = (c.name, p.path, p.purl)
            if key not in self._from_paths:
                self._from_paths.add(key)
                self.facts.packages.append(p)

    def _parse(self, c: LayerAnalyzer, path: str, data: bytes, tree: FileTree) -> None:
        try:
            self._keep(c, c.parse(path, data, tree))
        except CatalogError as e:
            self.facts.packages.extend(e.packages)  # what was read before it failed
            # catalogers name the file first ("usr/x.jar: not a zip"): the cause is what follows
            text = str(e)
            self._gap(path, text[len(path) + 2 :] if text.startswith(f"{path}: ") else text)
        except RecursionError:
            self._failed(c, path, f"nested too deeply for {c.name}; skipped")
        except Exception as e:  # an analyzer bug must not lose the whole scan
            self._failed(c, path, f"{c.name} failed ({type(e).__name__}: {e}); skipped")

    def _keep(self, c: LayerAnalyzer, found: Any) -> None:
        """File each fact an analyzer made where its kind goes."""
        n = len(self.facts.packages)
        for f in found:
            if isinstance(f, Package):
                self.facts.packages.append(f)
            elif isinstance(f, SecretFinding):
                self.facts.secrets.append(f)
            elif isinstance(f, ConfigDoc):
                self.facts.configs.append(f)
            elif isinstance(f, FileFact):
                self.facts.files.append(f)
            else:
                raise TypeError(f"{c.name} made a {type(f).__name__}, not a fact")
        if self.progress.shown and len(self.facts.packages) > n:
            self.progress.advance(packages=len(self.facts.packages) - n)

    def _failed(self, c: LayerAnalyzer, path: str, cause: str) -> None:
        if c.group == "packages":
            self._gap(path, cause)
        else:  # a secret or config analyzer's failure: said, but no packages are missing
            self.facts.group_warnings.setdefault(c.group, []).append(f"{self.name}: /{path}: {cause}")

    def _note(self, cause: str, subject: str) -> None:
        self.facts.notes.append(Note(cause, subject, self.name))

    # -- what could not be read: a warning (said once per cause), and the result is incomplete
    def _gap(self, path: str, cause: str, subject: str = "", noun: str = "files") -> None:
        subject = subject or f"/{path}"
        self.facts.notes.append(Note(cause, subject, self.name, noun))
        self.facts.gaps.append(Gap(UNREADABLE, path, f"{self.name}: {subject}: {cause}"))

    def _database_not_a_file(self, e: Entry) -> None:
        what = {"dir": "a directory", "symlink": f"a symbolic link (to {e.link})"}.get(
            e.kind, "a special file"
        )
        self._gap(
            e.path,
            f"the package database is {what}, not a file, and was not read: the packages it lists are "
            "missing; repair the image or root filesystem",
        )

    def unreadable(self, path: str, error: OSError, is_dir: bool) -> None:
        """walk_dir could not list a directory or read a file (permission denied, ...)."""
        if is_dir:
            self._gap(
                path,
                f"cannot list ({error.strerror or error}): what it holds is missing; {fserrors.fix(error)}",
                noun="directories",
            )
        elif path in self.databases or any(
            c.group == "packages" and c.wants(path, stat.S_IFREG | 0o644, 0) for c in self.analyzers
        ):
            self._gap(
                path,
                f"cannot read ({error.strerror or error}): the packages it lists are missing; "
                f"{fserrors.fix(error)}",
            )


