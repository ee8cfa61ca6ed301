"""Image -> Inventory: analyze each layer once (cached by diff_id, in parallel), then squash.

This is where the layer walk (image/) meets the catalogers (catalog/). A layer's facts depend
only on its bytes and on the catalogers' versions, so they are cached under the diff_id.
"""

from __future__ import annotations

import hashlib
import posixpath
import stat
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, BinaryIO, cast

from containment import fserrors, interrupt
from containment.cache import LayerCache
from containment.catalog import osrelease
from containment.catalog.base import Cataloger, FileTree, purl
from containment.catalog.registry import all_catalogers, declared_names, source_key
from containment.cpu import cpu_quota
from containment.image.skip import SkipRules
from containment.image.source import Image, verify_layer
from containment.image.walk import Entry, Limits, walk_dir, walk_tar
from containment.model import (
    OS_TYPES,
    UNREADABLE,
    CatalogError,
    ContainmentError,
    Gap,
    ImageError,
    Inventory,
    LayerInfo,
    OSInfo,
    Package,
)
from containment.notes import Note, condense
from containment.progress import Progress, as_progress

FACTS_VERSION = 3  # 2: warnings many files share a cause of are notes; 3: gaps (what was not read)
MAX_PROOFS = 32  # blob identities remembered per cached layer
MAX_LINK_ENTRIES = 500_000  # symlinks / whiteouts one layer may record (real layers: a few thousand)
MAX_LINK_HOPS = 40
PROGRESS_BATCH = 1024  # walked entries counted before progress hears of them (a call per entry costs)


def analyzer_key(catalogers: Iterable[Cataloger]) -> str:
    spec = f"facts{FACTS_VERSION};" + ";".join(sorted(f"{c.name}={c.version}" for c in catalogers))
    return hashlib.sha256(spec.encode()).hexdigest()[:16]


