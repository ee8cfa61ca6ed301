"""Inventory x advisories -> findings.

OS packages match by their source package in their release's ecosystem (Debian:12,
Alpine:v3.11); language packages by ecosystem and normalized name (the store normalizes: PEP 503
for PyPI, group:artifact for Maven, module path for Go). Versions are compared only with the
ecosystem's own scheme; a version that does not parse is reported as unknown, never guessed.
One finding per (package, vulnerability): advisories that name each other (aliases) merge.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from containment import distros
from containment.advisories.types import Advisory, Affected, CveScore, Range
from containment.ecosystems import osv_ecosystem
from containment.model import (
    CVSS,
    NO_ADVISORIES,
    SEVERITIES,
    UNSUPPORTED,
    Finding,
    Gap,
    Inventory,
    OSInfo,
    Package,
)
from containment.notes import Note, condense
from containment.versions import InvalidVersion, parse, scheme_for

SEVERITY_ORDER = {s: i for i, s in enumerate(SEVERITIES)}
_VENDOR = {
    # distro / database severities -> ours
    "critical": "CRITICAL",
    "high": "HIGH",
    "important": "HIGH",
    "medium": "MEDIUM",
    "moderate": "MEDIUM",
    "low": "LOW",
    "unimportant": "NEGLIGIBLE",
    "negligible": "NEGLIGIBLE",
}
_ID_RANK = (("CVE-", 0), ("GHSA-", 1))


class Store(Protocol):
    def affected(self, ecosystem: str, package: str) -> list[Affected]: ...

    def ecosystems_like(self, pattern: str) -> list[str]: ...

    def advisories(self, ids: Iterable[str]) -> dict[str, Advisory]: ...

    def cve_cvss(self, cves: Iterable[str]) -> dict[str, list[CveScore]]: ...


@dataclass(frozen=True)
class Query:
    ecosystems: tuple[str, ...]  # tried in order; the first that has records for the package wins
    name: str
    version: str
    # An OS package's ecosystems all apply instead (a release's repositories and streams, see
    # containment.distros), and may be `*` patterns the store resolves.
    union: bool = False
    # (name, version) pairs also looked up: the binary rpm, for distributions whose records
    # name binary packages as well as source ones
    also: tuple[tuple[str, str], ...] = ()


def os_ecosystems(os_info: OSInfo | None, pkg_type: str) -> tuple[str, ...]:
    """The OSV ecosystem selectors of an OS's packages (containment.distros)."""
    return distros.ecosystems(os_info, pkg_type)


def query_for(p: Package, os_info: OSInfo | None) -> Query | None:
    if p.type in ("deb", "apk", "rpm"):
        ecos = os_ecosystems(os_info, p.type)
        if not ecos:
            return None
        name = p.source_name or p.name
        version = p.source_version or p.version
        if p.name == name or not distros.uses_binary_names(os_info):
            return Query(ecos, name, version, union=True)
        if p.type == "rpm" and _vr(version) != _vr(p.version):
            # a subpackage with its own version (perl-Carp 1.50-460.el9 from perl 5.32.1-480.el9):
            # its epoch is not the source's, whose epoch the header does not record, so only the
            # binary's own EVR can be compared exactly
            return Query(ecos, p.name, p.version, union=True)
        return Query(ecos, name, version, union=True, also=((p.name, p.version),))
    eco = osv_ecosystem(p.type)
    if not eco:  # no OSV ecosystem for this type (containment.ecosystems says why)
        return None
    name, version = p.name, p.version
    if p.type == "maven":
        group = p.purl.split("/", 2)[1] if p.purl.count("/") >= 2 else ""
        name = f"{group}:{p.name}" if group and ":" not in p.name else p.name
    elif p.type == "golang":
        if p.name == "stdlib":  # go1.19 is release v1.19.0 (the catalogers' `semver`, as govulncheck)
            version = str(p.extra.get("semver") or version.removeprefix("go"))
    elif p.type == "composer":
        version = version.removeprefix("v") if re.match(r"^v\d", version) else version
    return Query((eco,), name, version)


