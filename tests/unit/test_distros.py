"""The distros table: each real os-release -> the OSV ecosystem names its packages' advisories use."""

from __future__ import annotations

import fnmatch

import pytest

from containment import distros
from containment.catalog.osrelease import detect
from containment.ecosystems import OS_FEEDS
from containment.model import OSInfo


def os_of(text: str) -> OSInfo:
    info = detect({"etc/os-release": text.encode()})
    assert info is not None
    return info


# os-release files as the distributions ship them (trimmed of URL lines)
CASES = [
    (
        "debian-12",
        'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n'
        'VERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n',
        "deb",
        ("Debian:12",),
    ),
    (
        "debian-testing",  # trixie before its release: no VERSION_ID
        'PRETTY_NAME="Debian GNU/Linux trixie/sid"\nNAME="Debian GNU/Linux"\nVERSION_CODENAME=trixie\nID=debian\n',
        "deb",
        ("Debian:13",),
    ),
    (
        "ubuntu-20.04-lts",
        'NAME="Ubuntu"\nVERSION="20.04 LTS (Focal Fossa)"\nID=ubuntu\nID_LIKE=debian\nPRETTY_NAME="Ubuntu 20.04 LTS"\n'
        'VERSION_ID="20.04"\nVERSION_CODENAME=focal\nUBUNTU_CODENAME=focal\n',
        "deb",
        ("Ubuntu:20.04:LTS", "Ubuntu:Pro:20.04:LTS"),
    ),
    (
        "ubuntu-23.10-interim",
        'PRETTY_NAME="Ubuntu 23.10"\nNAME="Ubuntu"\nVERSION_ID="23.10"\nVERSION="23.10 (Mantic Minotaur)"\n'
        "VERSION_CODENAME=mantic\nID=ubuntu\nID_LIKE=debian\n",
        "deb",
        ("Ubuntu:23.10",),
    ),
    (
        "alpine-3.11",
        'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.11.6\nPRETTY_NAME="Alpine Linux v3.11"\n',
        "apk",
        ("Alpine:v3.11",),
    ),
    ("wolfi", 'ID=wolfi\nNAME="Wolfi"\nPRETTY_NAME="Wolfi"\nVERSION_ID="20220914"\n', "apk", ("Wolfi",)),
    (
        "chainguard",
        'ID=chainguard\nNAME="Chainguard"\nPRETTY_NAME="Chainguard"\nVERSION_ID="20230214"\n',
        "apk",
        ("Chainguard",),
    ),
    (
        "minimos",
        'ID=minimos\nNAME="MinimOS"\nPRETTY_NAME="MinimOS"\nVERSION_ID="20241031"\n',
        "apk",
        ("MinimOS",),
    ),
    (
        "alpaquita-stream",
        'NAME="BellSoft Alpaquita Linux Stream"\nID=alpaquita\nID_LIKE=alpine\nVERSION_ID=stream\n'
        'PRETTY_NAME="BellSoft Alpaquita Linux Stream (musl)"\n',
        "apk",
        ("Alpaquita:stream",),
    ),
    (
        "alpaquita-23",
        'NAME="BellSoft Alpaquita Linux"\nID=alpaquita\nID_LIKE=alpine\nVERSION_ID=23\n'
        'PRETTY_NAME="BellSoft Alpaquita Linux 23 (glibc)"\n',
        "apk",
        ("Alpaquita:23",),
    ),
    (
        "bellsoft-hardened-containers",
        'NAME="BellSoft Hardened Containers"\nID=bellsoft-hardened-containers\nID_LIKE=alpine\nVERSION_ID=23\n',
        "apk",
        ("BellSoft Hardened Containers:23",),
    ),
    (
        "rhel-9.4",
        'NAME="Red Hat Enterprise Linux"\nVERSION="9.4 (Plow)"\nID="rhel"\nID_LIKE="fedora"\nVERSION_ID="9.4"\n'
        'PRETTY_NAME="Red Hat Enterprise Linux 9.4 (Plow)"\nCPE_NAME="cpe:/o:redhat:enterprise_linux:9::baseos"\n',
        "rpm",
        ("Red Hat:enterprise_linux:9", "Red Hat:enterprise_linux:9::*"),
    ),
    (
        "rhel-7.3",
        'NAME="Red Hat Enterprise Linux Server"\nVERSION="7.3 (Maipo)"\nID="rhel"\nID_LIKE="fedora"\n'
        'VERSION_ID="7.3"\nCPE_NAME="cpe:/o:redhat:enterprise_linux:7.3:GA:server"\n',
        "rpm",
        ("Red Hat:enterprise_linux:7", "Red Hat:enterprise_linux:7::*"),
    ),
    (
        "rhel-10.0",
        'NAME="Red Hat Enterprise Linux"\nVERSION="10.0 (Coughlan)"\nID="rhel"\nID_LIKE="centos fedora"\n'
        'VERSION_ID="10.0"\nCPE_NAME="cpe:/o:redhat:enterprise_linux:10.0"\n',
        "rpm",
        (
            "Red Hat:enterprise_linux:10",
            "Red Hat:enterprise_linux:10::*",
            "Red Hat:enterprise_linux:10.0",
            "Red Hat:enterprise_linux:10.0::*",
        ),
    ),
    (
        "centos-7-rebuilds-rhel",  # by ID_LIKE: CentOS Linux ships RHEL's package versions
        'NAME="CentOS Linux"\nVERSION="7 (Core)"\nID="centos"\nID_LIKE="rhel fedora"\nVERSION_ID="7"\n'
        'PRETTY_NAME="CentOS Linux 7 (Core)"\nCPE_NAME="cpe:/o:centos:centos:7"\n',
        "rpm",
        ("Red Hat:enterprise_linux:7", "Red Hat:enterprise_linux:7::*"),
    ),
    (
        "almalinux-9.4",
        'NAME="AlmaLinux"\nVERSION="9.4 (Seafoam Ocelot)"\nID="almalinux"\nID_LIKE="rhel centos fedora"\n'
        'VERSION_ID="9.4"\nPRETTY_NAME="AlmaLinux 9.4 (Seafoam Ocelot)"\n',
        "rpm",
        ("AlmaLinux:9",),
    ),
    (
        "rocky-8.4",
        'NAME="Rocky Linux"\nVERSION="8.4 (Green Obsidian)"\nID="rocky"\nID_LIKE="rhel fedora"\nVERSION_ID="8.4"\n',
        "rpm",
        ("Rocky Linux:8",),
    ),
    (
        "sles-15-sp3",
        'NAME="SLES"\nVERSION="15-SP3"\nVERSION_ID="15.3"\nPRETTY_NAME="SUSE Linux Enterprise Server 15 SP3"\n'
        'ID="sles"\nID_LIKE="suse"\nCPE_NAME="cpe:/o:suse:sles:15:sp3"\n',
        "rpm",
        (
            "SUSE:Linux Enterprise Server 15 SP3",
            "SUSE:Linux Enterprise Server 15 SP3-*",
            "SUSE:Linux Enterprise Module for * 15 SP3",
        ),
    ),
    (
        "sles-12-sp5-for-sap",
        'NAME="SLES_SAP"\nVERSION="12-SP5"\nVERSION_ID="12.5"\n'
        'PRETTY_NAME="SUSE Linux Enterprise Server for SAP Applications 12 SP5"\nID="sles_sap"\nID_LIKE="suse"\n',
        "rpm",
        (
            "SUSE:Linux Enterprise Server for SAP Applications 12 SP5",
            "SUSE:Linux Enterprise Server for SAP Applications 12 SP5-*",
            "SUSE:Linux Enterprise Module for * 12 SP5",
            "SUSE:Linux Enterprise Server 12 SP5",
            "SUSE:Linux Enterprise Server 12 SP5-*",
        ),
    ),
    (
        "sle-micro-5.3",
        'NAME="SLE Micro"\nVERSION="5.3"\nVERSION_ID="5.3"\nPRETTY_NAME="SUSE Linux Enterprise Micro 5.3"\n'
        'ID="sle-micro"\nID_LIKE="suse"\n',
        "rpm",
        ("SUSE:Linux Enterprise Micro 5.3", "SUSE:Linux Enterprise Micro for Rancher 5.3"),
    ),
    (
        "sl-micro-6.0",
        'NAME="SL-Micro"\nVERSION="6.0"\nVERSION_ID="6.0"\nPRETTY_NAME="SUSE Linux Micro 6.0"\nID="sl-micro"\n'
        'ID_LIKE="suse"\n',
        "rpm",
        ("SUSE:Linux Micro 6.0",),
    ),
    (
        "opensuse-leap-15.2",
        'NAME="openSUSE Leap"\nVERSION="15.2"\nID="opensuse-leap"\nID_LIKE="suse opensuse"\nVERSION_ID="15.2"\n'
        'PRETTY_NAME="openSUSE Leap 15.2"\n',
        "rpm",
        ("openSUSE:Leap 15.2",),
    ),
    (
        "opensuse-tumbleweed",
        'NAME="openSUSE Tumbleweed"\nID="opensuse-tumbleweed"\nID_LIKE="opensuse suse"\nVERSION_ID="20220412"\n'
        'PRETTY_NAME="openSUSE Tumbleweed"\n',
        "rpm",
        ("openSUSE:Tumbleweed",),
    ),
    (
        "mageia-9",
        'NAME="Mageia"\nVERSION="9"\nID=mageia\nVERSION_ID=9\nID_LIKE="mandriva fedora"\nPRETTY_NAME="Mageia 9"\n',
        "rpm",
        ("Mageia:9",),
    ),
    (
        "openeuler-22.03-lts-sp3",
        'NAME="openEuler"\nVERSION="22.03 (LTS-SP3)"\nID="openEuler"\nVERSION_ID="22.03"\n'
        'PRETTY_NAME="openEuler 22.03 (LTS-SP3)"\n',
        "rpm",
        ("openEuler:22.03-LTS-SP3",),
    ),
    (
        "openeuler-24.03-lts",
        'NAME="openEuler"\nVERSION="24.03 (LTS)"\nID="openEuler"\nVERSION_ID="24.03"\nPRETTY_NAME="openEuler 24.03 (LTS)"\n',
        "rpm",
        ("openEuler:24.03-LTS",),
    ),
    (
        "photon-4.0",
        'NAME="VMware Photon OS"\nVERSION="4.0"\nID=photon\nVERSION_ID=4.0\nPRETTY_NAME="VMware Photon OS/Linux"\n',
        "rpm",
        ("Photon OS:4.0",),
    ),
    (
        "azurelinux-3.0",
        'NAME="Microsoft Azure Linux"\nVERSION="3.0.20240624"\nID=azurelinux\nVERSION_ID="3.0"\n'
        'PRETTY_NAME="Microsoft Azure Linux 3.0"\n',
        "rpm",
        ("Azure Linux:3",),
    ),
    (
        "cbl-mariner-2.0",
        'NAME="Common Base Linux Mariner"\nVERSION="2.0.20240123"\nID=mariner\nVERSION_ID="2.0"\n'
        'PRETTY_NAME="CBL-Mariner/Linux"\n',
        "rpm",
        ("Azure Linux:2",),
    ),
    # OSV publishes no advisories for these (nor are they RHEL rebuilds, whatever ID_LIKE says)
    (
        "centos-stream-9",
        'NAME="CentOS Stream"\nVERSION="9"\nID="centos"\nID_LIKE="rhel fedora"\nVERSION_ID="9"\n'
        'PRETTY_NAME="CentOS Stream 9"\nCPE_NAME="cpe:/o:centos:centos:9"\n',
        "rpm",
        (),
    ),
    (
        "amazon-linux-2",
        'NAME="Amazon Linux"\nVERSION="2"\nID="amzn"\nID_LIKE="centos rhel fedora"\nVERSION_ID="2"\n'
        'PRETTY_NAME="Amazon Linux 2"\nCPE_NAME="cpe:2.3:o:amazon:amazon_linux:2"\n',
        "rpm",
        (),
    ),
    (
        "fedora-40",
        'NAME="Fedora Linux"\nVERSION="40 (Container Image)"\nID=fedora\nVERSION_ID=40\n',
        "rpm",
        (),
    ),
    (
        "oracle-linux-8.10",
        'NAME="Oracle Linux Server"\nVERSION="8.10"\nID="ol"\nID_LIKE="fedora"\nVERSION_ID="8.10"\n',
        "rpm",
        (),
    ),
    (
        "amazon-linux-2023",
        'NAME="Amazon Linux"\nVERSION="2023"\nID="amzn"\nID_LIKE="fedora"\nVERSION_ID="2023"\n',
        "rpm",
        (),
    ),
]


