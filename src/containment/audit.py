"""The tamper-evident audit trail: append-only records chained by hash, signed checkpoints, export, verify.

Records
    Every mutation and every gate/admission decision appends one record, inside the caller's own
    transaction (`append`), so a mutation and its record commit or roll back together. A record is a
    JSON object with exactly these keys:

    - ``seq``: 1, 2, 3, ... with no gap (the chain's order);
    - ``time``: when it was appended, UTC, ISO 8601 with microseconds and ``Z``
      (``2026-12-03T05:23:10.123456Z``);
    - ``actor``, ``action``, ``subject``: strings (who, what kind of operation, on what);
    - ``detail``: a JSON object (anything more the operation wants kept);
    - ``prev_hash``: the previous record's ``hash``; the first record's is ``"0" * 64`` (GENESIS);
    - ``hash``: SHA-256, lowercase hex, of the record's canonical form *without* its ``hash`` key.

Canonical form (what is hashed, signed and written, byte for byte)
    ``json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)``
    encoded as UTF-8: keys sorted by code point at every depth, no whitespace between tokens,
    non-ASCII characters written as themselves (not ``\\u`` escapes), control characters,
    ``"`` and ``\\`` escaped as Python's json module escapes them, no NaN/Infinity, integers in
    decimal, floats in Python's shortest round-trip ``repr``. ``canonical()`` is that function.

Checkpoints
    A checkpoint is an ordinary record (action ``audit.checkpoint``, actor ``containment``, subject
    ``audit-trail``) whose detail holds ``head_seq`` and ``head_hash`` (the record before it, i.e. its
    own ``seq - 1`` and ``prev_hash``), the signer's ``public_key`` (PEM, SubjectPublicKeyInfo),
    ``key_id`` (SHA-256 hex of the DER public key) and ``signature``: base64 of an ECDSA P-256 /
    SHA-256 signature (DER) over ``canonical({"purpose": "containment audit checkpoint",
    "head_seq": ..., "head_hash": ...})``. The server's audit key lives in its data directory
    (``audit-key.pem``, PKCS#8, mode 0600, created on first use by `load_key`). `append` writes one
    every ``checkpoint_every`` records when given the key; `checkpoint` writes one on demand.

Concurrency
    The chain's head (last seq and hash) is one row of ``audit_head``. `append` first *updates* that
    row, which takes the row lock on PostgreSQL (a concurrent appender waits, then sees the new head)
    and the database write lock on SQLite, and only then reads it: two writers can never both
    extend the same head. On SQLite the caller's transaction should start with ``BEGIN IMMEDIATE``
    when it reads before it writes (`sqlite_begin_immediate` installs that on an engine), or SQLite
    may refuse the later write with "database is locked".

Export file (JSONL)
    Line 1 is a header: ``{"format": "containment-audit-trail", "version": 1, "head_seq", "head_hash",
    "exported_at", "public_key", "key_id", "signature"}``; the signature (when the exporter had the
    audit key; else the last three are null) is over the canonical header without ``signature``.
    Then one record per line, canonical form, in chain order, each line ending in ``\\n``. The
    export reads the head first and then every record up to it: records are only ever appended and
    a head is committed together with its record, so an export taken while the server writes is a
    consistent prefix of the chain.

Verify
    `verify_file` names the first bad line (1-based): a line that is not the canonical form of a
    record, a hash that does not match, a seq out of order (deleted, inserted, swapped or reordered
    records), a prev_hash that does not link, a checkpoint whose signature does not verify, a cut
    last line, a trail that ends before (or runs past) the header's head. Signatures are checked
    against the key given (pin it: `containment audit public-key`), else against the header's key,
    which only proves the file is unchanged since someone holding *a* key exported it.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from containment.model import ContainmentError

if TYPE_CHECKING:  # sqlalchemy and cryptography are imported where they are used (CLI import cost)
    import sqlalchemy
    from cryptography.hazmat.primitives.asymmetric import ec
    from sqlalchemy.engine import Connection, Engine
    from sqlalchemy.orm import Session

FORMAT = "containment-audit-trail"
VERSION = 1
GENESIS = "0" * 64
CHECKPOINT_ACTION = "audit.checkpoint"
CHECKPOINT_PURPOSE = "containment audit checkpoint"
KEY_FILE = "audit-key.pem"
RECORD_KEYS = frozenset({"seq", "time", "actor", "action", "subject", "detail", "prev_hash", "hash"})
HEADER_KEYS = frozenset(
    {"format", "version", "head_seq", "head_hash", "exported_at", "public_key", "key_id", "signature"}
)
CHECKPOINT_KEYS = frozenset({"head_seq", "head_hash", "public_key", "key_id", "signature"})
MAX_LINE = 16 * 1024 * 1024  # a record line longer than this is refused, not read into memory
_BATCH = 500
_HEX64 = re.compile(r"[0-9a-f]{64}")


class AuditError(ContainmentError):
    """An audit record that cannot be written, a trail or key that cannot be read."""


# --------------------------------------------------------------------------- canonical form


def canonical(obj: Any) -> bytes:
    """The canonical encoding hashed, signed and written (see the module docstring)."""
    try:
        return json.dumps(
            obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode("utf-8")
    except (TypeError, ValueError, UnicodeEncodeError, RecursionError) as e:
        raise AuditError(f"audit record is not plain JSON: {e}") from None


def record_hash(record: dict[str, Any]) -> str:
    """SHA-256 hex of the canonical form of `record` without its ``hash`` key."""
    return hashlib.sha256(canonical({k: v for k, v in record.items() if k != "hash"})).hexdigest()


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --------------------------------------------------------------------------- keys


@dataclass(frozen=True)
class AuditKey:
    """The server's ECDSA P-256 audit key."""

    private_key: ec.EllipticCurvePrivateKey

    @property
    def public_pem(self) -> str:
        from cryptography.hazmat.primitives import serialization

        return (
            self.private_key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode("ascii")
        )

    @property
    def key_id(self) -> str:
        return key_id(self.public_pem.encode("ascii"))

    def sign(self, message: bytes) -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        return base64.b64encode(self.private_key.sign(message, ec.ECDSA(hashes.SHA256()))).decode("ascii")

    @classmethod
    def generate(cls) -> AuditKey:
        from cryptography.hazmat.primitives.asymmetric import ec

        return cls(ec.generate_private_key(ec.SECP256R1()))


