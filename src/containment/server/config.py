"""What every process of a server shares, kept in its database: the gate's signing key, small
state values, a lock across machines, and the one-time import of the files that held them.

Why the database: `containment worker --broker URL --database URL` on another machine runs
every job kind (registry push, registry-sync, reevaluate, notify) and has no copy of the
server's data directory. So the registries (registry_gate.load_registries), the webhooks
(webhooks.load), the gate's signing key (`signing_key`) and the advisory version last evaluated
(`EVALUATED`) are rows (models.py, migration 0004); every change of them is audited in the
transaction that makes it.

The signing key is stored as cosign.key holds it: ENCRYPTED (cosign's scrypt + secretbox); its
password stays in each process's environment (CONTAINMENT_KEY_PASSWORD / COSIGN_PASSWORD), so the
database alone cannot sign.

Legacy files: `import_legacy` runs when a store is opened with a data directory (Store.open):
`registries.json`, `webhooks.json` and `signing/cosign.key` (+ `cosign.pub`) found there are
imported once per database, each only when the database holds none of its kind yet; a
`server_state` row `imported:FILE` remembers it, so a registry removed later is not brought back
by the file, which is then no longer read (and may be deleted).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from containment.model import ContainmentError
from containment.server.models import RegistryRow, ServerState, SigningKeyRow, WebhookRow, now

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from containment.server.store import Store

log = logging.getLogger("containment.server.config")

GATE_KEY = "gate"  # the registry gate's attestation key
EVALUATED = "advisory.evaluated"  # the advisory DB version the stored findings were computed against
LEGACY_KEY_DIR = "signing"
_LOCAL = threading.Lock()  # `exclusive` on an in-memory SQLite: one process, threads only


# ---------------------------------------------------------------------- state


def get_state(store: Store, key: str) -> str | None:
    with store.read() as s:
        return s.scalar(select(ServerState.value).where(ServerState.key == key))


def set_state(s: Session, key: str, value: str) -> None:
    """Set `key` in the caller's write transaction."""
    row = s.get(ServerState, key)
    if row is None:
        s.add(ServerState(key=key, value=value))
    else:
        row.value, row.updated = value, now()
    s.flush()


@contextlib.contextmanager
def exclusive(store: Store, name: str) -> Iterator[None]:
    """Hold the lock `name` across threads, processes and machines while the block runs.

    PostgreSQL: a session advisory lock on a connection of its own (released by the server when
    the holder dies: a killed worker never leaves it held). SQLite: an flock on a file beside
    the database (every process of one SQLite file is on one machine)."""
    engine = store.engine
    if engine.dialect.name == "postgresql":
        k = int.from_bytes(hashlib.sha256(f"containment:{name}".encode()).digest()[:8], "big", signed=True)
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": k})
            conn.commit()  # the lock is the session's: no transaction stays open while it is held
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": k})
                conn.commit()
        return
    database = engine.url.database
    if not database or database == ":memory:":
        with _LOCAL:
            yield
        return
    from containment.server.db import file_lock

    with file_lock(f"{database}.{name}.lock"):
        yield


# ---------------------------------------------------------------------- the signing key


@dataclass(frozen=True)
class StoredKey:
    private_pem: bytes  # cosign's ENCRYPTED format
    public_pem: bytes
    key_id: str


def signing_key(store: Store, name: str = GATE_KEY) -> StoredKey | None:
    with store.read() as s:
        row = s.get(SigningKeyRow, name)
        if row is None:
            return None
        return StoredKey(row.private_pem.encode("ascii"), row.public_pem.encode("ascii"), row.key_id)


def set_signing_key(
    store: Store,
    private_pem: bytes,
    password: bytes,
    public_pem: bytes | None = None,
    actor: str = "cli",
    name: str = GATE_KEY,
    where: str = "key",
) -> StoredKey:
    """Store (or replace) the key `name`: `private_pem` must decrypt with `password` (the one the
    server and its workers get from their environment), so a key no process could use is refused;
    `public_pem`, when given, must be its public key."""
    from containment.supplychain import keys

    priv = keys.parse_private(private_pem, password, where)  # KeyFileError: one line naming `where`
    derived = keys.public_pem(priv.public_key())
    if public_pem is not None:
        pub = keys.parse_public(public_pem, f"{where} (public)")
        if keys.key_id(pub) != keys.key_id(priv.public_key()):
            raise ContainmentError(f"{where}: the public key given is not this private key's")
    got = StoredKey(private_pem.strip() + b"\n", derived, keys.key_id(priv.public_key()))
    with store.write() as s:
        _put_key(s, name, got, actor)
        store._audit(s, actor, "signing_key.set", name, {"key_id": got.key_id})
    return got


