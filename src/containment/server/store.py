"""The server's store: images by digest, inventories, scans, scores, people and tokens.

`Store.open()` picks the database (SQLite in the data directory by default, or a URL), brings
the schema to head with Alembic and hands out short transactions. Every mutation appends its
audit record (containment.audit.append) in the same transaction as the change, so a change and
its record are stored together or not at all.

Tokens: `ctm_<id>_<secret>`; the store keeps only the SHA-256 of the whole token and finds the row
by its public id, then compares hashes in constant time. Passwords: argon2id (argon2-cffi)."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import ARRAY, Integer, any_, bindparam, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from containment import audit
from containment.model import ContainmentError, Inventory, LayerInfo, OSInfo, Package, ScanReport
from containment.server import db
from containment.server.models import (
    Image,
    ImageRepository,
    InventoryRow,
    PackageRow,
    Repository,
    Scan,
    ScoreRow,
    Tag,
    Token,
    User,
    aware,
    now,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine

ROLES = ("developer", "security", "operations", "auditor", "admin")
SEVERITY_COLUMNS = ("critical", "high", "medium", "low", "unknown")
TOKEN_PREFIX = "ctm_"
MAX_NAME = 128
MAX_SCOPES = 32
MAX_EXPIRES_DAYS = 3650
MAX_COMPONENTS = 200_000
CHECKPOINT_EVERY = 100
_SCOPE = re.compile(r"[a-z][a-z0-9:._*-]{0,63}")
_TOKEN = re.compile(r"ctm_([0-9a-f]{16})_([A-Za-z0-9_-]{43})")
_DIGEST = re.compile(r"sha(256:[0-9a-f]{64}|512:[0-9a-f]{128})")
_REF = re.compile(
    r"(?:docker://|registry:)?"
    r"(?P<repo>[A-Za-z0-9][A-Za-z0-9.-]*(?::[0-9]{1,5})?(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[0-9a-f]{64}))?"
)


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user, their role, and the token used (empty for a session login)."""

    name: str
    role: str
    token_id: str = ""


def _hasher() -> Any:
    from argon2 import PasswordHasher

    return PasswordHasher()  # argon2id, RFC 9106 low-memory profile


def _check_name(name: Any, what: str = "user name") -> str:
    if not isinstance(name, str) or not name or len(name) > MAX_NAME:
        raise ContainmentError(f"{what} must be 1 to {MAX_NAME} characters")
    if name != name.strip() or any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise ContainmentError(f"{what} {name!r}: no control characters or surrounding spaces")
    return name


def _check_role(role: Any) -> str:
    if role not in ROLES:
        raise ContainmentError(f"role {role!r} unknown; use one of {', '.join(ROLES)}")
    return str(role)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def split_reference(ref: str) -> tuple[str, str, str] | None:
    """(repository, tag, digest) of a registry reference, or None when `ref` is not one
    (a directory, an oci:/docker-archive: path, free text). docker.io names are normalised."""
    m = _REF.fullmatch(ref.strip())
    if m is None or ref.startswith((".", "/")):
        return None
    repo = m.group("repo")
    host, _, rest = repo.partition("/")
    if not rest or not ("." in host or ":" in host or host == "localhost"):
        host, rest = "docker.io", repo if rest else f"library/{repo}"
        if "/" not in rest:
            rest = f"library/{rest}"
    if host in ("index.docker.io", "registry-1.docker.io"):
        host = "docker.io"
    if host == "docker.io" and "/" not in rest:
        rest = f"library/{rest}"
    return f"{host.lower()}/{rest}", m.group("tag") or "", m.group("digest") or ""


def stable_digest(obj: Any) -> str:
    raw = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return "sha256:" + hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def _inventory_key(inv: Inventory) -> str:
    d = inv.image_digest.lower()
    if _DIGEST.fullmatch(d) or (d.startswith("sbom:") and _DIGEST.fullmatch(d[5:])):
        return d
    ref = split_reference(inv.target)
    if ref and ref[2]:
        return ref[2]
    if inv.image_id and _DIGEST.fullmatch(inv.image_id):
        return "config:" + inv.image_id  # no manifest digest: the config digest still names the image
    pk = sorted((p.purl, p.name, p.version, p.type, p.layer, p.path) for p in inv.packages)
    return "inventory:" + stable_digest({"os": inv.os.id if inv.os else "", "packages": pk})


