"""CBL-Mariner / Azure Linux distroless rpm manifest (var/lib/rpmmanifest/container-manifest-2)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from containment.catalog.base import FileTree, run_cataloger
from containment.catalog.rpm_manifest import CATALOGERS, RpmManifestCataloger
from containment.model import CatalogError

CAT = CATALOGERS[0]
PATH = "var/lib/rpmmanifest/container-manifest-2"

# The columns the Azure Linux toolkit's rpm query writes (NAME, VERSION-RELEASE, INSTALLTIME,
# BUILDTIME, VENDOR, EPOCH, SIZE, ARCH, EPOCHNUM, SOURCERPM), as in an azurelinux/distroless
# base:3.0 image; the last lines as in a cbl-mariner/distroless 2.0 image.
AZL3 = (
    "filesystem\t1.1-21.azl3\t1722470400\t1718300000\tMicrosoft Corporation\t(none)\t7596\tx86_64\t0\tfilesystem-1.1-21.azl3.src.rpm\n"
    "azurelinux-release\t3.0-16.azl3\t1722470400\t1718300000\tMicrosoft Corporation\t(none)\t580\tnoarch\t0\tazurelinux-release-3.0-16.azl3.src.rpm\n"
    "glibc\t2.38-6.azl3\t1722470400\t1712000000\tMicrosoft Corporation\t(none)\t10855265\tx86_64\t0\tglibc-2.38-6.azl3.src.rpm\n"
    "openssl-libs\t3.3.0-1.azl3\t1722470401\t1715000000\tMicrosoft Corporation\t(none)\t4365048\tx86_64\t0\topenssl-3.3.0-1.azl3.src.rpm\n"
    "vim\t9.0.2121-1.cm2\t1653816591\t1653753130\tMicrosoft Corporation\t2\t45000\tx86_64\t2\tvim-9.0.2121-1.cm2.src.rpm\n"
    "gpg-pubkey\t3135ce90-5e6fda74\t1653816591\t1584384628\t(none)\t(none)\t0\t(none)\t0\t(none)\n"
)


def test_azure_linux_manifest():
    pkgs = run_cataloger(CAT, {PATH: AZL3.encode()})
    assert [(p.name, p.version, p.purl) for p in pkgs] == [
        (
            "filesystem",
            "1.1-21.azl3",
            "pkg:rpm/filesystem@1.1-21.azl3?arch=x86_64&upstream=filesystem-1.1-21.azl3.src.rpm",
        ),
        (
            "azurelinux-release",
            "3.0-16.azl3",
            "pkg:rpm/azurelinux-release@3.0-16.azl3?arch=noarch&upstream=azurelinux-release-3.0-16.azl3.src.rpm",
        ),
        ("glibc", "2.38-6.azl3", "pkg:rpm/glibc@2.38-6.azl3?arch=x86_64&upstream=glibc-2.38-6.azl3.src.rpm"),
        (
            "openssl-libs",
            "3.3.0-1.azl3",
            "pkg:rpm/openssl-libs@3.3.0-1.azl3?arch=x86_64&upstream=openssl-3.3.0-1.azl3.src.rpm",
        ),
        (
            "vim",
            "2:9.0.2121-1.cm2",
            "pkg:rpm/vim@9.0.2121-1.cm2?arch=x86_64&epoch=2&upstream=vim-9.0.2121-1.cm2.src.rpm",
        ),
    ]
    ssl, vim = pkgs[3], pkgs[4]
    assert (ssl.type, ssl.cataloger, ssl.path) == ("rpm", "rpm-manifest", PATH)
    # the source package is what OS advisories name (as the rpm database cataloger gives it)
    assert (ssl.source_name, ssl.source_version) == ("openssl", "3.3.0-1.azl3")
    assert (vim.source_name, vim.source_version) == ("vim", "2:9.0.2121-1.cm2")
    assert ssl.extra == {
        "release": "1.azl3",
        "arch": "x86_64",
        "sourcerpm": "openssl-3.3.0-1.azl3.src.rpm",
        "vendor": "Microsoft Corporation",
        "size": 4365048,
        "install_time": 1722470401,
    }
    assert vim.extra["epoch"] == 2


def test_same_shape_as_the_rpm_database_cataloger():
    """A package read from the manifest and from an rpm database must be the same package."""
    from containment.catalog.rpm import RpmDBCataloger
    from containment.catalog.rpmdb import RpmHeader

    hdr = RpmHeader(
        name="openssl-libs",
        version="3.3.0",
        release="1.azl3",
        epoch=None,
        arch="x86_64",
        sourcerpm="openssl-3.3.0-1.azl3.src.rpm",
        license="",
        vendor="Microsoft Corporation",
        size=4365048,
        modularitylabel="",
    )
    db = RpmDBCataloger()._package("var/lib/rpm/rpmdb.sqlite", hdr)
    (man,) = [p for p in run_cataloger(CAT, {PATH: AZL3.encode()}) if p.name == "openssl-libs"]
    assert db is not None
    assert (db.name, db.version, db.purl, db.source_name, db.source_version) == (
        man.name,
        man.version,
        man.purl,
        man.source_name,
        man.source_version,
    )


def test_epoch_as_a_literal_none_column_with_epochnum():
    line = "perl-Time-Local\t1.300-490.cm2\t1\t1\tMicrosoft Corporation\t(none)\t100\tnoarch\t2\tperl-Time-Local-1.300-490.cm2.src.rpm\n"
    (p,) = run_cataloger(CAT, {PATH: line.encode()})
    assert p.version == "2:1.300-490.cm2" and p.source_version == "2:1.300-490.cm2"


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        (PATH, True),
        ("var/lib/rpmmanifest/container-manifest-1", False),
        ("x/var/lib/rpmmanifest/container-manifest-2", False),
    ],
)
def test_wants(path, wanted):
    assert CAT.wants(path, 0o100644, 100) is wanted


def test_bad_lines_are_skipped_and_crlf_is_read():
    data = (
        "short\tline\n"
        "noversion\tnorelease\t1\t1\tV\t(none)\t1\tx86_64\t0\tx.src.rpm\n"
        "ok\t1.0-1.azl3\t1\t1\tV\t(none)\t1\tx86_64\t0\tok-1.0-1.azl3.src.rpm\r\n"
        "nosrc\t1.0-1\t1\t1\tV\t(none)\tbig\tx86_64\t0\t(none)\n"
    )
    pkgs = run_cataloger(CAT, {PATH: data.encode()})
    assert [(p.name, p.version, p.source_name) for p in pkgs] == [
        ("ok", "1.0-1.azl3", "ok"),
        ("nosrc", "1.0-1", ""),
    ]
    assert "size" not in pkgs[1].extra and "sourcerpm" not in pkgs[1].extra


def test_empty_garbage_and_binary():
    assert run_cataloger(CAT, {PATH: b""}) == []
    with pytest.raises(CatalogError, match="container-manifest-2"):
        CAT.parse(PATH, b"this is not\na manifest\n", FileTree())
    with pytest.raises(CatalogError):
        CAT.parse(PATH, b"\x00\x01binary", FileTree())


def _check(data: bytes) -> None:
    try:
        out = list(RpmManifestCataloger().parse(PATH, data, FileTree()))
    except CatalogError:
        return
    for p in out:
        assert p.type == "rpm" and p.name and p.version and p.purl.startswith("pkg:rpm/")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2048))
def test_fuzz_random_bytes(data):
    _check(data)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_fuzz_mutated(data):
    raw = bytearray(AZL3.encode())
    for _ in range(data.draw(st.integers(1, 20))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        op = data.draw(st.sampled_from(["set", "del", "ins"]))
        byte = data.draw(st.sampled_from([9, 10, 45, 58, 0, 255, data.draw(st.integers(0, 255))]))
        if op == "set":
            raw[pos] = byte
        elif op == "del":
            del raw[pos]
        else:
            raw.insert(pos, byte)
    _check(bytes(raw))
