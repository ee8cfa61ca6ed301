"""Gentoo Portage installed-package database (var/db/pkg/<category>/<PF>/)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from containment.catalog.base import FileTree, run_cataloger
from containment.catalog.portage import CATALOGERS, PortageCataloger, split_pf
from containment.model import CatalogError

CAT = CATALOGERS[0]
VDB = "var/db/pkg"

GLIBC_CONTENTS = b"""\
dir /usr
dir /usr/lib64
obj /usr/lib64/libc.so.6 3c8b1f6c2f1a4ed3e49c8d2e0f6f2b7a 1716387410
sym /usr/lib64/libc.so -> libc.so.6 1716387410
dir /etc
obj /etc/ld.so.conf 0c2f1f8f0ad3c6d3b1d2a6b5e8b3a4f1 1716387411
"""


def vdb_entry(category: str, pf: str, **files: str) -> dict[str, bytes]:
    base = f"{VDB}/{category}/{pf}"
    return {f"{base}/{k}": v.encode() for k, v in files.items()}


def stage3() -> dict[str, bytes]:
    """vdb entries as an emerge in a gentoo/stage3 image leaves them (one value per file,
    newline-terminated), plus a trimmed entry like syft's test data (CONTENTS/LICENSE/SIZE)."""
    t: dict[str, bytes] = {}
    t.update(
        vdb_entry(
            "sys-libs",
            "glibc-2.39-r6",
            CATEGORY="sys-libs\n",
            PF="glibc-2.39-r6\n",
            SLOT="2.2\n",
            LICENSE="LGPL-2.1+ BSD HPND ISC inner-net rc PCRE\n",
            SIZE="47791813\n",
            repository="gentoo\n",
            HOMEPAGE="https://www.gnu.org/software/libc/\n",
            EAPI="8\n",
            USE="amd64 elibc_glibc kernel_linux multiarch ssp static-libs\n",
        )
    )
    t[f"{VDB}/sys-libs/glibc-2.39-r6/CONTENTS"] = GLIBC_CONTENTS
    t.update(
        vdb_entry(
            "dev-libs",
            "openssl-3.0.13",
            CATEGORY="dev-libs\n",
            PF="openssl-3.0.13\n",
            SLOT="0/3\n",
            LICENSE="openssl || ( Apache-2.0 MIT )\n",
            SIZE="9873410\n",
            repository="gentoo\n",
        )
    )
    t.update(
        vdb_entry(
            "app-containers",
            "skopeo-1.5.1",
            CONTENTS="dir /usr\ndir /usr/bin\nobj /usr/bin/skopeo 376c02bd3b22804df8fdfdc895e7dbfb 1649284374\n",
            LICENSE="Apache-2.0 BSD BSD-2 CC-BY-SA-4.0 ISC MIT\n",
            SIZE="27937835\n",
        )
    )
    t.update(vdb_entry("media-fonts", "font-adobe-100dpi-1.0.4", PF="font-adobe-100dpi-1.0.4\n", SLOT="0\n"))
    # a package portage was merging when the image was committed
    t.update(vdb_entry("net-misc", "-MERGING-curl-8.7.1-r2", PF="curl-8.7.1-r2\n"))
    return t


def test_vdb():
    pkgs = run_cataloger(CAT, stage3())
    assert sorted((p.name, p.version, p.purl) for p in pkgs) == [
        ("font-adobe-100dpi", "1.0.4", "pkg:ebuild/media-fonts/font-adobe-100dpi@1.0.4"),
        ("glibc", "2.39-r6", "pkg:ebuild/sys-libs/glibc@2.39-r6?slot=2.2"),
        ("openssl", "3.0.13", "pkg:ebuild/dev-libs/openssl@3.0.13"),
        ("skopeo", "1.5.1", "pkg:ebuild/app-containers/skopeo@1.5.1"),
    ]
    by = {p.name: p for p in pkgs}
    glibc = by["glibc"]
    assert (glibc.type, glibc.cataloger, glibc.path) == (
        "ebuild",
        "portage-vdb",
        f"{VDB}/sys-libs/glibc-2.39-r6/PF",
    )
    assert glibc.licenses == ("LGPL-2.1+", "BSD", "HPND", "ISC", "inner-net", "rc", "PCRE")
    assert glibc.extra == {
        "category": "sys-libs",
        "slot": "2.2",
        "repository": "gentoo",
        "homepage": "https://www.gnu.org/software/libc/",
        "installed_size": 47791813,
    }
    assert by["openssl"].extra["slot"] == "0/3"
    assert by["openssl"].licenses == ("openssl || ( Apache-2.0 MIT )",)
    sk = by["skopeo"]
    assert sk.path == f"{VDB}/app-containers/skopeo-1.5.1/LICENSE"
    assert sk.licenses == ("Apache-2.0", "BSD", "BSD-2", "CC-BY-SA-4.0", "ISC", "MIT")
    assert sk.extra == {"category": "app-containers", "installed_size": 27937835}


