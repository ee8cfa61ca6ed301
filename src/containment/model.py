"""Frozen data shared by every stage. Imports nothing of the project but the ecosystem table."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from containment import ecosystems as _eco


class ContainmentError(Exception):
    """Bad input or environment. The message names the input and what to do; CLI exit code 2."""


class ImageError(ContainmentError):
    """An image, layer, manifest or registry answer that cannot be used."""


class CatalogError(ContainmentError):
    """A package database or lockfile that cannot be read, or read only in part: `packages`
    holds what was read before the failure (kept, and the result marked incomplete)."""

    def __init__(self, message: str, packages: tuple[Package, ...] | list[Package] = ()) -> None:
        super().__init__(message)
        self.packages = tuple(packages)


# Package types are purl types (https://github.com/package-url/purl-spec); facts about each
# ecosystem (OSV name, version scheme, name rule) live in one table: containment.ecosystems.
OS_TYPES = _eco.OS_TYPES

# purl type -> OSV ecosystem name for language packages (derived from the one table).
ECOSYSTEMS: Mapping[str, str] = {e.purl_type: e.osv for e in _eco.LANGUAGES if e.osv}


@dataclass(frozen=True)
class Package:
    """One installed or locked package.

    `path` is where it was found, relative to the image/filesystem root, no leading slash
    (for a dpkg package: `var/lib/dpkg/status`). `layer` is the diff_id of the layer that
    introduced it (filled when layers are squashed; empty for a plain directory).
    `purl` is set by the cataloger without distro qualifiers; the inventory adds
    `distro=` for OS packages once the OS is known.
    """

    name: str
    version: str
    type: str  # purl type: deb, apk, rpm, pypi, npm, golang, maven, gem, ...
    purl: str
    path: str
    cataloger: str  # which cataloger found it, e.g. "dpkg-status", "npm-package-lock"
    source_name: str = ""  # source / origin package (deb Source, apk origin, rpm SOURCERPM name)
    source_version: str = ""
    licenses: tuple[str, ...] = ()
    dev: bool = False  # a development-only dependency (marked, never dropped)
    layer: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def with_layer(self, layer: str) -> Package:
        return replace(self, layer=layer)

    @property
    def ecosystem(self) -> str:
        return ECOSYSTEMS.get(self.type, self.type)

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "name": self.name,
            "version": self.version,
            "type": self.type,
            "purl": self.purl,
            "path": self.path,
            "cataloger": self.cataloger,
        }
        if self.source_name:
            d["source_name"] = self.source_name
        if self.source_version:
            d["source_version"] = self.source_version
        if self.licenses:
            d["licenses"] = list(self.licenses)
        if self.dev:
            d["dev"] = True
        if self.layer:
            d["layer"] = self.layer
        if self.extra:
            d["extra"] = dict(self.extra)
        return d

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Package:
        return cls(
            name=d["name"],
            version=d["version"],
            type=d["type"],
            purl=d["purl"],
            path=d["path"],
            cataloger=d["cataloger"],
            source_name=d.get("source_name", ""),
            source_version=d.get("source_version", ""),
            licenses=tuple(d.get("licenses", ())),
            dev=bool(d.get("dev", False)),
            layer=d.get("layer", ""),
            extra=d.get("extra", {}),
        )


@dataclass(frozen=True)
class OSInfo:
    """The distribution an image is built on (from os-release and friends)."""

    id: str  # debian, alpine, ubuntu, rhel, ...
    version_id: str  # 12, 3.19.1, ...
    name: str = ""
    version_codename: str = ""
    id_like: tuple[str, ...] = ()

    @property
    def distro(self) -> str:
        """purl `distro` qualifier, as syft/trivy write it: debian-12, alpine-3.19.1."""
        return f"{self.id}-{self.version_id}" if self.version_id else self.id

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "version_id": self.version_id,
            "name": self.name,
            "version_codename": self.version_codename,
            "id_like": list(self.id_like),
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> OSInfo:
        return cls(
            id=d["id"],
            version_id=d.get("version_id", ""),
            name=d.get("name", ""),
            version_codename=d.get("version_codename", ""),
            id_like=tuple(d.get("id_like", ())),
        )


@dataclass(frozen=True)
class LayerInfo:
    """One layer of an image, bottom first."""

    index: int
    diff_id: str  # sha256:... of the uncompressed tar ("" for a rootfs directory)
    digest: str = ""  # sha256:... of the blob as stored/transferred
    media_type: str = ""
    size: int = 0
    created_by: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "diff_id": self.diff_id,
            "digest": self.digest,
            "media_type": self.media_type,
            "size": self.size,
            "created_by": self.created_by,
        }


# Gap kinds: why a result may not be whole.
UNREADABLE = "unreadable"  # a package database, lockfile or directory that exists but was not read
NO_ADVISORIES = "no-advisories"  # packages of an ecosystem the advisory database holds nothing for
UNSUPPORTED = "unsupported"  # packages no advisory source covers (OSV publishes nothing for them)


@dataclass(frozen=True)
class Gap:
    """Something a result does not cover, so that it may look clean and not be: a package
    database that exists but could not be read or parsed (its packages are missing), packages
    no advisory in the database could match. A result with gaps is incomplete; every format
    says so, and each gap's message is also one of the result's warnings."""

    kind: str  # UNREADABLE | NO_ADVISORIES | UNSUPPORTED
    subject: str  # a path in the target (no leading slash), or an ecosystem
    message: str  # one line: what is missing and what to do about it

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "subject": self.subject, "message": self.message}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Gap:
        return cls(str(d["kind"]), str(d["subject"]), str(d["message"]))


@dataclass(frozen=True)
class Inventory:
    """What an image or filesystem holds after squashing its layers."""

    target: str  # the reference the user gave
    kind: str  # "image" or "filesystem"
    os: OSInfo | None
    packages: tuple[Package, ...]
    layers: tuple[LayerInfo, ...] = ()
    image_digest: str = ""  # manifest digest, when known
    image_id: str = ""  # config digest, when known
    config: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)
    warnings: tuple[str, ...] = ()
    gaps: tuple[Gap, ...] = ()  # what could not be read: the packages may not be all (see Gap)
    # what the other analyzer groups found in the walk (containment.analyzers), squashed
    secrets: tuple[SecretFinding, ...] = ()
    configs: tuple[ConfigDoc, ...] = ()
    files: tuple[FileFact, ...] = ()
    groups: tuple[str, ...] = ("packages",)  # which analyzer groups walked it

    @property
    def complete(self) -> bool:
        return not self.gaps


# ---------------------------------------------------------------------------- findings

SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "NEGLIGIBLE", "UNKNOWN")


class FeedError(ContainmentError):
    """An advisory feed, database or mirror that cannot be used."""


class DownloadError(FeedError):
    """The advisory download failed (network unreachable, timeout, an HTTP error, a download cut
    short or damaged): not the user's input, so the CLI exits 3, not 2 (retrying may help)."""


