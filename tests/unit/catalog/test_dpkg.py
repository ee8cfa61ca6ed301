from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from containment.catalog.base import FileTree, run_cataloger
from containment.catalog.dpkg import CATALOGERS, DpkgCataloger, copyright_licenses, parse_source
from containment.model import CatalogError

CAT = CATALOGERS[0]

STATUS = """\
Package: adduser
Status: install ok installed
Priority: important
Section: admin
Installed-Size: 686
Maintainer: Debian Adduser Developers <adduser@packages.debian.org>
Architecture: all
Multi-Arch: foreign
Version: 3.134
Depends: passwd
Conffiles:
 /etc/adduser.conf cc3493ecd2d09837ffdcc3e25fdfff18
 /etc/deluser.conf 11a06baf8245fd8d690b99024d228c1f
Description: add and remove users and groups
 This package includes the 'adduser' and 'deluser' commands for creating
 and removing users.
 .
 Package: not-a-field-this-is-a-continuation

Package: libc6
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 12991
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>
Architecture: amd64
Multi-Arch: same
Source: glibc
Version: 2.36-9+deb12u4
Description: GNU C Library: Shared libraries

Package: bash
Essential: yes
Status: hold ok installed
Installed-Size: 7175
Maintainer: Matthias Klose <doko@debian.org>
Architecture: amd64
Source: bash (5.2.15-2)
Version: 5.2.15-2+b2
Description: GNU Bourne Again SHell

Package: libcap2
Status: deinstall ok installed
Architecture: amd64
Source: libcap2 (1:2.66-4)
Version: 1:2.66-4+b1

Package: zlib1g
Status: install ok installed
Architecture: amd64
Source: zlib
Version: 1:1.2.13.dfsg-1

Package: oldconf
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0-1

Package: broken
Status: install reinstreq half-installed
Architecture: amd64
Version: 2.0-1

Package: gone
Status: purge ok not-installed
Architecture: amd64

Package: pending
Status: install ok triggers-pending
Architecture: amd64
Version: 0.5-1
"""

BASH_COPYRIGHT = b"""\
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Contact: chet@po.cwru.edu
Source: ftp.gnu.org:/pub/gnu/bash

Files: *
Copyright: (C) 1987-2022 Free Software Foundation, Inc.
License: GPL-3+

Files: lib/glob/*
Copyright: 1991 The Regents
License: BSD-4-clause-UC or GPL-2+, and MIT
 Redistribution and use in source and binary forms ...
 License: not-a-license-this-is-text

Files: y.tab.c
License: GPL-3+ with Bison exception

License: GPL-3+
 This program is free software ...
 On Debian systems, the complete text of the GNU General Public License
 version 3 can be found in `/usr/share/common-licenses/GPL-3'.
"""

LIBC_COPYRIGHT = b"""\
This is the Debian prepackaged version of the GNU C Library version 2.36.

* Most of the GNU C library is under the following copyright:
  On Debian systems, the complete text of the GNU Library
  General Public License can be found in `/usr/share/common-licenses/LGPL-2.1'.
  and the GPL in /usr/share/common-licenses/GPL-2.
"""


def _by_name(pkgs):
    return {p.name: p for p in pkgs}


def test_status_installed_packages_and_fields():
    files = {
        "var/lib/dpkg/status": STATUS.encode(),
        "usr/share/doc/bash/copyright": BASH_COPYRIGHT,
        "usr/share/doc/libc6/copyright": LIBC_COPYRIGHT,
    }
    pkgs = run_cataloger(CAT, files)
    got = _by_name(pkgs)
    assert sorted(got) == ["adduser", "bash", "libc6", "libcap2", "pending", "zlib1g"]

    a = got["adduser"]
    assert (a.version, a.type, a.cataloger, a.path) == ("3.134", "deb", "dpkg-status", "var/lib/dpkg/status")
    assert a.purl == "pkg:deb/adduser@3.134?arch=all"
    assert (a.source_name, a.source_version) == ("adduser", "3.134")
    assert a.extra["arch"] == "all"
    assert a.extra["installed_size"] == 686
    assert a.extra["maintainer"] == "Debian Adduser Developers <adduser@packages.debian.org>"
    assert a.licenses == ()

    c = got["libc6"]
    assert c.purl == "pkg:deb/libc6@2.36-9%2Bdeb12u4?arch=amd64&upstream=glibc"
    assert (c.source_name, c.source_version) == ("glibc", "2.36-9+deb12u4")
    assert c.licenses == ("GPL-2", "LGPL-2.1")

    b = got["bash"]
    assert b.version == "5.2.15-2+b2"
    assert (b.source_name, b.source_version) == ("bash", "5.2.15-2")
    assert b.purl == "pkg:deb/bash@5.2.15-2%2Bb2?arch=amd64&upstream=bash%405.2.15-2"
    assert b.licenses == (
        "BSD-4-clause-UC",
        "GPL-2+",
        "GPL-3",
        "GPL-3+",
        "GPL-3+ with Bison exception",
        "MIT",
    )

    cap = got["libcap2"]
    assert cap.version == "1:2.66-4+b1"
    assert cap.purl == "pkg:deb/libcap2@1:2.66-4%2Bb1?arch=amd64&upstream=libcap2%401:2.66-4"

    z = got["zlib1g"]
    assert z.version == "1:1.2.13.dfsg-1"
    assert z.purl == "pkg:deb/zlib1g@1:1.2.13.dfsg-1?arch=amd64&upstream=zlib"
    assert (z.source_name, z.source_version) == ("zlib", "1:1.2.13.dfsg-1")

    assert got["pending"].extra["status"] == "install ok triggers-pending"
    assert "status" not in a.extra