@dataclass
class LayerFacts:
    """What one layer holds that matters after squashing. JSON round-trips for the cache."""

    diff_id: str
    packages: list[Package] = field(default_factory=list)
    wanted: list[str] = field(default_factory=list)  # every path a cataloger read (replaces lower ones)
    whiteouts: list[str] = field(default_factory=list)
    opaque: list[str] = field(default_factory=list)
    symlinks: dict[str, str] = field(default_factory=dict)
    os_files: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)  # warnings said once per cause after squashing
    gaps: list[Gap] = field(default_factory=list)  # package databases found but not read

    def to_json(self) -> dict[str, Any]:
        return {
            "v": FACTS_VERSION,
            "diff_id": self.diff_id,
            "packages": [p.to_json() for p in self.packages],
            "wanted": self.wanted,
            "whiteouts": self.whiteouts,
            "opaque": self.opaque,
            "symlinks": self.symlinks,
            "os_files": self.os_files,
            "warnings": self.warnings,
            "notes": [n.to_json() for n in self.notes],
            "gaps": [g.to_json() for g in self.gaps],
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> LayerFacts:
        return cls(
            diff_id=d["diff_id"],
            packages=[Package.from_json(p) for p in d.get("packages", [])],
            wanted=list(d.get("wanted", [])),
            whiteouts=list(d.get("whiteouts", [])),
            opaque=list(d.get("opaque", [])),
            symlinks=dict(d.get("symlinks", {})),
            os_files=dict(d.get("os_files", {})),
            warnings=list(d.get("warnings", [])),
            notes=[Note.from_json(n) for n in d.get("notes", [])],
            gaps=[Gap.from_json(g) for g in d.get("gaps", [])],
        )


class CatalogVisitor:
    """Receives the walk's entries; routes wanted files to the catalogers that asked."""

    def __init__(
        self, catalogers: list[Cataloger], name: str, progress: Progress | None = None, sizes: bool = False
    ) -> None:
        self.catalogers = catalogers
        self.name = name
        self.progress = progress or Progress()
        self._sizes = sizes  # count the sizes of files walked as bytes read (directories)
        self._seen = 0
        self._seen_bytes = 0
        self.databases = frozenset().union(*(c.databases for c in catalogers))
        self.facts = LayerFacts(diff_id="")
        self.collected: dict[str, bytes] = {}
        self.claims: dict[str, list[Cataloger]] = {}
        self._last: tuple[str, list[Cataloger], bool] = ("", [], False)
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
        for c in self.catalogers:
            if c.wants(path, mode, size):
                if c.paths_only:
                    self._parse_path(c, path)
                    continue
                if size > c.max_size:
                    self._gap(
                        path,
                        f"skipped by {c.name}: over its {c.max_size}-byte limit",
                        f"/{path} ({size} bytes)",
                    )
                    continue
                cats.append(c)
        is_os = path in osrelease.OS_FILES and size <= osrelease.MAX_OS_FILE
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
        if cats:
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
        return self.facts

    def _parse_path(self, c: Cataloger, path: str) -> None:
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

    def _parse(self, c: Cataloger, path: str, data: bytes, tree: FileTree) -> None:
        try:
            n = len(self.facts.packages)
            self.facts.packages.extend(c.parse(path, data, tree))
            if self.progress.shown:
                self.progress.advance(packages=len(self.facts.packages) - n)
        except CatalogError as e:
            self.facts.packages.extend(e.packages)  # what was read before it failed
            # catalogers name the file first ("usr/x.jar: not a zip"): the cause is what follows
            text = str(e)
            self._gap(path, text[len(path) + 2 :] if text.startswith(f"{path}: ") else text)
        except RecursionError:
            self._gap(path, f"nested too deeply for {c.name}; skipped")
        except Exception as e:  # a cataloger bug must not lose the whole scan
            self._gap(path, f"{c.name} failed ({type(e).__name__}: {e}); skipped")

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
        elif path in self.databases or any(c.wants(path, stat.S_IFREG | 0o644, 0) for c in self.catalogers):
            self._gap(
                path,
                f"cannot read ({error.strerror or error}): the packages it lists are missing; "
                f"{fserrors.fix(error)}",
            )


class _Counted:
    """A blob whose reads are counted as progress (only when progress is shown)."""

    def __init__(self, raw: BinaryIO, progress: Progress) -> None:
        self._raw = raw
        self._progress = progress

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        if data:
            self._progress.advance(read=len(data))
        return data


class _Stopped(Exception):
    """Another layer's walk failed: this one's result is not wanted."""


class _Stoppable:
    """A layer blob whose reads end once a stop signal arrived (Interrupted) or `stop` is set,
    so a worker thread walking a large layer stops within one read."""

    def __init__(self, raw: BinaryIO, stop: threading.Event) -> None:
        self._raw = raw
        self._stop = stop

    def read(self, size: int = -1) -> bytes:
        interrupt.check()
        if self._stop.is_set():
            raise _Stopped
        return self._raw.read(size)


class _TargetVisitor:
    """Second pass over a layer: fetch the bodies of hard-link targets nobody wanted."""

    def __init__(self, targets: set[str]) -> None:
        self.targets = targets
        self.found: dict[str, bytes] = {}

    def entry(self, e: Entry) -> None:
        pass

    def wants(self, path: str, mode: int, size: int) -> bool:
        return path in self.targets

    def file(self, path: str, data: bytes) -> None:
        self.found[path] = data

    def unreadable(self, path: str, error: OSError, is_dir: bool) -> None:
        pass


class Analyzer:
    def __init__(
        self,
        catalogers: list[Cataloger] | None = None,
        cache: LayerCache | None = None,
        limits: Limits | None = None,
        workers: int | None = None,
        progress: Progress | Callable[[str], None] | None = None,
        prefer_installed: bool = True,
        skip: SkipRules | None = None,
    ) -> None:
        self.prefer_installed = prefer_installed
        self._catalogers = catalogers
        self.skip = skip or None  # --skip-dirs / --skip-files: never read, so cached apart
        if catalogers is not None:
            self.key = analyzer_key(catalogers)
        else:  # the default set: keyed by its source, loaded only when a layer must be read
            self.key = hashlib.sha256(f"facts{FACTS_VERSION};{source_key()}".encode()).hexdigest()[:16]
        if self.skip is not None:
            self.key = hashlib.sha256(f"{self.key};skip={self.skip.key()}".encode()).hexdigest()[:16]
        self.cache = cache if cache is not None else LayerCache(analyzer_key=self.key)
        if not self.cache.key:
            self.cache.key = self.key
        self.limits = limits or Limits()
        self.workers = workers or cpu_quota()
        self.progress = as_progress(progress)

    @property
    def catalogers(self) -> list[Cataloger]:
        if self._catalogers is None:
            self._catalogers = all_catalogers()
        return self._catalogers

    # ------------------------------------------------------------------ one layer
    def _walk_layer(self, image: Image, layer: LayerInfo, blob: BinaryIO) -> LayerFacts:
        name = f"{image.ref} layer {layer.index} ({layer.digest or layer.diff_id})"
        v = CatalogVisitor(self.catalogers, name, self.progress)
        src = cast(BinaryIO, _Counted(blob, self.progress)) if self.progress.shown else blob
        stats = walk_tar(
            src, v, name, self.limits, media_type=layer.media_type, size=layer.size, skip=self.skip
        )
        verify_layer(layer, stats.digest, stats.diff_id, image.ref)
        if stats.pending_links:
            self._resolve_links(image, layer, v, stats.pending_links, name)
        facts = v.finish()
        facts.diff_id = layer.diff_id or stats.diff_id
        facts.warnings.extend(stats.warnings)
        facts.notes.extend(stats.notes)
        return facts

    def _resolve_links(
        self, image: Image, layer: LayerInfo, v: CatalogVisitor, links: dict[str, str], name: str
    ) -> None:
        missing = {t for t in links.values() if t not in v.collected}
        found: dict[str, bytes] = {}
        if missing:
            if not image.random_access:
                message = (
                    f"{name}: {len(missing)} hard-linked files not re-read (a compressed archive or an engine's "
                    "export is read once, in order): the packages they hold are missing"
                )
                v.facts.warnings.append(message)
                v.facts.gaps += [Gap(UNREADABLE, k, message) for k, t in links.items() if t in missing]
            else:
                tv = _TargetVisitor(missing)
                with image.open_layer(layer) as blob:
                    walk_tar(blob, tv, name, self.limits)
                found = tv.found
        for link, target in links.items():
            data = v.collected.get(target, found.get(target))
            if data is not None:
                v.file(link, data)

    def analyze_layers(self, image: Image) -> list[LayerFacts]:
        facts: dict[str, LayerFacts] = {}
        todo: list[LayerInfo] = []
        seen: set[str] = set()
        earlier: dict[str, dict[str, Any]] = {}  # cache entries this blob could not claim
        for layer in image.layers:
            if layer.diff_id in seen:
                continue
            seen.add(layer.diff_id)
            cached = self.cache.get(layer.diff_id)
            proof = image.layer_proof(layer)
            if cached is not None and (proof == layer.diff_id or proof in cached.get("verified", ())):
                facts[layer.diff_id] = LayerFacts.from_json(cached)
            else:
                # no entry, or an entry whose content this blob was never shown to produce: a
                # config can claim any diff_id, so read and verify the blob before trusting it
                todo.append(layer)
                if cached is not None:
                    earlier[layer.diff_id] = cached
        if not todo:
            return [facts[layer.diff_id] for layer in image.layers]
        sizes = [layer.size for layer in todo]
        self.progress.start(
            image.ref,
            layers=len(todo),
            total_bytes=sum(sizes) if all(sizes) else 0,
            cached=len(seen) - len(todo),
        )
        try:
            self._analyze(image, todo, facts, earlier)
        finally:
            self.progress.stop()
        return [facts[layer.diff_id] for layer in image.layers]

    def _analyze(
        self,
        image: Image,
        todo: list[LayerInfo],
        facts: dict[str, LayerFacts],
        earlier: dict[str, dict[str, Any]],
    ) -> None:

        def store(layer: LayerInfo, f: LayerFacts) -> None:
            facts[layer.diff_id] = f
            doc = f.to_json()
            old = earlier.get(layer.diff_id)
            proofs = [image.layer_proof(layer)]
            if old is not None:
                proofs += [x for x in old.get("verified", ()) if x not in proofs]
            doc["verified"] = proofs[:MAX_PROOFS]
            self.cache.put(layer.diff_id, doc)
            self.progress.advance(layers=1)

        stop = threading.Event()  # set when the scan ends early: the other layers' walks stop

        def one(layer: LayerInfo) -> None:
            with image.open_layer(layer) as blob:
                f = self._walk_layer(image, layer, cast(BinaryIO, _Stoppable(blob, stop)))
            store(layer, f)

        if image.random_access and self.workers > 1 and len(todo) > 1:
            # biggest first so the long pole starts at once
            order = sorted(todo, key=lambda x: -x.size)
            pool = ThreadPoolExecutor(max_workers=min(self.workers, len(todo)))
            futures = [pool.submit(one, layer) for layer in order]
            try:
                for fut in futures:
                    fut.result()
            except BaseException:
                # an error or a stop signal: nothing waits for the other layers to be read
                stop.set()
                pool.shutdown(wait=False, cancel_futures=True)
                wait([f for f in futures if not f.cancelled()], timeout=interrupt.GRACE / 2)
                raise
            pool.shutdown()
        else:
            for layer, blob in image.iter_layers(todo):
                store(layer, self._walk_layer(image, layer, blob))

    # ------------------------------------------------------------------ whole images
    def inventory(self, image: Image) -> Inventory:
        layer_facts = self.analyze_layers(image)
        os_info, packages, warnings, gaps = squash(layer_facts, [layer.diff_id for layer in image.layers])
        return Inventory(
            target=image.ref,
            kind="image",
            os=os_info,
            packages=tuple(finalize(packages, os_info, self.prefer_installed)),
            layers=tuple(image.layers),
            image_digest=image.manifest_digest,
            image_id=image.config_digest,
            config=image.config,
            warnings=tuple(warnings),
            gaps=tuple(gaps),
        )

    def inventory_dir(self, root: str, ref: str) -> Inventory:
        v = CatalogVisitor(self.catalogers, ref, self.progress, sizes=True)
        self.progress.start(ref)
        try:
            stats = walk_dir(root, v, ref, self.limits, skip=self.skip)
            facts = v.finish()
        finally:
            self.progress.stop()
        facts.warnings.extend(stats.warnings)
        facts.notes.extend(stats.notes)
        os_info, packages, warnings, gaps = squash([facts], [""])
        return Inventory(
            target=ref,
            kind="filesystem",
            os=os_info,
            packages=tuple(finalize(packages, os_info, self.prefer_installed)),
            warnings=tuple(warnings),
            gaps=tuple(gaps),
        )


# ---------------------------------------------------------------------- squash


def _deleted(path: str, gone: set[str], emptied: set[str]) -> bool:
    if path in gone or "" in emptied:
        return True
    i = path.rfind("/")
    while i > 0:
        anc = path[:i]
        if anc in gone or anc in emptied:
            return True
        i = path.rfind("/", 0, i)
    return False


def squash(
    layers: list[LayerFacts], diff_ids: list[str]
) -> tuple[OSInfo | None, list[Package], list[str], list[Gap]]:
    """Apply layers bottom to top: whiteouts and opaque dirs delete, a later file replaces.

    A package keeps the layer that first introduced it (same path, name, version) while later
    layers rewrite its database, as users expect "which layer brought this in" to answer.
    A gap (a database a layer held but that could not be read) goes the same way: a later layer
    that deletes or rewrites the path removes it.
    """
    live: dict[str, tuple[int, list[Package]]] = {}
    gaps: dict[str, list[Gap]] = {}
    os_live: dict[str, str] = {}
    links: dict[str, str] = {}
    warnings: list[str] = []
    notes: list[Note] = []
    for i, f in enumerate(layers):
        gone = set(f.whiteouts)  # the path and everything under it
        gone.update(p for p in f.symlinks if p not in links)  # a symlink replaces a directory below
        emptied = set(f.opaque)  # everything under it, from lower layers
        if gone or emptied:
            for table in (live, os_live, links, gaps):
                for p in [p for p in table if _deleted(p, gone, emptied)]:
                    del table[p]  # type: ignore[attr-defined]
        by_path: dict[str, list[Package]] = {}
        for pkg in f.packages:
            by_path.setdefault(pkg.path, []).append(pkg)
        for path in f.wanted:
            new = by_path.pop(path, [])
            old = live.get(path)
            if old is not None:
                prev = {(q.type, q.name, q.version): q.layer for q in old[1]}
                new = [q.with_layer(prev.get((q.type, q.name, q.version)) or diff_ids[i]) for q in new]
            else:
                new = [q.with_layer(diff_ids[i]) for q in new]
            live[path] = (i, new)
            gaps.pop(path, None)
        mine: dict[str, list[Gap]] = {}
        for g in f.gaps:
            mine.setdefault(g.subject, []).append(g)
        gaps.update(mine)  # this layer's word on a path replaces a lower layer's
        for path, pkgs in by_path.items():  # packages whose file was not listed as wanted
            live.setdefault(path, (i, []))[1].extend(q.with_layer(diff_ids[i]) for q in pkgs)
        os_live.update(f.os_files)
        links.update(f.symlinks)
        warnings.extend(f.warnings)
        notes.extend(f.notes)
    warnings.extend(condense(notes))  # once per cause, not once per file
    os_files = {}
    for p in osrelease.OS_FILES:
        real = resolve(p, links)
        if real is not None and real in os_live:
            os_files[p] = os_live[real].encode()
    os_info = osrelease.detect(os_files)
    packages = [q for _, pkgs in live.values() for q in pkgs]
    return os_info, packages, warnings, [g for gs in gaps.values() for g in gs]


def resolve(path: str, links: dict[str, str]) -> str | None:
    """Follow symlinks inside the image root, as the image's own processes would (chroot rules)."""
    parts = [p for p in path.split("/") if p]
    done: list[str] = []
    hops = 0
    while parts:
        part = parts.pop(0)
        if part == ".":
            continue
        if part == "..":
            if done:
                done.pop()
            continue
        cur = "/".join([*done, part])
        target = links.get(cur)
        if target is None:
            done.append(part)
            continue
        hops += 1
        if hops > MAX_LINK_HOPS:
            return None  # a loop: ELOOP, as the kernel would say
        if target.startswith("/"):
            done = []
        parts = [p for p in target.split("/") if p] + parts
    return "/".join(done)


# ---------------------------------------------------------------------- finishing touches


def prefer_installed(packages: list[Package]) -> list[Package]:
    """In an image or rootfs, what is installed is the truth; declarations yield to it.

    A lockfile or manifest package is dropped when the same package is installed anywhere, or
    when the lockfile's own directory holds installed packages of that ecosystem (then what the
    lock declares but the tree lacks was not installed: an uninstalled package, omitted dev
    dependencies). Lockfiles with no installed tree beside them still count. A project's own
    manifest (a package.json beside its lockfile, marked `root`) is not an installed tree.
    """
    declared = declared_names()
    installed = [p for p in packages if p.cataloger not in declared]
    if len(installed) == len(packages):
        return packages
    have = {(p.type, p.purl.split("?", 1)[0]) for p in installed}
    paths_by_type: dict[str, list[str]] = {}
    for p in installed:
        if not p.extra.get("root"):
            paths_by_type.setdefault(p.type, []).append(p.path)
    covered: dict[tuple[str, str], bool] = {}
    out = list(installed)
    for p in packages:
        if p.cataloger not in declared:
            continue
        if (p.type, p.purl.split("?", 1)[0]) in have:
            continue
        d = posixpath.dirname(p.path)
        key = (p.type, d)
        if key not in covered:
            prefix = d + "/" if d else ""
            covered[key] = any(q.startswith(prefix) for q in paths_by_type.get(p.type, ()))
        if not covered[key]:
            out.append(p)
    return out


def prefer_declared(packages: list[Package]) -> list[Package]:
    """In a source tree (`scan fs`), lockfiles are the truth, as in Trivy: an installed copy of a
    package a lockfile already declares (node_modules beside package-lock.json) is dropped."""
    declared = declared_names()
    have = {(p.type, p.purl.split("?", 1)[0]) for p in packages if p.cataloger in declared}
    if not have:
        return packages
    return [p for p in packages if p.cataloger in declared or (p.type, p.purl.split("?", 1)[0]) not in have]


def finalize(packages: list[Package], os_info: OSInfo | None, installed_first: bool = True) -> list[Package]:
    """OS purls get namespace (the vendor, containment.distros: pkg:rpm/redhat/...) and distro;
    duplicates (same purl at the same path) collapse."""
    packages = prefer_installed(packages) if installed_first else prefer_declared(packages)
    out: dict[tuple[str, str], Package] = {}
    for p in packages:
        if p.type in OS_TYPES and os_info is not None:
            p = _with_distro(p, os_info)
        key = (p.purl, p.path)
        if key not in out:
            out[key] = p
    return sorted(out.values(), key=lambda p: (p.type, p.name.lower(), p.version, p.path))


def _with_distro(p: Package, os_info: OSInfo) -> Package:
    from dataclasses import replace

    from packageurl import PackageURL

    try:
        u = PackageURL.from_string(p.purl)
    except ValueError:
        return p
    from containment.distros import purl_namespace

    q = dict(u.qualifiers or {})  # type: ignore[arg-type]
    q["distro"] = os_info.distro
    # a namespace the cataloger set is the type's own (Gentoo's category: pkg:ebuild/dev-libs/openssl)
    namespace = u.namespace or purl_namespace(os_info)
    return replace(p, purl=purl(u.type, u.name, u.version, namespace, q, u.subpath))


def open_target(
    ref: str,
    platform: str | None = None,
    plain_http: bool = False,
    tls_verify: bool = True,
    cache: LayerCache | None = None,
) -> Image | str:
    """An Image for an image reference, or the root path (str) for `dir:` targets. `cache`: where
    a local engine's image configs are kept (image/engine.py); None or disabled: nowhere."""
    from containment.image.source import Platform

    plat = Platform.parse(platform)
    if ref.startswith("dir:"):
        return ref[4:] or "."
    if ref.startswith("oci:"):
        rest = ref[4:]
        path, tag = rest, None
        head, sep, tail = rest.rpartition(":")
        if sep and head and "/" not in tail:
            path, tag = head, tail
        from containment.image.oci import OCILayout

        return OCILayout(path, tag, plat, ref)
    if ref.startswith("docker-archive:"):
        rest = ref[len("docker-archive:") :]
        path, tag = rest, None
        head, sep, tail = rest.rpartition(":")
        import os

        if sep and head and not os.path.exists(rest) and os.path.exists(head):
            path, tag = head, tail
        from containment.image.docker_archive import DockerArchive

        return DockerArchive(path, tag, ref)
    import re

    from containment.image import engine

    cache_root = cache.root.parent if cache is not None and cache.enabled else None
    local = re.match(
        r"^(podman|docker|docker-daemon):(?!//)(?!\d+/)(.*)$", ref
    )  # not docker://, docker:5000/
    if local:
        kind = "docker" if local.group(1) == "docker-daemon" else local.group(1)
        return engine.open_engine(kind, local.group(2), ref, plat if platform else None, cache_root)
    from containment.image.registry import (
        ManifestUnknown,
        RegistryImage,
        RegistryUnreachable,
        parse_reference,
    )

    if ref.startswith(("docker://", "registry:")):
        return RegistryImage(
            ref.split(":", 1)[1].lstrip("/") if ref.startswith("registry:") else ref,
            plat,
            plain_http,
            tls_verify,
        )
    if ref.startswith(("/", "./", "../")) or ref in (".", ".."):
        raise ImageError(
            f"{ref}: looks like a path; say what it is: oci:{ref}, docker-archive:{ref} or dir:{ref}"
        )
    if ":" in ref.split("/")[0] and ref.split(":", 1)[0] in (
        "oci-archive",
        "containers-storage",
    ):
        raise ImageError(
            f"{ref}: transport {ref.split(':', 1)[0]!r} is not supported; use podman:, docker:, oci:, docker-archive:, dir: or a registry reference"
        )
    # a bare reference: a local engine's image first (as Trivy does), then the registry
    parse_reference(ref)
    found, tried = engine.find_local(ref, ref, plat if platform else None, cache_root)
    if found is not None:
        return found
    try:
        return RegistryImage(ref, plat, plain_http, tls_verify)
    except (RegistryUnreachable, ManifestUnknown) as e:
        raise ImageError(
            f"{e}; the image is not in a local engine either ({tried}): pull it, or use oci:DIR or docker-archive:FILE"
        ) from None


def scan_target(
    ref: str,
    analyzer: Analyzer,
    platform: str | None = None,
    plain_http: bool = False,
    tls_verify: bool = True,
) -> Inventory:
    target = open_target(ref, platform, plain_http, tls_verify, cache=analyzer.cache)
    if isinstance(target, str):
        return analyzer.inventory_dir(target, ref)
    with target:
        return analyzer.inventory(target)


__all__ = ["Analyzer", "LayerFacts", "ContainmentError", "scan_target", "open_target", "squash", "resolve"]