class PolicyError(ContainmentError):
    """An ignore file, VEX document or policy that cannot be read."""


@dataclass(frozen=True)
class CVSS:
    version: str  # "2.0", "3.0", "3.1", "4.0"
    vector: str
    score: float
    source: str = ""  # who scored it: nvd, ghsa, debian, the OSV record

    def to_json(self) -> dict[str, Any]:
        return {"version": self.version, "vector": self.vector, "score": self.score, "source": self.source}


@dataclass(frozen=True)
class Suppression:
    kind: str  # "ignorefile" or "vex"
    reason: str  # the entry's reason / VEX status notes
    source: str  # the file it came from
    justification: str = ""  # VEX justification (e.g. vulnerable_code_not_in_execute_path)
    expires: str = ""  # ISO date of an ignorefile entry

    def to_json(self) -> dict[str, Any]:
        d = {"kind": self.kind, "reason": self.reason, "source": self.source}
        if self.justification:
            d["justification"] = self.justification
        if self.expires:
            d["expires"] = self.expires
        return d

    @classmethod
    def from_json(cls, d: Mapping[str, Any] | None) -> Suppression | None:
        if not d:
            return None
        return cls(
            str(d.get("kind", "")),
            str(d.get("reason", "")),
            str(d.get("source", "")),
            str(d.get("justification", "")),
            str(d.get("expires", "")),
        )


