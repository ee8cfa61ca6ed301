"""Pure-Python readers for the rpm database formats and the rpm header blob.

Three on-disk containers hold the same thing, one rpm header blob per installed package:

- SQLite (`rpmdb.sqlite`, rpm >= 4.16: Fedora 33+, RHEL 9): table `Packages(hnum, blob)`.
- Berkeley DB hash (`Packages`, rpm < 4.16: RHEL/CentOS <= 8, Amazon Linux 2): key = header
  number (4 bytes), value = blob, nearly always stored on overflow page chains.
- NDB (`Packages.db`, SUSE): rpm's own format (lib/backend/ndb/rpmpkg.c): a 32-byte header
  `RpmP`, slot pages of 16-byte `Slot` entries (pkgidx, blkoff, blkcnt in 16-byte blocks), and
  blobs framed by `BlbS` head / `BlbE` tail. Little-endian throughout.

The header blob (rpm lib/header.c, "on-disk" form without the 8-byte magic): big-endian
int32 index count `il`, int32 data length `dl`, `il` 16-byte entries (tag, type, offset, count)
and a `dl`-byte data store.

Everything is bounded by the input: counts, offsets and lengths are checked against the blob or
file before use, overflow chains are followed at most once per page, and no read allocates more
than the input's own size. Corrupt records are skipped; `RpmDBError` means nothing was readable.
"""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Iterator
from dataclasses import dataclass

from containment.catalog._sqlite import MAGIC as SQLITE_MAGIC
from containment.catalog._sqlite import open_image

# --- header tags and types (rpm include/rpm/rpmtag.h) ---
TAG_NAME = 1000
TAG_VERSION = 1001
TAG_RELEASE = 1002
TAG_EPOCH = 1003
TAG_SIZE = 1009
TAG_VENDOR = 1011
TAG_LICENSE = 1014
TAG_ARCH = 1022
TAG_SOURCERPM = 1044
TAG_LONGSIZE = 5009
TAG_MODULARITYLABEL = 5096

TYPE_INT32 = 4
TYPE_INT64 = 5
TYPE_STRING = 6
TYPE_STRING_ARRAY = 8
TYPE_I18NSTRING = 9

_STRING_TAGS = {
    TAG_NAME: "name",
    TAG_VERSION: "version",
    TAG_RELEASE: "release",
    TAG_VENDOR: "vendor",
    TAG_LICENSE: "license",
    TAG_ARCH: "arch",
    TAG_SOURCERPM: "sourcerpm",
    TAG_MODULARITYLABEL: "modularitylabel",
}
_INT_TAGS = {TAG_EPOCH: "epoch", TAG_SIZE: "size", TAG_LONGSIZE: "longsize"}

HEADER_MAX_TAGS = 0xFFFF  # rpm hdrchkTags
HEADER_MAX_DATA = 0x0FFFFFFF  # rpm hdrchkData (256 MiB)
_MAX_STRING = 64 * 1024


class RpmDBError(Exception):
    """The bytes are not a readable rpm database of the expected kind."""


@dataclass(frozen=True)
class RpmHeader:
    name: str = ""
    version: str = ""
    release: str = ""
    epoch: int | None = None
    arch: str = ""
    sourcerpm: str = ""
    license: str = ""
    vendor: str = ""
    size: int | None = None
    modularitylabel: str = ""


def _cstring(store: bytes, off: int) -> str:
    end = store.find(b"\x00", off, off + _MAX_STRING)
    if end < 0:
        raise ValueError("unterminated string")
    return store[off:end].decode("utf-8", "replace")