def _vr(evr: str) -> str:
    """An rpm EVR without its epoch ("1:3.0.7-25.el9_3" -> "3.0.7-25.el9_3")."""
    head, sep, rest = evr.partition(":")
    return rest if sep and head.isdigit() else evr


@lru_cache(maxsize=65536)
def _parsed(scheme: str, version: str) -> Any:
    return parse(scheme, version)


def _scheme(ecosystem: str, range_type: str) -> str:
    if range_type == "SEMVER" and ecosystem not in ("Go", "npm"):
        return "semver"
    return scheme_for(ecosystem)


def in_range(rng: Range, installed: Any, scheme: str) -> tuple[bool, list[str]]:
    """(affected?, fixed versions above the installed one) by OSV's event rules."""
    events = []
    for e in rng.events:
        if e.kind == "introduced" and e.version in ("0", ""):
            events.append((None, e.kind, e.version))
            continue
        events.append((_parsed(scheme, e.version), e.kind, e.version))
    # "0" first, then by version; at equal versions introduced before the closing events
    events.sort(key=_EVENT_KEY)
    affected = False
    for ver, kind, _ in events:
        if kind == "introduced":
            if ver is None or ver <= installed:
                affected = True
        elif kind in ("fixed", "limit"):
            if ver is not None and ver <= installed:
                affected = False
        elif kind == "last_affected" and ver is not None and ver < installed:
            affected = False
    fixed = [raw for ver, kind, raw in events if kind == "fixed" and ver is not None and ver > installed]
    return affected, fixed


_EVENT_ORDER = {"introduced": 0, "last_affected": 1, "fixed": 2, "limit": 2}


def _event_cmp(a: tuple[Any, str, str], b: tuple[Any, str, str]) -> int:
    if a[0] is None or b[0] is None:
        if a[0] is None and b[0] is None:
            return 0
        return -1 if a[0] is None else 1
    if a[0] < b[0]:
        return -1
    if b[0] < a[0]:
        return 1
    return _EVENT_ORDER.get(a[1], 3) - _EVENT_ORDER.get(b[1], 3)


_EVENT_KEY = functools.cmp_to_key(_event_cmp)


def evaluate(a: Affected, version: str, scheme: str) -> tuple[bool, list[str]]:
    """Is `version` affected by this entry, and which fixed versions apply.

    A version the entry lists explicitly is affected whatever the ranges say (the ranges then
    only supply fix versions); otherwise the ranges decide, and an installed version that does not
    parse raises InvalidVersion for the caller to report.
    """
    listed = version in a.versions
    hit = listed
    fixed_all: list[str] = []
    for rng in a.ranges:
        if rng.type == "GIT":
            continue  # commits cannot be compared with versions; explicit `versions` cover them
        sch = _scheme(a.ecosystem, rng.type)
        try:
            installed = _parsed(sch, version)
        except InvalidVersion:
            if listed:
                continue
            raise
        try:
            affected, fixed = in_range(rng, installed, sch)
        except InvalidVersion:
            continue  # a malformed event in the feed: skip this range, not the whole package
        if affected or listed:
            hit = True
            fixed_all.extend(fixed)
    if hit and fixed_all:
        sch0 = _scheme(a.ecosystem, a.ranges[0].type) if a.ranges else scheme
        fixed_all = sorted(set(fixed_all), key=lambda v: _safe_key(sch0, v))
    return hit, fixed_all


def _safe_key(scheme: str, v: str) -> _Sortable:
    """Sort key for versions; ones that do not parse go last."""
    try:
        return _Sortable(_parsed(scheme, v))
    except InvalidVersion:
        return _Sortable(None)


class _Sortable:
    __slots__ = ("v",)

    def __init__(self, v: Any) -> None:
        self.v = v

    def __lt__(self, other: _Sortable) -> bool:
        if self.v is None or other.v is None:
            return self.v is not None
        return bool(self.v < other.v)


# ---------------------------------------------------------------------- severity


