"""The server's schema: SQLAlchemy 2 typed ORM, the same on SQLite and PostgreSQL.

Alembic migration 0001 (migrations/versions) creates these tables; a change here needs a new
migration. `Base.metadata` is the one metadata object: the audit trail's table is declared on it
too (containment.audit)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from containment import audit


def now() -> datetime:
    return datetime.now(UTC)


def aware(t: datetime | None) -> datetime | None:
    """A timestamp read back from SQLite has no zone: every stored one is UTC."""
    if t is not None and t.tzinfo is None:
        return t.replace(tzinfo=UTC)
    return t


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON, datetime: DateTime(timezone=True)}


metadata = Base.metadata
audit_records = audit.define_table(metadata)  # audit_records + audit_head, owned by containment.audit

DIGEST = 200  # "sha256:" + 64 hex, room for sha512 and SBOM-derived keys
NAME = 512


class ImageRepository(Base):
    """Which repositories an image was seen in (many-to-many, tags or not)."""

    __tablename__ = "image_repositories"
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), primary_key=True)
    repository_id: Mapped[int] = mapped_column(
        ForeignKey("repositories.id", ondelete="CASCADE"), primary_key=True
    )


class Image(Base):
    __tablename__ = "images"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[str] = mapped_column(String(DIGEST), unique=True)  # manifest digest or sbom:sha256:...
    image_id: Mapped[str] = mapped_column(String(DIGEST), default="")  # config digest, when known
    os: Mapped[str] = mapped_column(String(NAME), default="")  # "debian 12"
    source: Mapped[str] = mapped_column(String(NAME), default="")  # scan, sbom, registry, ...
    first_seen: Mapped[datetime] = mapped_column(default=now)
    last_seen: Mapped[datetime] = mapped_column(default=now, index=True)
    repositories: Mapped[list[Repository]] = relationship(
        secondary="image_repositories", back_populates="images"
    )
    tags: Mapped[list[Tag]] = relationship(back_populates="image", cascade="all, delete-orphan")
    inventory: Mapped[InventoryRow | None] = relationship(
        back_populates="image", cascade="all, delete-orphan"
    )


class Repository(Base):
    __tablename__ = "repositories"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME), unique=True)  # registry/path, e.g. 127.0.0.1:5000/app
    images: Mapped[list[Image]] = relationship(secondary="image_repositories", back_populates="repositories")


class Tag(Base):
    """A tag points at one image at a time; moving it repoints the row."""

    __tablename__ = "tags"
    __table_args__ = (UniqueConstraint("repository_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repository_id: Mapped[int] = mapped_column(ForeignKey("repositories.id", ondelete="CASCADE"))
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(NAME))
    updated: Mapped[datetime] = mapped_column(default=now)
    repository: Mapped[Repository] = relationship()
    image: Mapped[Image] = relationship(back_populates="tags")


class InventoryRow(Base):
    """An image's inventory, stored once per digest; its packages are rows (re-evaluation by package)."""

    __tablename__ = "inventories"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), unique=True)
    os_id: Mapped[str] = mapped_column(String(NAME), default="")
    os_version: Mapped[str] = mapped_column(String(NAME), default="")
    kind: Mapped[str] = mapped_column(String(32), default="image")
    target: Mapped[str] = mapped_column(Text, default="")
    layers: Mapped[list[Any]] = mapped_column(default=list)  # [{index, diff_id, digest, size, created_by}]
    gaps: Mapped[list[Any]] = mapped_column(default=list)
    created: Mapped[datetime] = mapped_column(default=now)
    # written with the packages (an inventory never changes): listings read it, not count(*)
    package_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    image: Mapped[Image] = relationship(back_populates="inventory")
    packages: Mapped[list[PackageRow]] = relationship(
        back_populates="inventory", cascade="all, delete-orphan", order_by="PackageRow.id"
    )


