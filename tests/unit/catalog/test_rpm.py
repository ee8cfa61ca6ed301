from __future__ import annotations

import sqlite3
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from containment.catalog import rpmdb
from containment.catalog.base import FileTree, run_cataloger
from containment.catalog.rpm import CATALOGERS, RpmDBCataloger, split_sourcerpm
from containment.model import CatalogError
from tests.tools import missing

CAT = CATALOGERS[0]

# --- fixture writers, following the formats (rpm lib/header.c, rpmpkg.c; Berkeley DB db_page.h) ---

BIN, INT32, INT64, STRING, STRING_ARRAY, I18N = 7, 4, 5, 6, 8, 9


def header_blob(entries: list[tuple[int, int, object]], region: bool = True) -> bytes:
    """An rpm header blob (il, dl, index, data store), with an immutable region like rpm writes."""
    store = bytearray()
    index: list[tuple[int, int, int, int]] = []
    for tag, typ, val in sorted(entries, key=lambda e: e[0]):
        if typ == INT32:
            store += b"\0" * (-len(store) % 4)
            index.append((tag, typ, len(store), 1))
            store += struct.pack(">I", val)
        elif typ == INT64:
            store += b"\0" * (-len(store) % 8)
            index.append((tag, typ, len(store), 1))
            store += struct.pack(">Q", val)
        elif typ == STRING:
            index.append((tag, typ, len(store), 1))
            store += str(val).encode() + b"\0"
        elif typ in (STRING_ARRAY, I18N):
            vals = list(val)  # type: ignore[call-overload]
            index.append((tag, typ, len(store), len(vals)))
            for v in vals:
                store += v.encode() + b"\0"
        else:
            index.append((tag, typ, len(store), len(val)))  # type: ignore[arg-type]
            store += val  # type: ignore[operator]
    if region:
        il = len(index) + 1
        index.insert(0, (63, BIN, len(store), 16))
        store += struct.pack(">iIiI", 63, BIN, -(il * 16), 16)
    out = struct.pack(">ii", len(index), len(store))
    for e in index:
        out += struct.pack(">iIiI", *e)
    return out + bytes(store)


def rpm_header(
    name: str,
    version: str,
    release: str,
    epoch: int | None = None,
    arch: str = "x86_64",
    sourcerpm: str | None = None,
    license: str = "MIT",
    vendor: str | None = None,
    size: int = 1234,
    pad: int = 0,
) -> bytes:
    entries: list[tuple[int, int, object]] = [
        (1000, STRING, name),
        (1001, STRING, version),
        (1002, STRING, release),
        (1004, I18N, ["a summary"]),
        (1009, INT32, size),
        (1014, STRING, license),
        (1022, STRING, arch),
    ]
    if epoch is not None:
        entries.append((1003, INT32, epoch))
    if sourcerpm is not None:
        entries.append((1044, STRING, sourcerpm))
    if vendor is not None:
        entries.append((1011, STRING, vendor))
    if pad:
        entries.append((1005, STRING, "x" * pad))  # DESCRIPTION, to make the header large
    return header_blob(entries)


PKGS = [
    rpm_header(
        "openssl-libs",
        "1.1.1k",
        "7.el8_6",
        epoch=1,
        sourcerpm="openssl-1.1.1k-7.el8_6.src.rpm",
        license="OpenSSL and ASL 2.0",
        vendor="Red Hat, Inc.",
        pad=6000,
    ),
    rpm_header("bash", "4.4.20", "4.el8_6", sourcerpm="bash-4.4.20-4.el8_6.src.rpm", license="GPLv3+"),
    rpm_header("gpg-pubkey", "fd431d51", "4ae0493b", arch="", license="pubkey"),
    rpm_header("tzdata", "2023c", "1.el8", arch="noarch", sourcerpm="tzdata-2023c-1.el8.src.rpm", pad=100),
]

