"""The package databases read since the CBL-Mariner/Arch/Gentoo/Nix/PECL/R/LuaRocks/Conan/Homebrew
catalogers were added, end to end where an OSV ecosystem exists for them: CRAN (R library
DESCRIPTION files), Azure Linux (the distroless rpm manifest) and ConanCenter (installed Conan
packages). For each: a real published advisory's affected ranges, the real-format package file
with the vulnerable version and, beside it, the first version outside the range (which must not
match), in a directory (`scan fs`) and in an OCI image (`scan image`), against a DB made by
`db import`. The types OSV has no ecosystem for are checked to be inventoried (and in the SBOM)
but never matched.

Where the advisories come from:
- CRAN: RConsortium/r-advisory-database (the source of OSV's CRAN ecosystem), read 2026:
  RSEC-2023-3 (jsonlite, introduced 0.9.12, fixed 1.8.8), RSEC-2023-4 (igraph, introduced
  0.7.1, fixed 1.2.2-2) and RSEC-2023-9 (gdata, introduced 2.16.1, fixed 3.0.0; 2.18.0.1 is one
  of its listed versions, which SemVer cannot read).
- Azure Linux: microsoft/AzureLinuxVulnerabilityData azurelinux-3.0-oval.xml (the source of OSV's
  Azure Linux ecosystem), definition oval:com.microsoft.azurelinux:def:42975 (advisory 42975-1):
  CVE-2024-5535, package openssl, evr "less than" 0:3.3.0-2.azl3.
- ConanCenter: OSV publishes no ConanCenter records (no ConanCenter/all.zip); the record puts
  NVD's range for CVE-2022-37434 (zlib through 1.2.12) in OSV shape under ConanCenter, as a
  mirror or a hand-written feed would (`db import`).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from containment.image.build import ImageSpec, TarEntry, layer_tar, write_oci

pytestmark = pytest.mark.e2e

ADVISORIES: list[dict] = [
    {
        "id": "RSEC-2023-3",
        "modified": "2025-05-16T00:12:44Z",
        "published": "2023-07-18T04:37:21.600Z",
        "upstream": ["CVE-2023-33460"],
        "summary": "Memory leak vulnerability",
        "affected": [
            {
                "package": {"name": "jsonlite", "ecosystem": "CRAN"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0.9.12"}, {"fixed": "1.8.8"}]}],
            }
        ],
    },
    {
        "id": "RSEC-2023-4",
        "modified": "2025-05-16T00:12:44Z",
        "published": "2023-10-04T03:23:51.600Z",
        "upstream": ["CVE-2018-20349"],
        "summary": "NULL pointer dereference vulnerability",
        "affected": [
            {
                "package": {"name": "igraph", "ecosystem": "CRAN"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0.7.1"}, {"fixed": "1.2.2-2"}]}],
            }
        ],
    },
    {
        "id": "RSEC-2023-9",
        "modified": "2024-01-04T02:15:00.000Z",
        "published": "2025-05-16T00:12:44Z",
        "upstream": ["CVE-2023-7101"],
        "summary": "Arbitrary Code Execution (ACE) Vulnerability",
        "affected": [
            {
                "package": {"name": "gdata", "ecosystem": "CRAN"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.16.1"}, {"fixed": "3.0.0"}]}],
            }
        ],
    },
    {
        "id": "AZL-42975",
        "modified": "2024-07-23T22:05:39Z",
        "published": "2024-07-23T22:05:39Z",
        "aliases": ["CVE-2024-5535"],
        "summary": "CVE-2024-5535 affecting package openssl for versions less than 3.3.0-2",
        "affected": [
            {
                "package": {"name": "openssl", "ecosystem": "Azure Linux:3"},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "0:3.3.0-2.azl3"}]}
                ],
                "database_specific": {"severity": "Medium"},
            }
        ],
    },
    {
        "id": "CONAN-CVE-2022-37434",
        "modified": "2022-08-05T00:00:00Z",
        "aliases": ["CVE-2022-37434"],
        "summary": "zlib through 1.2.12 has a heap-based buffer over-read or buffer overflow in inflate",
        "affected": [
            {
                "package": {"name": "zlib", "ecosystem": "ConanCenter"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.2.13"}]}],
            }
        ],
    },
]


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "containment", *args], capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="module")
def advisory_db(tmp_path_factory) -> str:
    feed = tmp_path_factory.mktemp("feed")
    for rec in ADVISORIES:
        (feed / f"{rec['id']}.json").write_text(json.dumps({"schema_version": "1.6.0", **rec}))
    db = tmp_path_factory.mktemp("db") / "advisories.db"
    r = cli("db", "import", str(feed), "--db", str(db), "-q")
    assert r.returncode == 0, r.stderr
    return str(db)


def scan(db: str, kind: str, target: str) -> dict:
    r = cli("scan", kind, target, "--db", db, "-f", "json", "-q")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def write_tree(root: Path, files: dict[str, bytes]) -> str:
    for rel, data in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return str(root)


def write_image(root: Path, files: dict[str, bytes]) -> str:
    write_oci(str(root), ImageSpec(layers=[layer_tar([TarEntry(k, v) for k, v in sorted(files.items())])]))
    return f"oci:{root}"


def both(tmp_path: Path, db: str, files: dict[str, bytes]) -> list[dict]:
    """Findings of `scan fs` and of `scan image` (which must agree, apart from layers)."""
    fs = scan(db, "fs", write_tree(tmp_path / "tree", files))
    img = scan(db, "image", write_image(tmp_path / "img", files))
    assert all(f["layer"] for f in img["findings"])

    def key(doc: dict) -> list[tuple]:
        return sorted((f["id"], f["package"]["name"], f["package"]["version"]) for f in doc["findings"])

    assert key(fs) == key(img)
    return img["findings"]


# --------------------------------------------------------------------------- CRAN


def description(name: str, version: str) -> bytes:
    """An installed package's DESCRIPTION as install.packages() leaves it."""
    return (
        f"Package: {name}\nType: Package\nVersion: {version}\nTitle: {name} for R\n"
        "License: MIT + file LICENSE\nEncoding: UTF-8\nNeedsCompilation: yes\n"
        "Packaged: 2023-06-29 08:47:14 UTC; cran\nRepository: CRAN\n"
        "Date/Publication: 2023-06-29 09:40:02 UTC\n"
        "Built: R 4.3.1; x86_64-pc-linux-gnu; 2023-07-20 12:34:56 UTC; unix\n"
    ).encode()