class PackageRow(Base):
    __tablename__ = "packages"
    __table_args__ = (Index("ix_packages_type_name", "type", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inventory_id: Mapped[int] = mapped_column(ForeignKey("inventories.id", ondelete="CASCADE"), index=True)
    purl: Mapped[str] = mapped_column(Text, default="")
    name: Mapped[str] = mapped_column(Text)
    version: Mapped[str] = mapped_column(Text, default="")
    type: Mapped[str] = mapped_column(String(64), default="")
    layer: Mapped[str] = mapped_column(String(DIGEST), default="")
    path: Mapped[str] = mapped_column(Text, default="")
    source_name: Mapped[str] = mapped_column(Text, default="")
    source_version: Mapped[str] = mapped_column(Text, default="")
    cataloger: Mapped[str] = mapped_column(String(NAME), default="")
    inventory: Mapped[InventoryRow] = relationship(back_populates="packages")


class Scan(Base):
    __tablename__ = "scans"
    # newest scan per image, and the fleet trend, answered from the index alone
    __table_args__ = (
        Index(
            "ix_scans_image_created",
            "image_id",
            "created",
            "id",
            "critical",
            "high",
            "medium",
            "low",
            "unknown",
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), index=True)
    created: Mapped[datetime] = mapped_column(default=now, index=True)
    actor: Mapped[str] = mapped_column(String(NAME), default="")
    scanners: Mapped[list[Any]] = mapped_column(default=list)
    counts: Mapped[dict[str, Any]] = mapped_column(
        default=dict
    )  # {"vulnerabilities": {"critical": n, ...}, ...}
    critical: Mapped[int] = mapped_column(default=0)
    high: Mapped[int] = mapped_column(default=0)
    medium: Mapped[int] = mapped_column(default=0)
    low: Mapped[int] = mapped_column(default=0)
    unknown: Mapped[int] = mapped_column(default=0)
    db_built_at: Mapped[str] = mapped_column(String(64), default="")
    complete: Mapped[bool] = mapped_column(Boolean, default=True)
    # the re-evaluation's findings ({"db_built_at", "db_updated_at", "findings": [[package row id,
    # vulnerability id, severity, fixable], ...]}): thousands per image, so loaded only when read
    computed: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True, deferred=True)


class ScoreRow(Base):
    __tablename__ = "scores"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), index=True)
    scan_id: Mapped[int | None] = mapped_column(ForeignKey("scans.id", ondelete="SET NULL"), nullable=True)
    created: Mapped[datetime] = mapped_column(default=now)
    value: Mapped[float] = mapped_column(Float)
    grade: Mapped[str] = mapped_column(String(8), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Signature(Base):
    """A signature or attestation seen for an image (verified or not)."""

    __tablename__ = "signatures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # signature | attestation
    predicate_type: Mapped[str] = mapped_column(Text, default="")
    signer: Mapped[str] = mapped_column(Text, default="")  # key id / identity
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    seen: Mapped[datetime] = mapped_column(default=now)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Policy(Base):
    __tablename__ = "policies"
    __table_args__ = (UniqueConstraint("name", "version"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME))
    version: Mapped[int] = mapped_column(default=1)
    stage: Mapped[str] = mapped_column(String(NAME), default="")
    document: Mapped[str] = mapped_column(Text)  # the policy file as given
    created: Mapped[datetime] = mapped_column(default=now)
    created_by: Mapped[str] = mapped_column(String(NAME), default="")
    approved_by: Mapped[str] = mapped_column(String(NAME), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=False)


class PolicyException(Base):
    """An exception to a policy: requested by one person, approved by another."""

    __tablename__ = "exceptions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject: Mapped[str] = mapped_column(Text)  # finding / rule id
    scope: Mapped[str] = mapped_column(Text, default="")  # image digest, repository or "*"
    stage: Mapped[str] = mapped_column(String(NAME), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(32), default="requested")  # requested|approved|rejected|revoked
    requested_by: Mapped[str] = mapped_column(String(NAME))
    decided_by: Mapped[str] = mapped_column(String(NAME), default="")
    created: Mapped[datetime] = mapped_column(default=now)
    decided: Mapped[datetime | None] = mapped_column(nullable=True)
    expires: Mapped[datetime | None] = mapped_column(nullable=True)


class Decision(Base):
    """A gate or admission decision about one image."""

    __tablename__ = "decisions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    image_id: Mapped[int | None] = mapped_column(ForeignKey("images.id", ondelete="SET NULL"), nullable=True)
    digest: Mapped[str] = mapped_column(String(DIGEST), index=True)
    stage: Mapped[str] = mapped_column(String(NAME), default="")
    policy: Mapped[str] = mapped_column(Text, default="")
    allowed: Mapped[bool] = mapped_column(Boolean)
    action: Mapped[str] = mapped_column(String(64), default="")  # none | quarantined | attested | denied
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    actor: Mapped[str] = mapped_column(String(NAME), default="")
    created: Mapped[datetime] = mapped_column(default=now, index=True)


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str | None] = mapped_column(Text, nullable=True)  # argon2id; None: tokens only
    created: Mapped[datetime] = mapped_column(default=now)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    tokens: Mapped[list[Token]] = relationship(back_populates="user", cascade="all, delete-orphan")