def cvss_of(advisory: Advisory) -> list[CVSS]:
    """The CVSS an advisory gives. Not osv.dev's CVE records' (an OSV record of a CVE id that
    names no package, source "osv"): a distribution feed's advisory of the same id is merged with
    it by the store, and its score is the CVE's, not the advisory's: the fallback names it
    (osv-cve, `cve_rating`)."""
    if advisory.source == "osv" and advisory.id.startswith("CVE-"):
        return []
    out = []
    for kind, vector in advisory.severity:
        c = parse_cvss(kind, vector, advisory.source)
        if c is not None:
            out.append(c)
    return out


@lru_cache(maxsize=8192)
def parse_cvss(kind: str, vector: str, source: str = "") -> CVSS | None:
    try:
        if kind == "CVSS_V4" or vector.startswith("CVSS:4.0/"):
            from cvss import CVSS4

            c4 = CVSS4(vector)
            return CVSS("4.0", vector, float(c4.base_score), source)
        if kind == "CVSS_V3" or vector.startswith("CVSS:3"):
            from cvss import CVSS3

            c3 = CVSS3(vector)
            return CVSS(vector.split("/")[0].split(":")[1], vector, float(c3.scores()[0]), source)
        if kind == "CVSS_V2":
            from cvss import CVSS2

            c2 = CVSS2(vector)
            return CVSS("2.0", vector, float(c2.scores()[0]), source)
    except Exception:  # the cvss library raises its own error types for malformed vectors
        return None
    return None


def rating(score: float, version: str = "3.1") -> str:
    """The qualitative rating of a CVSS base score: v3.x and v4.0 share one scale; v2 has no
    CRITICAL (NVD: 7.0-10.0 is HIGH)."""
    if version.startswith("2"):
        return "HIGH" if score >= 7.0 else "MEDIUM" if score >= 4.0 else "LOW"
    if score >= 9.0:
        return "CRITICAL"
    if score >= 7.0:
        return "HIGH"
    if score >= 4.0:
        return "MEDIUM"
    if score > 0:
        return "LOW"
    return "NEGLIGIBLE"


# the CVE-record CVSS the fallback prefers: NVD's feed before osv.dev's CVE records; a modern
# version (3.1, 3.0, 4.0: the order NVD's pages lead with) before 2.0; NVD's own (Primary) before a
# CNA's (Secondary)
_CVE_SOURCE_RANK = {"nvd": 0, "osv-cve": 1}
_CVE_VERSION_RANK = {"3.1": 0, "3.0": 1, "4.0": 2, "2.0": 3}
_CVE_TYPE_RANK = {"Primary": 0, "": 1, "Secondary": 2}


def _cve_score_key(s: CveScore) -> tuple[int, int, int, int, str]:
    return (
        _CVE_SOURCE_RANK.get(s.source, 9),
        1 if s.version.startswith("2") else 0,
        _CVE_TYPE_RANK.get(s.type, 3),
        _CVE_VERSION_RANK.get(s.version, 9),
        s.vector,
    )


def cve_rating(cve_ids: Iterable[str], scores: dict[str, list[CveScore]]) -> CVSS | None:
    """The CVSS a CVE's own record gives (NVD's feed, osv.dev's CVE record), for findings nobody
    else rated: of the first id (the primary one first) that has any, the best by the ranks
    above; its `source` (nvd, osv-cve) becomes the finding's severity_source."""
    for cve in cve_ids:
        for s in sorted(scores.get(cve, ()), key=_cve_score_key):
            kind = "CVSS_V2" if s.version.startswith("2") else ""
            c = parse_cvss(kind, s.vector, s.source)
            if c is not None:
                return c
    return None


