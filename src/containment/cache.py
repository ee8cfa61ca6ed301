"""The on-disk cache: layer analyses keyed by diff_id + analyzer version.

Lives in $CONTAINMENT_CACHE_DIR, else $XDG_CACHE_HOME/containment, else ~/.cache/containment.
Entries are written to a temp file and renamed into place, so concurrent scans never see a
half-written entry and two scans of the same layer simply both write the same bytes.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from containment import fserrors, interrupt
from containment.model import ContainmentError


def cache_dir() -> Path:
    env = os.environ.get("CONTAINMENT_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg) / "containment"
    return Path.home() / ".cache" / "containment"


@dataclass(frozen=True)
class CacheInfo:
    path: str
    layers: int
    bytes: int
    analyzers: int


class LayerCache:
    """diff_id -> layer facts (a JSON document), one gzip file per entry."""

    def __init__(self, root: Path | None = None, analyzer_key: str = "", enabled: bool = True) -> None:
        self.root = (root or cache_dir()) / "layers"
        self.key = analyzer_key
        self.enabled = enabled

    def with_key(self, key: str) -> LayerCache:
        """The same cache (place, on or off) under another analyzer key."""
        other = LayerCache.__new__(LayerCache)
        other.root, other.key, other.enabled = self.root, key, self.enabled
        return other

    def _path(self, diff_id: str) -> Path:
        hexd = diff_id.split(":", 1)[-1]
        return self.root / self.key / hexd[:2] / f"{hexd}.json.gz"

    def get(self, diff_id: str) -> dict[str, Any] | None:
        if not self.enabled or not diff_id:
            return None
        p = self._path(diff_id)
        try:
            with gzip.open(p, "rb") as f:
                doc = json.loads(f.read())
        except FileNotFoundError:
            return None
        except (OSError, ValueError, EOFError):
            return None  # a damaged entry is a miss; the next put replaces it
        return doc if isinstance(doc, dict) and doc.get("diff_id") == diff_id else None

    def put(self, diff_id: str, facts: dict[str, Any]) -> None:
        if not self.enabled or not diff_id:
            return
        p = self._path(diff_id)
        tmp = ""
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=".tmp-")
            with interrupt.temp_file(tmp):  # a forced exit (containment.interrupt) removes it
                with (
                    os.fdopen(fd, "wb") as raw,
                    gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=3, mtime=0) as f,
                ):
                    f.write(json.dumps(facts, separators=(",", ":")).encode())
                os.replace(tmp, p)
                tmp = ""
        except OSError:
            pass  # a read-only or full cache must not fail a scan
        finally:
            if tmp:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)


def info(root: Path | None = None) -> CacheInfo:
    base = root or cache_dir()
    layers, total, analyzers = 0, 0, 0
    lroot = base / "layers"
    if lroot.is_dir():
        analyzers = sum(1 for d in lroot.iterdir() if d.is_dir())
        for dirpath, _, files in os.walk(lroot):
            for fn in files:
                if fn.endswith(".json.gz"):
                    layers += 1
                with contextlib.suppress(OSError):
                    total += os.lstat(os.path.join(dirpath, fn)).st_size
    return CacheInfo(str(base), layers, total, analyzers)


def clean(root: Path | None = None) -> CacheInfo:
    base = root or cache_dir()
    before = info(base)
    for lroot in (base / "layers", base / "engine-images"):  # engine-images: image/engine.py
        if lroot.exists():
            if lroot.is_symlink() or not lroot.is_dir():
                raise ContainmentError(f"{lroot}: not a cache directory; remove it by hand")
            try:
                shutil.rmtree(lroot)
            except OSError as e:  # rmtree names an entry relative to its directory: name the cache
                raise ContainmentError(fserrors.problem(lroot, e, "remove")) from None
    return before
