"""Every distribution whose advisories OSV publishes, end to end.

Per distribution: a published advisory record (ids, ecosystem strings and affected ranges as the
distribution published them; tests/e2e/distro_records/README.md says where each comes from), the
distribution's real os-release and its package database in the package manager's own format
(dpkg status, apk installed, rpm sqlite / Berkeley DB / NDB), built into an OCI image;
`containment db import`, then `containment scan image oci:... -f json`.

Each image is a partial upgrade: two binary packages of the vulnerable source package, one older
than the fix (exactly one finding, asserted field by field) and one at the fixed version (no
finding). Matching is by source package with the distribution's version rules (dpkg, apk, rpm
with epochs) in the ecosystems containment.distros names for the release.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from containment.image.build import ImageSpec, TarEntry, layer_tar, write_oci
from tests.conftest import status_stanza
from tests.unit.catalog.test_rpm import bdb_pairs, make_bdb, make_ndb, make_sqlite, rpm_header

pytestmark = pytest.mark.e2e

RECORDS = Path(__file__).parent / "distro_records"


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "containment", *args], capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("db") / "advisories.db"
    r = cli("db", "import", str(RECORDS), "--db", str(path), "-q")
    assert r.returncode == 0, r.stderr
    return str(path)


# ------------------------------------------------------------------ package databases


def dpkg(*pkgs: tuple[str, str, str]) -> tuple[str, bytes]:
    """(name, version, source) -> var/lib/dpkg/status"""
    return "var/lib/dpkg/status", "\n".join(status_stanza(n, v, s) for n, v, s in pkgs).encode()


def apk(*pkgs: tuple[str, str, str]) -> tuple[str, bytes]:
    """(name, version, origin) -> lib/apk/db/installed"""
    text = "".join(
        f"C:Q1abc=\nP:{n}\nV:{v}\nA:x86_64\nS:1000\nI:2000\nT:test\no:{o}\nL:MIT\n\n" for n, v, o in pkgs
    )
    return "lib/apk/db/installed", text.encode()


@dataclass(frozen=True)
class Rpm:
    name: str
    version: str
    release: str
    srpm: str
    epoch: int | None = None


def rpmdb(kind: str, tmp: Path, *pkgs: Rpm) -> tuple[str, bytes]:
    blobs = [rpm_header(p.name, p.version, p.release, epoch=p.epoch, sourcerpm=p.srpm) for p in pkgs]
    if kind == "sqlite":  # rpm >= 4.16: RHEL 9, Alma 9, Azure Linux, Photon, Mageia 9
        return "var/lib/rpm/rpmdb.sqlite", make_sqlite(tmp / "rpmdb.sqlite", blobs)
    if kind == "bdb":  # RHEL/Rocky 8
        return "var/lib/rpm/Packages", make_bdb(bdb_pairs(blobs))
    assert kind == "ndb"  # SUSE, openEuler
    return "usr/lib/sysimage/rpm/Packages.db", make_ndb(blobs)


def scan(tmp: Path, os_release: str, pkgdb: tuple[str, bytes], db: str) -> dict:
    path, data = pkgdb
    layer = layer_tar(
        [
            TarEntry("etc", kind="dir"),
            TarEntry("etc/os-release", os_release.encode()),
            TarEntry(path, data),
        ]
    )
    write_oci(str(tmp / "img"), ImageSpec(layers=[layer]))
    r = cli("scan", "image", f"oci:{tmp}/img", "--db", db, "-f", "json", "-q")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def found(doc: dict) -> list[tuple]:
    return sorted(
        (
            f["id"],
            f["package"]["name"],
            f["package"].get("source_name", ""),
            f["installed_version"],
            f["fixed_versions"],
            f["ecosystem"],
        )
        for f in doc["findings"]
    )


def only(doc: dict) -> dict:
    assert len(doc["findings"]) == 1, found(doc)
    return doc["findings"][0]


# ------------------------------------------------------------------ os-release files (real ones)

DEBIAN_7 = """PRETTY_NAME="Debian GNU/Linux 7 (wheezy)"
NAME="Debian GNU/Linux"
VERSION_ID="7"
VERSION="7 (wheezy)"
ID=debian
ANSI_COLOR="1;31"
HOME_URL="http://www.debian.org/"
SUPPORT_URL="http://www.debian.org/support/"
BUG_REPORT_URL="http://bugs.debian.org/"
"""

UBUNTU_22_04 = """PRETTY_NAME="Ubuntu 22.04.3 LTS"
NAME="Ubuntu"
VERSION_ID="22.04"
VERSION="22.04.3 LTS (Jammy Jellyfish)"
VERSION_CODENAME=jammy
ID=ubuntu
ID_LIKE=debian
HOME_URL="https://www.ubuntu.com/"
SUPPORT_URL="https://help.ubuntu.com/"
BUG_REPORT_URL="https://bugs.launchpad.net/ubuntu/"
PRIVACY_POLICY_URL="https://www.ubuntu.com/legal/terms-and-policies/privacy-policy"
UBUNTU_CODENAME=jammy
"""

UBUNTU_20_04 = """NAME="Ubuntu"
VERSION="20.04 LTS (Focal Fossa)"
ID=ubuntu
ID_LIKE=debian
PRETTY_NAME="Ubuntu 20.04 LTS"
VERSION_ID="20.04"
HOME_URL="https://www.ubuntu.com/"
SUPPORT_URL="https://help.ubuntu.com/"
BUG_REPORT_URL="https://bugs.launchpad.net/ubuntu/"
PRIVACY_POLICY_URL="https://www.ubuntu.com/legal/terms-and-policies/privacy-policy"
VERSION_CODENAME=focal
UBUNTU_CODENAME=focal
"""

UBUNTU_16_04 = """NAME="Ubuntu"
VERSION="16.04.7 LTS (Xenial Xerus)"
ID=ubuntu
ID_LIKE=debian
PRETTY_NAME="Ubuntu 16.04.7 LTS"
VERSION_ID="16.04"
HOME_URL="http://www.ubuntu.com/"
SUPPORT_URL="http://help.ubuntu.com/"
BUG_REPORT_URL="http://bugs.launchpad.net/ubuntu/"
VERSION_CODENAME=xenial
UBUNTU_CODENAME=xenial
"""

ALPINE_3_12 = """NAME="Alpine Linux"
ID=alpine
VERSION_ID=3.12.12
PRETTY_NAME="Alpine Linux v3.12"
HOME_URL="https://alpinelinux.org/"
BUG_REPORT_URL="https://bugs.alpinelinux.org/"
"""

WOLFI = """ID=wolfi
NAME="Wolfi"
PRETTY_NAME="Wolfi"
VERSION_ID="20230201"
HOME_URL="https://wolfi.dev"
"""

CHAINGUARD = """ID=chainguard
NAME="Chainguard"
PRETTY_NAME="Chainguard"
VERSION_ID="20230214"
HOME_URL="https://chainguard.dev/"
"""

MINIMOS = """ID=minimos
NAME="MinimOS"
PRETTY_NAME="MinimOS"
VERSION_ID="20241031"
HOME_URL="https://minimus.io"
BUG_REPORT_URL="https://support.minimus.io"
"""

ALPAQUITA_STREAM = """NAME="BellSoft Alpaquita Linux Stream"
ID=alpaquita
ID_LIKE=alpine
VERSION_ID=stream
PRETTY_NAME="BellSoft Alpaquita Linux Stream (musl)"
HOME_URL="https://bell-sw.com/"
BUG_REPORT_URL="https://bell-sw.com/support/"
"""

RHEL_9_4 = """NAME="Red Hat Enterprise Linux"
VERSION="9.4 (Plow)"
ID="rhel"
ID_LIKE="fedora"
VERSION_ID="9.4"
PLATFORM_ID="platform:el9"
PRETTY_NAME="Red Hat Enterprise Linux 9.4 (Plow)"
ANSI_COLOR="0;31"
LOGO="fedora-logo-icon"
CPE_NAME="cpe:/o:redhat:enterprise_linux:9::baseos"
HOME_URL="https://www.redhat.com/"
BUG_REPORT_URL="https://bugzilla.redhat.com/"
REDHAT_BUGZILLA_PRODUCT="Red Hat Enterprise Linux 9"
REDHAT_BUGZILLA_PRODUCT_VERSION=9.4
REDHAT_SUPPORT_PRODUCT="Red Hat Enterprise Linux"
REDHAT_SUPPORT_PRODUCT_VERSION="9.4"
"""

ALMA_9_4 = """NAME="AlmaLinux"
VERSION="9.4 (Seafoam Ocelot)"
ID="almalinux"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.4"
PLATFORM_ID="platform:el9"
PRETTY_NAME="AlmaLinux 9.4 (Seafoam Ocelot)"
ANSI_COLOR="0;34"
LOGO="fedora-logo-icon"
CPE_NAME="cpe:/o:almalinux:almalinux:9::baseos"
HOME_URL="https://almalinux.org/"
"""

ROCKY_8_4 = """NAME="Rocky Linux"
VERSION="8.4 (Green Obsidian)"
ID="rocky"
ID_LIKE="rhel fedora"
VERSION_ID="8.4"
PLATFORM_ID="platform:el8"
PRETTY_NAME="Rocky Linux 8.4 (Green Obsidian)"
ANSI_COLOR="0;32"
CPE_NAME="cpe:/o:rocky:rocky:8.4:GA"
HOME_URL="https://rockylinux.org/"
BUG_REPORT_URL="https://bugs.rockylinux.org/"
ROCKY_SUPPORT_PRODUCT="Rocky Linux"
ROCKY_SUPPORT_PRODUCT_VERSION="8"
"""

SLES_15_SP4 = """NAME="SLES"
VERSION="15-SP4"
VERSION_ID="15.4"
PRETTY_NAME="SUSE Linux Enterprise Server 15 SP4"
ID="sles"
ID_LIKE="suse"
ANSI_COLOR="0;32"
CPE_NAME="cpe:/o:suse:sles:15:sp4"
DOCUMENTATION_URL="https://documentation.suse.com/"
"""

LEAP_15_4 = """NAME="openSUSE Leap"
VERSION="15.4"
ID="opensuse-leap"
ID_LIKE="suse opensuse"
VERSION_ID="15.4"
PRETTY_NAME="openSUSE Leap 15.4"
ANSI_COLOR="0;32"
CPE_NAME="cpe:/o:opensuse:leap:15.4"
BUG_REPORT_URL="https://bugs.opensuse.org"
HOME_URL="https://www.opensuse.org/"
DOCUMENTATION_URL="https://en.opensuse.org/Portal:Leap"
LOGO="distributor-logo-Leap"
"""

MAGEIA_9 = """NAME="Mageia"
VERSION="9"
ID=mageia
VERSION_ID=9
ID_LIKE="mandriva fedora"
PRETTY_NAME="Mageia 9"
ANSI_COLOR="1;36"
HOME_URL="http://www.mageia.org/"
SUPPORT_URL="http://www.mageia.org/support/"
BUG_REPORT_URL="https://bugs.mageia.org/"
PRIVACY_POLICY_URL="https://wiki.mageia.org/en/Privacy_policy"
"""

OPENEULER_22_03_SP3 = """NAME="openEuler"
VERSION="22.03 (LTS-SP3)"
ID="openEuler"
VERSION_ID="22.03"
PRETTY_NAME="openEuler 22.03 (LTS-SP3)"
ANSI_COLOR="0;31"
"""

PHOTON_4 = """NAME="VMware Photon OS"
VERSION="4.0"
ID=photon
VERSION_ID=4.0
PRETTY_NAME="VMware Photon OS/Linux"
ANSI_COLOR="1;34"
HOME_URL="https://vmware.github.io/photon/"
BUG_REPORT_URL="https://github.com/vmware/photon/issues"
"""

AZURE_LINUX_3 = """NAME="Microsoft Azure Linux"
VERSION="3.0.20240624"
ID=azurelinux
VERSION_ID="3.0"
PRETTY_NAME="Microsoft Azure Linux 3.0"
ANSI_COLOR="1;34"
HOME_URL="https://aka.ms/azurelinux"
BUG_REPORT_URL="https://aka.ms/azurelinux"
SUPPORT_URL="https://aka.ms/azurelinux"
"""


# ------------------------------------------------------------------ Debian family


def test_debian(db, tmp_path):
    doc = scan(
        tmp_path,
        DEBIAN_7,
        dpkg(("nginx-common", "1.2.1-2.2+wheezy2", "nginx"), ("nginx-full", "1.2.1-2.2+wheezy3", "nginx")),
        db,
    )
    assert found(doc) == [
        ("CVE-2014-3616", "nginx-common", "nginx", "1.2.1-2.2+wheezy2", ["1.2.1-2.2+wheezy3"], "Debian:7")
    ]
    assert only(doc)["aliases"] == ["DSA-3029-1"]


def test_ubuntu_lts(db, tmp_path):
    doc = scan(
        tmp_path,
        UBUNTU_22_04,
        dpkg(("libssl3", "3.0.2-0ubuntu1.7", "openssl"), ("openssl", "3.0.2-0ubuntu1.8", "openssl")),
        db,
    )
    assert found(doc) == [
        (
            "UBUNTU-CVE-2023-0286",
            "libssl3",
            "openssl",
            "3.0.2-0ubuntu1.7",
            ["3.0.2-0ubuntu1.8"],
            "Ubuntu:22.04:LTS",
        )
    ]
    f = only(doc)
    assert (f["severity"], f["severity_source"]) == ("HIGH", "ubuntu")  # Ubuntu's own priority


def test_ubuntu_pro_stream_of_a_release_past_standard_support(db, tmp_path):
    # 16.04's fixes since 2021 land in Ubuntu Pro (ESM) only: "Ubuntu:Pro:16.04:LTS"
    doc = scan(
        tmp_path,
        UBUNTU_16_04,
        dpkg(
            ("libssl1.0.0", "1.0.2g-1ubuntu4.20+esm5", "openssl"),
            ("openssl", "1.0.2g-1ubuntu4.20+esm6", "openssl"),
        ),
        db,
    )
    assert found(doc) == [
        (
            "UBUNTU-CVE-2023-0286",
            "libssl1.0.0",
            "openssl",
            "1.0.2g-1ubuntu4.20+esm5",
            ["1.0.2g-1ubuntu4.20+esm6"],
            "Ubuntu:Pro:16.04:LTS",
        )
    ]


def test_ubuntu_fips_stream_is_not_a_standard_images_fix(db, tmp_path):
    # the same record fixes FIPS builds in "Ubuntu:Pro:FIPS-updates:20.04:LTS": not this image's
    doc = scan(
        tmp_path,
        UBUNTU_20_04,
        dpkg(("libssl1.1", "1.1.1f-1ubuntu2.16", "openssl"), ("openssl", "1.1.1f-1ubuntu2.17", "openssl")),
        db,
    )
    assert found(doc) == [
        (
            "UBUNTU-CVE-2023-0286",
            "libssl1.1",
            "openssl",
            "1.1.1f-1ubuntu2.16",
            ["1.1.1f-1ubuntu2.17"],
            "Ubuntu:20.04:LTS",
        )
    ]


# ------------------------------------------------------------------ apk family


def test_alpine(db, tmp_path):
    doc = scan(
        tmp_path,
        ALPINE_3_12,
        apk(("mariadb-client", "10.4.24-r0", "mariadb"), ("mariadb-common", "10.4.25-r0", "mariadb")),
        db,
    )
    assert found(doc) == [
        ("CVE-2022-27449", "mariadb-client", "mariadb", "10.4.24-r0", ["10.4.25-r0"], "Alpine:v3.12")
    ]


def test_wolfi(db, tmp_path):
    doc = scan(
        tmp_path, WOLFI, apk(("libcrypto3", "3.5.3-r1", "openssl"), ("libssl3", "3.5.4-r0", "openssl")), db
    )
    assert found(doc) == [("CGA-3w65-8r9h-75gq", "libcrypto3", "openssl", "3.5.3-r1", ["3.5.4-r0"], "Wolfi")]


def test_chainguard(db, tmp_path):
    doc = scan(
        tmp_path,
        CHAINGUARD,
        apk(
            ("haproxy-2.8", "2.8.17-r2", "haproxy-2.8"),
            ("haproxy-2.8-oci-entrypoint", "2.8.18-r0", "haproxy-2.8"),
            # the same record's "Wolfi" entry does not apply to a Chainguard image
            ("haproxy-3.1", "3.1.6-r40", "haproxy-3.1"),
        ),
        db,
    )
    assert found(doc) == [
        ("CGA-224q-ccj5-2p53", "haproxy-2.8", "haproxy-2.8", "2.8.17-r2", ["2.8.18-r0"], "Chainguard")
    ]


def test_minimos(db, tmp_path):
    doc = scan(
        tmp_path, MINIMOS, apk(("libcurl-openssl4", "7.85.0-r3", "curl"), ("curl", "7.86.0-r0", "curl")), db
    )
    assert found(doc) == [
        ("CVE-2022-42916", "libcurl-openssl4", "curl", "7.85.0-r3", ["7.86.0-r0"], "MinimOS")
    ]


def test_alpaquita(db, tmp_path):
    # BELL-CVE-2024-0727 for Alpaquita:stream: introduced 3.1.1-r1, fixed 3.1.4-r4
    doc = scan(
        tmp_path,
        ALPAQUITA_STREAM,
        apk(
            ("libcrypto3", "3.1.4-r3", "openssl"),
            ("libssl3", "3.1.4-r4", "openssl"),  # the fix
            ("openssl", "3.1.1-r0", "openssl"),  # before the range opens
        ),
        db,
    )
    assert found(doc) == [
        ("BELL-CVE-2024-0727", "libcrypto3", "openssl", "3.1.4-r3", ["3.1.4-r4"], "Alpaquita:stream")
    ]


# ------------------------------------------------------------------ rpm family


def test_red_hat_streams_epochs_and_source_packages(db, tmp_path):
    doc = scan(
        tmp_path,
        RHEL_9_4,
        rpmdb(
            "sqlite",
            tmp_path,
            # RHSA-2024:0310 fixes openssl in 1:3.0.7-25.el9_3: the installed epoch is compared
            Rpm("openssl-libs", "3.0.7", "24.el9", "openssl-3.0.7-24.el9.src.rpm", epoch=1),
            Rpm("openssl", "3.0.7", "25.el9_3", "openssl-3.0.7-25.el9_3.src.rpm", epoch=1),
            # RHSA-2024:6163 names the source rpm python3.9 only; its binaries are python3, python3-libs
            Rpm("python3-libs", "3.9.18", "3.el9_4.3", "python3.9-3.9.18-3.el9_4.3.src.rpm"),
            Rpm("python3", "3.9.18", "3.el9_4.5", "python3.9-3.9.18-3.el9_4.5.src.rpm"),
        ),
        db,
    )
    assert found(doc) == [
        (
            "RHSA-2024:0310",
            "openssl-libs",
            "openssl",
            "1:3.0.7-24.el9",
            ["1:3.0.7-25.el9_3"],
            "Red Hat:enterprise_linux:9::appstream",
        ),
        (
            "RHSA-2024:6163",
            "python3-libs",
            "python3.9",
            "3.9.18-3.el9_4.3",
            ["0:3.9.18-3.el9_4.5"],
            "Red Hat:enterprise_linux:9::appstream",
        ),
    ]
    # Red Hat's rating is the errata synopsis ("Moderate: ..."); purls are the vendor's
    assert {(f["severity"], f["severity_source"]) for f in doc["findings"]} == {("MEDIUM", "redhat")}
    assert all(f["package"]["purl"].startswith("pkg:rpm/redhat/") for f in doc["findings"])


def test_almalinux_binary_and_source_names_make_one_finding(db, tmp_path):
    # ALSA-2024:0310 lists openssl and openssl-libs: one finding for openssl-libs, not two
    doc = scan(
        tmp_path,
        ALMA_9_4,
        rpmdb(
            "sqlite",
            tmp_path,
            Rpm("openssl-libs", "3.0.7", "24.el9", "openssl-3.0.7-24.el9.src.rpm", epoch=1),
            Rpm("openssl", "3.0.7", "25.el9_3", "openssl-3.0.7-25.el9_3.src.rpm", epoch=1),
        ),
        db,
    )
    assert found(doc) == [
        ("ALSA-2024:0310", "openssl-libs", "openssl", "1:3.0.7-24.el9", ["1:3.0.7-25.el9_3"], "AlmaLinux:9")
    ]
    assert (only(doc)["severity"], only(doc)["severity_source"]) == ("MEDIUM", "almalinux")


def test_rocky_linux(db, tmp_path):
    doc = scan(
        tmp_path,
        ROCKY_8_4,
        rpmdb(
            "bdb",
            tmp_path,
            Rpm(
                "java-11-openjdk-headless",
                "11.0.12.0.7",
                "0.el8_4",
                "java-11-openjdk-11.0.12.0.7-0.el8_4.src.rpm",
                epoch=1,
            ),
            Rpm(
                "java-11-openjdk",
                "11.0.13.0.8",
                "1.el8_4",
                "java-11-openjdk-11.0.13.0.8-1.el8_4.src.rpm",
                epoch=1,
            ),
        ),
        db,
    )
    assert found(doc) == [
        (
            "RLSA-2021:3891",
            "java-11-openjdk-headless",
            "java-11-openjdk",
            "1:11.0.12.0.7-0.el8_4",
            ["1:11.0.13.0.8-1.el8_4"],
            "Rocky Linux:8",
        )
    ]


def test_sles_packages_filed_under_their_module(db, tmp_path):
    doc = scan(
        tmp_path,
        SLES_15_SP4,
        rpmdb(
            "ndb",
            tmp_path,
            Rpm("libopenssl3", "3.0.1", "150400.4.14.1", "openssl-3-3.0.1-150400.4.14.1.src.rpm"),
            Rpm("openssl-3", "3.0.1", "150400.4.17.1", "openssl-3-3.0.1-150400.4.17.1.src.rpm"),
        ),
        db,
    )
    assert found(doc) == [
        (
            "SUSE-SU-2023:0312-1",
            "libopenssl3",
            "openssl-3",
            "3.0.1-150400.4.14.1",
            ["3.0.1-150400.4.17.1"],
            "SUSE:Linux Enterprise Module for Basesystem 15 SP4",
        )
    ]
    assert only(doc)["package"]["purl"].startswith("pkg:rpm/suse/libopenssl3@")


def test_opensuse_leap(db, tmp_path):
    doc = scan(
        tmp_path,
        LEAP_15_4,
        rpmdb(
            "ndb",
            tmp_path,
            Rpm("libopenssl3", "3.0.1", "150400.4.14.1", "openssl-3-3.0.1-150400.4.14.1.src.rpm"),
            Rpm("openssl-3", "3.0.1", "150400.4.17.1", "openssl-3-3.0.1-150400.4.17.1.src.rpm"),
        ),
        db,
    )
    assert found(doc) == [
        (
            "SUSE-SU-2023:0312-1",
            "libopenssl3",
            "openssl-3",
            "3.0.1-150400.4.14.1",
            ["3.0.1-150400.4.17.1"],
            "openSUSE:Leap 15.4",
        )
    ]


def test_mageia(db, tmp_path):
    doc = scan(
        tmp_path,
        MAGEIA_9,
        rpmdb(
            "sqlite",
            tmp_path,
            Rpm("lib64pam0", "1.5.2", "5.mga9", "pam-1.5.2-5.mga9.src.rpm"),
            Rpm("pam", "1.5.2", "5.1.mga9", "pam-1.5.2-5.1.mga9.src.rpm"),
        ),
        db,
    )
    assert found(doc) == [
        ("MGASA-2024-0030", "lib64pam0", "pam", "1.5.2-5.mga9", ["1.5.2-5.1.mga9"], "Mageia:9")
    ]


def test_openeuler(db, tmp_path):
    doc = scan(
        tmp_path,
        OPENEULER_22_03_SP3,
        rpmdb(
            "ndb",
            tmp_path,
            Rpm("booth-core", "1.0", "6.oe2203sp3", "booth-1.0-6.oe2203sp3.src.rpm"),
            Rpm("booth", "1.0", "7.oe2203sp3", "booth-1.0-7.oe2203sp3.src.rpm"),
        ),
        db,
    )
    assert found(doc) == [
        (
            "OESA-2024-2048",
            "booth-core",
            "booth",
            "1.0-6.oe2203sp3",
            ["1.0-7.oe2203sp3"],
            "openEuler:22.03-LTS-SP3",
        )
    ]
    f = only(doc)
    assert (f["severity"], f["severity_source"]) == ("HIGH", "openeuler")  # openEuler's rating, named so


def test_photon_os(db, tmp_path):
    doc = scan(
        tmp_path,
        PHOTON_4,
        rpmdb(
            "sqlite",
            tmp_path,
            Rpm("curl-libs", "7.88.1", "3.ph4", "curl-7.88.1-3.ph4.src.rpm"),
            Rpm("curl", "7.88.1", "4.ph4", "curl-7.88.1-4.ph4.src.rpm"),
        ),
        db,
    )
    assert found(doc) == [
        ("PHSA-2023-4.0-0500", "curl-libs", "curl", "7.88.1-3.ph4", ["7.88.1-4.ph4"], "Photon OS:4.0")
    ]


def test_azure_linux(db, tmp_path):
    doc = scan(
        tmp_path,
        AZURE_LINUX_3,
        rpmdb(
            "sqlite",
            tmp_path,
            Rpm("zlib-devel", "1.2.13", "5.azl3", "zlib-1.2.13-5.azl3.src.rpm"),
            Rpm("zlib", "1.3.1", "1.azl3", "zlib-1.3.1-1.azl3.src.rpm"),
        ),
        db,
    )
    assert found(doc) == [("AZL-35400", "zlib-devel", "zlib", "1.2.13-5.azl3", ["1.3.1-1"], "Azure Linux:3")]
    f = only(doc)
    assert (f["severity"], f["severity_source"]) == ("CRITICAL", "azurelinux")
