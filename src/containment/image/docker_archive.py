"""`docker save` archives (`docker-archive:PATH[:TAG]`), plain or gzip-compressed.

A plain archive is indexed once (headers only) and each layer is read in place, in any order.
A compressed one cannot seek: its small JSON files are read in a first pass and the layers are
streamed in archive order in a second.
"""

from __future__ import annotations

import io
import os
import posixpath
import tarfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import IO, Any, BinaryIO

from containment.image.source import Image, check_digest, created_by, digest_of, parse_json
from containment.image.walk import GZIP_MAGIC, ZSTD_MAGIC, normalize
from containment.model import ImageError, LayerInfo

MAX_MEMBERS = 1_000_000
SMALL = 8 << 20


class _Slice(io.RawIOBase):
    """A window [offset, offset+size) of a file, read without loading it."""

    def __init__(self, f: BinaryIO, offset: int, size: int) -> None:
        self._f = f
        self._pos = offset
        self._end = offset + size

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        left = self._end - self._pos
        if left <= 0:
            return b""
        n = left if n is None or n < 0 else min(n, left)
        self._f.seek(self._pos)
        data = self._f.read(n)
        self._pos += len(data)
        if not data:
            raise ImageError("archive is truncated inside a layer; re-export it with docker save")
        return data

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)