def test_cran_findings(advisory_db: str, tmp_path: Path) -> None:
    files = {
        "usr/local/lib/R/site-library/jsonlite/DESCRIPTION": description("jsonlite", "1.8.7"),
        "usr/local/lib/R/site-library/igraph/DESCRIPTION": description("igraph", "1.2.2-1"),
        # the first versions outside the ranges, in a second library
        "usr/lib/R/site-library/jsonlite/DESCRIPTION": description("jsonlite", "1.8.8"),
        "usr/lib/R/site-library/igraph/DESCRIPTION": description("igraph", "1.2.2-2"),
        "opt/R/4.3.1/lib/R/library/gdata/DESCRIPTION": description("gdata", "2.18.0.1"),
        "home/ci/R/x86_64-pc-linux-gnu-library/4.3/gdata/DESCRIPTION": description("gdata", "3.0.0"),
    }
    findings = both(tmp_path, advisory_db, files)
    got = sorted(
        (f["id"], f["package"]["name"], f["installed_version"], tuple(f["fixed_versions"]), f["ecosystem"])
        for f in findings
    )
    assert got == [
        # RSEC records name their CVEs as `upstream` (OSV 1.7), not `aliases`: the RSEC id is the id
        ("RSEC-2023-3", "jsonlite", "1.8.7", ("1.8.8",), "CRAN"),
        ("RSEC-2023-4", "igraph", "1.2.2-1", ("1.2.2-2",), "CRAN"),
        ("RSEC-2023-9", "gdata", "2.18.0.1", ("3.0.0",), "CRAN"),
    ]
    assert {f["package"]["path"] for f in findings} == {
        "usr/local/lib/R/site-library/jsonlite/DESCRIPTION",
        "usr/local/lib/R/site-library/igraph/DESCRIPTION",
        "opt/R/4.3.1/lib/R/library/gdata/DESCRIPTION",
    }
    assert {a for f in findings for a in f["advisory_ids"]} == {"RSEC-2023-3", "RSEC-2023-4", "RSEC-2023-9"}