def _public_key(pem: bytes) -> Any:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as e:
        raise AuditError(f"not a PEM public key: {e}") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise AuditError("the audit key must be an ECDSA P-256 public key")
    return key


def key_id(public_pem: bytes) -> str:
    """SHA-256 hex of the DER SubjectPublicKeyInfo of a PEM public key."""
    from cryptography.hazmat.primitives import serialization

    der = _public_key(public_pem).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


def signature_ok(public_pem: bytes, message: bytes, signature: str) -> bool:
    """Whether `signature` (base64 DER ECDSA) over `message` verifies with the PEM public key."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        sig = base64.b64decode(signature, validate=True)
        _public_key(public_pem).verify(sig, message, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, binascii.Error, ValueError, AuditError):
        return False
    return True


def load_key(data_dir: str | os.PathLike[str], create: bool = True) -> AuditKey | None:
    """The audit key in `data_dir` (``audit-key.pem``), created (mode 0600) on first use when
    `create`; None when it does not exist and not `create`. A key others may read is refused."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    path = Path(data_dir) / KEY_FILE
    if create and not path.exists():
        key = AuditKey.generate()
        pem = key.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".audit-key.", suffix=".tmp")  # created 0600
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(pem)
                f.flush()
                os.fsync(f.fileno())
            os.link(tmp, path)  # fails if another process created the key first: theirs wins
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    try:
        st = path.stat()
        data = path.read_bytes()
    except FileNotFoundError:
        if create:
            raise
        return None
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise AuditError(f"{path}: the audit key is readable by others; chmod 600 {path}")
    try:
        private = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as e:
        raise AuditError(f"{path}: not an unencrypted PEM private key ({e})") from None
    if not isinstance(private, ec.EllipticCurvePrivateKey) or private.curve.name != "secp256r1":
        raise AuditError(f"{path}: the audit key must be an ECDSA P-256 key")
    return AuditKey(private)


