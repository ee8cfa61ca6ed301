"""Arch Linux pacman local database (var/lib/pacman/local/<name>-<version>/desc)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from containment.catalog.alpm import CATALOGERS, AlpmDBCataloger, parse_desc
from containment.catalog.base import FileTree, run_cataloger
from containment.model import CatalogError

CAT = CATALOGERS[0]
LOCAL = "var/lib/pacman/local"

# desc files as pacman 6 writes them into an archlinux:base image
GCC_LIBS = """\
%NAME%
gcc-libs

%VERSION%
14.1.1+r58+gfc9fb69ad62-1

%BASE%
gcc

%DESC%
Runtime libraries shipped by GCC

%URL%
https://gcc.gnu.org

%ARCH%
x86_64

%BUILDDATE%
1719310342

%INSTALLDATE%
1720000155

%PACKAGER%
Frederik Schwan <freswa@archlinux.org>

%SIZE%
145474339

%REASON%
1

%LICENSE%
GPL-3.0-with-GCC-exception
GFDL-1.3-or-later

%VALIDATION%
pgp

%DEPENDS%
glibc>=2.27

%OPTDEPENDS%
gcc-libs-debug: debug symbols

%PROVIDES%
libgcc
libgcc_s.so=1-64
libstdc++

"""

ZLIB = """\
%NAME%
zlib

%VERSION%
1:1.3.1-2

%BASE%
zlib

%DESC%
Compression library implementing the deflate compression method found in gzip and PKZIP

%URL%
https://www.zlib.net/

%ARCH%
x86_64

%BUILDDATE%
1721912386

%INSTALLDATE%
1722470402

%PACKAGER%
Levente Polyak <anthraxx@archlinux.org>

%SIZE%
381421

%LICENSE%
Zlib

%VALIDATION%
pgp

%DEPENDS%
glibc

%PROVIDES%
libz.so=1-64

"""

PACMAN = """\
%NAME%
pacman

%VERSION%
6.0.1-5

%BASE%
pacman

%DESC%
A library-based package manager with dependency support

%URL%
https://www.archlinux.org/pacman/

%ARCH%
x86_64

%LICENSE%
GPL