EXPECTED = [
    (
        "openssl-libs",
        "1:1.1.1k-7.el8_6",
        "pkg:rpm/openssl-libs@1.1.1k-7.el8_6?arch=x86_64&epoch=1&upstream=openssl-1.1.1k-7.el8_6.src.rpm",
        "openssl",
        "1:1.1.1k-7.el8_6",
        ("OpenSSL and ASL 2.0",),
    ),
    (
        "bash",
        "4.4.20-4.el8_6",
        "pkg:rpm/bash@4.4.20-4.el8_6?arch=x86_64&upstream=bash-4.4.20-4.el8_6.src.rpm",
        "bash",
        "4.4.20-4.el8_6",
        ("GPLv3+",),
    ),
    (
        "tzdata",
        "2023c-1.el8",
        "pkg:rpm/tzdata@2023c-1.el8?arch=noarch&upstream=tzdata-2023c-1.el8.src.rpm",
        "tzdata",
        "2023c-1.el8",
        ("MIT",),
    ),
]


def summary(pkgs):
    return [(p.name, p.version, p.purl, p.source_name, p.source_version, p.licenses) for p in pkgs]


RPM_INDEXES = [
    "Name",
    "Basenames",
    "Group",
    "Requirename",
    "Providename",
    "Conflictname",
    "Obsoletename",
    "Triggername",
    "Dirnames",
    "Installtid",
    "Sigmd5",
    "Sha1header",
    "Filetriggername",
    "Transfiletriggername",
    "Recommendname",
    "Suggestname",
    "Supplementname",
    "Enhancename",
]


def make_sqlite(path: Path, blobs: list[bytes], wal: bool = False) -> bytes:
    con = sqlite3.connect(path)
    if wal:
        assert con.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"
    con.execute("CREATE TABLE 'Packages' (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)")
    for index in RPM_INDEXES:  # rpm's index tables, left empty (-qa reads Packages only)
        con.execute(
            f"CREATE TABLE '{index}' (key 'TEXT' NOT NULL, hnum INTEGER NOT NULL, idx INTEGER NOT NULL, "
            "FOREIGN KEY (hnum) REFERENCES 'Packages'(hnum))"
        )
    con.executemany("INSERT INTO Packages (blob) VALUES (?)", [(b,) for b in blobs])
    con.commit()
    con.close()
    return path.read_bytes()


def _page_header(pgno: int, nxt: int, entries: int, hf_offset: int, ptype: int, e: str) -> bytes:
    return (
        b"\0" * 8
        + struct.pack(e + "III", pgno, 0, nxt)
        + struct.pack(e + "HH", entries, hf_offset)
        + bytes([0, ptype])
    )


def make_bdb(
    pairs: list[tuple[bytes, bytes]], pagesize: int = 4096, e: str = "<", inline_max: int = 512
) -> bytes:
    """A Berkeley DB hash file: metadata page, hash pages of key/data items, overflow chains."""
    groups: list[list[tuple[bytes, bytes]]] = [[]]
    used = 26
    for k, v in pairs:
        need = 1 + len(k) + (1 + len(v) if len(v) <= inline_max else 12) + 4
        if used + need > pagesize:
            groups.append([])
            used = 26
        groups[-1].append((k, v))
        used += need
    next_pg = 1 + len(groups)
    hash_pages: list[bytes] = []
    ovf_pages: list[bytes] = []
    payload = pagesize - 26
    for gi, group in enumerate(groups):
        items: list[bytes] = []
        for k, v in group:
            items.append(b"\x01" + k)
            if len(v) <= inline_max:
                items.append(b"\x01" + v)
            else:
                chunks = [v[i : i + payload] for i in range(0, len(v), payload)]
                items.append(b"\x03\0\0\0" + struct.pack(e + "II", next_pg, len(v)))
                for j, chunk in enumerate(chunks):
                    nxt = next_pg + 1 if j < len(chunks) - 1 else 0
                    page = _page_header(next_pg, nxt, 1, len(chunk), 7, e) + chunk
                    ovf_pages.append(page + b"\0" * (pagesize - len(page)))
                    next_pg += 1
        page = bytearray(pagesize)
        top = pagesize
        inp = []
        for it in items:
            top -= len(it)
            page[top : top + len(it)] = it
            inp.append(top)
        page[0:26] = _page_header(1 + gi, 0, len(inp), top, 13, e)
        for i, off in enumerate(inp):
            struct.pack_into(e + "H", page, 26 + 2 * i, off)
        hash_pages.append(bytes(page))
    meta = bytearray(pagesize)
    struct.pack_into(e + "IIII", meta, 8, 0, 0x061561, 9, pagesize)
    meta[25] = 8
    struct.pack_into(e + "I", meta, 32, next_pg - 1)
    return bytes(meta) + b"".join(hash_pages) + b"".join(ovf_pages)