# --------------------------------------------------------------------------- tables


def _tables() -> tuple[sqlalchemy.MetaData, sqlalchemy.Table, sqlalchemy.Table]:
    global _TABLES
    if _TABLES is None:
        import sqlalchemy as sa

        md = sa.MetaData()
        records = sa.Table(
            "audit_records",
            md,
            sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
            sa.Column("time", sa.String(40), nullable=False),
            sa.Column("actor", sa.Text, nullable=False),
            sa.Column("action", sa.Text, nullable=False),
            sa.Column("subject", sa.Text, nullable=False),
            sa.Column("detail", sa.Text, nullable=False),  # the canonical JSON of the detail object
            sa.Column("prev_hash", sa.String(64), nullable=False),
            sa.Column("hash", sa.String(64), nullable=False, unique=True),
        )
        head = sa.Table(
            "audit_head",
            md,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
            sa.Column("seq", sa.BigInteger, nullable=False),
            sa.Column("hash", sa.String(64), nullable=False),
        )
        _TABLES = (md, records, head)
    return _TABLES


_TABLES: tuple[sqlalchemy.MetaData, sqlalchemy.Table, sqlalchemy.Table] | None = None


def define_table(metadata: sqlalchemy.MetaData) -> sqlalchemy.Table:
    """Add ``audit_records`` and ``audit_head`` (the chain's head, one row, the appenders' lock) to
    `metadata`; returns ``audit_records``. Both must be created (create_all / the migration)."""
    _, records, head = _tables()
    head.to_metadata(metadata)
    return records.to_metadata(metadata)


def create_tables(bind: Engine | Connection) -> None:
    """Create the two audit tables on their own (tests, tools that hold no store metadata)."""
    md, _, _ = _tables()
    md.create_all(bind)


def _connection(conn_or_session: Connection | Session) -> Connection:
    from sqlalchemy.orm import Session

    if isinstance(conn_or_session, Session):
        return conn_or_session.connection()
    return conn_or_session