def severity_of(
    os_package: bool, entries: list[Affected], cvss: list[CVSS], fallback: CVSS | None = None
) -> tuple[str, str]:
    """(severity, where it came from): the distro's own rating for its packages (named as
    containment.distros names the distribution: debian, ubuntu, redhat, suse, openeuler, ...),
    then the database's (GHSA), then the advisory's CVSS v4, v3, v2, then `fallback` (the CVE's
    CVSS from NVD or osv.dev's CVE record, `cve_rating`; source nvd / osv-cve), then the urgency
    of the upload that fixed it (a changelog's); UNKNOWN when nobody rated it."""
    vendor = [a.severity for a in entries if a.severity]
    if os_package:
        for src, value in vendor:
            sev = _VENDOR.get(str(value).lower())
            who = distros.rater(src)
            if sev and who:
                return sev, who
    for src, value in vendor:
        sev = _VENDOR.get(str(value).lower())
        if sev and not src.endswith("-changelog"):
            return sev, src
    for version in ("4.0", "3.1", "3.0", "2.0"):
        best = [c for c in cvss if c.version == version]
        if best:
            c = max(best, key=lambda x: x.score)
            return rating(c.score, version), f"cvss_v{version[0]}"
    if fallback is not None:
        return rating(fallback.score, fallback.version), fallback.source
    for src, value in vendor:  # last resort: the urgency of the upload that fixed it
        sev = _VENDOR.get(str(value).lower())
        if sev:
            return sev, src
    return "UNKNOWN", ""


# ---------------------------------------------------------------------- matching


@dataclass
class _Hit:
    package: Package
    query: Query
    ecosystem: str
    entry: Affected
    fixed: list[str]
    version: str = ""  # the version compared (the query's, or the binary's for a binary-name record)


def _resolve(store: CoverageStore | Store, q: Query, patterns: dict[str, list[str]]) -> list[str]:
    """The query's ecosystems with `*` patterns (OS releases, containment.distros) replaced by
    the names the store holds that match them, each name once."""
    if not q.union:
        return list(q.ecosystems)
    out: dict[str, None] = {}
    for sel in q.ecosystems:
        if distros.is_pattern(sel):
            if sel not in patterns:
                patterns[sel] = store.ecosystems_like(sel)
            out.update(dict.fromkeys(patterns[sel]))
        else:
            out[sel] = None
    return list(out)


def _go_platform(p: Package) -> tuple[str, str] | None:
    """(GOOS, GOARCH) a Go binary was built for, from its build info."""
    if p.type != "golang":
        return None
    extra = p.extra if isinstance(p.extra, dict) else {}
    goos, goarch = str(extra.get("goos", "")), str(extra.get("goarch", ""))
    return (goos, goarch) if goos or goarch else None


def _platform_applies(a: Affected, platform: tuple[str, str]) -> bool:
    """Go advisories name the vulnerable packages' platforms (`ecosystem_specific.imports[].goos/
    goarch`); one for windows only does not apply to a linux binary (govulncheck's rule)."""
    es = a.extra.get("ecosystem_specific") if isinstance(a.extra, dict) else None
    imports = (es or {}).get("imports") if isinstance(es, dict) else a.extra.get("imports")
    if not isinstance(imports, list) or not imports:
        return True
    goos, goarch = platform
    for imp in imports:
        if not isinstance(imp, dict):
            return True
        oses, arches = imp.get("goos") or [], imp.get("goarch") or []
        if (not oses or not goos or goos in oses) and (not arches or not goarch or goarch in arches):
            return True
    return False


def _primary(ids: Iterable[str]) -> str:
    ranked = sorted(set(ids), key=lambda i: (next((r for p, r in _ID_RANK if i.startswith(p)), 9), i))
    return ranked[0]


def queries(inventory: Inventory, include_dev: bool = True) -> Iterator[tuple[Package, Query | None]]:
    """Each package `match` considers, with its query (None: no advisory source covers it).
    Dev-only dependencies unless `include_dev`, and the application itself, are left out."""
    for p in inventory.packages:
        if (p.dev and not include_dev) or p.extra.get("root"):
            continue  # the root is the application itself, not a dependency
        yield p, query_for(p, inventory.os)