%VALIDATION%
pgp
"""


def tree() -> dict[str, bytes]:
    return {
        f"{LOCAL}/ALPM_DB_VERSION": b"9\n",
        f"{LOCAL}/gcc-libs-14.1.1+r58+gfc9fb69ad62-1/desc": GCC_LIBS.encode(),
        f"{LOCAL}/gcc-libs-14.1.1+r58+gfc9fb69ad62-1/files": b"%FILES%\nusr/\nusr/lib/\n",
        f"{LOCAL}/zlib-1:1.3.1-2/desc": ZLIB.encode(),
        f"{LOCAL}/pacman-6.0.1-5/desc": PACMAN.encode(),
    }


def test_local_database():
    pkgs = run_cataloger(CAT, tree())
    assert [(p.name, p.version, p.purl) for p in pkgs] == [
        (
            "gcc-libs",
            "14.1.1+r58+gfc9fb69ad62-1",
            "pkg:alpm/gcc-libs@14.1.1%2Br58%2Bgfc9fb69ad62-1?arch=x86_64&upstream=gcc",
        ),
        ("pacman", "6.0.1-5", "pkg:alpm/pacman@6.0.1-5?arch=x86_64"),
        ("zlib", "1:1.3.1-2", "pkg:alpm/zlib@1:1.3.1-2?arch=x86_64"),
    ]
    gcc, pacman, zlib = pkgs
    assert (gcc.type, gcc.cataloger, gcc.path) == (
        "alpm",
        "alpm-db",
        f"{LOCAL}/gcc-libs-14.1.1+r58+gfc9fb69ad62-1/desc",
    )
    assert (gcc.source_name, gcc.source_version) == ("gcc", "14.1.1+r58+gfc9fb69ad62-1")
    assert gcc.licenses == ("GPL-3.0-with-GCC-exception", "GFDL-1.3-or-later")
    assert gcc.extra == {
        "arch": "x86_64",
        "url": "https://gcc.gnu.org",
        "packager": "Frederik Schwan <freswa@archlinux.org>",
        "installed_size": 145474339,
        "build_time": 1719310342,
        "install_time": 1720000155,
        "reason": "dependency",
    }
    assert (zlib.source_name, zlib.licenses, "reason" in zlib.extra) == ("zlib", ("Zlib",), False)
    assert pacman.extra == {"arch": "x86_64", "url": "https://www.archlinux.org/pacman/"}


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        (f"{LOCAL}/pacman-6.0.1-5/desc", True),
        (f"{LOCAL}/pacman-6.0.1-5/files", False),
        (f"{LOCAL}/pacman-6.0.1-5/mtree", False),
        (f"{LOCAL}/desc", False),
        (f"{LOCAL}/a/b/desc", False),
        ("var/lib/pacman/sync/core.db", False),
        (f"opt/{LOCAL}/x-1-1/desc", False),
    ],
)
def test_wants(path, wanted):
    assert CAT.wants(path, 0o100644, 100) is wanted


def test_records_without_name_or_version_and_repeated_fields():
    # a truncated desc (as syft's "corrupt" test data): no %NAME% -> no package
    corrupt = b"%NME%\ntree-sitter\n\n%VER.6-1\n\n%BASE%\ntree-sitter\n"
    assert run_cataloger(CAT, {f"{LOCAL}/corrupt-0.2.1-3/desc": corrupt}) == []
    dup = b"%NAME%\na\n\n%VERSION%\n1-1\n\n%VERSION%\n2-1\n\n%BASE%\nbad base\n"
    (p,) = run_cataloger(CAT, {f"{LOCAL}/a-1-1/desc": dup})
    assert (p.version, p.source_name) == ("1-1", "a")


def test_parse_desc_crlf_and_empty():
    assert parse_desc("%NAME%\r\nfoo\r\n\r\n%LICENSE%\r\nMIT\r\nBSD\r\n") == {
        "NAME": ["foo"],
        "LICENSE": ["MIT", "BSD"],
    }
    assert parse_desc("") == {}


def test_garbage():
    with pytest.raises(CatalogError, match="desc"):
        CAT.parse(f"{LOCAL}/x-1-1/desc", b"not a desc file\n", FileTree())
    with pytest.raises(CatalogError):
        CAT.parse(f"{LOCAL}/x-1-1/desc", b"\x00\x01", FileTree())


def _check(data: bytes) -> None:
    try:
        out = list(AlpmDBCataloger().parse(f"{LOCAL}/x-1-1/desc", data, FileTree()))
    except CatalogError:
        return
    assert all(p.type == "alpm" and p.name and p.version and p.purl.startswith("pkg:alpm/") for p in out)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2048))
def test_fuzz_random_bytes(data):
    _check(data)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_fuzz_mutated(data):
    raw = bytearray(GCC_LIBS.encode())
    for _ in range(data.draw(st.integers(1, 20))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        op = data.draw(st.sampled_from(["set", "del", "ins"]))
        byte = data.draw(st.sampled_from([10, 37, 32, 0, 47, data.draw(st.integers(0, 255))]))
        if op == "set":
            raw[pos] = byte
        elif op == "del":
            del raw[pos]
        else:
            raw.insert(pos, byte)
    _check(bytes(raw))


def test_inventory_gives_arch_namespace_and_distro():
    from containment.layers import finalize
    from containment.model import OSInfo

    pkgs = finalize(run_cataloger(CAT, tree()), OSInfo(id="arch", version_id="", name="Arch Linux"))
    assert [p.purl for p in pkgs] == [
        "pkg:alpm/arch/gcc-libs@14.1.1%2Br58%2Bgfc9fb69ad62-1?arch=x86_64&distro=arch&upstream=gcc",
        "pkg:alpm/arch/pacman@6.0.1-5?arch=x86_64&distro=arch",
        "pkg:alpm/arch/zlib@1:1.3.1-2?arch=x86_64&distro=arch",
    ]
