"""`docker save` archives (`docker-archive:PATH[:TAG]`), plain or gzip-compressed.

A plain archive is indexed once (headers only) and each layer is read in place, in any order.
A compressed one cannot seek: its small JSON files are read in a first pass and the layers are
streamed in archive order in a second.

Both layouts are read: the legacy one (`<id>/layer.tar`, `<config>.json`) and the one Docker
25+ writes, an OCI layout inside the tar whose manifest.json names `blobs/sha256/<hex>`. There
a member's name is its digest (checked as it is read) and the OCI manifests give each blob's
size (checked against the member: a mismatch is refused, as the OCI image spec requires).
"""

from __future__ import annotations

import io
import os
import posixpath
import re
import stat
import tarfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import IO, Any, BinaryIO

from containment import fserrors
from containment.image.source import (
    INDEX_TYPES,
    MAX_JSON,
    Image,
    check_digest,
    check_size,
    created_by,
    declared_size,
    digest_of,
    parse_json,
    verify_bytes,
)
from containment.image.walk import GZIP_MAGIC, ZSTD_MAGIC, decompress_errors, normalize
from containment.model import ImageError, LayerInfo

MAX_MEMBERS = 1_000_000
SMALL = 8 << 20
BLOB_NAME = re.compile(r"^blobs/(sha256|sha512)/([a-f0-9]{64}|[a-f0-9]{128})$")
MAX_OCI_MANIFESTS = 64  # manifests followed from an archive's index.json to check blob sizes


def _archive_errors() -> tuple[type[BaseException], ...]:
    """What reading a broken (or broken gzip) tar raises."""
    return (tarfile.TarError, EOFError, OSError, ValueError, *decompress_errors())


class _Slice(io.RawIOBase):
    """A window [offset, offset+size) of a file, read without loading it."""

    def __init__(self, f: BinaryIO, offset: int, size: int, what: str) -> None:
        self._f = f
        self._pos = offset
        self._end = offset + size
        self._what = what

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
            raise ImageError(
                f"{self._what}: archive is truncated inside a layer; re-export it with docker save"
            )
        return data

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)