@pytest.mark.parametrize(
    ("pf", "expected"),
    [
        ("openssl-3.0.13-r2", ("openssl", "3.0.13-r2")),
        ("gcc-13.2.1_p20240210", ("gcc", "13.2.1_p20240210")),
        ("bash-5.2_p26-r1", ("bash", "5.2_p26-r1")),
        ("ncurses-6.4_p20240414", ("ncurses", "6.4_p20240414")),
        ("font-adobe-100dpi-1.0.4", ("font-adobe-100dpi", "1.0.4")),
        ("c-ares-1.28.1", ("c-ares", "1.28.1")),
        ("x264-0.0.20220222", ("x264", "0.0.20220222")),
        ("openssh-9.7_p1-r4", ("openssh", "9.7_p1-r4")),
        ("pkgconf-2.1.1a", ("pkgconf", "2.1.1a")),
        ("python-3.12.3_rc1_p2", ("python", "3.12.3_rc1_p2")),
        ("noversion", None),
        ("bad-1.0-rc1", None),
        ("-1.0", None),
    ],
)
def test_split_pf(pf, expected):
    assert split_pf(pf) == expected


@pytest.mark.parametrize(
    ("path", "size", "wanted"),
    [
        (f"{VDB}/sys-libs/glibc-2.39-r6/PF", 14, True),
        (f"{VDB}/sys-libs/glibc-2.39-r6/CONTENTS", 3_000_000, True),
        (f"{VDB}/sys-libs/glibc-2.39-r6/CONTENTS", 50_000_000, False),
        (f"{VDB}/sys-libs/glibc-2.39-r6/LICENSE", 10_000_000, False),
        (f"{VDB}/sys-libs/glibc-2.39-r6/environment.bz2", 100, False),
        (f"{VDB}/sys-libs/glibc-2.39-r6/glibc-2.39-r6.ebuild", 100, False),
        (f"{VDB}/sys-libs/PF", 10, False),
        (f"x/{VDB}/sys-libs/glibc-2.39-r6/PF", 10, False),
    ],
)
def test_wants(path, size, wanted):
    assert CAT.wants(path, 0o100644, size) is wanted


def test_pf_that_is_no_package_id():
    t = vdb_entry("sys-apps", "weird", PF="weird\n")
    with pytest.raises(CatalogError, match="PF"):
        CAT.parse(f"{VDB}/sys-apps/weird/PF", t[f"{VDB}/sys-apps/weird/PF"], FileTree(t))
    assert run_cataloger(CAT, vdb_entry("sys-apps", "weird", SIZE="1\n")) == []


def _check(files: dict[str, bytes]) -> None:
    tree = FileTree(files)
    for p, d in files.items():
        try:
            out = list(PortageCataloger().parse(p, d, tree))
        except CatalogError:
            continue
        assert all(
            q.type == "ebuild" and q.name and q.version and q.purl.startswith("pkg:ebuild/") for q in out
        )


@settings(max_examples=200, deadline=None)
@given(
    st.binary(max_size=300),
    st.sampled_from(["PF", "CATEGORY", "SLOT", "LICENSE", "SIZE", "CONTENTS"]),
    st.text(alphabet="abc-_.019rp/", min_size=1, max_size=20),
)
def test_fuzz(data, fname, pf_dir):
    if "/" in pf_dir:
        pf_dir = pf_dir.replace("/", "")
    if not pf_dir:
        return
    files = {f"{VDB}/cat/{pf_dir}/{fname}": data, f"{VDB}/cat/{pf_dir}/SLOT": b"0\n"}
    _check(files)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_fuzz_mutated(data):
    files = stage3()
    key = data.draw(st.sampled_from(sorted(files)))
    raw = bytearray(files[key])
    for _ in range(data.draw(st.integers(1, 10))):
        if not raw:
            break
        pos = data.draw(st.integers(0, len(raw) - 1))
        raw[pos] = data.draw(st.integers(0, 255))
    files[key] = bytes(raw)
    _check(files)


def test_inventory_keeps_the_category_and_adds_distro():
    from containment.layers import finalize
    from containment.model import OSInfo

    pkgs = finalize(run_cataloger(CAT, stage3()), OSInfo(id="gentoo", version_id="2.15", name="Gentoo"))
    assert "pkg:ebuild/sys-libs/glibc@2.39-r6?distro=gentoo-2.15&slot=2.2" in [p.purl for p in pkgs]
    assert all(p.purl.startswith(f"pkg:ebuild/{p.extra['category']}/") for p in pkgs)