@dataclass(frozen=True)
class Finding:
    """One vulnerability in one package (all aliases of the vulnerability merged)."""

    id: str  # the primary id: CVE when there is one, else GHSA, else the advisory's own
    aliases: tuple[str, ...]  # every other id it is known by (GHSA, PYSEC, GO, DSA, ...)
    package: Package
    ecosystem: str  # the advisory ecosystem it matched in: Debian:12, Alpine:v3.11, PyPI, Go
    installed_version: str  # the version compared (source version for OS packages)
    fixed_versions: tuple[str, ...]  # versions that fix it, nearest first; empty when unfixed
    status: str  # fixed | affected (no fix yet) | wont_fix
    severity: str  # one of SEVERITIES
    severity_source: str  # debian, alpine, ghsa, cvss_v3, cvss_v4, osv, ...
    cvss: tuple[CVSS, ...] = ()
    title: str = ""
    description: str = ""
    data_source: str = ""  # which feed: osv:PyPI, alpine-secdb, debian-tracker, ...
    advisory_ids: tuple[str, ...] = ()  # the advisory records merged into this finding
    references: tuple[str, ...] = ()
    published: str = ""
    modified: str = ""
    suppressed: Suppression | None = None

    @property
    def layer(self) -> str:
        return self.package.layer

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "id": self.id,
            "aliases": list(self.aliases),
            "package": self.package.to_json(),
            "ecosystem": self.ecosystem,
            "installed_version": self.installed_version,
            "fixed_versions": list(self.fixed_versions),
            "status": self.status,
            "severity": self.severity,
            "severity_source": self.severity_source,
            "cvss": [c.to_json() for c in self.cvss],
            "title": self.title,
            "description": self.description,
            "data_source": self.data_source,
            "advisory_ids": list(self.advisory_ids),
            "references": list(self.references),
            "published": self.published,
            "modified": self.modified,
            "layer": self.layer,
            "suppressed": self.suppressed.to_json() if self.suppressed else None,
        }
        return d


# ---------------------------------------------------------------------------- checks

CHECK_KINDS = ("dockerfile", "image", "kubernetes", "compose", "secret", "policy")


class ConfigError(ContainmentError):
    """A Dockerfile, manifest, compose file, rule or policy that cannot be read."""


@dataclass(frozen=True)
class Rule:
    """One check: a stable id (CTM-DF-007), what it checks and why, and the ids peers give it.

    `aliases` are the equivalent ids of other tools (hadolint DL3007/SC2046, CIS Docker 4.1,
    Checkov CKV_K8S_20 / CKV_DOCKER_3, Pod Security Standards control names such as
    "pss:baseline:privileged"), so a user moving from a peer finds their rule."""

    id: str
    title: str
    severity: str  # one of SEVERITIES
    kind: str  # one of CHECK_KINDS
    rationale: str = ""
    remediation: str = ""
    aliases: tuple[str, ...] = ()
    references: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "severity": self.severity,
            "kind": self.kind,
            "rationale": self.rationale,
            "remediation": self.remediation,
            "aliases": list(self.aliases),
            "references": list(self.references),
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Rule:
        return cls(
            id=str(d["id"]),
            title=str(d.get("title", "")),
            severity=str(d.get("severity", "UNKNOWN")),
            kind=str(d.get("kind", "")),
            rationale=str(d.get("rationale", "")),
            remediation=str(d.get("remediation", "")),
            aliases=tuple(d.get("aliases", ())),
            references=tuple(d.get("references", ())),
        )


@dataclass(frozen=True)
class Location:
    """Where a check fired: a file of the target (no leading slash) and 1-based lines, or a
    part of the image config ("image config: ENV DB_PASSWORD", path ""). `layer` is the diff_id
    of the layer the file (or history entry) came from, in images."""

    path: str = ""
    start_line: int = 0
    end_line: int = 0
    layer: str = ""
    field: str = ""  # image config part or manifest field: "Env[2]", "spec.containers[0].securityContext"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Location:
        return cls(
            str(d.get("path", "")),
            int(d.get("start_line", 0)),
            int(d.get("end_line", 0)),
            str(d.get("layer", "")),
            str(d.get("field", "")),
        )


@dataclass(frozen=True)
class Misconfiguration:
    """One rule that failed on one resource (a Dockerfile instruction, a container of a
    workload, a compose service, the image config) - built-in or from a user's Rego policy."""

    rule: Rule
    message: str  # what is wrong here, naming the resource ("container app runs as root")
    location: Location
    resource: str = ""  # "Deployment/web", "service web", "stage build", "image config"
    source: str = "builtin"  # "builtin", or "rego:<policy file>"
    level: str = "deny"  # deny (fails) or warn (Conftest's warn rules)
    suppressed: Suppression | None = None

    @property
    def severity(self) -> str:
        return self.rule.severity

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule.to_json(),
            "message": self.message,
            "location": self.location.to_json(),
            "resource": self.resource,
            "source": self.source,
            "level": self.level,
            "suppressed": self.suppressed.to_json() if self.suppressed else None,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Misconfiguration:
        return cls(
            Rule.from_json(d["rule"]),
            str(d.get("message", "")),
            Location.from_json(d.get("location", {})),
            str(d.get("resource", "")),
            str(d.get("source", "builtin")),
            str(d.get("level", "deny")),
            Suppression.from_json(d.get("suppressed")),
        )