def test_copyright_files_are_wanted_but_yield_nothing_themselves():
    assert CAT.wants("usr/share/doc/bash/copyright", 0o100644, 10)
    assert not CAT.wants("usr/share/doc/bash/examples/copyright", 0o100644, 10)
    assert not CAT.wants("usr/share/doc/copyright", 0o100644, 10)
    assert list(CAT.parse("usr/share/doc/bash/copyright", BASH_COPYRIGHT, FileTree())) == []


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        ("var/lib/dpkg/status", True),
        ("var/lib/dpkg/status-old", False),
        ("var/lib/dpkg/available", False),
        ("var/lib/dpkg/status.d/base", True),
        ("var/lib/dpkg/status.d/libc6", True),
        ("var/lib/dpkg/status.d/libc6.md5sums", False),
        ("var/lib/dpkg/status.d/sub/x", False),
        ("var/lib/dpkg/status.d/", False),
        ("usr/var/lib/dpkg/status", False),
        ("var/lib/dpkg/info/bash.list", False),
    ],
)
def test_wants(path, wanted):
    assert CAT.wants(path, 0o100644, 100) is wanted


def test_crlf_comments_and_no_trailing_newline():
    text = (
        "# written by hand\r\nPackage: foo\r\nStatus: install ok installed\r\nVersion: 1.0-1\r\n"
        "Architecture: arm64\r\n\r\nPackage: bar\r\nStatus: install ok installed\r\nVersion: 2.0\r\n"
        "Architecture: all"
    )
    pkgs = run_cataloger(CAT, {"var/lib/dpkg/status": text.encode()})
    assert [(p.name, p.version, p.purl) for p in pkgs] == [
        ("foo", "1.0-1", "pkg:deb/foo@1.0-1?arch=arm64"),
        ("bar", "2.0", "pkg:deb/bar@2.0?arch=all"),
    ]


def test_multiarch_same_package_twice():
    text = (
        b"Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nSource: glibc\nVersion: 2.36-9\n\n"
        b"Package: libc6\nStatus: install ok installed\nArchitecture: i386\nSource: glibc\nVersion: 2.36-9\n"
    )
    pkgs = run_cataloger(CAT, {"var/lib/dpkg/status": text})
    assert [p.purl for p in pkgs] == [
        "pkg:deb/libc6@2.36-9?arch=amd64&upstream=glibc",
        "pkg:deb/libc6@2.36-9?arch=i386&upstream=glibc",
    ]


def test_field_names_case_insensitive_and_blank_whitespace_lines():
    text = "package: foo\nSTATUS: install ok installed\nversion: 1.0\n \t\nPackage: bar\nStatus: install ok installed\nVersion: 3\n"
    pkgs = run_cataloger(CAT, {"var/lib/dpkg/status": text.encode()})
    assert [(p.name, p.version) for p in pkgs] == [("foo", "1.0"), ("bar", "3")]


def test_status_stanza_without_status_field_is_skipped_in_status_file():
    text = b"Package: foo\nVersion: 1.0\n"
    assert run_cataloger(CAT, {"var/lib/dpkg/status": text}) == []