def make_ndb(blobs: list[bytes]) -> bytes:
    """An rpm NDB Packages.db (rpmpkg.c): header, slot pages, framed blobs."""
    slotnpages = (32 + 16 * len(blobs) + 4095) // 4096 or 1
    slotpage = bytearray(4096 * slotnpages)
    for o in range(0, len(slotpage), 16):
        slotpage[o : o + 4] = b"Slot"
    struct.pack_into("<4sIIII", slotpage, 0, b"RpmP", 0, 7, slotnpages, len(blobs) + 1)
    body = bytearray()
    blkoff = len(slotpage) // 16
    for i, blob in enumerate(blobs):
        pkgidx = i + 1
        blkcnt = (16 + len(blob) + 12 + 15) // 16
        head = b"BlbS" + struct.pack("<III", pkgidx, 1700000000, len(blob))
        pad = b"\0" * (blkcnt * 16 - 16 - len(blob) - 12)
        adler = zlib.adler32(head + blob + pad)
        body += head + blob + pad + struct.pack("<II", adler, len(blob)) + b"BlbE"
        struct.pack_into("<4sIII", slotpage, 32 + 16 * i, b"Slot", pkgidx, blkoff, blkcnt)
        blkoff += blkcnt
    return bytes(slotpage) + bytes(body)


def bdb_pairs(blobs: list[bytes], e: str = "<") -> list[tuple[bytes, bytes]]:
    # rpm stores the next free header number under key 0; headers under 1..n
    return [(struct.pack(e + "I", 0), struct.pack(e + "I", len(blobs) + 1))] + [
        (struct.pack(e + "I", i + 1), b) for i, b in enumerate(blobs)
    ]


# --- header ---


def test_parse_header_fields():
    h = rpmdb.parse_header(PKGS[0])
    assert h == rpmdb.RpmHeader(
        name="openssl-libs",
        version="1.1.1k",
        release="7.el8_6",
        epoch=1,
        arch="x86_64",
        sourcerpm="openssl-1.1.1k-7.el8_6.src.rpm",
        license="OpenSSL and ASL 2.0",
        vendor="Red Hat, Inc.",
        size=1234,
    )


def test_parse_header_longsize_and_i18n_license():
    blob = header_blob(
        [(1000, STRING, "big"), (1001, STRING, "1"), (5009, INT64, 2**40), (1014, I18N, ["BSD", "x"])]
    )
    h = rpmdb.parse_header(blob)
    assert h is not None and h.size == 2**40 and h.license == "BSD" and h.epoch is None


@pytest.mark.parametrize(
    "blob",
    [
        b"",
        b"\0\0\0\x01",
        struct.pack(">ii", 0, 0),
        struct.pack(">ii", 0x7FFFFFFF, 0),
        struct.pack(">ii", 1, 0x7FFFFFFF) + b"\0" * 16,
        struct.pack(">ii", 1, 4) + struct.pack(">iIiI", 1000, STRING, 100, 1) + b"abc\0",  # offset out
        struct.pack(">ii", 1, 4) + struct.pack(">iIiI", 1000, STRING, 0, 1) + b"abcd",  # no NUL
        struct.pack(">ii", 1, 4) + struct.pack(">iIiI", 1000, STRING, -5, 1) + b"abc\0",
        struct.pack(">ii", 1, 4) + struct.pack(">iIiI", 1000, INT32, 0, 1) + b"abc\0",  # wrong type
    ],
)
def test_parse_header_rejects_bad_blobs(blob):
    assert rpmdb.parse_header(blob) is None


def test_parse_header_int_out_of_bounds_ignored():
    blob = header_blob([(1000, STRING, "n"), (1001, STRING, "1")], region=False)
    # point an EPOCH entry at the last byte of the store: it cannot hold 4 bytes
    il, dl = struct.unpack_from(">ii", blob)
    bad = (
        struct.pack(">ii", il + 1, dl) + blob[8 : 8 + 16 * il] + struct.pack(">iIiI", 1003, INT32, dl - 1, 1)
    )
    bad += blob[8 + 16 * il :]
    h = rpmdb.parse_header(bad)
    assert h is not None and h.name == "n" and h.epoch is None


