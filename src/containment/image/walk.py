"""One streaming pass over a layer tar (or a rootfs directory), bounded and safe.

The walk knows no ecosystem: it tells a `Visitor` about every entry and hands it the bytes of
the regular files it wants. Nothing is extracted and nothing on the host is opened except the
blob being read (and, for `dir:` sources, files inside the given root, never through a link).
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import posixpath
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, BinaryIO, Protocol, cast

from containment import fserrors
from containment.image.tarstream import TarFormatError, TarStream
from containment.model import ImageError
from containment.notes import Note

if TYPE_CHECKING:
    from containment.image.skip import SkipRules

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
CHUNK = 1 << 20
GENUINE = "if the image is genuine, unpack it and scan the rootfs with dir:PATH"


@dataclass(frozen=True)
class Limits:
    """Bounds on what one layer may cost. Exceeding them refuses the layer (ImageError)."""

    max_layer_bytes: int = 64 << 30  # uncompressed bytes of one layer tar
    max_members: int = 2_000_000
    max_ratio: int = 200  # uncompressed/compressed, checked once past `ratio_floor` bytes
    ratio_floor: int = 512 << 20
    max_read_bytes: int = 4 << 30  # bytes of wanted files handed to visitors, per layer


@dataclass(frozen=True)
class Entry:
    path: str  # normalized, relative to the root, no leading slash
    kind: str  # file, dir, symlink, hardlink, whiteout, opaque, other
    mode: int = 0
    size: int = 0
    link: str = ""  # symlink target as written, or hardlink target (normalized path)


class Visitor(Protocol):
    def entry(self, e: Entry) -> None: ...

    def wants(self, path: str, mode: int, size: int) -> bool: ...

    def file(self, path: str, data: bytes) -> None: ...

    def unreadable(self, path: str, error: OSError, is_dir: bool) -> None:
        """A directory walk could not list a directory, or look at or read an entry (permission
        denied, ...): whatever it holds is missing from the result."""


@dataclass
class WalkStats:
    members: int = 0
    uncompressed: int = 0
    compressed: int = 0
    diff_id: str = ""
    digest: str = ""
    read_bytes: int = 0
    warnings: list[str] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)  # warnings that many entries may share a cause of
    pending_links: dict[str, str] = field(default_factory=dict)  # wanted hardlink -> unread target


def normalize(name: str) -> str:
    """A member name as the image's processes see it: relative to /, `..` clamped at the root."""
    return posixpath.normpath("/" + name).lstrip("/")


class _HashingReader(io.RawIOBase):
    """Reads a stream, hashing and counting what passes; calls `check` after each read."""

    def __init__(self, raw: BinaryIO, check: Callable[[int], None] | None = None) -> None:
        self._raw = raw
        self.sha = hashlib.sha256()
        self.count = 0
        self._check = check

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(b))
        n = len(data)
        if n:
            b[:n] = data
            self.sha.update(data)
            self.count += n
            if self._check:
                self._check(self.count)
        return n

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size if size is not None and size >= 0 else -1)
        if data:
            self.sha.update(data)
            self.count += len(data)
            if self._check:
                self._check(self.count)
        return data

    def drain(self) -> None:
        while self.read(CHUNK):
            pass


@cache
def decompress_errors() -> tuple[type[BaseException], ...]:
    """Exceptions the decompressors raise for bad data (besides OSError/EOFError/ValueError).
    Imported on first use: a start that reads no layer pays nothing for them."""
    import zlib

    errors: list[type[BaseException]] = [zlib.error]
    try:
        from isal.isal_zlib import IsalError  # its __module__ is 'igzip_lib', not 'isal'

        errors.append(cast("type[BaseException]", IsalError))
    except ImportError:  # pragma: no cover
        pass
    try:
        import zstandard

        errors.append(zstandard.ZstdError)
    except ImportError:  # pragma: no cover
        pass
    return tuple(errors)


def _declared_compression(media_type: str) -> tuple[bytes, str] | None:
    """(magic, name) of the compression a layer media type declares, None for plain tar."""
    mt = media_type.lower()
    if mt.endswith(("+gzip", ".tar.gzip")):
        return GZIP_MAGIC, "gzip"
    if mt.endswith("+zstd"):
        return ZSTD_MAGIC, "zstd"
    return None


def _decompressor(head: bytes, raw: BinaryIO, name: str) -> BinaryIO:
    if head.startswith(GZIP_MAGIC):
        try:
            from isal import igzip  # ISA-L: ~3x zlib's inflate speed

            return igzip.IGzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
        except ImportError:  # pragma: no cover - isal is a dependency; keep a fallback
            import gzip

            return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    if head.startswith(ZSTD_MAGIC):
        import zstandard

        return zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)  # type: ignore[return-value]
    return raw


class _Peek(io.RawIOBase):
    """Gives back a few already-read bytes before the rest of a stream."""

    def __init__(self, head: bytes, raw: BinaryIO) -> None:
        self._head = head
        self._raw = raw

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._head:
            if size is None or size < 0:
                out = self._head + self._raw.read()
                self._head = b""
                return out
            out, self._head = self._head[:size], self._head[size:]
            if len(out) < size:
                out += self._raw.read(size - len(out))
            return out
        return self._raw.read(size)

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)