def parse_header(blob: bytes) -> RpmHeader | None:
    """The fields we use from one header blob, or None when the blob is not a valid header."""
    if len(blob) < 8:
        return None
    il, dl = struct.unpack_from(">ii", blob, 0)
    if il <= 0 or il > HEADER_MAX_TAGS or dl < 0 or dl > HEADER_MAX_DATA:
        return None
    index_end = 8 + 16 * il
    if index_end + dl > len(blob):
        return None
    store = blob[index_end : index_end + dl]
    fields: dict[str, object] = {}
    for i in range(il):
        tag, typ, off, count = struct.unpack_from(">iIiI", blob, 8 + 16 * i)
        if off < 0 or off >= dl or count == 0:
            continue
        try:
            if tag in _STRING_TAGS:
                key = _STRING_TAGS[tag]
                if key in fields or typ not in (TYPE_STRING, TYPE_STRING_ARRAY, TYPE_I18NSTRING):
                    continue
                fields[key] = _cstring(store, off)
            elif tag in _INT_TAGS:
                key = _INT_TAGS[tag]
                if key in fields:
                    continue
                if typ == TYPE_INT32 and off + 4 <= dl:
                    fields[key] = struct.unpack_from(">I", store, off)[0]
                elif typ == TYPE_INT64 and off + 8 <= dl:
                    fields[key] = struct.unpack_from(">Q", store, off)[0]
        except ValueError:
            continue
    if not fields.get("name"):
        return None
    size = fields.get("longsize", fields.get("size"))
    return RpmHeader(
        name=str(fields.get("name", "")),
        version=str(fields.get("version", "")),
        release=str(fields.get("release", "")),
        epoch=fields.get("epoch"),  # type: ignore[arg-type]
        arch=str(fields.get("arch", "")),
        sourcerpm=str(fields.get("sourcerpm", "")),
        license=str(fields.get("license", "")),
        vendor=str(fields.get("vendor", "")),
        size=size,  # type: ignore[arg-type]
        modularitylabel=str(fields.get("modularitylabel", "")),
    )


# --- container detection ---

NDB_MAGIC = b"RpmP"
BDB_HASH_MAGIC = 0x061561


def detect(data: bytes) -> str:
    """'sqlite', 'ndb', 'bdb' or '' for the container format of `data`."""
    if data.startswith(SQLITE_MAGIC):
        return "sqlite"
    if data.startswith(NDB_MAGIC):
        return "ndb"
    if len(data) >= 16:
        if struct.unpack_from("<I", data, 12)[0] == BDB_HASH_MAGIC:
            return "bdb"
        if struct.unpack_from(">I", data, 12)[0] == BDB_HASH_MAGIC:
            return "bdb"
    return ""


def iter_blobs(data: bytes) -> Iterator[bytes]:
    kind = detect(data)
    if kind == "sqlite":
        return iter_sqlite(data)
    if kind == "ndb":
        return iter_ndb(data)
    if kind == "bdb":
        return iter_bdb(data)
    raise RpmDBError("not an rpm database (neither SQLite, Berkeley DB hash nor NDB)")


# --- SQLite ---

_SQLITE_MAX_STEPS = 50_000_000  # progress-handler calls of 1000 VM steps each: a hard time bound


def iter_sqlite(data: bytes) -> Iterator[bytes]:
    con = open_image(data, RpmDBError, _SQLITE_MAX_STEPS, text_bytes=True)
    try:
        try:
            row = con.execute(
                "SELECT type FROM sqlite_master WHERE lower(name) = 'packages' AND type = 'table'"
            ).fetchone()
        except (sqlite3.Error, ValueError, OverflowError) as e:
            raise RpmDBError(f"unreadable SQLite database: {e}") from None
        if row is None:
            raise RpmDBError("SQLite database has no Packages table")
        try:
            cur = con.execute("SELECT blob FROM Packages")
            while True:
                try:
                    rows = cur.fetchmany(256)
                except (sqlite3.Error, ValueError, OverflowError):
                    return  # the rest of a corrupt table: keep what was read
                if not rows:
                    return
                for (blob,) in rows:
                    if isinstance(blob, bytes):
                        yield blob
        except (sqlite3.Error, ValueError, OverflowError) as e:
            raise RpmDBError(f"unreadable Packages table: {e}") from None
    finally:
        con.close()


# --- NDB (rpm lib/backend/ndb/rpmpkg.c) ---

_NDB_PAGE = 4096
_NDB_SLOT = 16
_NDB_BLK = 16
_SLOT_MAGIC = b"Slot"
_BLOBHEAD_MAGIC = b"BlbS"
_BLOBTAIL_MAGIC = b"BlbE"