# --------------------------------------------------------------------------- Azure Linux

AZL_OS_RELEASE = (
    b'NAME="Microsoft Azure Linux"\nVERSION="3.0.20240727"\nID=azurelinux\nVERSION_ID="3.0"\n'
    b'PRETTY_NAME="Microsoft Azure Linux 3.0"\nANSI_COLOR="1;34"\n'
    b'HOME_URL="https://aka.ms/azurelinux"\nBUG_REPORT_URL="https://aka.ms/azurelinux"\n'
    b'SUPPORT_URL="https://aka.ms/azurelinux"\n'
)


def manifest(openssl_release: str) -> bytes:
    """container-manifest-2 of an azurelinux/distroless/base:3.0 image (the toolkit's columns)."""
    rows = [
        ("filesystem", "1.1-21.azl3", "7596", "x86_64", "filesystem-1.1-21.azl3.src.rpm"),
        ("azurelinux-release", "3.0-16.azl3", "580", "noarch", "azurelinux-release-3.0-16.azl3.src.rpm"),
        ("glibc", "2.38-6.azl3", "10855265", "x86_64", "glibc-2.38-6.azl3.src.rpm"),
        (
            "openssl-libs",
            f"3.3.0-{openssl_release}",
            "4365048",
            "x86_64",
            f"openssl-3.3.0-{openssl_release}.src.rpm",
        ),
    ]
    return "".join(
        f"{n}\t{vr}\t1722470400\t1718300000\tMicrosoft Corporation\t(none)\t{size}\t{arch}\t0\t{src}\n"
        for n, vr, size, arch, src in rows
    ).encode()


@pytest.mark.parametrize(("release", "expected"), [("1.azl3", 1), ("2.azl3", 0)])
def test_azure_linux_distroless_manifest(
    advisory_db: str, tmp_path: Path, release: str, expected: int
) -> None:
    files = {
        "etc/os-release": AZL_OS_RELEASE,
        "var/lib/rpmmanifest/container-manifest-1": b"openssl-libs-3.3.0-1.azl3.x86_64\n",
        "var/lib/rpmmanifest/container-manifest-2": manifest(release),
    }
    findings = both(tmp_path, advisory_db, files)
    assert len(findings) == expected, findings
    if expected:
        (f,) = findings
        assert (f["id"], f["package"]["name"], f["installed_version"], f["ecosystem"]) == (
            "CVE-2024-5535",
            "openssl-libs",
            "3.3.0-1.azl3",
            "Azure Linux:3",
        )
        assert f["fixed_versions"] == ["0:3.3.0-2.azl3"]
        assert f["package"]["source_name"] == "openssl"
        assert f["package"]["path"] == "var/lib/rpmmanifest/container-manifest-2"
        assert "AZL-42975" in f["advisory_ids"]


# --------------------------------------------------------------------------- ConanCenter

CONANINFO = """\
[settings]
    arch=x86_64
    build_type=Release
    compiler=gcc
    compiler.version=11
    os=Linux

[requires]


[options]
    fPIC=True
    shared=False

[full_settings]
    arch=x86_64
    build_type=Release
    compiler=gcc
    compiler.version=11
    os=Linux

[full_requires]


[full_options]
    fPIC=True
    shared=False

[recipe_hash]
    a9b6a3a8c5e3c1c0b3f2b8e5d4c1a0f9

[env]

"""


def conan2_cache(*refs: str) -> bytes:
    """A Conan 2 cache.sqlite3 (tables as Conan's BaseDbTable.create_table makes them)."""
    con = sqlite3.connect(":memory:")
    con.execute(
        "CREATE TABLE IF NOT EXISTS packages (reference text NOT NULL, rrev text NOT NULL, pkgid text, "
        "prev text, path text NOT NULL UNIQUE, timestamp real NOT NULL, build_id text, lru integer NOT NULL "
        ", UNIQUE(reference, rrev, pkgid, prev));"
    )
    for i, ref in enumerate(refs):
        con.execute(
            "INSERT INTO packages VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (ref, f"{i:032x}", f"{i:040x}", f"{i + 7:032x}", f"b/zlib{i:012x}", 1.7e9, None, 1700000000),
        )
    con.commit()
    return con.serialize()


