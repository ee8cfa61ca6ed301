"""Which OSV ecosystems hold the advisories for an image's OS packages, in one table.

One row per distribution whose advisories OSV publishes (https://ossf.github.io/osv-schema/,
"Defined ecosystems"; the sources OSV imports are listed in google/osv.dev ``source.yaml``):
the os-release ``ID`` values it serves (and ``ID_LIKE`` values it serves as a fallback), the
package type its package manager installs, its OSV ecosystem base name, how OSV spells a
release after that base name, whose severity ratings its records carry, and which package
names its records use. The version scheme of each base name is ``containment.ecosystems.OS_FEEDS``.

``ecosystems(os_info, pkg_type)`` gives *selectors*: exact ecosystem names, or glob patterns
(``*`` = any run of characters) where OSV spells one release as several names (Red Hat keys
records by product stream, ``Red Hat:enterprise_linux:9::appstream`` / ``::baseos`` / ...;
SUSE by product or module, ``SUSE:Linux Enterprise Module for Basesystem 15 SP5``). Every
selector applies (a package's advisories are the union over them); the advisory store resolves
patterns against the ecosystem names it holds (``AdvisoryStore.ecosystems_like``).

Release spellings (checked against published records; see tests/e2e/test_distro_findings.py):

- Debian ``Debian:12`` (major; a testing/unstable image without VERSION_ID by codename, else ``sid``)
- Ubuntu ``Ubuntu:22.04:LTS`` + ``Ubuntu:Pro:22.04:LTS`` for LTS releases (YY.04, YY even),
  ``Ubuntu:23.10`` otherwise; the Pro (ESM) stream holds fixes of releases past standard support
  and of universe packages. FIPS streams (``Ubuntu:Pro:FIPS:...``) only fit FIPS builds: not used.
- Alpine ``Alpine:v3.19``; Wolfi ``Wolfi``, Chainguard ``Chainguard``, MinimOS ``MinimOS`` (rolling,
  no release); Alpaquita ``Alpaquita:23`` / ``Alpaquita:stream`` and BellSoft Hardened Containers
  the same (VERSION_ID as is)
- Red Hat ``Red Hat:enterprise_linux:9`` and ``Red Hat:enterprise_linux:9::*`` (every repository
  of the major release; EUS/AUS/E4S streams, ``rhel_eus:9.2::...``, are left out); RHEL 10 streams
  carry the minor release (``Red Hat:enterprise_linux:10.0``), so both spellings are tried
- AlmaLinux ``AlmaLinux:9``, Rocky Linux ``Rocky Linux:9``, Azure Linux ``Azure Linux:3``
  (CBL-Mariner 2.0 is ``Azure Linux:2``), Mageia ``Mageia:9``, Photon OS ``Photon OS:5.0``
- openEuler ``openEuler:22.03-LTS-SP3`` (the LTS / service pack qualifier comes from PRETTY_NAME
  ``openEuler 22.03 (LTS-SP3)``; innovation releases have none)
- SUSE: ``SUSE:Linux Enterprise Server 15 SP5`` and its ``-LTSS`` variants plus the SLE modules
  of the same service pack (``SUSE:Linux Enterprise Module for Basesystem 15 SP5``: base
  packages are filed under the module that ships them); SLE Micro ``SUSE:Linux Enterprise Micro
  5.5``, SL Micro 6 ``SUSE:Linux Micro 6.0``; openSUSE ``openSUSE:Leap 15.5``,
  ``openSUSE:Leap Micro 5.5``, ``openSUSE:Tumbleweed``

Not here, because OSV publishes no advisories for them: Fedora, Oracle Linux, Amazon Linux,
CentOS Stream (CentOS Linux 7/8 rebuild RHEL with RHEL's package versions, so an image whose
ID_LIKE names ``rhel`` is matched against Red Hat's records, unless it is a Stream release or a
distribution that builds its own packages).

Imports nothing of the project but the model.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from containment.model import OSInfo

SOURCE = "source"  # records name source packages (deb Source, apk origin, SOURCERPM name)
SOURCE_AND_BINARY = "source+binary"  # records name binary rpms too (Red Hat family, Photon)


@dataclass(frozen=True)
class Distro:
    label: str
    ids: tuple[str, ...]  # os-release ID values (lowercased)
    pkg_type: str  # deb | apk | rpm
    osv: str  # OSV ecosystem base name
    release: str  # how OSV spells the release: a key of RELEASES
    vendor: str  # the name reports give this distribution's own severity ratings
    names: str = SOURCE
    id_like: tuple[str, ...] = ()  # ID_LIKE values served when ID itself is not in the table
    purl_namespace: str = ""  # purl namespace when it is not the os-release ID


def _major(v: str) -> str:
    return v.split(".")[0] if v else ""


def _debian(osr: OSInfo) -> tuple[str, ...]:
    major = _major(osr.version_id)
    if major.isdigit():
        return (major,)
    number = DEBIAN_CODENAMES.get(osr.version_codename.lower())
    return (number,) if number else ("sid",)


# distro-info-data debian.csv: codename -> version (testing images carry no VERSION_ID)
DEBIAN_CODENAMES = {
    "buster": "10",
    "bullseye": "11",
    "bookworm": "12",
    "trixie": "13",
    "forky": "14",
    "duke": "15",
}


def _ubuntu(osr: OSInfo) -> tuple[str, ...]:
    m = re.match(r"^(\d{2})\.(\d{2})", osr.version_id)
    if not m:
        return ()
    year, month = int(m.group(1)), m.group(2)
    ver = f"{m.group(1)}.{month}"
    if month == "04" and year % 2 == 0:  # LTS: every April of an even year
        return (f"{ver}:LTS", f"Pro:{ver}:LTS")
    return (ver,)


def _alpine(osr: OSInfo) -> tuple[str, ...]:
    m = re.match(r"^(\d+)\.(\d+)", osr.version_id)
    return (f"v{m.group(1)}.{m.group(2)}",) if m else ()


def _major_only(osr: OSInfo) -> tuple[str, ...]:
    major = _major(osr.version_id)
    return (major,) if major.isdigit() else ()


def _as_is(osr: OSInfo) -> tuple[str, ...]:
    return (osr.version_id,) if osr.version_id else ()


def _none(osr: OSInfo) -> tuple[str, ...]:
    return ("",)


def _redhat(osr: OSInfo) -> tuple[str, ...]:
    major = _major(osr.version_id)
    if not major.isdigit():
        return ()
    out = [f"enterprise_linux:{major}", f"enterprise_linux:{major}::*"]
    if int(major) >= 10 and re.fullmatch(r"\d+\.\d+", osr.version_id):
        out += [f"enterprise_linux:{osr.version_id}", f"enterprise_linux:{osr.version_id}::*"]
    return tuple(out)


def _openeuler(osr: OSInfo) -> tuple[str, ...]:
    # PRETTY_NAME="openEuler 22.03 (LTS-SP3)" -> 22.03-LTS-SP3; "openEuler 24.03 (LTS)" -> 24.03-LTS
    m = re.search(r"(\d{2}\.\d{2})\s*\((LTS(?:[- ]SP\d+)?)\)", osr.name)
    if m:
        return (f"{m.group(1)}-{m.group(2).replace(' ', '-')}",)
    return (osr.version_id,) if re.fullmatch(r"\d{2}\.\d{2}", osr.version_id) else ()


def _suse(osr: OSInfo) -> tuple[str, ...]:
    m = re.fullmatch(r"(\d+)(?:\.(\d+))?", osr.version_id)
    if not m:
        return ()
    major, minor = m.group(1), m.group(2)
    if osr.id in ("sle-micro", "sle-micro-rancher"):
        return (
            f"Linux Enterprise Micro {osr.version_id}",
            f"Linux Enterprise Micro for Rancher {osr.version_id}",
        )
    if osr.id == "sl-micro":
        return (f"Linux Micro {osr.version_id}",)
    if int(major) >= 16:  # SLE 16 writes its minor release dotted: "16.0"
        rel = f"{major}.{minor or '0'}"
    else:  # SLE 12/15: VERSION_ID 15.5 is "15 SP5", 15 (or 15.0) is "15"
        rel = f"{major} SP{minor}" if minor and minor != "0" else major
    product = (
        "Linux Enterprise Server for SAP Applications" if osr.id == "sles_sap" else "Linux Enterprise Server"
    )
    out = [f"{product} {rel}", f"{product} {rel}-*", f"Linux Enterprise Module for * {rel}"]
    if product != "Linux Enterprise Server":
        out += [f"Linux Enterprise Server {rel}", f"Linux Enterprise Server {rel}-*"]
    return tuple(out)


def _opensuse(osr: OSInfo) -> tuple[str, ...]:
    if osr.id == "opensuse-tumbleweed":
        return ("Tumbleweed",)
    m = re.fullmatch(r"(\d+\.\d+)(?:\.\d+)?", osr.version_id)
    if not m:
        return ()
    if osr.id == "opensuse-leap-micro":
        return (f"Leap Micro {m.group(1)}",)
    return (f"Leap {m.group(1)}",)


RELEASES: dict[str, Callable[[OSInfo], tuple[str, ...]]] = {
    "debian": _debian,
    "ubuntu": _ubuntu,
    "alpine": _alpine,
    "major": _major_only,
    "as-is": _as_is,
    "none": _none,
    "redhat": _redhat,
    "openeuler": _openeuler,
    "suse": _suse,
    "opensuse": _opensuse,
}

DISTROS: tuple[Distro, ...] = (
    Distro("Debian", ("debian",), "deb", "Debian", "debian", "debian"),
    Distro("Ubuntu", ("ubuntu",), "deb", "Ubuntu", "ubuntu", "ubuntu"),
    Distro("Alpine Linux", ("alpine",), "apk", "Alpine", "alpine", "alpine"),
    Distro("Wolfi", ("wolfi",), "apk", "Wolfi", "none", "wolfi"),
    Distro("Chainguard", ("chainguard",), "apk", "Chainguard", "none", "chainguard"),
    Distro("MinimOS", ("minimos",), "apk", "MinimOS", "none", "minimos"),
    Distro("BellSoft Alpaquita Linux", ("alpaquita",), "apk", "Alpaquita", "as-is", "bellsoft"),
    Distro(
        "BellSoft Hardened Containers",
        ("bellsoft-hardened-containers",),
        "apk",
        "BellSoft Hardened Containers",
        "as-is",
        "bellsoft",
    ),
    Distro(
        "Red Hat Enterprise Linux",
        ("rhel",),
        "rpm",
        "Red Hat",
        "redhat",
        "redhat",
        SOURCE_AND_BINARY,
        id_like=("rhel",),
        purl_namespace="redhat",
    ),
    Distro("AlmaLinux", ("almalinux",), "rpm", "AlmaLinux", "major", "almalinux", SOURCE_AND_BINARY),
    Distro("Rocky Linux", ("rocky",), "rpm", "Rocky Linux", "major", "rocky", SOURCE_AND_BINARY),
    Distro(
        "SUSE Linux Enterprise",
        ("sles", "sles_sap", "sled", "sle-micro", "sle-micro-rancher", "sl-micro"),
        "rpm",
        "SUSE",
        "suse",
        "suse",
        purl_namespace="suse",
    ),
    Distro(
        "openSUSE",
        ("opensuse-leap", "opensuse-tumbleweed", "opensuse-leap-micro"),
        "rpm",
        "openSUSE",
        "opensuse",
        "suse",
        purl_namespace="opensuse",
    ),
    Distro("Mageia", ("mageia",), "rpm", "Mageia", "as-is", "mageia"),
    Distro("openEuler", ("openeuler",), "rpm", "openEuler", "openeuler", "openeuler"),
    Distro("Photon OS", ("photon",), "rpm", "Photon OS", "as-is", "photon", SOURCE_AND_BINARY),
    Distro(
        "Azure Linux / CBL-Mariner", ("azurelinux", "mariner"), "rpm", "Azure Linux", "major", "azurelinux"
    ),
)

_BY_ID: dict[str, Distro] = {i: d for d in DISTROS for i in d.ids}
_BY_LIKE: dict[str, Distro] = {i: d for d in DISTROS for i in d.id_like}
_BY_BASE: dict[str, Distro] = {d.osv.lower(): d for d in DISTROS}
# every name a distribution's own rating may carry in a store: its vendor name, and the lowercase
# ecosystem base name that imports before this table wrote ("red hat", "rocky linux", ...)
_RATERS: dict[str, str] = {
    **{b: d.vendor for b, d in _BY_BASE.items()},
    **{d.vendor: d.vendor for d in DISTROS},
}


# IDs whose ID_LIKE names a table row but that build their own packages (Amazon Linux 2 says
# "centos rhel fedora"), so the row's records do not describe them
_OWN_BUILDS = frozenset({"amzn", "ol", "fedora"})


def find(os_info: OSInfo | None) -> Distro | None:
    """The table row for an OS: by ID, else by the first ID_LIKE value a row serves (a rebuild
    that ships the upstream's package versions: CentOS Linux 7/8 for Red Hat; not CentOS Stream,
    which runs ahead of RHEL, nor distributions that build their own packages)."""
    if os_info is None:
        return None
    d = _BY_ID.get(os_info.id.lower())
    if d is not None:
        return d
    if os_info.id.lower() in _OWN_BUILDS or "stream" in os_info.name.lower():
        return None
    for like in os_info.id_like:
        d = _BY_LIKE.get(like.lower())
        if d is not None:
            return d
    return None


def ecosystems(os_info: OSInfo | None, pkg_type: str) -> tuple[str, ...]:
    """The OSV ecosystem selectors (exact names or ``*`` patterns) for an OS's packages of a
    type; () when OSV publishes nothing for it or the release cannot be told."""
    d = find(os_info)
    if d is None or os_info is None or d.pkg_type != pkg_type:
        return ()
    return tuple(f"{d.osv}:{s}" if s else d.osv for s in RELEASES[d.release](os_info))


def is_pattern(selector: str) -> bool:
    return "*" in selector


def distro_of(ecosystem: str) -> Distro | None:
    """The row whose ecosystem base name an OSV ecosystem name has ("Red Hat:..." -> Red Hat)."""
    return _BY_BASE.get(ecosystem.split(":", 1)[0].strip().lower())


def vendor_of(ecosystem: str) -> str:
    """Whose rating a severity in a record of this ecosystem is ("Rocky Linux:9" -> "rocky");
    "" for ecosystems of no distribution."""
    d = distro_of(ecosystem)
    return d.vendor if d else ""


def rater(source: str) -> str:
    """The distribution a severity source names ("debian", "red hat" -> "redhat"), "" when the
    source is no distribution's own rating (ghsa, osv, cvss, a changelog urgency)."""
    return _RATERS.get(source.strip().lower(), "")


def uses_binary_names(os_info: OSInfo | None) -> bool:
    d = find(os_info)
    return d is not None and d.names == SOURCE_AND_BINARY


def purl_namespace(os_info: OSInfo) -> str:
    """The purl namespace of an OS's packages: the vendor's name where purls use one
    (pkg:rpm/redhat/..., pkg:rpm/opensuse/...), else the os-release ID."""
    d = _BY_ID.get(os_info.id.lower())
    return d.purl_namespace if d is not None and d.purl_namespace else os_info.id