class DockerArchive(Image):
    def __init__(self, path: str, tag: str | None, ref: str) -> None:
        self.ref = ref
        self.path = path
        if not os.path.isfile(path):
            raise ImageError(f"{ref}: {path} is not a file; give docker-archive:PATH to a `docker save` tar")
        with open(path, "rb") as f:
            head = f.read(4)
        if head.startswith(ZSTD_MAGIC):
            raise ImageError(f"{ref}: zstd-compressed archives are not read; decompress it first (zstd -d)")
        self.compressed = head.startswith(GZIP_MAGIC)
        self.random_access = not self.compressed
        self._index: dict[str, tarfile.TarInfo] = {}
        small: dict[str, bytes] = {}
        try:
            if self.compressed:
                for m, member in self._stream_members():
                    if m.isreg() and m.size <= SMALL and (m.name.endswith(".json") or "/" not in m.name):
                        small[m.name] = member.read()
                    self._index[m.name] = m
            else:
                with tarfile.open(path, mode="r:") as tf:
                    for i, m in enumerate(tf):
                        if i > MAX_MEMBERS:
                            raise ImageError(f"{ref}: archive has too many entries; refusing it")
                        self._index[normalize(m.name)] = m
                    for name, m in self._index.items():
                        if m.isreg() and m.size <= SMALL and (name.endswith(".json") or "/" not in name):
                            ef = tf.extractfile(m)
                            small[name] = ef.read() if ef else b""
        except ImageError:
            raise
        except (tarfile.TarError, EOFError, OSError, ValueError) as e:
            raise ImageError(
                f"{ref}: not a readable tar archive ({e}); give a `docker save` output"
            ) from None
        if "manifest.json" not in small:
            if "index.json" in small and "oci-layout" in self._index:
                raise ImageError(f"{ref}: this is an OCI layout in a tar; extract it and use oci:DIR")
            raise ImageError(f"{ref}: no manifest.json in the archive; it is not a `docker save` image")
        manifest = _json_any(small["manifest.json"], f"{ref} manifest.json")
        if not isinstance(manifest, list) or not manifest or not all(isinstance(x, dict) for x in manifest):
            raise ImageError(f"{ref}: manifest.json is not a list of images; the archive is corrupt")
        entry = self._pick(manifest, tag)
        cfg_name = self._resolve(str(entry.get("Config", "")))
        if cfg_name not in small:
            raise ImageError(
                f"{ref}: config {entry.get('Config')!r} is missing from the archive; it is corrupt"
            )
        cfg_bytes = small[cfg_name]
        self.config_digest = digest_of(cfg_bytes)
        base = posixpath.basename(cfg_name).removesuffix(".json")
        if len(base) == 64 and self.config_digest != f"sha256:{base}":
            raise ImageError(
                f"{ref}: config {cfg_name} has digest {self.config_digest}, not the one its name claims; "
                "the archive is corrupt or tampered with"
            )
        self.config = parse_json(cfg_bytes, f"{ref} config")
        self.repo_tags = [t for t in entry.get("RepoTags") or [] if isinstance(t, str)]
        layer_files = entry.get("Layers")
        if not isinstance(layer_files, list):
            raise ImageError(f"{ref}: manifest.json entry has no Layers list; the archive is corrupt")
        diff_ids = (
            (self.config.get("rootfs") or {}).get("diff_ids")
            if isinstance(self.config.get("rootfs"), dict)
            else None
        )
        if not isinstance(diff_ids, list) or len(diff_ids) != len(layer_files):
            raise ImageError(
                f"{ref}: config and manifest disagree on the number of layers; the archive is corrupt"
            )
        history = created_by(self.config)
        self.layers = []
        self._member_of: dict[int, str] = {}
        for i, (lf, did) in enumerate(zip(layer_files, diff_ids, strict=True)):
            name = self._resolve(str(lf))
            lm = self._index.get(name)
            if lm is None or not lm.isreg():
                raise ImageError(
                    f"{ref}: layer file {lf!r} is missing from the archive; it is truncated or corrupt"
                )
            self._member_of[i] = name
            self.layers.append(
                LayerInfo(
                    index=i,
                    diff_id=check_digest(did, f"{ref} diff_id {i}"),
                    digest="",
                    media_type="application/vnd.docker.image.rootfs.diff.tar",
                    size=lm.size,
                    created_by=history[i] if i < len(history) else "",
                )
            )

    def _pick(self, manifest: list[dict[str, Any]], tag: str | None) -> dict[str, Any]:
        if tag is None:
            if len(manifest) > 1:
                tags = [t for e in manifest for t in (e.get("RepoTags") or [])]
                raise ImageError(
                    f"{self.ref}: archive holds {len(manifest)} images; pick one with :TAG ({', '.join(tags)})"
                )
            return manifest[0]
        if tag.startswith("@") and tag[1:].isdigit():
            i = int(tag[1:])
            if i < len(manifest):
                return manifest[i]
        for e in manifest:
            for t in e.get("RepoTags") or []:
                if t == tag or t.rsplit(":", 1)[-1] == tag or t.split("/")[-1] == tag:
                    return e
        raise ImageError(f"{self.ref}: no image tagged {tag!r} in the archive")

    def _resolve(self, name: str) -> str:
        """Follow symlinks inside the archive (docker save links duplicate layers), bounded."""
        name = normalize(name)
        for _ in range(16):
            m = self._index.get(name)
            if m is None or not m.issym():
                return name
            name = normalize(posixpath.join(posixpath.dirname(name), m.linkname))
        raise ImageError(f"{self.ref}: symlink loop at {name!r} inside the archive; it is corrupt")

    def _stream_members(self) -> Iterator[tuple[tarfile.TarInfo, IO[bytes]]]:
        from isal import igzip

        with (
            open(self.path, "rb") as raw,
            igzip.IGzipFile(fileobj=raw, mode="rb") as gz,
            tarfile.open(fileobj=gz, mode="r|") as tf,  # type: ignore[call-overload]
        ):
            for i, m in enumerate(tf):
                if i > MAX_MEMBERS:
                    raise ImageError(f"{self.ref}: archive has too many entries; refusing it")
                m.name = normalize(m.name)
                f = tf.extractfile(m) if m.isreg() else None
                yield m, f if f is not None else io.BytesIO(b"")

    @contextmanager
    def _open(self, layer: LayerInfo) -> Iterator[BinaryIO]:
        m = self._index[self._member_of[layer.index]]
        with open(self.path, "rb") as f:
            yield _Slice(f, m.offset_data, m.size)  # type: ignore[misc]

    def layer_proof(self, layer: LayerInfo) -> str:
        """A docker-archive names layers only by the diff_id its own config claims. The proof is
        the file's identity (device, inode, size, mtime, ctime: ctime cannot be set back by a
        user) and the member's place in it; a crafted archive claiming a known diff_id gets read."""
        try:
            st = os.stat(self.path)
        except OSError:
            return ""
        m = self._index[self._member_of[layer.index]]
        return (
            f"file:{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{m.offset}:{m.size}"
        )

    def open_layer(self, layer: LayerInfo) -> AbstractContextManager[BinaryIO]:
        if self.compressed:
            raise ImageError(f"{self.ref}: compressed archive layers can only be read in order")
        return self._open(layer)

    def iter_layers(self, wanted: list[LayerInfo]) -> Iterator[tuple[LayerInfo, BinaryIO]]:
        if not self.compressed:
            yield from super().iter_layers(wanted)
            return
        by_name: dict[str, list[LayerInfo]] = {}
        for layer in wanted:
            by_name.setdefault(self._member_of[layer.index], []).append(layer)
        # symlinked duplicates resolve to one member; stream each member once
        try:
            for m, f in self._stream_members():
                if m.name in by_name:
                    layers = by_name.pop(m.name)
                    yield layers[0], f  # type: ignore[misc]
                    if not by_name:
                        return
        except ImageError:
            raise
        except (tarfile.TarError, EOFError, OSError) as e:
            raise ImageError(f"{self.ref}: archive is truncated or corrupt ({e}); re-export it") from None
        if by_name:
            raise ImageError(f"{self.ref}: archive ended before layer {next(iter(by_name))}; it is truncated")


def _json_any(data: bytes, what: str) -> Any:
    import json

    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as e:
        raise ImageError(f"{what}: not valid JSON ({e}); the archive is corrupt") from None