def _check_text(what: str, value: Any, limit: int = 65536) -> None:
    if not isinstance(value, str):
        raise ContainmentError(f"{what} must be text, not {type(value).__name__}")
    if "\x00" in value:
        raise ContainmentError(f"{what} holds a NUL character; refusing it")
    if len(value) > limit:
        raise ContainmentError(f"{what} is longer than {limit} characters")


def _check_actor(actor: Any) -> str:
    _check_text("actor", actor, MAX_NAME * 4)
    return str(actor)


def _check_inventory(inv: Inventory) -> None:
    """Text the databases cannot keep verbatim (NUL on PostgreSQL, over-long keys) is refused."""
    _check_text("inventory target", inv.target)
    if inv.os:
        _check_text("os id", inv.os.id, 500)
        _check_text("os version", inv.os.version_id, 500)
    for i, p in enumerate(inv.packages):
        for field_name in ("name", "version", "purl", "path", "source_name", "source_version"):
            _check_text(f"package {i} {field_name}", getattr(p, field_name))
        _check_text(f"package {i} type", p.type, 64)
        _check_text(f"package {i} layer", p.layer, 200)
        _check_text(f"package {i} cataloger", p.cataloger, 500)


def _iso(t: datetime | None) -> str:
    t = aware(t)
    return t.isoformat().replace("+00:00", "Z") if t else ""