@dataclass(frozen=True)
class SecretFinding:
    """One credential found in a file, the image config or history. `match` is already masked
    (never the secret itself: reports, caches and logs only ever hold the masked form).
    `removed_in`: the diff_id of a later layer that deleted or replaced the file - the secret
    is still in the image, in the layer `location.layer`."""

    rule: Rule
    match: str  # masked: "AKIA************4NXM", "password=********"
    location: Location
    removed_in: str = ""
    suppressed: Suppression | None = None

    @property
    def severity(self) -> str:
        return self.rule.severity

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule.to_json(),
            "match": self.match,
            "location": self.location.to_json(),
            "removed_in": self.removed_in,
            "suppressed": self.suppressed.to_json() if self.suppressed else None,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> SecretFinding:
        return cls(
            Rule.from_json(d["rule"]),
            str(d.get("match", "")),
            Location.from_json(d.get("location", {})),
            str(d.get("removed_in", "")),
            Suppression.from_json(d.get("suppressed")),
        )


@dataclass(frozen=True)
class ConfigDoc:
    """A configuration file the walk found and parsed (Dockerfile, Kubernetes manifest, Compose
    file): what the checks and users' Rego policies read. `inputs` are the Rego `input`
    documents (one per Dockerfile, one per Kubernetes object, one per Compose file), plain
    JSON; `meta` is the parser's own side data (line numbers by field path), also JSON."""

    path: str  # in the target, no leading slash
    kind: str  # dockerfile | kubernetes | compose
    inputs: tuple[Any, ...]
    meta: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)
    layer: str = ""
    error: str = ""  # set when the file could not be parsed: one line naming the cause

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "inputs": list(self.inputs),
            "meta": dict(self.meta),
            "layer": self.layer,
            "error": self.error,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> ConfigDoc:
        return cls(
            str(d["path"]),
            str(d["kind"]),
            tuple(d.get("inputs", ())),
            dict(d.get("meta", {})),
            str(d.get("layer", "")),
            str(d.get("error", "")),
        )


@dataclass(frozen=True)
class FileFact:
    """A file-system fact the image hygiene checks need, from the walk's metadata alone:
    `what` is setuid, setgid, world-writable (a directory without the sticky bit), tool (a
    debugging / remote-access binary such as sshd, gdb, nc) or cache (package manager cache
    content); `mode` the st_mode bits."""

    path: str
    what: str
    mode: int = 0
    size: int = 0
    layer: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> FileFact:
        return cls(
            str(d["path"]),
            str(d["what"]),
            int(d.get("mode", 0)),
            int(d.get("size", 0)),
            str(d.get("layer", "")),
        )


@dataclass(frozen=True)
class Workload:
    """A Kubernetes workload the config scanner read, and the strictest Pod Security Standards
    profile it meets (restricted, baseline or privileged: the one a namespace may enforce)."""

    resource: str  # "Deployment/web"
    location: Location
    pss_level: str

    def to_json(self) -> dict[str, Any]:
        return {"resource": self.resource, "location": self.location.to_json(), "pss_level": self.pss_level}


SCANNERS = ("vuln", "secret", "config")  # --scanners; license/policy come later


@dataclass(frozen=True)
class ScanReport:
    """What a scan found: the inventory, the findings (suppressed ones kept, marked) and notes."""

    inventory: Inventory
    findings: tuple[Finding, ...]
    db: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)  # DB status at scan time
    warnings: tuple[str, ...] = ()
    gaps: tuple[Gap, ...] = ()  # beyond the inventory's: packages no advisory could match
    misconfigurations: tuple[Misconfiguration, ...] = ()
    secrets: tuple[SecretFinding, ...] = ()
    scanners: tuple[str, ...] = ("vuln",)  # which kinds were looked for (an empty kind means clean)
    workloads: tuple[Workload, ...] = ()  # config scanner: Kubernetes workloads and their PSS level

    @property
    def vulnerabilities(self) -> tuple[Finding, ...]:
        return self.findings

    @property
    def all_gaps(self) -> tuple[Gap, ...]:
        return (*self.inventory.gaps, *self.gaps)

    @property
    def complete(self) -> bool:
        return not self.all_gaps

    @property
    def active(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.suppressed is None)

    @property
    def suppressed(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.suppressed is not None)

    @property
    def active_misconfigurations(self) -> tuple[Misconfiguration, ...]:
        return tuple(m for m in self.misconfigurations if m.suppressed is None)

    @property
    def active_secrets(self) -> tuple[SecretFinding, ...]:
        return tuple(s for s in self.secrets if s.suppressed is None)