def test_distroless_status_d():
    files = {
        "var/lib/dpkg/status.d/base": (
            b"Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\n"
            b"Maintainer: Santiago Vila <sanvila@debian.org>\nInstalled-Size: 393\n\n"
            b"Package: netbase\nVersion: 6.4\nArchitecture: all\n"
        ),
        "var/lib/dpkg/status.d/libc6": (
            b"Package: libc6\nVersion: 2.36-9+deb12u7\nArchitecture: amd64\nSource: glibc\n"
            b"Status: install ok installed\n"
        ),
        "var/lib/dpkg/status.d/libc6.md5sums": b"0123456789abcdef  lib/x86_64-linux-gnu/libc.so.6\n",
        "usr/share/doc/libc6/copyright": LIBC_COPYRIGHT,
    }
    pkgs = run_cataloger(CAT, files)
    assert [(p.name, p.version, p.path) for p in pkgs] == [
        ("base-files", "12.4+deb12u5", "var/lib/dpkg/status.d/base"),
        ("netbase", "6.4", "var/lib/dpkg/status.d/base"),
        ("libc6", "2.36-9+deb12u7", "var/lib/dpkg/status.d/libc6"),
    ]
    libc = pkgs[2]
    assert libc.purl == "pkg:deb/libc6@2.36-9%2Bdeb12u7?arch=amd64&upstream=glibc"
    assert libc.licenses == ("GPL-2", "LGPL-2.1")


def test_parse_source():
    assert parse_source("", "1.0", "foo") == ("foo", "1.0")
    assert parse_source("glibc", "2.36-9", "libc6") == ("glibc", "2.36-9")
    assert parse_source("bash (5.2.15-2)", "5.2.15-2+b2", "bash") == ("bash", "5.2.15-2")
    assert parse_source("libcap2 (1:2.66-4)", "1:2.66-4+b1", "libcap2") == ("libcap2", "1:2.66-4")
    assert parse_source("src (", "1", "x") == ("src", "1")


def test_copyright_licenses_rules():
    data = b"License: GPL-2+ and/or LGPL-2.1+\nLicense: none\nLicense:\nLICENSE: Expat.\nLicense: The main library is under text\n"
    assert copyright_licenses(data) == ("Expat", "GPL-2+", "LGPL-2.1+")


def test_empty_file_is_empty_and_garbage_is_error():
    assert run_cataloger(CAT, {"var/lib/dpkg/status": b""}) == []
    assert run_cataloger(CAT, {"var/lib/dpkg/status": b"\n\n  \n"}) == []
    with pytest.raises(CatalogError, match="var/lib/dpkg/status"):
        CAT.parse("var/lib/dpkg/status", b"\x7fELF\x00\x00binary", FileTree())
    with pytest.raises(CatalogError):
        CAT.parse("var/lib/dpkg/status", b"just some text\nwithout fields\n", FileTree())


def test_invalid_names_and_versions_skipped():
    text = (
        b"Package: has space\nStatus: install ok installed\nVersion: 1\n\n"
        b"Package: nover\nStatus: install ok installed\n\n"
        b"Package: badver\nStatus: install ok installed\nVersion: 1 2\n\n"
        b"Package: ok\nStatus: install ok installed\nVersion: 1\n"
    )
    assert [p.name for p in run_cataloger(CAT, {"var/lib/dpkg/status": text})] == ["ok"]


def test_huge_status_file():
    stanza = (
        "Package: pkg{i}\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.{i}-1\n"
        "Description: d\n" + " long line\n" * 20 + "\n"
    )
    text = "".join(stanza.format(i=i) for i in range(20000)).encode()
    pkgs = list(CAT.parse("var/lib/dpkg/status", text, FileTree()))
    assert len(pkgs) == 20000
    assert pkgs[-1].name == "pkg19999" and pkgs[-1].version == "1.19999-1"


def test_invalid_utf8_is_tolerated():
    text = b"Package: foo\nStatus: install ok installed\nVersion: 1.0\nMaintainer: J\xf6rg <j@x>\n"
    (p,) = run_cataloger(CAT, {"var/lib/dpkg/status": text})
    assert p.name == "foo" and "J" in p.extra["maintainer"]


def _check(path: str, data: bytes, tree: FileTree | None = None) -> None:
    try:
        out = list(DpkgCataloger().parse(path, data, tree or FileTree()))
    except CatalogError:
        return
    assert all(p.type == "deb" and p.name and p.version for p in out)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048))
def test_fuzz_random_bytes(data):
    _check("var/lib/dpkg/status", data)
    _check("var/lib/dpkg/status.d/x", data)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_fuzz_mutated_status(data):
    raw = bytearray(STATUS.encode())
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
    cop = data.draw(st.binary(max_size=512))
    _check("var/lib/dpkg/status", bytes(raw), FileTree({"usr/share/doc/bash/copyright": cop}))