def test_split_sourcerpm():
    assert split_sourcerpm("openssl-1.1.1k-7.el8_6.src.rpm") == ("openssl", "1.1.1k", "7.el8_6")
    assert split_sourcerpm("perl-Foo-Bar-1.0-1.nosrc.rpm") == ("perl-Foo-Bar", "1.0", "1")
    assert split_sourcerpm("glibc-2.28-1.el8.x86_64.rpm") == ("glibc", "2.28", "1.el8")
    assert split_sourcerpm("nonsense") == ("", "", "")
    assert split_sourcerpm("a-b.src.rpm") == ("", "", "")


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        ("var/lib/rpm/Packages", True),
        ("var/lib/rpm/Packages.db", True),
        ("var/lib/rpm/rpmdb.sqlite", True),
        ("usr/lib/sysimage/rpm/Packages", True),
        ("usr/lib/sysimage/rpm/Packages.db", True),
        ("usr/lib/sysimage/rpm/rpmdb.sqlite", True),
        ("var/lib/rpm/Name", False),
        ("var/lib/rpm/rpmdb.sqlite-wal", False),
        ("x/var/lib/rpm/Packages", False),
    ],
)
def test_wants(path, wanted):
    assert CAT.wants(path, 0o100644, 1) is wanted


def test_cataloger_settings():
    assert CAT.immediate is True
    assert CAT.max_size >= 512 * 1024 * 1024


# --- containers ---


@pytest.mark.parametrize("wal", [False, True])
def test_sqlite(tmp_path, wal):
    data = make_sqlite(tmp_path / "rpmdb.sqlite", PKGS, wal=wal)
    if wal:
        assert data[18:20] == b"\x02\x02"
    pkgs = run_cataloger(CAT, {"usr/lib/sysimage/rpm/rpmdb.sqlite": data})
    assert summary(pkgs) == EXPECTED
    p = pkgs[0]
    assert (p.type, p.cataloger, p.path) == ("rpm", "rpm-db", "usr/lib/sysimage/rpm/rpmdb.sqlite")
    assert p.extra == {
        "release": "7.el8_6",
        "arch": "x86_64",
        "epoch": 1,
        "sourcerpm": "openssl-1.1.1k-7.el8_6.src.rpm",
        "vendor": "Red Hat, Inc.",
        "size": 1234,
    }


def test_sqlite_without_packages_table(tmp_path):
    con = sqlite3.connect(tmp_path / "x.sqlite")
    con.execute("CREATE TABLE other (a)")
    con.commit()
    con.close()
    with pytest.raises(CatalogError, match="Packages"):
        CAT.parse("var/lib/rpm/rpmdb.sqlite", (tmp_path / "x.sqlite").read_bytes(), FileTree())


def test_sqlite_hostile_view_does_not_run(tmp_path):
    con = sqlite3.connect(tmp_path / "x.sqlite")
    con.execute(
        "CREATE VIEW Packages AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) "
        "SELECT x AS hnum, zeroblob(10) AS blob FROM c"
    )
    con.commit()
    con.close()
    with pytest.raises(CatalogError):
        CAT.parse("var/lib/rpm/rpmdb.sqlite", (tmp_path / "x.sqlite").read_bytes(), FileTree())


def test_sqlite_truncated_is_error_or_partial(tmp_path):
    data = make_sqlite(tmp_path / "rpmdb.sqlite", PKGS)
    try:
        out = list(CAT.parse("var/lib/rpm/rpmdb.sqlite", data[:1024], FileTree()))
    except CatalogError:
        return
    assert all(p.name for p in out)


