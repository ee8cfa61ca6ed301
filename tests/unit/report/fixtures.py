"""Hand-built, realistic findings shared by the report and policy tests."""

from __future__ import annotations

from dataclasses import replace

from containment.model import CVSS, Finding, Inventory, LayerInfo, OSInfo, Package, ScanReport, Suppression

BASE = "sha256:" + "1" * 64
APP = "sha256:" + "2" * 64
DIGEST = "sha256:" + "c" * 64
IMAGE_ID = "sha256:" + "d" * 64

LIBC = Package(
    "libc6",
    "2.36-9+deb12u1",
    "deb",
    "pkg:deb/debian/libc6@2.36-9%2Bdeb12u1?arch=amd64&distro=debian-12",
    "var/lib/dpkg/status",
    "dpkg-status",
    "glibc",
    "2.36-9+deb12u1",
    ("LGPL-2.1-or-later",),
    layer=BASE,
)
DJANGO = Package(
    "Django",
    "4.2.1",
    "pypi",
    "pkg:pypi/django@4.2.1",
    "usr/local/lib/python3.11/site-packages/Django-4.2.1.dist-info/METADATA",
    "python-installed",
    licenses=("BSD-3-Clause",),
    layer=APP,
)
STDLIB = Package(
    "stdlib",
    "go1.21.0",
    "golang",
    "pkg:golang/stdlib@go1.21.0",
    "usr/local/bin/app",
    "go-binary",
    layer=APP,
)
APPMOD = Package(
    "example.com/app",
    "v1.0.0",
    "golang",
    "pkg:golang/example.com/app@v1.0.0",
    "usr/local/bin/app",
    "go-binary",
    layer=APP,
)

GLIBC_CVE = Finding(
    id="CVE-2023-4911",
    aliases=("DSA-5514-1",),
    package=LIBC,
    ecosystem="Debian:12",
    installed_version="2.36-9+deb12u1",
    fixed_versions=("2.36-9+deb12u3",),
    status="fixed",
    severity="HIGH",
    severity_source="debian",
    cvss=(CVSS("3.1", "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8, "nvd"),),
    title="glibc: buffer overflow in ld.so leading to privilege escalation (Looney Tunables)",
    description="A buffer overflow was discovered in the GNU C Library's dynamic loader ld.so "
    "while processing the GLIBC_TUNABLES environment variable.",
    data_source="debian-tracker",
    advisory_ids=("CVE-2023-4911",),
    references=("https://security-tracker.debian.org/tracker/CVE-2023-4911",),
    published="2023-10-03T18:15:00Z",
    modified="2024-01-01",
)
DJANGO_CVE = Finding(
    id="CVE-2023-36053",
    aliases=("GHSA-jh3w-4vvf-mjgr", "PYSEC-2023-100"),
    package=DJANGO,
    ecosystem="PyPI",
    installed_version="4.2.1",
    fixed_versions=("4.2.3", "4.1.10"),
    status="fixed",
    severity="HIGH",
    severity_source="ghsa",
    cvss=(CVSS("3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5, "ghsa"),),
    title="Django has regular expression denial of service vulnerability in EmailValidator/URLValidator",
    description="In Django 3.2 before 3.2.20, 4 before 4.1.10, and 4.2 before 4.2.3, EmailValidator and "
    "URLValidator are subject to a potential ReDoS attack via a very large number of domain name labels.",
    data_source="osv:PyPI",
    advisory_ids=("GHSA-jh3w-4vvf-mjgr", "PYSEC-2023-100"),
    references=("https://nvd.nist.gov/vuln/detail/CVE-2023-36053", "https://github.com/django/django"),
    published="2023-07-03T21:30:58Z",
    modified="2024-06-10T18:15:40.233Z",
)
GO_VULN = Finding(
    id="CVE-2023-39325",
    aliases=("GO-2023-2102", "GHSA-4374-p667-p6c8"),
    package=STDLIB,
    ecosystem="Go",
    installed_version="go1.21.0",
    fixed_versions=("1.21.3", "1.20.10"),
    status="fixed",
    severity="MEDIUM",
    severity_source="cvss_v3",
    cvss=(CVSS("3.1", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L", 5.3, "osv"),),
    title="HTTP/2 rapid reset can cause excessive work in net/http",
    data_source="osv:Go",
    advisory_ids=("GO-2023-2102",),
    references=("https://go.dev/issue/63417",),
    published="2023-10-11",
)
UNFIXED = Finding(
    id="CVE-2010-4756",
    aliases=(),
    package=LIBC,
    ecosystem="Debian:12",
    installed_version="2.36-9+deb12u1",
    fixed_versions=(),
    status="wont_fix",
    severity="NEGLIGIBLE",
    severity_source="debian",
    title="glibc glob implementation can cause excessive CPU and memory consumption",
    data_source="debian-tracker",
)


def inventory() -> Inventory:
    return Inventory(
        "registry.example.com/team/app:1.0",
        "image",
        OSInfo("debian", "12", "Debian GNU/Linux 12 (bookworm)", "bookworm"),
        (LIBC, DJANGO, APPMOD, STDLIB),
        (
            LayerInfo(0, BASE, "sha256:" + "a" * 64, created_by="ADD rootfs.tar.xz /"),
            LayerInfo(1, APP, "sha256:" + "b" * 64, created_by="COPY app /usr/local/bin/app"),
        ),
        DIGEST,
        IMAGE_ID,
        warnings=("usr/lib/weird.jar: not a zip archive",),
    )


VEX_SUPPRESSION = Suppression(
    "vex",
    "not_affected: the app never calls EmailValidator",
    "vex/app.openvex.json",
    "vulnerable_code_not_in_execute_path",
)
IGNORE_SUPPRESSION = Suppression(
    "ignorefile", "accepted until the base image moves", ".containmentignore", "", "2099-12-31"
)


def report(suppress: bool = True) -> ScanReport:
    findings = [GLIBC_CVE, DJANGO_CVE, GO_VULN, UNFIXED]
    if suppress:
        findings[1] = replace(DJANGO_CVE, suppressed=VEX_SUPPRESSION)
        findings[3] = replace(UNFIXED, suppressed=IGNORE_SUPPRESSION)
    return ScanReport(
        inventory(),
        tuple(findings),
        db={
            "path": "/cache/db/advisories.db",
            "schema_version": 1,
            "built_at": "2024-06-01T00:00:00Z",
            "updated_at": "2024-06-02T00:00:00Z",
            "sources": [
                {"name": "osv", "location": "osv/", "imported_at": "2024-06-02T00:00:00Z", "records": 3}
            ],
        },
        warnings=(".containmentignore:3: ignore entry CVE-2020-1 expired on 2024-01-01",),
    )