def _put_key(s: Session, name: str, key: StoredKey, actor: str) -> None:
    row = s.get(SigningKeyRow, name)
    if row is None:
        row = SigningKeyRow(name=name)
        s.add(row)
    row.private_pem = key.private_pem.decode("ascii")
    row.public_pem = key.public_pem.decode("ascii")
    row.key_id = key.key_id
    row.created, row.created_by = now(), actor
    s.flush()


def remove_signing_key(store: Store, actor: str = "cli", name: str = GATE_KEY) -> bool:
    with store.write() as s:
        row = s.get(SigningKeyRow, name)
        if row is None:
            return False
        key_id = row.key_id
        s.delete(row)
        store._audit(s, actor, "signing_key.remove", name, {"key_id": key_id})
    return True


# ---------------------------------------------------------------------- legacy files


def import_legacy(store: Store, data_dir: str | os.PathLike[str]) -> list[str]:
    """Import the data directory's registries.json, webhooks.json and signing/cosign.key once
    (see the module's doc); the files imported now. A file that cannot be read or parsed is
    logged and left for the next open (the server runs without it, as before with a bad file)."""
    from containment.server import registry_gate, webhooks

    d = Path(data_dir)
    sources = [
        (registry_gate.CONFIG_FILE, RegistryRow, _import_registries),
        (webhooks.CONFIG_FILE, WebhookRow, _import_webhooks),
        (f"{LEGACY_KEY_DIR}/cosign.key", SigningKeyRow, _import_key),
    ]
    present = [(f, m, fn) for f, m, fn in sources if (d / f).is_file()]
    if not present:
        return []
    done: list[str] = []
    for file, model, fn in present:
        marker = f"imported:{file}"
        if get_state(store, marker) is not None:
            continue
        try:
            with store.write() as s:
                if s.get(ServerState, marker) is not None:  # another process, meanwhile
                    continue
                s.add(ServerState(key=marker, value=str((d / file).resolve())))
                s.flush()  # PostgreSQL: a second importer waits here, then fails on the key
                if s.scalar(select(func.count()).select_from(model)):
                    continue  # configured in the database already: the file is not read again
                fn(store, s, d / file)
            done.append(file)
            log.info("legacy configuration imported", extra={"file": str(d / file)})
        except IntegrityError:
            continue
        except ContainmentError as e:
            log.warning("legacy configuration not imported", extra={"file": str(d / file), "detail": str(e)})
    return done


def _import_registries(store: Store, s: Session, path: Path) -> None:
    from containment.server import registry_gate

    for cfg in registry_gate.read_legacy(path).values():
        registry_gate.put_registry(store, s, cfg, f"import:{path.name}")


def _import_webhooks(store: Store, s: Session, path: Path) -> None:
    from containment.server import webhooks

    for hook in webhooks.read_legacy(path):
        webhooks.put(store, s, hook, f"import:{path.name}")


def _import_key(store: Store, s: Session, path: Path) -> None:
    from containment.supplychain import keys

    private = path.read_bytes()
    pub_path = path.with_suffix(".pub")
    if pub_path.is_file():
        pub = keys.parse_public(pub_path.read_bytes(), str(pub_path))
    else:  # no cosign.pub beside it: the key itself says, with the password the server uses
        pub = keys.parse_private(private, keys.password_from_env(), str(path)).public_key()
    key = StoredKey(private.strip() + b"\n", keys.public_pem(pub), keys.key_id(pub))
    actor = f"import:{LEGACY_KEY_DIR}/{path.name}"
    _put_key(s, GATE_KEY, key, actor)
    store._audit(s, actor, "signing_key.set", GATE_KEY, {"key_id": key.key_id, "from": str(path)})
