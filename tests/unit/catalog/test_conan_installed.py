"""Installed Conan packages: Conan 1 cache conaninfo.txt, Conan 2 full_deploy, Conan 2 cache.sqlite3."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from containment.catalog.base import FileTree, run_cataloger
from containment.catalog.conan_installed import (
    CATALOGERS,
    ConanCacheCataloger,
    ConanInfoCataloger,
    parse_conaninfo,
)
from containment.model import CatalogError

INFO, CACHE = CATALOGERS
C1 = "root/.conan/data"

# Conan 1.x conaninfo.txt of a cache package folder (as `conan install` writes it)
MFAST_INFO = """\
[settings]
    arch=x86_64
    build_type=Release
    compiler=gcc
    compiler.libcxx=libstdc++11
    compiler.version=11
    os=Linux

[requires]
    boost/1.Y.Z
    tinyxml2/9.Y.Z

[options]
    fPIC=True
    shared=False
    with_sqlite3=False

[full_settings]
    arch=x86_64
    build_type=Release
    compiler=gcc
    compiler.libcxx=libstdc++11
    compiler.version=11
    os=Linux

[full_requires]
    boost/1.75.0:dc8aedd23a0f0a773a5fcdcfe1ae3e89c4205978
    bzip2/1.0.8:c32092bf4d4bb47cf962af898e02823f499b017e
    libbacktrace/cci.20210118:dfbe50feef7f3c6223a476cd5aeadb687084a646
    tinyxml2/9.0.0:6557f18ca99c0b6a233f43db00e30efaa525e27e
    zlib/1.2.13:dfbe50feef7f3c6223a476cd5aeadb687084a646

[full_options]
    fPIC=True
    shared=False
    boost:zlib=True
    zlib:shared=False

[recipe_hash]
    c6f6387c9b99780f0ee05e25f99d0f39

[env]

"""

ZLIB_INFO = """\
[settings]
    arch=x86_64
    build_type=Release
    compiler=gcc
    os=Linux

[requires]


[options]
    fPIC=True
    shared=False

[full_settings]
    arch=x86_64
    build_type=Release
    compiler=gcc
    os=Linux

[full_requires]


[full_options]
    fPIC=True
    shared=False

[recipe_hash]
    a9b6a3a8c5e3c1c0b3f2b8e5d4c1a0f9

[env]

"""

# Conan 2 conaninfo.txt (no indentation, requires in semver mode: not concrete versions)
OPENSSL2_INFO = """\
[settings]
arch=x86_64
build_type=Release
compiler=gcc
compiler.version=12
os=Linux

[options]
no_deprecated=False
shared=False