@pytest.mark.parametrize("endian", ["<", ">"])
@pytest.mark.parametrize("pagesize", [512, 4096, 16384])
def test_bdb_hash(endian, pagesize):
    data = make_bdb(bdb_pairs(PKGS, endian), pagesize=pagesize, e=endian, inline_max=min(512, pagesize // 4))
    pkgs = run_cataloger(CAT, {"var/lib/rpm/Packages": data})
    assert summary(pkgs) == EXPECTED


def test_bdb_many_pages_and_inline_items():
    blobs = [
        rpm_header(f"pkg{i}", "1.0", f"{i}.el7", sourcerpm=f"src{i}-1.0-{i}.el7.src.rpm") for i in range(300)
    ]
    data = make_bdb(bdb_pairs(blobs), inline_max=10_000)  # every header inline on hash pages
    pkgs = run_cataloger(CAT, {"var/lib/rpm/Packages": data})
    assert len(pkgs) == 300 and pkgs[299].name == "pkg299" and pkgs[299].source_name == "src299"
    data = make_bdb(bdb_pairs(blobs), inline_max=0)  # every header on an overflow chain
    assert [p.name for p in run_cataloger(CAT, {"var/lib/rpm/Packages": data})] == [
        f"pkg{i}" for i in range(300)
    ]


def test_bdb_cyclic_and_broken_overflow_chains():
    data = bytearray(make_bdb(bdb_pairs(PKGS), pagesize=512, inline_max=0))
    pagesize = 512
    npages = len(data) // pagesize
    ovf = [pg for pg in range(npages) if data[pg * pagesize + 25] == 7]
    # make every chain's last page point back to the chain's first page: a cycle
    for pg in ovf:
        base = pg * pagesize
        if struct.unpack_from("<I", data, base + 16)[0] == 0:
            struct.pack_into("<I", data, base + 16, ovf[0])
            struct.pack_into("<H", data, base + 22, 1)  # and claim one byte only: chain never ends
    with pytest.raises(CatalogError):
        CAT.parse("var/lib/rpm/Packages", bytes(data), FileTree())
    # chains pointing past the end of the file: only the headers that fit on one page survive
    data2 = bytearray(make_bdb(bdb_pairs(PKGS), pagesize=512, inline_max=0))
    for pg in range(npages):
        if data2[pg * pagesize + 25] == 7:
            struct.pack_into("<I", data2, pg * pagesize + 16, 10_000_000)
    pkgs = CAT.parse("var/lib/rpm/Packages", bytes(data2), FileTree())
    assert [p.name for p in pkgs] == ["bash", "tzdata"]


def test_bdb_bad_metadata():
    data = bytearray(make_bdb(bdb_pairs(PKGS)))
    bad = bytearray(data)
    struct.pack_into("<I", bad, 20, 1000)  # not a power of two
    with pytest.raises(CatalogError, match="page size"):
        CAT.parse("var/lib/rpm/Packages", bytes(bad), FileTree())
    bad = bytearray(data)
    bad[25] = 9  # btree metadata
    with pytest.raises(CatalogError):
        CAT.parse("var/lib/rpm/Packages", bytes(bad), FileTree())
    bad = bytearray(data)
    struct.pack_into("<H", bad, 4096 + 20, 60000)  # absurd entry count on the hash page
    with pytest.raises(CatalogError):
        CAT.parse("var/lib/rpm/Packages", bytes(bad), FileTree())


def test_ndb():
    data = make_ndb(PKGS)
    pkgs = run_cataloger(CAT, {"var/lib/rpm/Packages.db": data})
    assert summary(pkgs) == EXPECTED


def test_ndb_many_slot_pages():
    blobs = [rpm_header(f"pkg{i}", "1.0", "1", arch="noarch") for i in range(600)]
    data = make_ndb(blobs)
    assert struct.unpack_from("<I", data, 12)[0] == 3  # three slot pages
    pkgs = run_cataloger(CAT, {"usr/lib/sysimage/rpm/Packages.db": data})
    assert [p.name for p in pkgs] == [f"pkg{i}" for i in range(600)]


def test_ndb_bad_slots_are_skipped():
    data = bytearray(make_ndb(PKGS))
    struct.pack_into("<I", data, 32 + 4 + 8, 0xFFFFFFF0)  # first slot: blkcnt far past the end
    pkgs = run_cataloger(CAT, {"var/lib/rpm/Packages.db": bytes(data)})
    assert [p.name for p in pkgs] == ["bash", "tzdata"]
    bad = bytearray(make_ndb(PKGS))
    struct.pack_into("<I", bad, 12, 100000)  # slot pages beyond the file
    with pytest.raises(CatalogError, match="slot pages"):
        CAT.parse("var/lib/rpm/Packages.db", bytes(bad), FileTree())


def test_unknown_format_and_empty():
    with pytest.raises(CatalogError, match="var/lib/rpm/Packages"):
        CAT.parse("var/lib/rpm/Packages", b"hello world" * 100, FileTree())
    with pytest.raises(CatalogError):
        CAT.parse("var/lib/rpm/Packages", b"", FileTree())


def test_empty_databases_give_no_packages(tmp_path):
    assert run_cataloger(CAT, {"var/lib/rpm/rpmdb.sqlite": make_sqlite(tmp_path / "e.sqlite", [])}) == []
    assert run_cataloger(CAT, {"var/lib/rpm/Packages.db": make_ndb([])}) == []
    assert run_cataloger(CAT, {"var/lib/rpm/Packages": make_bdb(bdb_pairs([]))}) == []


def test_header_without_release_or_sourcerpm():
    blob = header_blob([(1000, STRING, "weird"), (1001, STRING, "2.0"), (1014, STRING, "(none)")])
    (p,) = run_cataloger(CAT, {"var/lib/rpm/Packages.db": make_ndb([blob])})
    assert (p.version, p.purl, p.source_name, p.source_version, p.licenses) == (
        "2.0",
        "pkg:rpm/weird@2.0",
        "",
        "",
        (),
    )


# --- real databases written by rpm itself (skipped when the tools are missing) ---

SPEC = """\
Name: {name}
Version: {version}
Release: {release}
{epoch}
Summary: test package
License: {license}
BuildArch: {arch}
%description
test
%install
mkdir -p %{{buildroot}}/usr/share/{name}
echo hi > %{{buildroot}}/usr/share/{name}/f
%files
/usr/share/{name}/f
"""


@pytest.fixture(scope="module")
def real_rpms(tmp_path_factory):
    for tool in ("rpm", "rpmbuild"):
        if why := missing(tool, "rpm"):
            pytest.skip(why)
    top = tmp_path_factory.mktemp("rpmbuild")
    specs = [
        dict(
            name="hello",
            version="2.12",
            release="3.fc39",
            epoch="Epoch: 2",
            license="GPL-3.0-or-later AND MIT",
            arch="x86_64",
        ),
        dict(name="data", version="1.0", release="1", epoch="", license="CC0-1.0", arch="noarch"),
    ]
    for s in specs:
        spec = top / f"{s['name']}.spec"
        spec.write_text(SPEC.format(**s))
        r = subprocess.run(
            ["rpmbuild", "--define", f"_topdir {top}", "--define", "_build_id_links none", "-bb", str(spec)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if r.returncode != 0:
            pytest.skip(f"rpmbuild failed: {r.stderr[-500:]}")
    rpms = sorted(str(p) for p in top.rglob("*.rpm"))
    dbpath = top / "db"
    dbpath.mkdir()
    base = ["rpm", "--dbpath", str(dbpath), "--define", "_db_backend sqlite"]
    r = subprocess.run(base + ["--initdb"], capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        pytest.skip(f"rpm has no sqlite backend: {r.stderr[-300:]}")
    r = subprocess.run(
        base + ["-i", "--justdb", "--nodeps", "--nosignature", *rpms],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if r.returncode != 0:
        pytest.skip(f"rpm -i --justdb failed: {r.stderr[-300:]}")
    return dbpath


REAL_EXPECTED = [
    (
        "data",
        "1.0-1",
        "pkg:rpm/data@1.0-1?arch=noarch&upstream=data-1.0-1.src.rpm",
        "data",
        "1.0-1",
        ("CC0-1.0",),
    ),
    (
        "hello",
        "2:2.12-3.fc39",
        "pkg:rpm/hello@2.12-3.fc39?arch=x86_64&epoch=2&upstream=hello-2.12-3.fc39.src.rpm",
        "hello",
        "2:2.12-3.fc39",
        ("GPL-3.0-or-later AND MIT",),
    ),
]


def test_real_sqlite_written_by_rpm(real_rpms):
    data = (real_rpms / "rpmdb.sqlite").read_bytes()
    pkgs = sorted(run_cataloger(CAT, {"var/lib/rpm/rpmdb.sqlite": data}), key=lambda p: p.name)
    assert summary(pkgs) == REAL_EXPECTED


def test_real_bdb_written_by_db_load(real_rpms, tmp_path):
    if why := missing("db_load", "db-util"):
        pytest.skip(why)
    con = sqlite3.connect(real_rpms / "rpmdb.sqlite")
    rows = con.execute("SELECT hnum, blob FROM Packages").fetchall()
    con.close()
    dump = ["VERSION=3", "format=bytevalue", "type=hash", "HEADER=END"]
    for hnum, blob in rows:
        dump += [" " + struct.pack("<I", hnum).hex(), " " + blob.hex()]
    dump.append("DATA=END")
    (tmp_path / "dump").write_text("\n".join(dump) + "\n")
    r = subprocess.run(
        ["db_load", "-f", str(tmp_path / "dump"), str(tmp_path / "Packages")], capture_output=True, timeout=60
    )
    assert r.returncode == 0, r.stderr
    data = (tmp_path / "Packages").read_bytes()
    pkgs = sorted(run_cataloger(CAT, {"var/lib/rpm/Packages": data}), key=lambda p: p.name)
    assert summary(pkgs) == REAL_EXPECTED


def test_pure_python_sqlite_fixture_is_readable_by_rpm(tmp_path):
    if why := missing("rpm", "rpm"):
        pytest.skip(why)
    make_sqlite(tmp_path / "rpmdb.sqlite", PKGS)
    r = subprocess.run(
        [
            "rpm",
            "--dbpath",
            str(tmp_path),
            "--define",
            "_db_backend sqlite",
            "-qa",
            "--qf",
            "%{NAME} %{EPOCHNUM}:%{VERSION}-%{RELEASE} %{SOURCERPM}\\n",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if r.returncode != 0 and "backend" in r.stderr:
        pytest.skip(f"rpm cannot read sqlite here: {r.stderr[-300:]}")
    assert sorted(r.stdout.splitlines()) == sorted(
        [
            "openssl-libs 1:1.1.1k-7.el8_6 openssl-1.1.1k-7.el8_6.src.rpm",
            "bash 0:4.4.20-4.el8_6 bash-4.4.20-4.el8_6.src.rpm",
            "gpg-pubkey 0:fd431d51-4ae0493b (none)",
            "tzdata 0:2023c-1.el8 tzdata-2023c-1.el8.src.rpm",
        ]
    )


# --- fuzz ---


def _check(data: bytes, path: str = "var/lib/rpm/Packages") -> None:
    try:
        out = list(RpmDBCataloger().parse(path, data, FileTree()))
    except CatalogError:
        return
    assert all(p.type == "rpm" and p.name and p.version for p in out)


def _mutate(draw, raw: bytes, n_max: int = 20) -> bytes:
    buf = bytearray(raw)
    for _ in range(draw(st.integers(1, n_max))):
        pos = draw(st.integers(0, len(buf) - 1))
        buf[pos] = draw(st.integers(0, 255))
    return bytes(buf)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=4096))
def test_fuzz_random_bytes(data):
    _check(data)
    assert rpmdb.parse_header(data) is None or isinstance(rpmdb.parse_header(data), rpmdb.RpmHeader)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(["RpmP", "SQLite format 3\x00", "bdb"]), st.binary(min_size=0, max_size=8192))
def test_fuzz_magic_prefixed_random(magic, rest):
    if magic == "bdb":
        data = b"\0" * 12 + struct.pack("<II", 0x061561, 9) + struct.pack("<I", 512) + b"\0\x08" + rest
    else:
        data = magic.encode("latin-1") + rest
    _check(data)


BDB_SAMPLE = make_bdb(bdb_pairs(PKGS), pagesize=512, inline_max=100)
NDB_SAMPLE = make_ndb(PKGS)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_fuzz_mutated_bdb_and_ndb(data):
    _check(_mutate(data.draw, BDB_SAMPLE, 40))
    _check(_mutate(data.draw, NDB_SAMPLE, 40), "var/lib/rpm/Packages.db")


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_fuzz_mutated_header(data):
    blob = _mutate(data.draw, PKGS[1], 10)
    h = rpmdb.parse_header(blob)
    assert h is None or isinstance(h, rpmdb.RpmHeader)
    _check(make_ndb([blob]), "var/lib/rpm/Packages.db")


_SQLITE_SAMPLE: list[bytes] = []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_fuzz_mutated_sqlite(tmp_path, data):
    if not _SQLITE_SAMPLE:
        _SQLITE_SAMPLE.append(make_sqlite(tmp_path / "s.sqlite", PKGS))
    _check(_mutate(data.draw, _SQLITE_SAMPLE[0], 30), "var/lib/rpm/rpmdb.sqlite")