class Token(Base):
    """An API token: only its SHA-256 is stored; `id` is the public part named in the token itself."""

    __tablename__ = "tokens"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[Any]] = mapped_column(default=list)
    created: Mapped[datetime] = mapped_column(default=now)
    expires: Mapped[datetime | None] = mapped_column(nullable=True)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    user: Mapped[User] = relationship(back_populates="tokens")


class Job(Base):
    """The durable queue of the embedded worker: dedup by `key` while queued or running."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_state_lease", "state", "lease_until"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(NAME), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[str] = mapped_column(String(16), default="queued")  # queued|running|done|failed
    attempts: Mapped[int] = mapped_column(default=0)
    lease_until: Mapped[datetime | None] = mapped_column(nullable=True)
    not_before: Mapped[datetime | None] = mapped_column(nullable=True)  # retry backoff
    error: Mapped[str] = mapped_column(Text, default="")
    created: Mapped[datetime] = mapped_column(default=now)
    updated: Mapped[datetime] = mapped_column(default=now)


# ---------------------------------------------------------------------- shared configuration
# What every process of a server reads (serve and `containment worker` on any machine):
# server/config.py writes and reads these rows; migration 0004 creates them.


class RegistryRow(Base):
    """A registry the gate watches (`containment registry add`); the shared secret only as SHA-256."""

    __tablename__ = "registries"
    host: Mapped[str] = mapped_column(String(300), primary_key=True)  # HOST or HOST:PORT as pushed to
    secret_sha256: Mapped[str] = mapped_column(String(64))
    policy: Mapped[str] = mapped_column(Text, default="")  # the policy document (YAML) as given
    policy_source: Mapped[str] = mapped_column(Text, default="")
    stage: Mapped[str] = mapped_column(String(NAME), default="")
    plain_http: Mapped[bool] = mapped_column(Boolean, default=False)
    tls_verify: Mapped[bool] = mapped_column(Boolean, default=True)
    quarantine: Mapped[str] = mapped_column(String(NAME), default="quarantine")
    db: Mapped[str] = mapped_column(Text, default="")  # advisory DB path for the scans ("": the default)
    updated: Mapped[datetime] = mapped_column(default=now)
    updated_by: Mapped[str] = mapped_column(String(NAME), default="")


class WebhookRow(Base):
    """Where alerts go (`containment notify add`). The URL is kept whole (a Slack hook's path is
    its token, needed to deliver); it is shown and audited only redacted (server/webhooks.py)."""

    __tablename__ = "webhooks"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # the order they were added in
    url_sha256: Mapped[str] = mapped_column(String(64), unique=True)  # one row per URL, no URL in an index
    url: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(16), default="json")
    stages: Mapped[list[Any]] = mapped_column(default=list)
    headers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created: Mapped[datetime] = mapped_column(default=now)
    created_by: Mapped[str] = mapped_column(String(NAME), default="")


class SigningKeyRow(Base):
    """A server key in cosign's formats: the private key ENCRYPTED as cosign.key holds it (the
    password stays in each process's environment), the public key as cosign.pub."""

    __tablename__ = "signing_keys"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)  # "gate": the registry gate's
    private_pem: Mapped[str] = mapped_column(Text)
    public_pem: Mapped[str] = mapped_column(Text)
    key_id: Mapped[str] = mapped_column(String(64))  # sha256 of the public key's DER
    created: Mapped[datetime] = mapped_column(default=now)
    created_by: Mapped[str] = mapped_column(String(NAME), default="")


class ServerState(Base):
    """Small named values every process must agree on (the advisory version last evaluated, which
    legacy files were imported)."""

    __tablename__ = "server_state"
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")
    updated: Mapped[datetime] = mapped_column(default=now)