def walk_tar(
    blob: BinaryIO,
    visitor: Visitor,
    name: str,
    limits: Limits = Limits(),
    *,
    media_type: str = "",
    size: int | None = None,
    skip: SkipRules | None = None,
) -> WalkStats:
    """Stream one layer blob (gzip, zstd or plain tar) through `visitor`.

    Returns the digests of the blob and of the uncompressed tar (the diff_id) so the caller can
    check them against the manifest and config. Raises ImageError naming `name` for a corrupt,
    truncated or oversized layer, for a blob that is not the compression its `media_type`
    declares (an empty blob is no gzip stream), and for one whose length is not the `size` its
    descriptor declares (checked as it streams: a longer blob is cut off at once). Files that
    `skip` skips (--skip-dirs, --skip-files) are never offered to the visitor.
    """
    stats = WalkStats()

    def check_blob(n: int) -> None:
        if size is not None and n > size:
            raise ImageError(
                f"{name}: blob is longer than the {size} bytes its descriptor declares; the image is "
                "corrupt or tampered with: re-pull or re-export it"
            )

    raw = _HashingReader(blob, check_blob)
    head = raw.read(4)
    declared = _declared_compression(media_type)
    if declared is not None and not head.startswith(declared[0]):
        what = "is empty" if not head else f"starts with {head.hex()}"
        raise ImageError(
            f"{name}: declared {media_type} but the blob {what}, not {declared[1]} data; the image is "
            "invalid (OCI image spec): rebuild or re-push it"
        )
    stream = _decompressor(head, _Peek(head, raw), name)  # type: ignore[arg-type]

    def check(n: int) -> None:
        if n > limits.max_layer_bytes:
            raise ImageError(
                f"{name}: layer expands past {limits.max_layer_bytes >> 30} GiB; refusing it as a "
                f"decompression bomb ({GENUINE})"
            )
        if n > limits.ratio_floor and raw.count and n / raw.count > limits.max_ratio:
            raise ImageError(
                f"{name}: layer expands more than {limits.max_ratio}x ({raw.count} -> {n}+ bytes); "
                f"refusing it as a decompression bomb ({GENUINE})"
            )

    tar_stream = _HashingReader(stream, check)
    try:
        _walk_members(tar_stream, visitor, name, limits, stats, skip)  # type: ignore[arg-type]
        tar_stream.drain()
        raw.drain()
    except ImageError:
        raise
    except (TarFormatError, EOFError, OSError, ValueError, UnicodeError, OverflowError) as e:
        raise ImageError(
            f"{name}: layer is truncated or corrupt ({type(e).__name__}: {e}); re-pull or re-export the image"
        ) from None
    except decompress_errors() as e:
        kind = "gzip" if head.startswith(GZIP_MAGIC) else "zstd" if head.startswith(ZSTD_MAGIC) else "tar"
        raise ImageError(
            f"{name}: layer cannot be decompressed ({kind}: {e}); the blob is corrupt: re-pull or "
            "re-export the image"
        ) from None
    if size is not None and raw.count != size:
        raise ImageError(
            f"{name}: blob has {raw.count} bytes but its descriptor declares {size}; the image is "
            "corrupt or tampered with: re-pull or re-export it"
        )
    stats.uncompressed = tar_stream.count
    stats.compressed = raw.count
    stats.diff_id = "sha256:" + tar_stream.sha.hexdigest()
    stats.digest = "sha256:" + raw.sha.hexdigest()
    return stats


def _walk_members(
    stream: BinaryIO, visitor: Visitor, name: str, limits: Limits, stats: WalkStats, skip: SkipRules | None
) -> None:
    tar = TarStream(stream)
    for m in tar:
        stats.members += 1
        if stats.members > limits.max_members:
            raise ImageError(
                f"{name}: layer has more than {limits.max_members} entries; refusing it as hostile ({GENUINE})"
            )
        path = normalize(m.name)
        if m.name.startswith("/") or ".." in m.name.split("/"):
            stats.notes.append(
                Note("escapes the root; read inside it", f"member {m.name!r} as /{path}", name, "members")
            )
        if not path:
            continue
        slash = path.rfind("/")
        base = path[slash + 1 :]
        if base.startswith(WHITEOUT):
            parent = path[:slash] if slash >= 0 else ""
            if base == OPAQUE:
                visitor.entry(Entry(parent, "opaque"))
            else:
                visitor.entry(Entry(posixpath.join(parent, base[len(WHITEOUT) :]), "whiteout"))
            continue
        if m.isreg():
            mode = stat.S_IFREG | m.mode
            visitor.entry(Entry(path, "file", mode, m.size))
            if (skip is None or not skip.skips(path)) and visitor.wants(path, mode, m.size):
                stats.read_bytes += m.size
                if stats.read_bytes > limits.max_read_bytes:
                    raise ImageError(
                        f"{name}: package files to read exceed {limits.max_read_bytes >> 20} MiB in one layer; "
                        f"refusing it as hostile ({GENUINE})"
                    )
                visitor.file(path, tar.read(m, limits.max_read_bytes))
        elif m.isdir():
            visitor.entry(Entry(path, "dir", stat.S_IFDIR | m.mode))
        elif m.issym():
            visitor.entry(Entry(path, "symlink", stat.S_IFLNK | 0o777, 0, m.linkname))
        elif m.islnk():
            target = normalize(m.linkname)
            mode = stat.S_IFREG | m.mode
            visitor.entry(Entry(path, "hardlink", mode, 0, target))
            if target != path and (skip is None or not skip.skips(path)) and visitor.wants(path, mode, 0):
                stats.pending_links[path] = target  # the caller copies or re-reads the target
        else:
            visitor.entry(Entry(path, "other", m.mode))