[requires]
zlib/1.3.Z
"""


def conan1_tree() -> dict[str, bytes]:
    return {
        f"{C1}/mfast/1.2.2/my_user/my_channel/package/9d1f076b471417647c2022a78d5e2c1f834289ac/conaninfo.txt": MFAST_INFO.encode(),
        f"{C1}/zlib/1.2.13/_/_/package/dfbe50feef7f3c6223a476cd5aeadb687084a646/conaninfo.txt": ZLIB_INFO.encode(),
        f"{C1}/zlib/1.2.13/_/_/build/dfbe50feef7f3c6223a476cd5aeadb687084a646/conaninfo.txt": ZLIB_INFO.encode(),
        f"{C1}/zlib/1.2.13/_/_/package/dfbe50feef7f3c6223a476cd5aeadb687084a646/conanmanifest.txt": b"1700000000\n",
    }


def test_conan1_cache():
    pkgs = run_cataloger(INFO, conan1_tree())
    assert [(p.name, p.version, p.purl) for p in pkgs] == [
        ("mfast", "1.2.2", "pkg:conan/mfast@1.2.2?channel=my_channel&user=my_user"),
        ("boost", "1.75.0", "pkg:conan/boost@1.75.0"),
        ("bzip2", "1.0.8", "pkg:conan/bzip2@1.0.8"),
        ("libbacktrace", "cci.20210118", "pkg:conan/libbacktrace@cci.20210118"),
        ("tinyxml2", "9.0.0", "pkg:conan/tinyxml2@9.0.0"),
        # zlib is not repeated from mfast's full_requires: its own cache entry reports it
        ("zlib", "1.2.13", "pkg:conan/zlib@1.2.13"),
    ]
    mfast, boost = pkgs[0], pkgs[1]
    assert (mfast.type, mfast.cataloger, mfast.dev) == ("conan", "conan-info-installed", False)
    assert mfast.extra == {
        "os": "Linux",
        "arch": "x86_64",
        "build_type": "Release",
        "package_id": "9d1f076b471417647c2022a78d5e2c1f834289ac",
    }
    assert boost.extra == {"required_by": "mfast/1.2.2"} and boost.path == mfast.path
    assert pkgs[-1].path.endswith("/package/dfbe50feef7f3c6223a476cd5aeadb687084a646/conaninfo.txt")


def test_conan2_full_deploy():
    files = {
        "app/full_deploy/host/openssl/3.2.1/Release/x86_64/conaninfo.txt": OPENSSL2_INFO.encode(),
        "app/full_deploy/host/zlib/1.3.1/Release/x86_64/conaninfo.txt": b"[settings]\nos=Linux\n",
        "app/full_deploy/build/cmake/3.28.1/Release/x86_64/conaninfo.txt": b"[settings]\nos=Linux\narch=x86_64\n",
        "app/full_deploy/host/header-only/1.0/conaninfo.txt": b"",
    }
    pkgs = run_cataloger(INFO, files)
    assert sorted((p.name, p.version, p.dev) for p in pkgs) == [
        ("cmake", "3.28.1", True),
        ("header-only", "1.0", False),
        ("openssl", "3.2.1", False),
        ("zlib", "1.3.1", False),
    ]
    ossl = next(p for p in pkgs if p.name == "openssl")
    assert ossl.purl == "pkg:conan/openssl@3.2.1"
    assert ossl.extra == {"os": "Linux", "arch": "x86_64", "build_type": "Release", "deployed": True}


def cache_db(rows: list[tuple]) -> bytes:
    """A Conan 2 cache.sqlite3 with the tables Conan's BaseDbTable.create_table makes."""
    con = sqlite3.connect(":memory:")
    con.execute(
        "CREATE TABLE IF NOT EXISTS recipes (reference text NOT NULL, rrev text NOT NULL, "
        "path text NOT NULL UNIQUE, timestamp real NOT NULL, lru integer NOT NULL , UNIQUE(reference, rrev));"
    )
    con.execute(
        "CREATE TABLE IF NOT EXISTS packages (reference text NOT NULL, rrev text NOT NULL, pkgid text, "
        "prev text, path text NOT NULL UNIQUE, timestamp real NOT NULL, build_id text, lru integer NOT NULL "
        ", UNIQUE(reference, rrev, pkgid, prev));"
    )
    for i, (ref, rrev, pkgid, prev) in enumerate(rows):
        con.execute(
            "INSERT OR IGNORE INTO recipes VALUES (?, ?, ?, ?, ?)", (ref, rrev, f"zz{i}", 1.7e9, 1700000000)
        )
        con.execute(
            "INSERT INTO packages VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (ref, rrev, pkgid, prev, f"b/{ref.split('/')[0][:5]}{i:013x}", 1.7e9 + i, None, 1700000000),
        )
    con.commit()
    return con.serialize()


CACHE_ROWS = [
    (
        "zlib/1.3.1",
        "f52e03ae3d251dec704634230cd806a2",
        "b647c43bfefae3f830561ca202b6cfd935b56205",
        "5c0f1b8a0a2a1b9c0e8e1c4f1d1b4e5a",
    ),
    (
        "zlib/1.3.1",
        "f52e03ae3d251dec704634230cd806a2",
        "0d6dd492a7d31822b2f2686ec67bbaef586416a3",
        "1f1f1b8a0a2a1b9c0e8e1c4f1d1b4e5a",
    ),
    (
        "openssl/3.2.1",
        "0a3f3f5c0e8d1c2b3a4f5e6d7c8b9a0f",
        "2bcf3a6e9a8e0b3f7c1d4e5f6a7b8c9d0e1f2a3b",
        "9e9e1b8a0a2a1b9c0e8e1c4f1d1b4e5a",
    ),
    (
        "mylib/2.0@acme/stable",
        "11112222333344445555666677778888",
        "da39a3ee5e6b4b0d3255bfef95601890afd80709",
        "2222",
    ),
    ("boost/1.84.0", "aaaa", "bbbb", None),  # still being built
]