def match(inventory: Inventory, store: Store, include_dev: bool = False) -> tuple[list[Finding], list[str]]:
    """Every known vulnerability that applies to the inventory's packages, and notes."""
    notes: list[Note] = []  # said once per cause (twenty `(devel)` Go modules: one warning)
    hits: list[_Hit] = []
    lookups: dict[tuple[str, str], list[Affected]] = {}
    patterns: dict[str, list[str]] = {}
    for p, q in queries(inventory, include_dev):
        if q is None:
            continue
        for eco in _resolve(store, q, patterns):
            found = False
            for name, version in ((q.name, q.version), *q.also):
                key = (eco, name)
                if key not in lookups:
                    lookups[key] = store.affected(eco, name)
                entries = lookups[key]
                if not entries:
                    continue
                found = True
                scheme = scheme_for(eco)
                platform = _go_platform(p)
                for a in entries:
                    if platform and not _platform_applies(a, platform):
                        continue
                    try:
                        hit, fixed = evaluate(a, version, scheme)
                    except InvalidVersion:
                        notes.append(
                            Note(
                                f"unknown version for the {scheme} scheme; not matched",
                                f"{p.name} {version} at {p.path if inventory.kind == 'filesystem' else '/' + p.path}",
                                noun="packages",
                            )
                        )
                        break
                    if hit:
                        hits.append(_Hit(p, q, eco, a, fixed, version))
            if found and not q.union:
                break  # the first ecosystem with records is the package's
    warnings = condense(notes)
    ids = {h.entry.advisory_id for h in hits}
    advisories = store.advisories(ids) if ids else {}
    # one batched lookup of every CVE id the hits know, for the severity fallback
    cves = {i for i in ids if i.startswith("CVE-")}
    cves.update(al for a in advisories.values() for al in a.aliases if al.startswith("CVE-"))
    scores = store.cve_cvss(cves) if cves else {}
    return _merge(hits, advisories, scores), warnings


class CoverageStore(Protocol):
    def ecosystems(self) -> list[str]: ...

    def ecosystems_like(self, pattern: str) -> list[str]: ...


def coverage(
    inventory: Inventory,
    store: CoverageStore,
    include_dev: bool = False,
    update: str = "containment db update",
) -> list[Gap]:
    """The packages `match` could not check, as gaps (the result is incomplete without them):
    an ecosystem found in the target that the database holds no advisories for (npm packages
    against a database of PyPI records; a Debian 12 image against one without Debian:12), and
    packages no advisory source covers. `update` is the command that fills a database."""
    from containment.advisories.names import ecosystem_base
    from containment.ecosystems import BY_OSV, BY_TYPE

    held = set(store.ecosystems())
    patterns: dict[str, list[str]] = {}
    missing: dict[str, list[Package]] = {}
    unchecked: dict[str, list[Package]] = {}
    for p, q in queries(inventory, include_dev):
        if q is None:
            unchecked.setdefault(p.type, []).append(p)
        elif not any(e in held for e in _resolve(store, q, patterns)):
            missing.setdefault(q.ecosystems[0], []).append(p)
    gaps = []
    for eco, pkgs in missing.items():
        base = ecosystem_base(eco)
        row = BY_OSV.get(base.lower())
        if row is not None and not row.feed:
            todo = f"OSV publishes no {base} feed: `containment db import` {base} records from another source"
        else:
            todo = f"run `{update} --ecosystem {_quote(base)}`"
        gaps.append(
            Gap(
                NO_ADVISORIES,
                eco,
                f"{eco}: {_some(pkgs)} not checked for vulnerabilities: the advisory database holds no "
                f"{eco} advisories; {todo}",
            )
        )
    for type_, pkgs in unchecked.items():
        e = BY_TYPE.get(type_)
        if e is not None and e.note:
            why = e.note
        elif inventory.os is None:
            why = "the OS could not be identified (no /etc/os-release), so not which advisories apply"
        else:
            why = (
                f"no advisory source covers {inventory.os.name or inventory.os.id} ({inventory.os.distro}); "
                "containment.distros lists the distributions matched"
            )
        gaps.append(Gap(UNSUPPORTED, type_, f"{type_}: {_some(pkgs)} not checked for vulnerabilities: {why}"))
    return gaps