# ----------------------------------------------------------------------------- directories


def walk_dir(
    root: str, visitor: Visitor, name: str, limits: Limits = Limits(), skip: SkipRules | None = None
) -> WalkStats:
    """Walk a rootfs directory without following links; wanted files are read with O_NOFOLLOW.
    Directories `skip` skips are not entered, files it skips are not offered to the visitor."""
    stats = WalkStats()
    st, err = fserrors.stat(root)
    if err is not None:
        raise ImageError(f"{name}: {fserrors.problem(root, err)}")
    if st is None or not stat.S_ISDIR(st.st_mode):
        raise ImageError(f"{name}: not a directory; give dir:PATH to a root filesystem")
    try:
        rootfd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as e:
        raise ImageError(f"{name}: {fserrors.problem(root, e)}") from None
    try:
        for rel, st in _scandir(root, visitor, skip):
            stats.members += 1
            if stats.members > limits.max_members:
                raise ImageError(
                    f"{name}: more than {limits.max_members} entries; refusing (scan a smaller directory)"
                )
            mode = st.st_mode
            if stat.S_ISDIR(mode):
                visitor.entry(Entry(rel, "dir", mode))
            elif stat.S_ISLNK(mode):
                try:
                    link = os.readlink(os.path.join(root, rel))
                except OSError:
                    continue
                visitor.entry(Entry(rel, "symlink", mode, 0, link))
            elif stat.S_ISREG(mode):
                visitor.entry(Entry(rel, "file", mode, st.st_size))
                if (skip is None or not skip.skips(rel)) and visitor.wants(rel, mode, st.st_size):
                    data = _read_nofollow(rootfd, rel, st.st_size)
                    if isinstance(data, OSError):
                        visitor.unreadable(rel, data, False)
                    elif data is not None:
                        stats.read_bytes += len(data)
                        visitor.file(rel, data)
            else:
                visitor.entry(Entry(rel, "other", mode))
    finally:
        os.close(rootfd)
    return stats


def _scandir(
    root: str, visitor: Visitor, skip: SkipRules | None = None
) -> Iterator[tuple[str, os.stat_result]]:
    stack = [""]
    root_dev = os.lstat(root).st_dev
    while stack:
        rel = stack.pop()
        try:
            it = os.scandir(os.path.join(root, rel) if rel else root)
        except FileNotFoundError:
            continue  # gone since it was listed
        except OSError as e:
            visitor.unreadable(rel, e, True)
            continue
        with it:
            for de in it:
                r = f"{rel}/{de.name}" if rel else de.name
                try:
                    st = de.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue
                except OSError as e:
                    visitor.unreadable(r, e, False)
                    continue
                if stat.S_ISDIR(st.st_mode) and skip is not None and skip.skips_dir(r):
                    continue  # neither listed nor entered
                yield r, st
                if stat.S_ISDIR(st.st_mode) and st.st_dev == root_dev:
                    stack.append(r)


def _read_nofollow(rootfd: int, rel: str, size: int) -> bytes | OSError | None:
    """Open rel under rootfd refusing any symlink on the way (the host is never reached through
    one). None when it is no longer a regular file (replaced since it was listed); the error
    when it cannot be read (permission denied, ...)."""
    parts = rel.split("/")
    fd = rootfd
    opened: list[int] = []
    try:
        for part in parts[:-1]:
            fd = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            opened.append(fd)
        ffd = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=fd)
        try:
            st = os.fstat(ffd)
            if not stat.S_ISREG(st.st_mode):
                return None
            chunks = []
            left = min(size, st.st_size)
            while left > 0:
                b = os.read(ffd, min(CHUNK, left))
                if not b:
                    break
                chunks.append(b)
                left -= len(b)
            return b"".join(chunks)
        finally:
            os.close(ffd)
    except (FileNotFoundError, NotADirectoryError):
        return None  # gone, or replaced, since it was listed
    except OSError as e:
        if e.errno == errno.ELOOP:
            return None  # a symlink swapped in since it was listed: never followed
        return e
    finally:
        for o in opened:
            os.close(o)
