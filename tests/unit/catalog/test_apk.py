from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from containment.catalog.apk import CATALOGERS, ApkCataloger, split_licenses
from containment.catalog.base import FileTree, run_cataloger
from containment.model import CatalogError

CAT = CATALOGERS[0]
DB = "lib/apk/db/installed"

INSTALLED = """\
C:Q1yyMWoYnr7lKCxKm9mHlMwkd6dMY=
P:musl
V:1.1.24-r2
A:x86_64
S:377123
I:614400
T:the musl c library (libc) implementation
U:https://musl.libc.org/
L:MIT
o:musl
m:Timo Teräs <timo.teras@iki.fi>
t:1584790550
c:4024cc3b29ad4c65544ad068b8f59172b5494306
p:so:libc.musl-x86_64.so.1=1
F:lib
R:libc.musl-x86_64.so.1
a:0:0:777
Z:Q17yJ3JFNypA4mxhJJr0ou6CzsJVI=
R:ld-musl-x86_64.so.1
a:0:0:755
Z:Q19mQZaYKY6yTQWQm0hkvsrh39O7Y=

C:Q1pFdwPXFlSBHqKNjSelz8SeziezQ=
P:musl-utils
V:1.1.24-r2
A:x86_64
L:MIT BSD GPL2+
o:musl
m:Timo Teräs <timo.teras@iki.fi>
D:scanelf so:libc.musl-x86_64.so.1
F:sbin
R:ldconfig

P:ca-certificates-cacert
V:20191127-r1
A:x86_64
L:MPL-2.0 GPL-2.0-or-later
o:ca-certificates

P:libcrypto3
V:3.1.4-r5
A:aarch64
L:Apache-2.0 AND (MIT OR BSD-2-Clause)
o:openssl

P:linux-headers
V:6.6-r0
A:x86_64
L:GPL-2.0-only WITH Linux-syscall-note
o:linux-headers
"""


def test_installed_db():
    pkgs = run_cataloger(CAT, {DB: INSTALLED.encode()})
    assert [(p.name, p.version, p.purl) for p in pkgs] == [
        ("musl", "1.1.24-r2", "pkg:apk/musl@1.1.24-r2?arch=x86_64"),
        ("musl-utils", "1.1.24-r2", "pkg:apk/musl-utils@1.1.24-r2?arch=x86_64&upstream=musl"),
        (
            "ca-certificates-cacert",
            "20191127-r1",
            "pkg:apk/ca-certificates-cacert@20191127-r1?arch=x86_64&upstream=ca-certificates",
        ),
        ("libcrypto3", "3.1.4-r5", "pkg:apk/libcrypto3@3.1.4-r5?arch=aarch64&upstream=openssl"),
        ("linux-headers", "6.6-r0", "pkg:apk/linux-headers@6.6-r0?arch=x86_64"),
    ]
    musl, utils, certs, crypto, headers = pkgs
    assert (musl.type, musl.cataloger, musl.path) == ("apk", "apk-db", DB)
    assert (musl.source_name, musl.source_version) == ("musl", "1.1.24-r2")
    assert (utils.source_name, utils.source_version) == ("musl", "1.1.24-r2")
    assert musl.licenses == ("MIT",)
    assert utils.licenses == ("MIT", "BSD", "GPL2+")
    assert certs.licenses == ("MPL-2.0", "GPL-2.0-or-later")
    assert crypto.licenses == ("Apache-2.0 AND (MIT OR BSD-2-Clause)",)
    assert headers.licenses == ("GPL-2.0-only WITH Linux-syscall-note",)
    assert musl.extra == {
        "arch": "x86_64",
        "maintainer": "Timo Teräs <timo.teras@iki.fi>",
        "commit": "4024cc3b29ad4c65544ad068b8f59172b5494306",
        "url": "https://musl.libc.org/",
        "size": 377123,
        "installed_size": 614400,
        "build_time": 1584790550,
    }


def test_no_origin_means_source_is_name():
    (p,) = run_cataloger(CAT, {DB: b"P:foo\nV:1.0-r0\n"})
    assert (p.source_name, p.source_version, p.purl) == ("foo", "1.0-r0", "pkg:apk/foo@1.0-r0")


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        ("lib/apk/db/installed", True),
        ("usr/lib/apk/db/installed", True),
        ("lib/apk/db/triggers", False),
        ("x/lib/apk/db/installed", False),
        ("lib/apk/db/installed.old", False),
    ],
)
def test_wants(path, wanted):
    assert CAT.wants(path, 0o100644, 1) is wanted


def test_crlf_no_trailing_newline_and_many_blank_lines():
    data = b"\r\n\r\nP:a\r\nV:1-r0\r\nA:x86\r\n\r\n\r\n\r\nP:b\r\nV:2-r1"
    pkgs = run_cataloger(CAT, {DB: data})
    assert [(p.name, p.version, p.extra.get("arch")) for p in pkgs] == [
        ("a", "1-r0", "x86"),
        ("b", "2-r1", None),
    ]


def test_records_missing_fields_are_skipped():
    data = b"P:noversion\n\nV:1.0-r0\n\nP:bad name\nV:1\n\nP:ok\nV:1-r0\nI:notanumber\n"
    pkgs = run_cataloger(CAT, {DB: data})
    assert [p.name for p in pkgs] == ["ok"]
    assert "installed_size" not in pkgs[0].extra


def test_first_value_wins_for_duplicate_keys():
    (p,) = run_cataloger(CAT, {DB: b"P:a\nV:1-r0\nV:2-r0\n"})
    assert p.version == "1-r0"


def test_empty_and_garbage():
    assert run_cataloger(CAT, {DB: b""}) == []
    with pytest.raises(CatalogError, match=DB):
        CAT.parse(DB, b"\x00\x01\x02binary", FileTree())
    with pytest.raises(CatalogError):
        CAT.parse(DB, b"this is not\nan apk database\n", FileTree())


def test_split_licenses():
    assert split_licenses("") == ()
    assert split_licenses("  MIT   MIT  BSD ") == ("MIT", "BSD")
    assert split_licenses("GPL2+ and LGPL") == ("GPL2+ and LGPL",)
    assert split_licenses("(MIT)") == ("(MIT)",)


def test_huge_db():
    rec = "P:pkg{i}\nV:1.{i}-r0\nA:x86_64\no:origin{i}\n" + "R:file\nZ:Q1abc=\n" * 30 + "\n"
    data = "".join(rec.format(i=i) for i in range(20000)).encode()
    pkgs = list(CAT.parse(DB, data, FileTree()))
    assert len(pkgs) == 20000 and pkgs[-1].source_name == "origin19999"


def _check(data: bytes) -> None:
    try:
        out = list(ApkCataloger().parse(DB, data, FileTree()))
    except CatalogError:
        return
    assert all(p.type == "apk" and p.name and p.version for p in out)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2048))
def test_fuzz_random_bytes(data):
    _check(data)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_fuzz_mutated(data):
    raw = bytearray(INSTALLED.encode())
    for _ in range(data.draw(st.integers(1, 20))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        op = data.draw(st.sampled_from(["set", "del", "ins"]))
        byte = data.draw(st.integers(0, 255))
        if op == "set":
            raw[pos] = byte
        elif op == "del":
            del raw[pos]
        else:
            raw.insert(pos, byte)
    _check(bytes(raw))