def iter_ndb(data: bytes) -> Iterator[bytes]:
    if len(data) < 32 or not data.startswith(NDB_MAGIC):
        raise RpmDBError("not an NDB Packages.db")
    version, _generation, slotnpages = struct.unpack_from("<III", data, 4)
    if version != 0:
        raise RpmDBError(f"unsupported NDB version {version}")
    if slotnpages == 0 or slotnpages * _NDB_PAGE > len(data):
        raise RpmDBError("NDB slot pages outside the file")
    nblocks = len(data) // _NDB_BLK
    min_blkoff = slotnpages * (_NDB_PAGE // _NDB_BLK)
    seen: set[int] = set()
    for o in range(32, slotnpages * _NDB_PAGE, _NDB_SLOT):
        if data[o : o + 4] != _SLOT_MAGIC:
            continue
        pkgidx, blkoff, blkcnt = struct.unpack_from("<III", data, o + 4)
        if not blkoff or not pkgidx or pkgidx in seen:
            continue
        if blkoff < min_blkoff or blkcnt < 2 or blkoff + blkcnt > nblocks:
            continue
        start = blkoff * _NDB_BLK
        if data[start : start + 4] != _BLOBHEAD_MAGIC:
            continue
        hidx, _tstamp, bloblen = struct.unpack_from("<III", data, start + 4)
        if hidx != pkgidx or 16 + bloblen + 12 > blkcnt * _NDB_BLK:
            continue
        tail = start + blkcnt * _NDB_BLK - 12
        if data[tail + 8 : tail + 12] != _BLOBTAIL_MAGIC:
            continue
        seen.add(pkgidx)
        yield data[start + 16 : start + 16 + bloblen]


# --- Berkeley DB hash (db/db_page.h) ---

_P_HASH_UNSORTED = 2
_P_OVERFLOW = 7
_P_HASHMETA = 8
_P_HASH = 13
_H_KEYDATA = 1
_H_OFFPAGE = 3
_PAGE_HDR = 26  # lsn 8, pgno 4, prev 4, next 4, entries 2, hf_offset 2, level 1, type 1


def iter_bdb(data: bytes) -> Iterator[bytes]:
    if len(data) < 512:
        raise RpmDBError("too short for a Berkeley DB file")
    if struct.unpack_from("<I", data, 12)[0] == BDB_HASH_MAGIC:
        e = "<"
    elif struct.unpack_from(">I", data, 12)[0] == BDB_HASH_MAGIC:
        e = ">"
    else:
        raise RpmDBError("not a Berkeley DB hash database")
    pagesize = struct.unpack_from(e + "I", data, 20)[0]
    if pagesize < 512 or pagesize > 65536 or pagesize & (pagesize - 1):
        raise RpmDBError(f"bad Berkeley DB page size {pagesize}")
    if data[25] != _P_HASHMETA:
        raise RpmDBError("Berkeley DB metadata page is not a hash metadata page")
    npages = len(data) // pagesize
    u16 = struct.Struct(e + "H")
    u32 = struct.Struct(e + "I")
    seen_keys: set[bytes] = set()
    for pg in range(1, npages):
        base = pg * pagesize
        ptype = data[base + 25]
        if ptype not in (_P_HASH, _P_HASH_UNSORTED):
            continue
        entries = u16.unpack_from(data, base + 20)[0]
        if entries > (pagesize - _PAGE_HDR) // 2:
            yield b""  # a corrupt hash page: reported as an unreadable record
            continue
        inp = [u16.unpack_from(data, base + _PAGE_HDR + 2 * i)[0] for i in range(entries)]
        for i in range(0, entries - 1, 2):
            koff, doff = inp[i], inp[i + 1]
            kend = pagesize if i == 0 else inp[i - 1]
            if not (_PAGE_HDR <= doff < koff < kend <= pagesize):
                continue
            key = data[base + koff : base + kend]
            if not key or key[0] != _H_KEYDATA or key in seen_keys:
                continue
            dtype = data[base + doff]
            if dtype == _H_KEYDATA:
                value = data[base + doff + 1 : base + koff]
            elif dtype == _H_OFFPAGE and koff - doff >= 12:
                first = u32.unpack_from(data, base + doff + 4)[0]
                tlen = u32.unpack_from(data, base + doff + 8)[0]
                # a broken chain gives b"": reported as an unreadable record
                value = _overflow(data, pagesize, npages, first, tlen, u16, u32) or b""
            else:
                continue
            seen_keys.add(key)
            yield value


def _overflow(
    data: bytes, pagesize: int, npages: int, pgno: int, tlen: int, u16: struct.Struct, u32: struct.Struct
) -> bytes | None:
    """The value stored on an overflow page chain, or None when the chain is broken."""
    if tlen > len(data):
        return None
    parts: list[bytes] = []
    got = 0
    visited: set[int] = set()
    while got < tlen:
        if pgno == 0 or pgno >= npages or pgno in visited:
            return None
        visited.add(pgno)
        base = pgno * pagesize
        if data[base + 25] != _P_OVERFLOW:
            return None
        n = u16.unpack_from(data, base + 22)[0]  # hf_offset: bytes of data on this page
        if n == 0 or n > pagesize - _PAGE_HDR:
            return None
        n = min(n, tlen - got)
        parts.append(data[base + _PAGE_HDR : base + _PAGE_HDR + n])
        got += n
        pgno = u32.unpack_from(data, base + 16)[0]
    return b"".join(parts)