class Store:
    """One database, many short transactions; safe to share between threads of one process and
    between processes (several Store objects on one SQLite file, or PostgreSQL)."""

    def __init__(self, engine: Engine, audit_key: audit.AuditKey | None = None) -> None:
        self.engine = engine
        self.audit_key = audit_key  # signs a checkpoint every CHECKPOINT_EVERY audit records
        self._write_engine = engine.execution_options(**{db.IMMEDIATE: True})

    @classmethod
    def open(cls, data_dir: str | os.PathLike[str] | None = None, url: str | None = None) -> Store:
        """Open (creating and migrating as needed) the store: `url` (sqlite:///… or
        postgresql://…), else SQLite in `data_dir` ($CONTAINMENT_DATA, ~/.local/share/containment)."""
        from sqlalchemy.exc import OperationalError

        engine = db.make_engine(db.resolve_url(data_dir, url))
        key_dir = data_dir if data_dir is not None or url else db.default_data_dir()
        try:
            db.upgrade(engine)
            key = audit.load_key(key_dir) if key_dir is not None else None
        except OperationalError as e:
            engine.dispose()
            raise ContainmentError(
                f"cannot open the database {engine.url!r}: {str(e.orig).strip()}"
            ) from None
        except BaseException:
            engine.dispose()
            raise
        store = cls(engine, key)
        if key_dir is not None:
            from containment.server.config import import_legacy

            try:  # registries.json, webhooks.json, signing/cosign.key of a pre-0004 install: once
                import_legacy(store, key_dir)
            except BaseException:
                store.close()
                raise
        return store

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction (SQLite: BEGIN IMMEDIATE, waits for other writers), committed on exit."""
        with Session(self._write_engine, expire_on_commit=False) as s, s.begin():
            yield s

    @contextmanager
    def read(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as s, s.begin():
            yield s

    def _audit(self, s: Session, actor: str, action: str, subject: str, detail: Mapping[str, Any]) -> None:
        """Append the audit record in the caller's transaction (containment.audit owns the trail)."""
        audit.append(
            s, actor, action, subject, dict(detail), key=self.audit_key, checkpoint_every=CHECKPOINT_EVERY
        )

    def record(self, actor: str, action: str, subject: str, detail: dict[str, Any]) -> None:
        """Append an audit record on its own (a decision, a login, ...)."""
        with self.write() as s:
            self._audit(s, actor, action, subject, detail)

    # ------------------------------------------------------------------ people

    def add_user(self, name: str, role: str, password: str | None = None, actor: str = "cli") -> None:
        _check_name(name)
        _check_role(role)
        pw_hash = None
        if password is not None:
            if not isinstance(password, str) or not password or len(password) > 1024 or "\x00" in password:
                raise ContainmentError("password must be 1 to 1024 characters, no NUL")
            pw_hash = _hasher().hash(password)
        try:
            with self.write() as s:
                if s.scalar(select(User.id).where(User.name == name)) is not None:
                    raise ContainmentError(f"user {name!r} exists already")
                s.add(User(name=name, role=role, password_hash=pw_hash))
                s.flush()
                self._audit(s, actor, "user.add", name, {"role": role, "password": pw_hash is not None})
        except IntegrityError:  # another writer added the same name between our check and insert
            raise ContainmentError(f"user {name!r} exists already") from None

    def users(self) -> list[dict[str, Any]]:
        with self.read() as s:
            tokens = dict(
                s.execute(
                    select(Token.user_id, func.count(Token.id))
                    .where(Token.revoked.is_(False))
                    .group_by(Token.user_id)
                ).all()
            )
            return [
                {
                    "name": u.name,
                    "role": u.role,
                    "created": _iso(u.created),
                    "password": u.password_hash is not None,
                    "disabled": u.disabled,
                    "tokens": int(tokens.get(u.id, 0)),
                }
                for u in s.scalars(select(User).order_by(User.name))
            ]

    def create_token(
        self,
        name: str,
        scopes: tuple[str, ...] = (),
        expires_days: int | None = 90,
        actor: str = "cli",
    ) -> str:
        """A new API token for user `name`; the plain token is returned once, only its hash is kept."""
        scopes = tuple(scopes)
        if len(scopes) > MAX_SCOPES or not all(isinstance(x, str) and _SCOPE.fullmatch(x) for x in scopes):
            raise ContainmentError(
                f"scopes must be up to {MAX_SCOPES} words like 'images:read' (a-z, 0-9, ':._*-')"
            )
        if expires_days is not None and (
            isinstance(expires_days, bool) or not isinstance(expires_days, int) or expires_days < 0
        ):
            raise ContainmentError("expiry must be a whole number of days >= 0 (0: expires now)")
        if expires_days is not None and expires_days > MAX_EXPIRES_DAYS:
            raise ContainmentError(f"expiry must be at most {MAX_EXPIRES_DAYS} days")
        token_id = secrets.token_hex(8)
        token = f"{TOKEN_PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
        expires = now() + timedelta(days=expires_days) if expires_days is not None else None
        with self.write() as s:
            user = s.scalar(select(User).where(User.name == name))
            if user is None:
                raise ContainmentError(f"user {name!r} does not exist; add it first (containment user add)")
            s.add(
                Token(
                    id=token_id, user_id=user.id, hash=token_hash(token), scopes=list(scopes), expires=expires
                )
            )
            s.flush()
            self._audit(
                s,
                actor,
                "token.create",
                name,
                {"token_id": token_id, "scopes": list(scopes), "expires": _iso(expires)},
            )
        return token

    def tokens(self, name: str | None = None) -> list[dict[str, Any]]:
        with self.read() as s:
            q = select(Token, User.name).join(User).order_by(Token.created)
            if name is not None:
                q = q.where(User.name == name)
            return [
                {
                    "id": t.id,
                    "user": n,
                    "scopes": list(t.scopes),
                    "created": _iso(t.created),
                    "expires": _iso(t.expires),
                    "revoked": t.revoked,
                }
                for t, n in s.execute(q).all()
            ]

    def revoke_token(self, token_id: str, actor: str = "cli") -> bool:
        """Revoke a token by its id; False when there is no such token."""
        with self.write() as s:
            t = s.get(Token, token_id) if isinstance(token_id, str) and len(token_id) <= 32 else None
            if t is None:
                return False
            t.revoked = True
            self._audit(s, actor, "token.revoke", token_id, {})
            return True

    def authenticate(self, token: str) -> Principal | None:
        """The principal a token stands for; None when malformed, unknown, expired, revoked or disabled."""
        if not isinstance(token, str):
            return None
        m = _TOKEN.fullmatch(token)
        if m is None:
            return None
        digest = token_hash(token)
        with self.read() as s:
            # every API call asks this: plain columns, no ORM objects
            row = s.execute(
                select(
                    Token.id, Token.hash, Token.revoked, Token.expires, User.name, User.role, User.disabled
                )
                .join(User)
                .where(Token.id == m.group(1))
            ).first()
            if row is None:
                hmac.compare_digest(digest, "0" * 64)  # same work for unknown ids
                return None
            if not hmac.compare_digest(digest, row.hash):
                return None
            expires = aware(row.expires)
            if row.revoked or row.disabled or (expires is not None and expires <= now()):
                return None
            return Principal(name=row.name, role=row.role, token_id=row.id)

    def login(self, name: str, password: str) -> Principal | None:
        """A person's session login: argon2 verification; None on any mismatch."""
        from argon2.exceptions import InvalidHashError, VerificationError

        if not isinstance(name, str) or not isinstance(password, str) or len(password) > 1024:
            return None
        with self.read() as s:
            u = s.scalar(select(User).where(User.name == name)) if len(name) <= MAX_NAME else None
            ph = _hasher()
            if u is None or u.password_hash is None or u.disabled:
                # spend the same time as a real check, so names cannot be probed by timing
                with suppress(VerificationError, InvalidHashError):
                    ph.verify(_DUMMY_HASH(), password)
                return None
            try:
                ph.verify(u.password_hash, password)
            except (VerificationError, InvalidHashError):
                return None
            return Principal(name=u.name, role=u.role)

    # ------------------------------------------------------------------ images

    def put_inventory(self, inv: Inventory, source: str, actor: str, refs: Iterable[str] = ()) -> str:
        """Store an inventory under its image digest (once per digest) and remember the
        repositories and tags it was seen under (its target and `refs`). Returns the digest."""
        _check_actor(actor)
        _check_text("source", source, 500)
        with self.write() as s:
            img = self._put_inventory(s, inv, source, refs)
            self._audit(
                s, actor, "inventory.put", img.digest, {"source": source, "packages": len(inv.packages)}
            )
            return img.digest

    def _put_inventory(self, s: Session, inv: Inventory, source: str, refs: Iterable[str]) -> Image:
        _check_inventory(inv)
        key = _inventory_key(inv)
        img = s.scalar(select(Image).where(Image.digest == key))
        if img is None:
            img = Image(digest=key, source=source)
            s.add(img)
        img.last_seen = now()
        if inv.image_id and not img.image_id:
            img.image_id = inv.image_id[:200]
        if inv.os and not img.os:
            img.os = f"{inv.os.id} {inv.os.version_id}".strip()[:500]
        s.flush()
        if s.scalar(select(InventoryRow.id).where(InventoryRow.image_id == img.id)) is None:
            row = InventoryRow(
                image_id=img.id,
                os_id=inv.os.id if inv.os else "",
                os_version=inv.os.version_id if inv.os else "",
                kind=inv.kind[:32],
                target=inv.target,
                layers=[
                    {
                        "index": x.index,
                        "diff_id": x.diff_id,
                        "digest": x.digest,
                        "size": x.size,
                        "created_by": x.created_by,
                    }
                    for x in inv.layers
                ],
                gaps=[{"kind": g.kind, "subject": g.subject, "message": g.message} for g in inv.gaps],
                package_count=len(inv.packages),
            )
            s.add(row)
            s.flush()
            rows = [
                {
                    "inventory_id": row.id,
                    "purl": p.purl,
                    "name": p.name,
                    "version": p.version,
                    "type": p.type[:64],
                    "layer": p.layer[:200],
                    "path": p.path,
                    "source_name": p.source_name,
                    "source_version": p.source_version,
                    "cataloger": p.cataloger[:500],
                }
                for p in inv.packages
            ]
            if rows:
                s.execute(insert(PackageRow), rows)
        for ref in (inv.target, *refs):
            self._see_ref(s, img, ref)
        return img

    def _see_ref(self, s: Session, img: Image, ref: str) -> None:
        parts = split_reference(ref) if isinstance(ref, str) and len(ref) <= 1000 else None
        if parts is None or len(parts[0]) > 500:
            return
        repo_name, tag, _ = parts
        repo = s.scalar(select(Repository).where(Repository.name == repo_name))
        if repo is None:
            repo = Repository(name=repo_name)
            s.add(repo)
            s.flush()
        if repo not in img.repositories:
            img.repositories.append(repo)
        if tag:
            t = s.scalar(select(Tag).where(Tag.repository_id == repo.id, Tag.name == tag))
            if t is None:
                s.add(Tag(repository_id=repo.id, image_id=img.id, name=tag))
            elif t.image_id != img.id:
                t.image_id, t.updated = img.id, now()
        s.flush()

    def put_report(self, report: ScanReport, actor: str, score: Any = None, refs: Iterable[str] = ()) -> str:
        """Store a scan: its inventory (once per digest), the scan's counts and, when given,
        its score (a policy.score.Score, or a mapping with value/grade). Returns the digest."""
        _check_actor(actor)
        counts = _counts(report)
        with self.write() as s:
            img = self._put_inventory(s, report.inventory, "scan", refs)
            vuln = counts["vulnerabilities"]
            scan = Scan(
                image_id=img.id,
                actor=actor,
                scanners=list(report.scanners),
                counts=counts,
                db_built_at=str(report.db.get("built_at", "") or report.db.get("built", ""))[:64],
                complete=report.complete,
                **{k: vuln.get(k, 0) for k in SEVERITY_COLUMNS},
            )
            s.add(scan)
            s.flush()
            if score is not None:
                value, grade, detail = _score(score)
                s.add(ScoreRow(image_id=img.id, scan_id=scan.id, value=value, grade=grade, detail=detail))
            self._audit(s, actor, "scan.put", img.digest, {"scan_id": scan.id, "counts": counts})
            return img.digest

    def put_sbom(self, doc: dict[str, Any], actor: str) -> str:
        """Track a CycloneDX (1.4-1.6) JSON SBOM of a container image, from any tool, as an inventory."""
        _check_actor(actor)
        inv, refs = inventory_from_cyclonedx(doc)
        with self.write() as s:
            img = self._put_inventory(s, inv, "sbom", refs)
            self._audit(
                s, actor, "sbom.put", img.digest, {"packages": len(inv.packages), "target": inv.target}
            )
            return img.digest

    def images(self, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        """One page of images, newest first. Plain column selects, no ORM objects: the list is
        the API's most called read (CI, dashboards), and building ORM instances for images,
        repositories, tags and scans cost most of its time."""
        limit = max(0, min(int(limit), 1000))
        offset = max(0, int(offset))
        with self.read() as s:
            imgs = s.execute(
                select(*_IMAGE_COLUMNS)
                .order_by(Image.last_seen.desc(), Image.id.desc())
                .limit(limit)
                .offset(offset)
            ).all()
            ids = [i.id for i in imgs]
            if not ids:
                return []
            # statements built once (module level, `ids` an expanding parameter): building them
            # and their cache keys per call cost as much as running them
            p = {"ids": ids}
            page = _PAGE["postgresql" if self.engine.dialect.name == "postgresql" else "sqlite"]
            repos: dict[int, list[str]] = {}
            for image_id, name in s.execute(page["repos"], p):
                repos.setdefault(image_id, []).append(name)
            tags: dict[int, list[str]] = {}
            for image_id, repo, tag in s.execute(page["tags"], p):
                tags.setdefault(image_id, []).append(f"{repo}:{tag}")
            pkgs = {x.image_id: x.package_count for x in s.execute(page["packages"], p)}
            last = {x.image_id: x for x in s.execute(page["scans"], p)}
            scores = {x.image_id: x for x in s.execute(page["scores"], p)}
            return [
                self._summary(
                    i,
                    repos.get(i.id, []),
                    tags.get(i.id, []),
                    int(pkgs.get(i.id, 0)),
                    last.get(i.id),
                    scores.get(i.id),
                )
                for i in imgs
            ]

    def count_images(self) -> int:
        with self.read() as s:
            return int(s.scalar(select(func.count(Image.id))) or 0)

    def image(self, digest: str) -> dict[str, Any] | None:
        """One image: its listing entry, inventory, packages and last 50 scans. Plain column
        selects like `images()` (the ORM's relationship loading was most of its 13 ms)."""
        if not isinstance(digest, str) or len(digest) > 200:
            return None
        with self.read() as s:
            img = s.execute(select(*_IMAGE_COLUMNS).where(Image.digest == digest)).first()
            if img is None:
                return None
            repos = list(
                s.scalars(
                    select(Repository.name)
                    .join(ImageRepository, ImageRepository.repository_id == Repository.id)
                    .where(ImageRepository.image_id == img.id)
                )
            )
            tags = [
                f"{repo}:{tag}"
                for repo, tag in s.execute(
                    select(Repository.name, Tag.name)
                    .join(Repository, Repository.id == Tag.repository_id)
                    .where(Tag.image_id == img.id)
                )
            ]
            inv = s.execute(
                select(
                    InventoryRow.id,
                    InventoryRow.os_id,
                    InventoryRow.os_version,
                    InventoryRow.kind,
                    InventoryRow.target,
                    InventoryRow.layers,
                    InventoryRow.gaps,
                ).where(InventoryRow.image_id == img.id)
            ).first()
            cols = ("purl", "name", "version", "type", "layer", "path", "source_name", "source_version")
            # hundreds of packages: plain rows, not ORM objects (most of the page's time otherwise)
            packages = (
                [
                    dict(zip(cols, row, strict=True))
                    for row in s.execute(
                        select(*(getattr(PackageRow, c) for c in cols))
                        .where(PackageRow.inventory_id == inv.id)
                        .order_by(PackageRow.id)
                    )
                ]
                if inv is not None
                else []
            )
            scans = s.execute(
                select(*_SCAN_COLUMNS).where(Scan.image_id == img.id).order_by(Scan.id.desc()).limit(50)
            ).all()
            score = s.execute(
                select(ScoreRow.value, ScoreRow.grade, ScoreRow.created)
                .where(ScoreRow.image_id == img.id)
                .order_by(ScoreRow.id.desc())
                .limit(1)
            ).first()
            out = self._summary(img, repos, tags, len(packages), scans[0] if scans else None, score)
            out["inventory"] = (
                None
                if inv is None
                else {
                    "os": {"id": inv.os_id, "version_id": inv.os_version},
                    "kind": inv.kind,
                    "target": inv.target,
                    "layers": list(inv.layers),
                    "gaps": list(inv.gaps),
                }
            )
            out["packages"] = packages
            out["scans"] = [_scan_json(x) for x in scans]
            return out

    def _last_scores(self, s: Session, ids: list[int]) -> dict[int, ScoreRow]:
        if not ids:
            return {}
        newest = select(func.max(ScoreRow.id)).where(ScoreRow.image_id.in_(ids)).group_by(ScoreRow.image_id)
        return {x.image_id: x for x in s.scalars(select(ScoreRow).where(ScoreRow.id.in_(newest)))}

    @staticmethod
    def _summary(
        img: Any, repos: list[str], tags: list[str], packages: int, scan: Any, score: Any
    ) -> dict[str, Any]:
        """An image's listing entry; `img`, `scan` and `score` are ORM objects or rows with
        their columns' names."""
        return {
            "digest": img.digest,
            "image_id": img.image_id,
            "os": img.os,
            "source": img.source,
            "repositories": sorted(repos),
            "tags": sorted(tags),
            "first_seen": _iso(img.first_seen),
            "last_seen": _iso(img.last_seen),
            "packages": packages,
            "last_scan": _scan_json(scan) if scan else None,
            "score": None
            if score is None
            else {"value": score.value, "grade": score.grade, "at": _iso(score.created)},
        }


_IMAGE_COLUMNS = (
    Image.id,
    Image.digest,
    Image.image_id,
    Image.os,
    Image.source,
    Image.first_seen,
    Image.last_seen,
)
# what _scan_json reads (never `computed`: thousands of findings, the image page's alone)
_SCAN_COLUMNS = (
    Scan.id,
    Scan.created,
    Scan.actor,
    Scan.scanners,
    Scan.counts,
    Scan.db_built_at,
    Scan.complete,
)


# one page of `images()`: what the images whose ids are bound as `ids` carry. SQLite: an
# expanding IN list. PostgreSQL: `= ANY(array)`, one parameter: an IN list of 100 values is a
# query text psycopg parses anew each time (too long for its cache), 2/3 of the page's CPU there.
def _page_statements(ids_in: Callable[[Any], Any]) -> dict[str, Any]:
    return {
        "repos": select(ImageRepository.image_id, Repository.name)
        .join(Repository, Repository.id == ImageRepository.repository_id)
        .where(ids_in(ImageRepository.image_id)),
        "tags": select(Tag.image_id, Repository.name, Tag.name)
        .join(Repository, Repository.id == Tag.repository_id)
        .where(ids_in(Tag.image_id)),
        "packages": select(InventoryRow.image_id, InventoryRow.package_count).where(
            ids_in(InventoryRow.image_id)
        ),
        "scans": select(Scan.image_id, *_SCAN_COLUMNS).where(
            Scan.id.in_(select(func.max(Scan.id)).where(ids_in(Scan.image_id)).group_by(Scan.image_id))
        ),
        "scores": select(ScoreRow.image_id, ScoreRow.value, ScoreRow.grade, ScoreRow.created).where(
            ScoreRow.id.in_(
                select(func.max(ScoreRow.id)).where(ids_in(ScoreRow.image_id)).group_by(ScoreRow.image_id)
            )
        ),
    }


_PAGE = {
    "sqlite": _page_statements(lambda col: col.in_(bindparam("ids", expanding=True))),
    "postgresql": _page_statements(lambda col: col == any_(bindparam("ids", type_=ARRAY(Integer)))),
}


def _scan_json(x: Any) -> dict[str, Any]:
    return {
        "id": x.id,
        "at": _iso(x.created),
        "actor": x.actor,
        "scanners": list(x.scanners),
        # the re-evaluation keeps each image's findings under "computed": the image page reads them,
        # listings must not carry them (thousands of findings per image)
        "counts": {k: v for k, v in dict(x.counts).items() if k != "computed"},
        "db_built_at": x.db_built_at,
        "complete": x.complete,
    }


def _counts(report: ScanReport) -> dict[str, dict[str, int]]:
    def by_severity(items: Iterable[Any]) -> dict[str, int]:
        out = dict.fromkeys(SEVERITY_COLUMNS, 0)
        for it in items:
            sev = str(getattr(it, "severity", "unknown") or "unknown").lower()
            out[sev if sev in out else "unknown"] += 1
        return out

    return {
        "vulnerabilities": by_severity(report.active),
        "misconfigurations": by_severity(report.active_misconfigurations),
        "secrets": by_severity(report.active_secrets),
        "suppressed": {"total": len(report.suppressed)},
    }


def _score(score: Any) -> tuple[float, str, dict[str, Any]]:
    if isinstance(score, int | float) and not isinstance(score, bool):
        return float(score), "", {}
    if isinstance(score, Mapping):
        d = dict(score)
    elif hasattr(score, "to_json"):
        d = score.to_json()
    else:
        raise ContainmentError(f"score: expected a Score, a number or a mapping, not {type(score).__name__}")
    try:
        value = float(d["value"])
    except (KeyError, TypeError, ValueError):
        raise ContainmentError("score: no numeric 'value'") from None
    return value, str(d.get("grade", ""))[:8], d


_dummy: list[str] = []


def _DUMMY_HASH() -> str:  # noqa: N802 - a lazily computed constant
    if not _dummy:
        _dummy.append(_hasher().hash(secrets.token_urlsafe(16)))
    return _dummy[0]


# ---------------------------------------------------------------------- CycloneDX SBOM ingestion

_PROP_LAYER = ("containment:layer:diff_id", "syft:location:0:layerID", "aquasecurity:trivy:LayerDiffID")
_PROP_PATH = ("containment:location:path", "syft:location:0:path", "aquasecurity:trivy:FilePath")


def _bad_sbom(what: str) -> ContainmentError:
    return ContainmentError(f"SBOM: {what}")


def _str_field(obj: Mapping[str, Any], key: str, where: str, limit: int = 4096) -> str:
    v = obj.get(key, "")
    if v is None:
        return ""
    if not isinstance(v, str):
        raise _bad_sbom(f"{where}.{key} must be a string")
    if len(v) > limit:
        raise _bad_sbom(f"{where}.{key} is longer than {limit} characters")
    return v


def _props(comp: Mapping[str, Any], where: str) -> dict[str, str]:
    raw = comp.get("properties") or []
    if not isinstance(raw, list):
        raise _bad_sbom(f"{where}.properties must be a list")
    out: dict[str, str] = {}
    for i, p in enumerate(raw):
        if not isinstance(p, dict):
            raise _bad_sbom(f"{where}.properties[{i}] must be an object")
        name = _str_field(p, "name", f"{where}.properties[{i}]")
        out.setdefault(name, _str_field(p, "value", f"{where}.properties[{i}]", 65536))
    return out


def _walk(comps: Any, where: str, out: list[tuple[str, Mapping[str, Any]]], depth: int = 0) -> None:
    if comps is None:
        return
    if not isinstance(comps, list):
        raise _bad_sbom(f"{where} must be a list")
    if depth > 32:
        raise _bad_sbom(f"{where}: components nest more than 32 levels deep")
    for i, c in enumerate(comps):
        w = f"{where}[{i}]"
        if not isinstance(c, dict):
            raise _bad_sbom(f"{w} must be an object")
        out.append((w, c))
        if len(out) > MAX_COMPONENTS:
            raise _bad_sbom(f"more than {MAX_COMPONENTS} components; refusing it as too large")
        _walk(c.get("components"), f"{w}.components", out, depth + 1)


def _purl_type(purl: str) -> str:
    if purl.lower().startswith("pkg:"):
        return purl[4:].lstrip("/").split("/", 1)[0].lower()[:64]
    return ""


def _container_digest(comp: Mapping[str, Any], props: Mapping[str, str]) -> str:
    from urllib.parse import unquote

    for cand in (
        props.get("containment:image:digest", ""),
        props.get("syft:image:manifestDigest", ""),
        _str_field(comp, "version", "metadata.component"),
    ):
        if _DIGEST.fullmatch(cand.lower()):
            return cand.lower()
    purl = unquote(_str_field(comp, "purl", "metadata.component"))
    at = purl.split("?", 1)[0].rpartition("@")[2].lower()
    if _DIGEST.fullmatch(at):
        return at
    return ""


def inventory_from_cyclonedx(doc: Any) -> tuple[Inventory, list[str]]:
    """An Inventory (and the image references it names) from a CycloneDX JSON SBOM whose
    metadata.component is a container. ContainmentError, saying what is wrong, on anything else."""
    if not isinstance(doc, dict):
        raise _bad_sbom("expected a JSON object")
    if doc.get("bomFormat") != "CycloneDX":
        raise _bad_sbom('not CycloneDX ("bomFormat": "CycloneDX" missing)')
    spec = doc.get("specVersion")
    if not isinstance(spec, str) or spec not in ("1.4", "1.5", "1.6"):
        raise _bad_sbom(f"specVersion {spec!r} unsupported; send CycloneDX 1.4, 1.5 or 1.6 JSON")
    meta = doc.get("metadata")
    comp = meta.get("component") if isinstance(meta, dict) else None
    if not isinstance(comp, dict) or comp.get("type") != "container":
        raise _bad_sbom('metadata.component must describe the image ("type": "container")')
    mprops = _props(comp, "metadata.component")
    name = _str_field(comp, "name", "metadata.component", 1000)
    version = _str_field(comp, "version", "metadata.component", 1000)
    found: list[tuple[str, Mapping[str, Any]]] = []
    _walk(doc.get("components"), "components", found)
    _walk(comp.get("components"), "metadata.component.components", found)
    packages: list[Package] = []
    os_info: OSInfo | None = None
    for where, c in found:
        ctype = _str_field(c, "type", where, 64)
        cname = _str_field(c, "name", where)
        cversion = _str_field(c, "version", where)
        if ctype == "operating-system":
            if os_info is None and cname:
                os_info = OSInfo(id=cname.lower()[:500], version_id=cversion[:500])
            continue
        if ctype not in ("library", "application", "framework", "file", "") or not cname:
            continue
        purl = _str_field(c, "purl", where)
        props = _props(c, where)
        path = next((props[k] for k in _PROP_PATH if props.get(k)), "").lstrip("/")
        layer = next((props[k] for k in _PROP_LAYER if props.get(k)), "")
        packages.append(
            Package(
                name=cname,
                version=cversion,
                type=_purl_type(purl),
                purl=purl,
                path=path,
                cataloger="sbom",
                layer=layer if _DIGEST.fullmatch(layer) else "",
            )
        )
    digest = _container_digest(comp, mprops)
    layers = []
    for k, v in mprops.items():
        if k == "containment:image:layer":
            idx, _, diff = v.partition(" ")
            if idx.isdigit() and _DIGEST.fullmatch(diff):
                layers.append(LayerInfo(index=int(idx), diff_id=diff))
    if not digest:  # no manifest digest: a stable key from what the SBOM says the image holds
        digest = "sbom:" + stable_digest(
            {
                "name": name,
                "version": version,
                "packages": sorted((p.purl, p.name, p.version, p.path) for p in packages),
            }
        )
    # the image's name and tag (syft: name "alpine", version "3.19"; containment: the reference)
    tagged = bool(version) and not _DIGEST.fullmatch(version.lower()) and ":" not in name.rsplit("/", 1)[-1]
    target = f"{name}:{version}" if name and tagged else name
    inv = Inventory(
        target=target or digest,
        kind="image",
        os=os_info,
        packages=tuple(packages),
        layers=tuple(layers),
        image_digest=digest,
    )
    return inv, [target] if target else []