def _some(pkgs: list[Package]) -> str:
    names = list(dict.fromkeys(p.name for p in pkgs))
    shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
    return f"{len(pkgs)} package{'s' if len(pkgs) != 1 else ''} ({shown})"


def _quote(word: str) -> str:
    return f'"{word}"' if any(c.isspace() for c in word) else word


def _merge(
    hits: list[_Hit], advisories: dict[str, Advisory], scores: dict[str, list[CveScore]] | None = None
) -> list[Finding]:
    by_pkg: dict[int, list[_Hit]] = {}
    pkgs: dict[int, Package] = {}
    for h in hits:
        by_pkg.setdefault(id(h.package), []).append(h)
        pkgs[id(h.package)] = h.package
    findings: list[Finding] = []
    for k, group in by_pkg.items():
        p = pkgs[k]
        clusters = _clusters(group, advisories)
        for members in clusters.values():
            findings.append(_finding(p, members, advisories, scores or {}))
    findings.sort(key=lambda f: (SEVERITY_ORDER.get(f.severity, 9), f.package.name, f.id))
    return findings


def _clusters(group: list[_Hit], advisories: dict[str, Advisory]) -> dict[str, list[_Hit]]:
    """Hits grouped so that advisories naming each other (aliases) form one vulnerability."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for h in group:
        adv = advisories.get(h.entry.advisory_id)
        root = find(h.entry.advisory_id)
        for al in adv.aliases if adv else ():
            ra = find(al)
            if ra != root:
                parent[ra] = root
    clusters: dict[str, list[_Hit]] = {}
    for h in group:
        clusters.setdefault(find(h.entry.advisory_id), []).append(h)
    return clusters


def _finding(
    p: Package, members: list[_Hit], advisories: dict[str, Advisory], scores: dict[str, list[CveScore]]
) -> Finding:
    adv_ids = sorted({h.entry.advisory_id for h in members})
    advs = [advisories[i] for i in adv_ids if i in advisories]
    all_ids = set(adv_ids)
    for a in advs:
        all_ids.update(a.aliases)
    primary = _primary(all_ids)
    entries = [h.entry for h in members]
    cvss: list[CVSS] = []
    for a in advs:
        cvss.extend(cvss_of(a))
    cve_ids = sorted((i for i in all_ids if i.startswith("CVE-")), key=lambda i: (i != primary, i))
    fallback = cve_rating(cve_ids, scores) if scores else None
    severity, sev_src = severity_of(p.type in ("deb", "apk", "rpm"), entries, cvss, fallback)
    if fallback is not None and sev_src == fallback.source:
        cvss.append(fallback)  # the score that rated it travels with the finding (source nvd / osv-cve)
    h0 = members[0]
    scheme = scheme_for(h0.ecosystem)
    fixed = sorted({f for h in members for f in h.fixed}, key=lambda v: _safe_key(scheme, v))
    if any(e.status == "wont_fix" for e in entries):
        status = "wont_fix"
    elif fixed:
        status = "fixed"
    else:
        status = "affected"
    title = next((a.summary for a in advs if a.summary), "")
    description = next((a.details for a in advs if a.details), "")
    refs: list[str] = []
    for a in advs:
        refs.extend(r for r in a.references if r not in refs)
    sources = sorted({a.source for a in advs if a.source})
    return Finding(
        id=primary,
        aliases=tuple(sorted(all_ids - {primary})),
        package=p,
        ecosystem=h0.ecosystem,
        installed_version=h0.version or h0.query.version,
        fixed_versions=tuple(fixed),
        status=status,
        severity=severity,
        severity_source=sev_src,
        cvss=tuple(sorted(cvss, key=lambda c: (c.version, c.score), reverse=True)),
        title=title[:300],
        description=description[:4000],
        data_source=",".join(sources),
        advisory_ids=tuple(adv_ids),
        references=tuple(refs[:20]),
        published=min((a.published for a in advs if a.published), default=""),
        modified=max((a.modified for a in advs if a.modified), default=""),
    )