@pytest.mark.parametrize(("text", "pkg_type", "want"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_os_release_to_osv_ecosystems(text, pkg_type, want):
    assert distros.ecosystems(os_of(text), pkg_type) == want


def test_a_distribution_matches_only_its_own_package_type():
    assert distros.ecosystems(os_of("ID=debian\nVERSION_ID=12\n"), "rpm") == ()
    assert distros.ecosystems(os_of("ID=rhel\nVERSION_ID=9.4\n"), "apk") == ()
    assert distros.ecosystems(None, "deb") == ()


def test_a_release_that_cannot_be_told_gives_no_ecosystem():
    assert distros.ecosystems(OSInfo("alpine", ""), "apk") == ()
    assert distros.ecosystems(OSInfo("rocky", ""), "rpm") == ()
    assert distros.ecosystems(OSInfo("ubuntu", "jammy"), "deb") == ()


def test_glob_patterns_select_the_release_and_nothing_else():
    red_hat = distros.ecosystems(os_of("ID=rhel\nVERSION_ID=9.4\n"), "rpm")
    sles = distros.ecosystems(os_of('ID="sles"\nVERSION_ID="15.5"\n'), "rpm")

    def hits(selectors, name):
        return any(fnmatch.fnmatchcase(name, s) for s in selectors)

    for name in ("Red Hat:enterprise_linux:9::appstream", "Red Hat:enterprise_linux:9::baseos"):
        assert hits(red_hat, name)
    for name in (
        "Red Hat:rhel_eus:9.2::baseos",
        "Red Hat:enterprise_linux:8::appstream",
        "Red Hat:enterprise_linux:10.0",
    ):
        assert not hits(red_hat, name)
    for name in (
        "SUSE:Linux Enterprise Module for Basesystem 15 SP5",
        "SUSE:Linux Enterprise Server 15 SP5",
        "SUSE:Linux Enterprise Server 15 SP5-LTSS",
    ):
        assert hits(sles, name)
    for name in (
        "SUSE:Linux Enterprise Server 15 SP4-LTSS",
        "SUSE:Linux Enterprise Module for Basesystem 15 SP4",
        "SUSE:Linux Enterprise Server 5 SP5",
        "SUSE:Linux Enterprise Micro 5.5",
    ):
        assert not hits(sles, name)


def test_every_row_has_a_version_scheme_and_a_release_rule():
    for d in distros.DISTROS:
        assert d.osv.lower() in OS_FEEDS, d.osv
        assert d.release in distros.RELEASES, d.release
        assert d.pkg_type in ("deb", "apk", "rpm")


def test_ratings_are_named_by_vendor():
    assert distros.vendor_of("Red Hat:enterprise_linux:9::baseos") == "redhat"
    assert distros.vendor_of("Rocky Linux:9") == "rocky"
    assert distros.vendor_of("openSUSE:Leap 15.5") == "suse"
    assert distros.vendor_of("PyPI") == ""
    # a store imported before the table named ratings by ecosystem base name
    assert distros.rater("red hat") == "redhat" and distros.rater("rocky linux") == "rocky"
    assert distros.rater("debian") == "debian" and distros.rater("ubuntu") == "ubuntu"
    for other in ("ghsa", "osv", "debian-changelog", "cvss_v3", ""):
        assert distros.rater(other) == ""


def test_purl_namespaces():
    assert distros.purl_namespace(OSInfo("rhel", "9.4")) == "redhat"
    assert distros.purl_namespace(OSInfo("opensuse-leap", "15.5")) == "opensuse"
    assert distros.purl_namespace(OSInfo("sles", "15.5")) == "suse"
    assert distros.purl_namespace(OSInfo("debian", "12")) == "debian"
    assert distros.purl_namespace(OSInfo("fedora", "40")) == "fedora"