class DockerArchive(Image):
    def __init__(self, path: str, tag: str | None, ref: str) -> None:
        self.ref = ref
        self.path = path
        st, err = fserrors.stat(path)
        if err is not None:
            raise ImageError(f"{ref}: {fserrors.problem(path, err)}")
        if st is None or not stat.S_ISREG(st.st_mode):
            raise ImageError(f"{ref}: {path} is not a file; give docker-archive:PATH to a `docker save` tar")
        try:
            with open(path, "rb") as f:
                head = f.read(4)
        except OSError as e:
            raise ImageError(f"{ref}: {fserrors.problem(path, e)}") from None
        if head.startswith(ZSTD_MAGIC):
            raise ImageError(f"{ref}: zstd-compressed archives are not read; decompress it first (zstd -d)")
        self._small: dict[str, bytes] = {}
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
                            raise ImageError(
                                f"{ref}: archive has more than {MAX_MEMBERS} entries; refusing it as hostile"
                            )
                        self._index[normalize(m.name)] = m
                    for name, m in self._index.items():
                        if m.isreg() and m.size <= SMALL and (name.endswith(".json") or "/" not in name):
                            ef = tf.extractfile(m)
                            small[name] = ef.read() if ef else b""
        except ImageError:
            raise
        except _archive_errors() as e:
            if self.compressed:
                raise ImageError(
                    f"{ref}: the gzip-compressed archive is corrupt or truncated ({type(e).__name__}: {e}); "
                    "re-export it (docker save IMAGE | gzip)"
                ) from None
            raise ImageError(
                f"{ref}: not a readable tar archive ({type(e).__name__}: {e}); give a `docker save` "
                "output (re-export it if it is one)"
            ) from None
        self._small = small
        self._load(tag)

    def _load(self, tag: str | None) -> None:
        """manifest.json, the config and the layer members, from the members indexed and the
        small files kept (image/engine.py calls it too, on an engine's `docker save` stream)."""
        ref, small = self.ref, self._small
        if "manifest.json" not in small:
            if "index.json" in small and "oci-layout" in self._index:
                raise ImageError(f"{ref}: this is an OCI layout in a tar; extract it and use oci:DIR")
            raise ImageError(
                f"{ref}: no manifest.json in the archive; it is not a `docker save` image (give one, or "
                "use oci:DIR for an OCI layout)"
            )
        manifest = _json_any(small["manifest.json"], f"{ref} manifest.json")
        if not isinstance(manifest, list) or not manifest or not all(isinstance(x, dict) for x in manifest):
            raise ImageError(
                f"{ref}: manifest.json is not a list of images; the archive is corrupt: re-export it with docker save"
            )
        entry = self._pick(manifest, tag)
        cfg_name = self._resolve(str(entry.get("Config", "")))
        cfg_member = self._index.get(cfg_name)
        if cfg_member is None or not cfg_member.isreg():
            raise ImageError(
                f"{ref}: config {entry.get('Config')!r} is missing from the archive; it is truncated or "
                "corrupt: re-export it with docker save"
            )
        if cfg_member.size > MAX_JSON:
            raise ImageError(f"{ref}: config {cfg_name} is {cfg_member.size} bytes; refusing it as hostile")
        cfg_bytes = small[cfg_name] if cfg_name in small else self._members([cfg_name])[cfg_name]
        self.config_digest = digest_of(cfg_bytes)
        base = posixpath.basename(cfg_name).removesuffix(".json")
        if len(base) == 64 and self.config_digest != f"sha256:{base}":
            raise ImageError(
                f"{ref}: config {cfg_name} has digest {self.config_digest}, not the one its name claims; "
                "the archive is corrupt or tampered with: re-export it with docker save"
            )
        self.config = parse_json(cfg_bytes, f"{ref} config")
        tags = entry.get("RepoTags")
        self.repo_tags = [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []
        layer_files = entry.get("Layers")
        if not isinstance(layer_files, list):
            raise ImageError(
                f"{ref}: manifest.json entry has no Layers list; the archive is corrupt: re-export it with docker save"
            )
        diff_ids = (
            (self.config.get("rootfs") or {}).get("diff_ids")
            if isinstance(self.config.get("rootfs"), dict)
            else None
        )
        if not isinstance(diff_ids, list) or len(diff_ids) != len(layer_files):
            raise ImageError(
                f"{ref}: config and manifest disagree on the number of layers; the archive is corrupt: "
                "re-export it with docker save"
            )
        history = created_by(self.config)
        self.layers = []
        self._member_of: dict[int, str] = {}
        for i, (lf, did) in enumerate(zip(layer_files, diff_ids, strict=True)):
            name = self._resolve(str(lf))
            lm = self._index.get(name)
            if lm is None or not lm.isreg():
                raise ImageError(
                    f"{ref}: layer file {lf!r} is missing from the archive; it is truncated or corrupt: "
                    "re-export it with docker save"
                )
            self._member_of[i] = name
            blob = BLOB_NAME.match(name)  # Docker 25+: the member is named by its digest
            self.layers.append(
                LayerInfo(
                    index=i,
                    diff_id=check_digest(did, f"{ref} diff_id {i}"),
                    digest=f"{blob.group(1)}:{blob.group(2)}" if blob else "",
                    media_type="application/vnd.docker.image.rootfs.diff.tar",
                    size=lm.size,
                    created_by=history[i] if i < len(history) else "",
                )
            )
        if "index.json" in small:
            self._check_oci_sizes(small["index.json"])

    def _check_oci_sizes(self, index_json: bytes) -> None:
        """Docker 25+ archives carry OCI manifests: every blob they describe that the archive
        holds must have the size (and manifests the digest) their descriptors declare."""
        what = f"{self.ref} index.json"
        try:
            index = parse_json(index_json, what)
        except ImageError:
            return  # a legacy archive with a stray index.json: manifest.json is what we read
        todo = [d for d in index.get("manifests") or [] if isinstance(d, dict)]
        seen = 0
        while todo and seen < MAX_OCI_MANIFESTS:
            desc = todo.pop(0)
            seen += 1
            name = self._blob_member(desc, what)
            if name is None:
                continue
            data = self._small.get(name)
            if data is None:
                if self._index[name].size > MAX_JSON:
                    continue
                data = self._members([name])[name]
            digest = str(desc["digest"])
            verify_bytes(data, digest, f"{self.ref} blob {digest}")
            doc = parse_json(data, f"{self.ref} blob {digest}")
            if desc.get("mediaType") in INDEX_TYPES or "manifests" in doc:
                todo.extend(d for d in doc.get("manifests") or [] if isinstance(d, dict))
                continue
            config = doc.get("config")
            for d in [config, *(doc.get("layers") or [])]:
                if isinstance(d, dict):
                    self._blob_member(d, f"{self.ref} blob {digest}")

    def _blob_member(self, desc: dict[str, Any], what: str) -> str | None:
        """The member a descriptor names (blobs/<alg>/<hex>), its size checked; None if absent."""
        digest = desc.get("digest")
        if not isinstance(digest, str) or ":" not in digest:
            return None
        alg, _, hexd = digest.partition(":")
        name = f"blobs/{alg}/{hexd}"
        m = self._index.get(name)
        if m is None or not m.isreg() or not BLOB_NAME.match(name):
            return None
        check_size(m.size, declared_size(desc, f"{what} descriptor {digest}"), f"{self.ref} blob {digest}")
        return name

    def _members(self, names: list[str]) -> dict[str, bytes]:
        """The bytes of a few small members that the first pass did not keep."""
        out: dict[str, bytes] = {}
        try:
            if self.compressed:
                want = set(names)
                for m, f in self._stream_members():
                    if m.name in want:
                        out[m.name] = f.read()
                        want.discard(m.name)
                        if not want:
                            break
            else:
                with open(self.path, "rb") as f:
                    for n in names:
                        m = self._index[n]
                        f.seek(m.offset_data)
                        out[n] = f.read(m.size)
        except _archive_errors() as e:
            raise ImageError(
                f"{self.ref}: archive is truncated or corrupt ({type(e).__name__}: {e}); re-export it"
            ) from None
        for n in names:
            if n not in out or len(out[n]) != self._index[n].size:
                raise ImageError(
                    f"{self.ref}: archive is truncated inside {n}; re-export it with docker save"
                )
        return out

    def _pick(self, manifest: list[dict[str, Any]], tag: str | None) -> dict[str, Any]:
        def tags_of(e: dict[str, Any]) -> list[str]:
            tags = e.get("RepoTags")
            return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []

        if tag is None:
            if len(manifest) > 1:
                tags = [t for e in manifest for t in tags_of(e)]
                raise ImageError(
                    f"{self.ref}: archive holds {len(manifest)} images; pick one with :TAG "
                    f"({', '.join(tags) or 'untagged: use :@0, :@1, ...'})"
                )
            return manifest[0]
        if tag.startswith("@") and tag[1:].isdigit():
            i = int(tag[1:])
            if i < len(manifest):
                return manifest[i]
        for e in manifest:
            for t in tags_of(e):
                if t == tag or t.rsplit(":", 1)[-1] == tag or t.split("/")[-1] == tag:
                    return e
        tags = [t for e in manifest for t in tags_of(e)]
        raise ImageError(
            f"{self.ref}: no image tagged {tag!r} in the archive; tags: {', '.join(tags) or 'none'} "
            "(or :@N for the N-th image)"
        )

    def _resolve(self, name: str) -> str:
        """Follow symlinks inside the archive (docker save links duplicate layers), bounded."""
        name = normalize(name)
        for _ in range(16):
            m = self._index.get(name)
            if m is None or not m.issym():
                return name
            name = normalize(posixpath.join(posixpath.dirname(name), m.linkname))
        raise ImageError(
            f"{self.ref}: symlink loop at {name!r} inside the archive; it is corrupt: re-export it"
        )

    def _stream_members(self) -> Iterator[tuple[tarfile.TarInfo, IO[bytes]]]:
        from isal import igzip

        with (
            open(self.path, "rb") as raw,
            igzip.IGzipFile(fileobj=raw, mode="rb") as gz,
            tarfile.open(fileobj=gz, mode="r|") as tf,  # type: ignore[call-overload]
        ):
            for i, m in enumerate(tf):
                if i > MAX_MEMBERS:
                    raise ImageError(
                        f"{self.ref}: archive has more than {MAX_MEMBERS} entries; refusing it as hostile"
                    )
                m.name = normalize(m.name)
                f = tf.extractfile(m) if m.isreg() else None
                yield m, f if f is not None else io.BytesIO(b"")

    @contextmanager
    def _open(self, layer: LayerInfo) -> Iterator[BinaryIO]:
        m = self._index[self._member_of[layer.index]]
        with open(self.path, "rb") as f:
            yield _Slice(f, m.offset_data, m.size, f"{self.ref} layer {layer.index}")  # type: ignore[misc]

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
        except _archive_errors() as e:
            raise ImageError(
                f"{self.ref}: archive is truncated or corrupt ({type(e).__name__}: {e}); re-export it"
            ) from None
        if by_name:
            raise ImageError(
                f"{self.ref}: archive ended before layer {next(iter(by_name))}; it is truncated: re-export it"
            )


def _json_any(data: bytes, what: str) -> Any:
    import json

    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as e:
        raise ImageError(f"{what}: not valid JSON ({e}); the archive is corrupt: re-export it") from None
    except RecursionError:
        raise ImageError(
            f"{what}: JSON nests too deeply to be read safely; refusing it as hostile or corrupt "
            "(re-export the image)"
        ) from None
