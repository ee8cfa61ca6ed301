"""containment.ecosystems against the OSV schema's list of ecosystems and against the catalogers.

Two failures this guards against: a purl type a cataloger emits that the matcher silently never
looks up (npm was, until query_for read the one table), and an OSV ecosystem name spelled
differently from the schema (a row that can never meet a record).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from containment import distros
from containment.ecosystems import BY_TYPE, LANGUAGES, OS_FEEDS, OS_TYPES, name_rule, osv_ecosystem, scheme_of
from containment.versions import SCHEMES

CATALOG = Path(__file__).resolve().parents[2] / "src" / "containment" / "catalog"

# The OSV schema's defined ecosystems: ossf/osv-schema `ecosystems.json`, the source of the
# "Defined ecosystems" table of https://ossf.github.io/osv-schema/#defined-ecosystems, at commit
# 51b8156b69b9e2e9ff2301e649db61636067fcfa (2026-07-01), read 2026-12-02.
OSV_ECOSYSTEMS = frozenset(
    {
        "AlmaLinux",
        "Alpaquita",
        "Alpine",
        "Android",
        "Azure Linux",
        "BellSoft Hardened Containers",
        "Bioconductor",
        "Bitnami",
        "Chainguard",
        "CleanStart",
        "ConanCenter",
        "CRAN",
        "crates.io",
        "Debian",
        "Docker Hardened Images",
        "Echo",
        "FreeBSD",
        "GHC",
        "GitHub Actions",
        "Go",
        "Hackage",
        "Hex",
        "Julia",
        "Kubernetes",
        "Linux",
        "Mageia",
        "Maven",
        "MinimOS",
        "npm",
        "NuGet",
        "opam",
        "openEuler",
        "openSUSE",
        "OSS-Fuzz",
        "Packagist",
        "Photon OS",
        "Pub",
        "PyPI",
        "Red Hat",
        "Rocky Linux",
        "Root",
        "RubyGems",
        "SUSE",
        "SwiftURL",
        "TuxCare",
        "Ubuntu",
        "VSCode",
        "Wolfi",
    }
)

# OSV ecosystems no row matches packages against, and why (so a new one in the schema's list is
# classified on purpose, not forgotten).
NOT_MATCHED = {
    "Android": "Android platform components and kernels: not in container images",
    "Bioconductor": "Bioconductor R packages: the R cataloger reports every R library as pkg:cran",
    "Bitnami": "Bitnami stacks' components: no cataloger identifies them as Bitnami packages",
    "CleanStart": "a distribution: no os-release mapping yet (containment.distros)",
    "Docker Hardened Images": "a distribution: no os-release mapping yet (containment.distros)",
    "FreeBSD": "FreeBSD packages: no FreeBSD pkg cataloger (containers are Linux)",
    "GHC": "Haskell compiler components: no Haskell cataloger",
    "GitHub Actions": "workflow actions: not installed in images",
    "Hackage": "Haskell packages: no Haskell cataloger",
    "Julia": "Julia packages: no Julia cataloger",
    "Kubernetes": "Kubernetes components: their Go binaries match under Go by module path",
    "Linux": "the kernel: not part of a container image",
    "OSS-Fuzz": "OSS-Fuzz project names: not packages; their fixes reach packages under other ecosystems",
    "opam": "OCaml packages: no opam cataloger",
    "Root": "a distribution: no os-release mapping yet (containment.distros)",
    "TuxCare": "a distribution: no os-release mapping yet (containment.distros)",
    "VSCode": "editor extensions: no cataloger",
}

# OS_FEEDS names the schema does not define (they have version schemes for records a feed may
# still carry); each needs a reason, so a misspelt distribution cannot slip in.
OS_FEEDS_OUTSIDE_SCHEMA = {
    "mariner": "CBL-Mariner records from before OSV renamed the ecosystem Azure Linux",
    "fedora": "not an OSV ecosystem (distros: OSV publishes no Fedora advisories)",
    "oracle linux": "not an OSV ecosystem (distros: OSV publishes no Oracle Linux advisories)",
    "amazon linux": "not an OSV ecosystem (distros: OSV publishes no Amazon Linux advisories)",
}


def emitted_purl_types() -> dict[str, set[str]]:
    """purl type -> catalog modules emitting it: the first argument of every `purl("...", ...)`
    call and every `Package(type="...")` in src/containment/catalog (read as source, so a
    cataloger not yet registered is held to the same rule)."""
    out: dict[str, set[str]] = {}
    for f in sorted(CATALOG.glob("*.py")):
        for node in ast.walk(ast.parse(f.read_text(), str(f))):
            if not isinstance(node, ast.Call):
                continue
            fn = node.func
            name = fn.id if isinstance(fn, ast.Name) else fn.attr if isinstance(fn, ast.Attribute) else ""
            values: list[ast.expr] = []
            if name == "purl" and node.args:
                values.append(node.args[0])
            if name == "Package":
                values.extend(kw.value for kw in node.keywords if kw.arg == "type")
            for v in values:
                assert isinstance(v, ast.Constant) and isinstance(v.value, str), (
                    f"{f.name}:{node.lineno}: purl type not a literal; this test cannot see it"
                )
                out.setdefault(v.value, set()).add(f.name)
    return out


def test_the_scan_sees_the_known_types() -> None:
    types = emitted_purl_types()
    for t in ("npm", "pypi", "golang", "maven", "composer", "conan", "swift", "cocoapods", "deb", "rpm"):
        assert t in types, t


@pytest.mark.parametrize("purl_type", sorted(emitted_purl_types()))
def test_every_emitted_purl_type_maps_to_an_osv_ecosystem_or_says_why_not(purl_type: str) -> None:
    if purl_type in ("deb", "apk", "rpm"):
        # OS packages: matched in their release's ecosystem, which containment.distros chooses
        assert any(d.pkg_type == purl_type for d in distros.DISTROS), purl_type
        return
    row = BY_TYPE.get(purl_type)
    assert row is not None, (
        f"pkg:{purl_type} (from {sorted(emitted_purl_types()[purl_type])}) has no row in "
        "containment.ecosystems: add one with its OSV ecosystem, or with a note saying why there is none"
    )
    if row.osv:
        assert row.osv in OSV_ECOSYSTEMS, row
        assert osv_ecosystem(purl_type) == row.osv
    else:
        assert row.note.strip(), f"pkg:{purl_type}: no OSV ecosystem and no note saying why"
        assert osv_ecosystem(purl_type) == ""
        assert purl_type in OS_TYPES or row.label, row


@pytest.mark.parametrize("row", [e for e in LANGUAGES if e.osv], ids=lambda e: e.purl_type)
def test_language_rows_name_defined_ecosystems_with_their_scheme(row) -> None:
    assert row.osv in OSV_ECOSYSTEMS, f"{row.osv!r} is not spelled as the OSV schema defines it"
    assert row.scheme in SCHEMES, row
    assert scheme_of(row.osv) == row.scheme
    assert row.names in ("pep503", "lower", "as-is")
    assert name_rule(row.osv) == row.names
    if not row.feed:
        assert row.note.strip(), f"{row.osv}: no osv.dev feed, and no note saying where records come from"


def test_rows_are_unique() -> None:
    types = [e.purl_type for e in LANGUAGES]
    assert len(types) == len(set(types))
    osv = [e.osv for e in LANGUAGES if e.osv]
    assert len(osv) == len(set(osv))


def test_os_feeds_are_defined_ecosystems() -> None:
    defined = {e.lower() for e in OSV_ECOSYSTEMS}
    for base, scheme in OS_FEEDS.items():
        assert base == base.lower()
        assert base in defined or base in OS_FEEDS_OUTSIDE_SCHEMA, f"OS feed {base!r} is not an OSV ecosystem"
        assert scheme in SCHEMES
    for d in distros.DISTROS:
        assert d.osv in OSV_ECOSYSTEMS, d
        assert d.osv.lower() in OS_FEEDS, d


def test_every_osv_ecosystem_is_classified() -> None:
    """Each ecosystem the schema defines is matched (a language row or an OS feed) or listed in
    NOT_MATCHED with a reason; and nothing is listed there that a row already matches."""
    matched = {e.osv for e in LANGUAGES if e.osv}
    os_feeds = set(OS_FEEDS)
    for eco in OSV_ECOSYSTEMS:
        assert eco in matched or eco.lower() in os_feeds or eco in NOT_MATCHED, (
            f"OSV ecosystem {eco!r}: add a row to containment.ecosystems, or a reason to NOT_MATCHED"
        )
    assert set(NOT_MATCHED) <= OSV_ECOSYSTEMS
    assert not (set(NOT_MATCHED) & matched)


def test_cocoapods_is_catalogued_with_the_reason_it_cannot_match() -> None:
    row = BY_TYPE["cocoapods"]
    assert row.osv == "" and "CocoaPods" not in OSV_ECOSYSTEMS
    assert "CocoaPods" in row.note