def test_conan_installed_findings(advisory_db: str, tmp_path: Path) -> None:
    pid = "dfbe50feef7f3c6223a476cd5aeadb687084a646"
    files = {
        f"root/.conan/data/zlib/1.2.12/_/_/package/{pid}/conaninfo.txt": CONANINFO.encode(),
        f"root/.conan/data/zlib/1.2.13/_/_/package/{pid}/conaninfo.txt": CONANINFO.encode(),
        "home/ci/.conan2/p/cache.sqlite3": conan2_cache("zlib/1.2.11", "zlib/1.3.1"),
    }
    findings = both(tmp_path, advisory_db, files)
    got = sorted((f["id"], f["installed_version"], f["package"]["path"], f["ecosystem"]) for f in findings)
    assert got == [
        ("CVE-2022-37434", "1.2.11", "home/ci/.conan2/p/cache.sqlite3", "ConanCenter"),
        (
            "CVE-2022-37434",
            "1.2.12",
            f"root/.conan/data/zlib/1.2.12/_/_/package/{pid}/conaninfo.txt",
            "ConanCenter",
        ),
    ]
    assert all(f["fixed_versions"] == ["1.2.13"] for f in findings)


# --------------------------------------------------------------------------- no OSV ecosystem


def test_types_without_osv_ecosystem_are_inventoried_not_matched(advisory_db: str, tmp_path: Path) -> None:
    """Arch, Gentoo, Nix, PECL, LuaRocks and Homebrew packages named like packages with advisories
    here (openssl, zlib) come out in the inventory and the SBOM, with their purl types, and
    match nothing: OSV has no ecosystem for them (containment.ecosystems says why)."""
    from containment.ecosystems import BY_TYPE, osv_ecosystem

    files = {
        "etc/os-release": b'NAME="Arch Linux"\nID=arch\nBUILD_ID=rolling\n',
        "var/lib/pacman/local/zlib-1:1.2.12-1/desc": (
            b"%NAME%\nzlib\n\n%VERSION%\n1:1.2.12-1\n\n%BASE%\nzlib\n\n%ARCH%\nx86_64\n\n%LICENSE%\nZlib\n\n"
        ),
        "var/db/pkg/sys-libs/zlib-1.2.12/PF": b"zlib-1.2.12\n",
        "var/db/pkg/sys-libs/zlib-1.2.12/CATEGORY": b"sys-libs\n",
        "usr/local/lib/luarocks/rocks-5.1/lua-zlib/1.2-2/lua-zlib-1.2-2.rockspec": (
            b'package = "lua-zlib"\nversion = "1.2-2"\ndescription = { license = "MIT" }\n'
        ),
        "home/linuxbrew/.linuxbrew/Cellar/zlib/1.2.12/INSTALL_RECEIPT.json": json.dumps(
            {
                "homebrew_version": "4.3.9",
                "source": {"tap": "homebrew/core", "versions": {"stable": "1.2.12"}},
            }
        ).encode(),
        "usr/local/lib/php/.registry/.channel.pecl.php.net/zlib.reg": (
            b'a:3:{s:4:"name";s:4:"zlib";s:7:"channel";s:12:"pecl.php.net";'
            b's:7:"version";a:2:{s:7:"release";s:6:"1.2.12";s:3:"api";s:6:"1.2.12";}}'
        ),
    }
    root = write_tree(tmp_path / "tree", files)
    assert scan(advisory_db, "fs", root)["findings"] == []
    r = cli("sbom", f"dir:{root}", "-f", "cyclonedx", "-q")
    assert r.returncode == 0, r.stderr
    purls = sorted(c["purl"] for c in json.loads(r.stdout)["components"] if "zlib" in c["name"])
    assert purls == [
        "pkg:alpm/arch/zlib@1:1.2.12-1?arch=x86_64&distro=arch",
        "pkg:brew/zlib@1.2.12",
        "pkg:ebuild/sys-libs/zlib@1.2.12?distro=arch",
        "pkg:luarocks/lua-zlib@1.2-2",
        "pkg:pear/pecl.php.net/zlib@1.2.12",
    ]
    for t in ("alpm", "ebuild", "luarocks", "brew", "pear", "nix"):
        assert osv_ecosystem(t) == "" and BY_TYPE[t].note