def sqlite_begin_immediate(engine: Engine) -> None:
    """Make every transaction on a pysqlite engine start with BEGIN IMMEDIATE (write lock first),
    the SQLAlchemy-documented way; a no-op on other databases."""
    from sqlalchemy import event

    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _no_pysqlite_begin(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin_immediate(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


# --------------------------------------------------------------------------- append


def _check_text(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise AuditError(f"audit {name} must be a string, not {type(value).__name__}")
    if "\x00" in value:
        raise AuditError(f"audit {name} holds a NUL character")
    return value


def _statements() -> dict[str, Any]:
    """The append path's statements, built once (SQLAlchemy then reuses their compiled form)."""
    global _STATEMENTS
    if _STATEMENTS is None:
        import sqlalchemy as sa

        _, records, head = _tables()
        _STATEMENTS = {
            "lock": sa.update(head).where(head.c.id == 1).values(seq=head.c.seq),
            "read": sa.select(head.c.seq, head.c.hash).where(head.c.id == 1),
            "insert": sa.insert(records),
            "advance": sa.update(head)
            .where(head.c.id == 1)
            .values(seq=sa.bindparam("new_seq"), hash=sa.bindparam("new_hash")),
        }
    return _STATEMENTS


_STATEMENTS: dict[str, Any] | None = None


def _lock_head(conn: Connection) -> tuple[int, str]:
    """Take the head row's lock (creating the row for an empty chain) and read it."""
    _, _, head = _tables()
    stmts = _statements()
    for _ in range(2):
        if conn.execute(stmts["lock"]).rowcount:
            row = conn.execute(stmts["read"]).one()
            return int(row.seq), str(row.hash)
        insert = _insert_ignore(conn, head)
        conn.execute(insert.values(id=1, seq=0, hash=GENESIS))
    raise AuditError("the audit_head row cannot be created")  # pragma: no cover


def _insert_ignore(conn: Connection, table: sqlalchemy.Table) -> Any:
    name = conn.dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing()
    if name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table).on_conflict_do_nothing()
    raise AuditError(f"the audit trail supports SQLite and PostgreSQL, not {name}")


def _append_locked(
    conn: Connection, seq: int, prev: str, actor: str, action: str, subject: str, detail: dict[str, Any]
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "seq": seq,
        "time": _now(),
        "actor": actor,
        "action": action,
        "subject": subject,
        "detail": detail,
        "prev_hash": prev,
    }
    record["hash"] = record_hash(record)
    stmts = _statements()
    conn.execute(
        stmts["insert"],
        {
            "seq": seq,
            "time": record["time"],
            "actor": actor,
            "action": action,
            "subject": subject,
            "detail": canonical(detail).decode("utf-8"),
            "prev_hash": prev,
            "hash": record["hash"],
        },
    )
    conn.execute(stmts["advance"], {"new_seq": seq, "new_hash": record["hash"]})
    return record


def _checkpoint_detail(key: AuditKey, head_seq: int, head_hash: str) -> dict[str, Any]:
    message = canonical({"purpose": CHECKPOINT_PURPOSE, "head_seq": head_seq, "head_hash": head_hash})
    return {
        "head_seq": head_seq,
        "head_hash": head_hash,
        "public_key": key.public_pem,
        "key_id": key.key_id,
        "signature": key.sign(message),
    }


def append(
    conn_or_session: Connection | Session,
    actor: str,
    action: str,
    subject: str,
    detail: dict[str, Any],
    *,
    key: AuditKey | None = None,
    checkpoint_every: int = 100,
) -> dict[str, Any]:
    """Append one record in the caller's transaction and return it (the dict that is hashed, with
    its ``hash``). With `key`, a signed checkpoint record follows whenever the new record's seq is a
    multiple of `checkpoint_every`. Raises AuditError for a detail that is not plain JSON or text
    holding NUL (PostgreSQL cannot store it)."""
    for name, value in (("actor", actor), ("action", action), ("subject", subject)):
        _check_text(name, value)
    if not isinstance(detail, dict):
        raise AuditError(f"audit detail must be a JSON object, not {type(detail).__name__}")
    if action == CHECKPOINT_ACTION:
        raise AuditError(f"{CHECKPOINT_ACTION} records are written by checkpoint() only")
    detail = json.loads(canonical(detail))  # a copy of exactly what is hashed (tuples -> lists, ...)
    conn = _connection(conn_or_session)
    seq, prev = _lock_head(conn)
    record = _append_locked(conn, seq + 1, prev, actor, action, subject, detail)
    if key is not None and checkpoint_every > 0 and record["seq"] % checkpoint_every == 0:
        _append_locked(
            conn,
            record["seq"] + 1,
            record["hash"],
            "containment",
            CHECKPOINT_ACTION,
            "audit-trail",
            _checkpoint_detail(key, record["seq"], record["hash"]),
        )
    return record


def checkpoint(conn_or_session: Connection | Session, key: AuditKey) -> dict[str, Any]:
    """Append a checkpoint over the current head, signed by `key`, in the caller's transaction."""
    conn = _connection(conn_or_session)
    seq, prev = _lock_head(conn)
    return _append_locked(
        conn,
        seq + 1,
        prev,
        "containment",
        CHECKPOINT_ACTION,
        "audit-trail",
        _checkpoint_detail(key, seq, prev),
    )


# --------------------------------------------------------------------------- export


def _rows(conn_or_engine: Engine | Connection | Session) -> tuple[int, str, Iterator[dict[str, Any]]]:
    """The head and an iterator over the records up to it, in chain order, read in batches (each
    batch its own short transaction when given an engine, so writers are not held up)."""
    import sqlalchemy as sa
    from sqlalchemy.engine import Engine

    _, records, head = _tables()

    def run(stmt: Any) -> list[Any]:
        if isinstance(conn_or_engine, Engine):
            with conn_or_engine.connect() as c:
                return list(c.execute(stmt))
        return list(_connection(conn_or_engine).execute(stmt))

    found = run(sa.select(head.c.seq, head.c.hash).where(head.c.id == 1))
    head_seq, head_hash = (int(found[0].seq), str(found[0].hash)) if found else (0, GENESIS)

    def rows() -> Iterator[dict[str, Any]]:
        after = 0
        while after < head_seq:
            batch = run(
                sa.select(records)
                .where(records.c.seq > after, records.c.seq <= head_seq)
                .order_by(records.c.seq)
                .limit(_BATCH)
            )
            if not batch:
                return
            yield from (row_record(r) for r in batch)
            after = int(batch[-1].seq)

    return head_seq, head_hash, rows()


def row_record(r: Any) -> dict[str, Any]:
    """One ``audit_records`` row (all its columns) as the record the export writes: the server's
    audit API answers with the same dicts, so a record reads the same everywhere."""
    try:
        detail = json.loads(r.detail)
    except ValueError:
        detail = r.detail  # a damaged row is exported as it is; verify names it
    return {
        "seq": int(r.seq),
        "time": r.time,
        "actor": r.actor,
        "action": r.action,
        "subject": r.subject,
        "detail": detail,
        "prev_hash": r.prev_hash,
        "hash": r.hash,
    }


def header(head_seq: int, head_hash: str, key: AuditKey | None) -> dict[str, Any]:
    """The export's first line, signed by `key` when given."""
    h: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "head_seq": head_seq,
        "head_hash": head_hash,
        "exported_at": _now(),
        "public_key": key.public_pem if key else None,
        "key_id": key.key_id if key else None,
    }
    h["signature"] = key.sign(canonical(h)) if key else None
    return h


def export(
    conn_or_engine: Engine | Connection | Session, out: BinaryIO | str, key: AuditKey | None = None
) -> int:
    """Write the whole trail as JSONL (header, then one record per line in chain order) to `out` (a
    binary file, or a path written atomically: temp file + rename); returns the number of records.
    Safe while others append: the export is the chain up to the head it read first."""
    head_seq, head_hash, rows = _rows(conn_or_engine)
    if not isinstance(out, str):
        return _write(out, head_seq, head_hash, rows, key)
    target = Path(out)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            n = _write(f, head_seq, head_hash, rows, key)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return n


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _write(
    f: BinaryIO, head_seq: int, head_hash: str, rows: Iterator[dict[str, Any]], key: AuditKey | None
) -> int:
    f.write(canonical(header(head_seq, head_hash, key)) + b"\n")
    n = 0
    for record in rows:
        f.write(canonical(record) + b"\n")
        n += 1
    return n


# --------------------------------------------------------------------------- verify


@dataclass(frozen=True)
class Outcome:
    """A verification's result: `line` is the first bad line (1-based; 0 when ok) and `reason` why.
    `not_a_trail` marks a file that is no audit trail at all (CLI exit 2, not 1)."""

    ok: bool
    line: int
    reason: str
    records: int = 0
    checkpoints: int = 0
    key_id: str | None = None
    head_hash: str | None = None
    not_a_trail: bool = False


class _Bad(Exception):
    def __init__(self, line: int, reason: str, not_a_trail: bool = False) -> None:
        super().__init__(reason)
        self.line, self.reason, self.not_a_trail = line, reason, not_a_trail


def _lines(f: BinaryIO) -> Iterator[tuple[int, bytes]]:
    n = 0
    while True:
        raw = f.readline(MAX_LINE + 1)
        if not raw:
            return
        n += 1
        if len(raw) > MAX_LINE:
            raise _Bad(n, f"line is longer than {MAX_LINE} bytes")
        yield n, raw


def _parse(n: int, raw: bytes, what: str) -> dict[str, Any]:
    if not raw.endswith(b"\n"):
        raise _Bad(n, f"the {what} is cut short (the file ends inside it: truncated)")
    body = raw[:-1]
    try:
        obj = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _Bad(n, f"the {what} is not valid JSON (edited or truncated)") from None
    if not isinstance(obj, dict):
        raise _Bad(n, f"the {what} is not a JSON object")
    try:
        same = canonical(obj) == body
    except AuditError:
        same = False
    if not same:
        raise _Bad(n, f"the {what} is not in canonical form (edited: its bytes are not as written)")
    return obj


def _verify_header(raw: bytes, pinned: bytes | None) -> dict[str, Any]:
    try:
        obj = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        obj = None
    if isinstance(obj, dict) and obj.keys() >= RECORD_KEYS:
        raise _Bad(1, "line 1 is a record, not the trail's header (records removed or reordered)")
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise _Bad(1, f"not a containment audit trail (line 1 is no {FORMAT} header)", not_a_trail=True)
    h = _parse(1, raw, "header")
    if h.get("version") != VERSION:
        raise _Bad(1, f"audit trail version {h.get('version')!r} is not supported (only {VERSION})", True)
    if h.keys() != HEADER_KEYS:
        raise _Bad(1, f"the header's keys are not {sorted(HEADER_KEYS)} (edited)")
    if not _is_int(h["head_seq"]) or h["head_seq"] < 0 or not _is_hash(h["head_hash"]):
        raise _Bad(1, "the header's head_seq/head_hash are malformed (edited)")
    if h["public_key"] is None:
        if h["signature"] is not None or h["key_id"] is not None:
            raise _Bad(1, "the header carries a signature but no public key (edited)")
        if pinned is not None:
            raise _Bad(1, "the header is not signed, but a key was given to check it")
        return h
    if not isinstance(h["public_key"], str) or not isinstance(h["signature"], str):
        raise _Bad(1, "the header's public_key/signature are malformed (edited)")
    header_key = h["public_key"].encode("utf-8")
    try:
        kid = key_id(header_key)
    except AuditError as e:
        raise _Bad(1, f"the header's public key cannot be read ({e})") from None
    if h["key_id"] != kid:
        raise _Bad(1, "the header's key_id does not match its public key (edited)")
    if pinned is not None and kid != key_id(pinned):
        raise _Bad(1, "the header is signed by another key than the one given (re-signed trail)")
    unsigned = {k: v for k, v in h.items() if k != "signature"}
    if not signature_ok(header_key, canonical(unsigned), h["signature"]):
        raise _Bad(1, "the header's signature does not verify (edited or forged header)")
    return h


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_hash(v: Any) -> bool:
    return isinstance(v, str) and _HEX64.fullmatch(v) is not None


def _verify_record(n: int, r: dict[str, Any], seq: int, prev: str) -> None:
    if r.keys() != RECORD_KEYS:
        missing, extra = sorted(RECORD_KEYS - r.keys()), sorted(r.keys() - RECORD_KEYS)
        raise _Bad(n, f"not an audit record (missing {missing}, unexpected {extra})")
    if not _is_int(r["seq"]) or not all(
        isinstance(r[k], str) for k in ("time", "actor", "action", "subject")
    ):
        raise _Bad(n, "a field has the wrong type (edited)")
    if not isinstance(r["detail"], dict) or not _is_hash(r["prev_hash"]) or not _is_hash(r["hash"]):
        raise _Bad(n, "detail, prev_hash or hash is malformed (edited)")
    if record_hash(r) != r["hash"]:
        raise _Bad(n, f"record seq {r['seq']}: its hash does not match its content (edited)")
    if r["seq"] != seq + 1:
        if r["seq"] > seq + 1:
            why = f"record seq {r['seq']} follows seq {seq}: {r['seq'] - seq - 1} record(s) missing or moved"
        else:
            why = f"record seq {r['seq']} follows seq {seq}: inserted, duplicated or reordered"
        raise _Bad(n, why)
    if r["prev_hash"] != prev:
        raise _Bad(n, f"record seq {r['seq']}: prev_hash does not match the previous record's hash")


def _verify_checkpoint(n: int, r: dict[str, Any], trusted: bytes | None) -> str:
    d = r["detail"]
    if d.keys() != CHECKPOINT_KEYS:
        raise _Bad(n, "checkpoint detail is malformed")
    if d["head_seq"] != r["seq"] - 1 or d["head_hash"] != r["prev_hash"]:
        raise _Bad(n, "checkpoint covers another head than the record before it")
    if not isinstance(d["public_key"], str) or not isinstance(d["signature"], str):
        raise _Bad(n, "checkpoint public_key/signature are malformed")
    pem = d["public_key"].encode("utf-8")
    try:
        kid = key_id(pem)
    except AuditError as e:
        raise _Bad(n, f"checkpoint public key cannot be read ({e})") from None
    if d["key_id"] != kid:
        raise _Bad(n, "checkpoint key_id does not match its public key")
    if trusted is not None and kid != key_id(trusted):
        raise _Bad(n, "checkpoint is signed by another key than the trail's (forged checkpoint)")
    message = canonical(
        {"purpose": CHECKPOINT_PURPOSE, "head_seq": d["head_seq"], "head_hash": d["head_hash"]}
    )
    if not signature_ok(pem, message, d["signature"]):
        raise _Bad(n, "checkpoint signature does not verify (forged checkpoint)")
    return kid


def verify_stream(f: BinaryIO, public_key_pem: bytes | None = None) -> Outcome:
    """Verify an exported trail read from a binary file (see the module docstring)."""
    if public_key_pem is not None:
        key_id(public_key_pem)  # AuditError for a key that is no P-256 public key
    seq, prev, checkpoints, kid = 0, GENESIS, 0, None
    try:
        lines = _lines(f)
        first = next(lines, None)
        if first is None:
            raise _Bad(1, "empty file: not a containment audit trail", not_a_trail=True)
        h = _verify_header(first[1], public_key_pem)
        trusted = public_key_pem or (h["public_key"].encode("utf-8") if h["public_key"] else None)
        kid = h["key_id"]
        n = 1
        for n, raw in lines:
            r = _parse(n, raw, "record")
            _verify_record(n, r, seq, prev)
            if r["seq"] > h["head_seq"]:
                raise _Bad(
                    n, f"record seq {r['seq']} lies past the header's head (seq {h['head_seq']}): appended"
                )
            if r["action"] == CHECKPOINT_ACTION and r["actor"] == "containment":
                kid = _verify_checkpoint(n, r, trusted)
                trusted = trusted or _checkpoint_key(r)
                checkpoints += 1
            seq, prev = r["seq"], r["hash"]
        if seq != h["head_seq"]:
            raise _Bad(
                n + 1, f"the trail ends at seq {seq} but its header's head is seq {h['head_seq']} (removed)"
            )
        if prev != h["head_hash"]:
            raise _Bad(n, "the last record's hash is not the header's head_hash")
    except _Bad as bad:
        return Outcome(False, bad.line, bad.reason, seq, checkpoints, kid, prev, bad.not_a_trail)
    return Outcome(True, 0, "intact", seq, checkpoints, kid, prev)


def _checkpoint_key(record: dict[str, Any]) -> bytes:
    """The public key a checkpoint record carries (PEM bytes)."""
    return str(record["detail"]["public_key"]).encode("utf-8")


def verify_file(path: str, public_key_pem: bytes | None = None) -> Outcome:
    """Verify an exported trail file; `public_key_pem` pins the key its signatures must verify with
    (else the header's key, or the first checkpoint's when the header is unsigned)."""
    with open(path, "rb") as f:
        return verify_stream(f, public_key_pem)
