"""Layer scheduling: which layers to walk for which analyzer groups (the rest comes from the
layer cache), in parallel bounded by the CPU quota, then squashed into an Inventory.

A layer's facts depend only on its bytes and on the analyzers' source, so each group's facts are
cached under the diff_id with a key derived from that group's analyzers (analyzers.group_key).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any, BinaryIO, cast

from containment import interrupt
from containment.analyzers import GROUPS, LayerAnalyzer, group_key
from containment.analyzers import analyzers as registered_analyzers
from containment.cache import LayerCache
from containment.catalog.base import Cataloger
from containment.cpu import cpu_quota
from containment.image.skip import SkipRules
from containment.image.source import Image, verify_layer
from containment.image.target import open_target
from containment.image.walk import Entry, Limits, walk_dir, walk_tar
from containment.layers.facts import FACTS_VERSION, LayerFacts
from containment.layers.squash import Squashed, finalize, squash
from containment.layers.visitor import LayerVisitor
from containment.model import UNREADABLE, Gap, Inventory, LayerInfo
from containment.progress import Progress, as_progress

MAX_PROOFS = 32  # blob identities remembered per cached layer


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
    """Image or directory -> Inventory: every layer walked once for the analyzer groups asked
    for (containment.analyzers), each group's facts cached apart under the layer's diff_id, layers
    walked in parallel, then squashed."""

    def __init__(
        self,
        catalogers: list[Cataloger] | None = None,
        cache: LayerCache | None = None,
        limits: Limits | None = None,
        workers: int | None = None,
        progress: Progress | Callable[[str], None] | None = None,
        prefer_installed: bool = True,
        skip: SkipRules | None = None,
        groups: tuple[str, ...] = ("packages",),
        analyzers: dict[str, list[LayerAnalyzer]] | None = None,
    ) -> None:
        self.prefer_installed = prefer_installed
        self.groups = tuple(g for g in GROUPS if g in groups)
        if len(self.groups) != len(set(groups)):
            raise ValueError(f"unknown analyzer group in {groups}; known: {', '.join(GROUPS)}")
        self._given: dict[str, list[LayerAnalyzer]] = dict(analyzers or {})
        if catalogers is not None:
            self._given["packages"] = list(catalogers)
        self.skip = skip or None  # --skip-dirs / --skip-files: never read, so cached apart
        self.keys = {g: self._key(g) for g in self.groups}
        self.key = self.keys[self.groups[0]] if self.groups else ""
        base = cache if cache is not None else LayerCache()
        self.caches = {g: base.with_key(k) for g, k in self.keys.items()}
        self.cache = self.caches.get("packages") or base.with_key(self.key)
        self.limits = limits or Limits()
        self.workers = workers or cpu_quota()
        self.progress = as_progress(progress)

    def _key(self, group: str) -> str:
        if group in self._given:
            spec = ";".join(sorted(f"{a.name}={a.version}" for a in self._given[group]))
        else:  # the registered set: keyed by its source, loaded only when a layer must be read
            spec = group_key(group)
        text = f"facts{FACTS_VERSION};{group};{spec}"
        if self.skip is not None:
            text += f";skip={self.skip.key()}"
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def analyzers(self, groups: tuple[str, ...]) -> list[LayerAnalyzer]:
        out: list[LayerAnalyzer] = []
        for g in groups:
            out.extend(self._given[g] if g in self._given else registered_analyzers(g))
        return out

    @property
    def catalogers(self) -> list[LayerAnalyzer]:
        return self.analyzers(("packages",))

    # ------------------------------------------------------------------ one layer
    def _walk_layer(
        self, image: Image, layer: LayerInfo, blob: BinaryIO, groups: tuple[str, ...]
    ) -> LayerFacts:
        name = f"{image.ref} layer {layer.index} ({layer.digest or layer.diff_id})"
        v = LayerVisitor(self.analyzers(groups), name, self.progress, groups=groups)
        src = cast(BinaryIO, _Counted(blob, self.progress)) if self.progress.shown else blob
        stats = walk_tar(
            src, v, name, self.limits, media_type=layer.media_type, size=layer.size, skip=self.skip
        )
        verify_layer(layer, stats.digest, stats.diff_id, image.ref)
        if stats.pending_links:
            self._resolve_links(image, layer, v, stats.pending_links, name)
        facts = v.finish()
        facts.diff_id = layer.diff_id or stats.diff_id
        facts.walk_warnings.extend(stats.warnings)
        facts.walk_notes.extend(stats.notes)
        return facts

    def _resolve_links(
        self, image: Image, layer: LayerInfo, v: LayerVisitor, links: dict[str, str], name: str
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
        parts: dict[str, list[LayerFacts]] = {}
        todo: list[tuple[LayerInfo, tuple[str, ...]]] = []
        seen: set[str] = set()
        earlier: dict[tuple[str, str], dict[str, Any]] = {}  # cache entries this blob could not claim
        for layer in image.layers:
            if layer.diff_id in seen:
                continue
            seen.add(layer.diff_id)
            proof = image.layer_proof(layer)
            have: list[LayerFacts] = []
            missing: list[str] = []
            for g in self.groups:
                cached = self.caches[g].get(layer.diff_id)
                if cached is not None and (proof == layer.diff_id or proof in cached.get("verified", ())):
                    have.append(LayerFacts.from_json(cached))
                else:
                    # no entry, or an entry whose content this blob was never shown to produce: a
                    # config can claim any diff_id, so read and verify the blob before trusting it
                    missing.append(g)
                    if cached is not None:
                        earlier[(layer.diff_id, g)] = cached
            parts[layer.diff_id] = have
            if missing:
                todo.append((layer, tuple(missing)))
        if todo:
            sizes = [layer.size for layer, _ in todo]
            self.progress.start(
                image.ref,
                layers=len(todo),
                total_bytes=sum(sizes) if all(sizes) else 0,
                cached=len(seen) - len(todo),
            )
            try:
                self._analyze(image, todo, parts, earlier)
            finally:
                self.progress.stop()
        merged = {d: LayerFacts.merge(p) if p else LayerFacts(d) for d, p in parts.items()}
        return [merged[layer.diff_id] for layer in image.layers]

    def _analyze(
        self,
        image: Image,
        todo: list[tuple[LayerInfo, tuple[str, ...]]],
        parts: dict[str, list[LayerFacts]],
        earlier: dict[tuple[str, str], dict[str, Any]],
    ) -> None:

        def store(layer: LayerInfo, f: LayerFacts, groups: tuple[str, ...]) -> None:
            for g in groups:
                part = f.only(g)
                parts[layer.diff_id].append(part)
                doc = part.to_json()
                old = earlier.get((layer.diff_id, g))
                proofs = [image.layer_proof(layer)]
                if old is not None:
                    proofs += [x for x in old.get("verified", ()) if x not in proofs]
                doc["verified"] = proofs[:MAX_PROOFS]
                self.caches[g].put(layer.diff_id, doc)
            self.progress.advance(layers=1)

        stop = threading.Event()  # set when the scan ends early: the other layers' walks stop

        def one(layer: LayerInfo, groups: tuple[str, ...]) -> None:
            with image.open_layer(layer) as blob:
                f = self._walk_layer(image, layer, cast(BinaryIO, _Stoppable(blob, stop)), groups)
            store(layer, f, groups)

        if image.random_access and self.workers > 1 and len(todo) > 1:
            # biggest first so the long pole starts at once
            order = sorted(todo, key=lambda x: -x[0].size)
            pool = ThreadPoolExecutor(max_workers=min(self.workers, len(todo)))
            futures = [pool.submit(one, layer, groups) for layer, groups in order]
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
            groups_of = {layer.diff_id: groups for layer, groups in todo}
            for layer, blob in image.iter_layers([layer for layer, _ in todo]):
                groups = groups_of[layer.diff_id]
                store(layer, self._walk_layer(image, layer, blob, groups), groups)

    # ------------------------------------------------------------------ whole images
    def inventory(self, image: Image) -> Inventory:
        layer_facts = self.analyze_layers(image)
        s = squash(layer_facts, [layer.diff_id for layer in image.layers])
        return self._inventory(
            image.ref,
            "image",
            s,
            layers=tuple(image.layers),
            image_digest=image.manifest_digest,
            image_id=image.config_digest,
            config=image.config,
        )

    def inventory_dir(self, root: str, ref: str) -> Inventory:
        v = LayerVisitor(self.analyzers(self.groups), ref, self.progress, sizes=True, groups=self.groups)
        self.progress.start(ref)
        try:
            stats = walk_dir(root, v, ref, self.limits, skip=self.skip)
            facts = v.finish()
        finally:
            self.progress.stop()
        facts.walk_warnings.extend(stats.warnings)
        facts.walk_notes.extend(stats.notes)
        return self._inventory(ref, "filesystem", squash([facts], [""]))

    def _inventory(self, ref: str, kind: str, s: Squashed, **image: Any) -> Inventory:
        return Inventory(
            target=ref,
            kind=kind,
            os=s.os,
            packages=tuple(finalize(s.packages, s.os, self.prefer_installed)),
            warnings=tuple(s.warnings),
            gaps=tuple(s.gaps),
            secrets=tuple(s.secrets),
            configs=tuple(s.configs),
            files=tuple(s.files),
            groups=self.groups,
            **image,
        )


def scan_target(
    ref: str,
    analyzer: Analyzer,
    platform: str | None = None,
    plain_http: bool = False,
    tls_verify: bool = True,
) -> Inventory:
    """The inventory of a target reference (an image, or `dir:` a root filesystem)."""
    target = open_target(ref, platform, plain_http, tls_verify, cache=analyzer.cache)
    if isinstance(target, str):
        return analyzer.inventory_dir(target, ref)
    with target:
        return analyzer.inventory(target)