def test_conan2_cache_database():
    db = cache_db(CACHE_ROWS)
    pkgs = run_cataloger(CACHE, {"root/.conan2/p/cache.sqlite3": db})
    assert [(p.name, p.version, p.purl) for p in pkgs] == [
        ("zlib", "1.3.1", "pkg:conan/zlib@1.3.1?rrev=f52e03ae3d251dec704634230cd806a2"),
        ("openssl", "3.2.1", "pkg:conan/openssl@3.2.1?rrev=0a3f3f5c0e8d1c2b3a4f5e6d7c8b9a0f"),
        (
            "mylib",
            "2.0",
            "pkg:conan/mylib@2.0?channel=stable&rrev=11112222333344445555666677778888&user=acme",
        ),
    ]
    assert pkgs[0].cataloger == "conan-cache-installed" and pkgs[0].path == "root/.conan2/p/cache.sqlite3"
    assert pkgs[0].extra == {"package_id": "b647c43bfefae3f830561ca202b6cfd935b56205"}


def test_cache_database_errors():
    with pytest.raises(CatalogError, match="cache.sqlite3"):
        CACHE.parse("p/cache.sqlite3", b"not sqlite", FileTree())
    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE other (x)")
    with pytest.raises(CatalogError, match="unreadable"):
        CACHE.parse("p/cache.sqlite3", con.serialize(), FileTree())


@pytest.mark.parametrize(
    ("cat", "path", "wanted"),
    [
        (INFO, f"{C1}/zlib/1.2.13/_/_/package/abc/conaninfo.txt", True),
        (INFO, f"{C1}/zlib/1.2.13/_/_/build/abc/conaninfo.txt", False),
        (INFO, "x/full_deploy/host/zlib/1.3/Release/x86_64/conaninfo.txt", True),
        (INFO, "x/full_deploy/other/zlib/1.3/conaninfo.txt", False),
        (INFO, "root/.conan2/p/b/zlib1a2b3c4d5e6f7/p/conaninfo.txt", False),
        (INFO, "src/conaninfo.txt", False),
        (CACHE, "root/.conan2/p/cache.sqlite3", True),
        (CACHE, "root/.conan2/cache.sqlite3", False),
    ],
)
def test_wants(cat, path, wanted):
    assert cat.wants(path, 0o100644, 100) is wanted


def test_parse_conaninfo():
    info = parse_conaninfo(MFAST_INFO)
    assert info["requires"] == ["boost/1.Y.Z", "tinyxml2/9.Y.Z"]
    assert info["env"] == [] and info["recipe_hash"] == ["c6f6387c9b99780f0ee05e25f99d0f39"]
    assert parse_conaninfo("") == {}


def _check_info(data: bytes) -> None:
    path = f"{C1}/mfast/1.2.2/u/c/package/9d1f/conaninfo.txt"
    try:
        out = list(ConanInfoCataloger().parse(path, data, FileTree()))
    except CatalogError:
        return
    assert out[0].name == "mfast" and all(p.type == "conan" and p.name and p.version for p in out)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2048))
def test_fuzz_info_random_bytes(data):
    _check_info(data)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_fuzz_info_mutated(data):
    raw = bytearray(MFAST_INFO.encode())
    for _ in range(data.draw(st.integers(1, 20))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        raw[pos] = data.draw(
            st.sampled_from([ord(c) for c in "[]/:@#\n =_"] + [data.draw(st.integers(0, 255))])
        )
    _check_info(bytes(raw))


_DB = cache_db(CACHE_ROWS)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(_DB) - 1), st.integers(0, 255)), min_size=1, max_size=30))
def test_fuzz_cache_database(edits):
    b = bytearray(_DB)
    for pos, val in edits:
        b[pos] = val
    try:
        out = list(ConanCacheCataloger().parse("p/cache.sqlite3", bytes(b), FileTree()))
    except CatalogError:
        return
    assert all(p.type == "conan" and p.name and p.version for p in out)
