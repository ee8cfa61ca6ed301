"""What a feed parser hands the importer: `Unit`s of rows, and a `Sink` for warnings.

A unit is the piece of a feed that is replaced as a whole on re-import:
- an OSV record (feed "osv", key = record id);
- an Alpine secdb file (feed "alpine-secdb", key = "Alpine:v3.11/main");
- a Debian Security Tracker file (feed "debian-tracker", key = "debian-tracker");
- an NVD CVE (feed "nvd", key = CVE id): no advisory and no affected rows, only CVSS rows.
Its digest lets a re-import of unchanged data write nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

# (id, source, modified, withdrawn, doc)
AdvisoryRow = tuple[str, str, str, int, bytes]
# (advisory_id, ecosystem, package lookup key, withdrawn, doc)
AffectedRow = tuple[str, str, str, int, bytes]
# (cve, source, rater, type, version, vector): see advisories.types.CveScore
CvssRow = tuple[str, str, str, str, str, str]

MAX_WARNINGS = 1000


@dataclass(slots=True)
class Unit:
    feed: str
    key: str
    source: str
    advisories: list[AdvisoryRow]
    affected: list[AffectedRow]
    records: int  # input records this unit holds (OSV record / (package, CVE) pairs)
    origin: str = ""  # the path or URL the user named
    digest: bytes = b""
    cvss: list[CvssRow] = field(default_factory=list)

    def seal(self) -> Unit:
        h = hashlib.blake2b(digest_size=16)
        for a in self.advisories:
            h.update(a[0].encode())
            h.update(a[4])
        for r in self.affected:
            h.update(r[1].encode())
            h.update(b"\0")
            h.update(r[4])
        for c in self.cvss:
            h.update("\0".join(c).encode())
            h.update(b"\1")
        self.digest = h.digest()
        return self


class Malformed(Exception):
    """A record field that cannot be used; the record is skipped with a warning."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass
class Sink:
    warnings: list[str] = field(default_factory=list)
    dropped: int = 0  # warnings beyond MAX_WARNINGS
    skipped: int = 0  # records skipped

    def warn(self, message: str) -> None:
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(message)
        else:
            self.dropped += 1

    def skip(self, where: str, what: str, message: str) -> None:
        self.skipped += 1
        self.warn(f"{where}: {what}: {message}; skipped")
