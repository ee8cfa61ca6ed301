"""What the advisory store holds and hands to the matcher. Knows no image and no report.

An `Affected` is one (advisory, ecosystem, package) triple with the OSV range semantics: a
version is affected when it is listed in `versions`, or falls in any of `ranges` (events
evaluated in version order: introduced opens, fixed/limit close before, last_affected closes
after). Native feeds are turned into the same shape at import:
- Alpine secdb `secfixes`: ecosystem `Alpine:v3.11`, package = origin, one ECOSYSTEM range
  introduced 0 / fixed <version>; version "0" entries (never affected) are not stored.
- Debian Security Tracker JSON: ecosystem `Debian:<major>` (bookworm -> 12), package = source
  package; resolved -> fixed <fixed_version> ("0": not affected, not stored); open -> introduced 0
  with no fix; `status` carries won't-fix (nodsa ignored / unimportant) and `severity` the urgency.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Event:
    kind: str  # introduced | fixed | last_affected | limit
    version: str


@dataclass(frozen=True)
class Range:
    type: str  # ECOSYSTEM | SEMVER | GIT
    events: tuple[Event, ...]


@dataclass(frozen=True)
class Affected:
    advisory_id: str
    ecosystem: str  # as OSV writes it: Debian:12, Alpine:v3.11, PyPI, Go, npm, Maven, ...
    package: str  # name as the advisory writes it (normalized for lookup by the store)
    ranges: tuple[Range, ...] = ()
    versions: tuple[str, ...] = ()
    # distro / database-specific severity for this package, e.g. ("debian", "high") or ("ghsa", "MODERATE")
    severity: tuple[str, str] | None = None
    status: str = ""  # "" (normal) | wont_fix | unfixed (known, no fix planned yet)
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class CveScore:
    """One CVSS vector a CVE record gives (the severity fallback, ``match.severity_of``)."""

    source: str  # who published the record: nvd (NVD's CVE feed) or osv-cve (osv.dev's CVE record)
    rater: str  # who scored it: the NVD metric's source (nvd@nist.gov, a CNA's id or address); "" for OSV
    type: str  # NVD's Primary (NVD's own) or Secondary (a CNA's); "" for OSV
    version: str  # 2.0, 3.0, 3.1, 4.0
    vector: str


@dataclass(frozen=True)
class Advisory:
    id: str
    aliases: tuple[str, ...] = ()
    summary: str = ""
    details: str = ""
    severity: tuple[
        tuple[str, str], ...
    ] = ()  # OSV severity[]: (type, score) e.g. ("CVSS_V3", "CVSS:3.1/AV:N/...")
    published: str = ""
    modified: str = ""
    withdrawn: str = ""
    references: tuple[str, ...] = ()
    source: str = ""  # feed name: osv:PyPI, osv:Go, alpine-secdb, debian-tracker, osv:Debian:12, ...
    database_specific: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
