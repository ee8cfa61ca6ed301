"""The server's store on SQLite and PostgreSQL: migrations, people, tokens, images, SBOMs, audit."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import inspect, select, text, update

from containment import audit
from containment.model import (
    ContainmentError,
    Finding,
    Inventory,
    LayerInfo,
    OSInfo,
    Package,
    ScanReport,
)
from containment.report.cyclonedx import to_cyclonedx
from containment.server import db
from containment.server.models import Token, User, metadata, now
from containment.server.store import (
    ROLES,
    Principal,
    Store,
    inventory_from_cyclonedx,
    split_reference,
    token_hash,
)
from tests.unit.server.pg import PgCluster, pg_cluster, pg_url  # noqa: F401

HEAD = db.head_revision()

INJECTIONS = [
    "Robert'); DROP TABLE users;--",
    "' OR '1'='1",
    '" OR ""="',
    "1; DELETE FROM images WHERE 1=1; --",
    "%' UNION SELECT hash FROM tokens --",
    "<script>alert(1)</script>",
    "\\'; SELECT pg_sleep(10); --",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ünïcödé ‮",
    "$(rm -rf /) `id` {{7*7}} ${jndi:ldap://x}",
]
D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64


def pkg(
    name: str,
    version: str = "1.0",
    type: str = "deb",  # noqa: A002 - Package's own field name
    purl: str = "",
    path: str = "var/lib/dpkg/status",
    cataloger: str = "dpkg-status",
    layer: str = "",
    source_name: str = "",
    source_version: str = "",
) -> Package:
    return Package(
        name=name,
        version=version,
        type=type,
        purl=purl or f"pkg:{type}/debian/{name}@{version}",
        path=path,
        cataloger=cataloger,
        layer=layer,
        source_name=source_name,
        source_version=source_version,
    )


def inventory(
    target: str = "127.0.0.1:5000/app:1", digest: str = D1, packages: tuple[Package, ...] = ()
) -> Inventory:
    return Inventory(
        target=target,
        kind="image",
        os=OSInfo("debian", "12"),
        packages=packages or (pkg("openssl", "3.0.11-1", layer="sha256:" + "a" * 64), pkg("zlib", "1.2.13")),
        layers=(LayerInfo(index=0, diff_id="sha256:" + "a" * 64),),
        image_digest=digest,
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Store]]:
    """Opens Store objects on one database (SQLite in a data dir, or a fresh PostgreSQL database)."""
    opened: list[Store] = []
    if request.param == "sqlite":

        def open_() -> Store:
            opened.append(Store.open(data_dir=tmp_path / "data"))
            return opened[-1]
    else:
        url = request.getfixturevalue("pg_url")

        def open_() -> Store:
            opened.append(Store.open(url=url, data_dir=tmp_path / "data"))
            return opened[-1]

    yield open_
    for s in opened:
        s.close()


@pytest.fixture
def store(opener: Callable[[], Store]) -> Store:
    return opener()


def audit_actions(store: Store) -> list[tuple[str, str, str]]:
    with store.engine.connect() as c:
        rows = c.execute(text("SELECT actor, action, subject FROM audit_records ORDER BY seq")).all()
    return [(a, b, s) for a, b, s in rows if b != audit.CHECKPOINT_ACTION]


# ------------------------------------------------------------------ migrations


def test_migrations_from_empty_create_every_table_at_head(opener: Callable[[], Store]) -> None:
    store = opener()
    assert db.current_revision(store.engine) == HEAD
    tables = set(inspect(store.engine).get_table_names())
    assert set(metadata.tables) <= tables
    for t in (
        "images",
        "repositories",
        "tags",
        "inventories",
        "packages",
        "scans",
        "scores",
        "signatures",
        "policies",
        "exceptions",
        "decisions",
        "users",
        "tokens",
        "jobs",
        "audit_records",
        "audit_head",
    ):
        assert t in tables
    store.add_user("alice", "security")
    again = opener()  # re-opening runs the (no-op) upgrade and keeps the data
    assert [u["name"] for u in again.users()] == ["alice"]


def test_migration_matches_the_models(opener: Callable[[], Store]) -> None:
    """The schema migration 0001 builds is exactly what models.py declares (no forgotten migration)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    store = opener()
    with store.engine.connect() as c:
        diff = compare_metadata(MigrationContext.configure(c), metadata)
    assert diff == []


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migration_0002_moves_the_reevaluations_findings_out_of_counts(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """A store written at 0001 (findings under counts["computed"]) upgraded in place: the
    findings move to scans.computed, the counts stay, a downgrade puts them back."""
    from alembic import command
    from sqlalchemy.orm import Session

    from containment.server.models import Scan

    url = f"sqlite:///{tmp_path / 'old.db'}" if backend == "sqlite" else request.getfixturevalue("pg_url")
    engine = db.make_engine(db.resolve_url(url=url))
    cfg = db.migrations_config()
    findings = {"db_built_at": "2026-12-01", "findings": [[1, "CVE-2024-1", "high", True]]}
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0001")
            conn.execute(
                text(
                    "INSERT INTO images (digest, image_id, os, source, first_seen, last_seen) "
                    "VALUES ('sha256:' || :h, '', '', 'scan', :t, :t)"
                ),
                {"h": "e" * 64, "t": "2026-12-01"},
            )
            img = conn.execute(text("SELECT id FROM images")).scalar()
            for counts in ({"vulnerabilities": {"high": 1}, "computed": findings}, {"vulnerabilities": {}}):
                conn.execute(
                    text(
                        "INSERT INTO scans (image_id, created, actor, scanners, counts, critical, high, medium,"
                        " low, unknown, db_built_at, complete) VALUES (:i, :t, 'reevaluate', '[]', :c,"
                        " 0, 1, 0, 0, 0, '', :y)"
                    ),
                    {"i": img, "t": "2026-12-01", "c": json.dumps(counts), "y": True},
                )
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0002")
        assert db.current_revision(engine) == "0002"
        with Session(engine) as s:
            got = [(x.counts, x.computed) for x in s.scalars(select(Scan).order_by(Scan.id))]
        assert got == [({"vulnerabilities": {"high": 1}}, findings), ({"vulnerabilities": {}}, None)]
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0001")
            back = [
                json.loads(c) if isinstance(c, str) else c
                for (c,) in conn.execute(text("SELECT counts FROM scans ORDER BY id"))
            ]
        assert back[0] == {"vulnerabilities": {"high": 1}, "computed": findings}
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migration_0003_counts_the_packages_of_stored_inventories(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """Inventories stored before 0003 get their package count; new ones are written with it."""
    from alembic import command

    url = f"sqlite:///{tmp_path / 'old.db'}" if backend == "sqlite" else request.getfixturevalue("pg_url")
    engine = db.make_engine(db.resolve_url(url=url))
    cfg = db.migrations_config()
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0002")
            for n, h in ((3, "a"), (0, "b")):
                conn.execute(
                    text(
                        "INSERT INTO images (digest, image_id, os, source, first_seen, last_seen) "
                        "VALUES ('sha256:' || :h, '', '', 'scan', :t, :t)"
                    ),
                    {"h": h * 64, "t": "2026-12-01"},
                )
                img = conn.execute(text("SELECT max(id) FROM images")).scalar()
                conn.execute(
                    text(
                        "INSERT INTO inventories (image_id, os_id, os_version, kind, target, layers, gaps, created)"
                        " VALUES (:i, '', '', 'image', '', '[]', '[]', :t)"
                    ),
                    {"i": img, "t": "2026-12-01"},
                )
                inv = conn.execute(text("SELECT max(id) FROM inventories")).scalar()
                for k in range(n):
                    conn.execute(
                        text(
                            "INSERT INTO packages (inventory_id, purl, name, version, type, layer, path,"
                            " source_name, source_version, cataloger) VALUES (:v, '', :n, '1', 'deb', '',"
                            " '', '', '', '')"
                        ),
                        {"v": inv, "n": f"p{k}"},
                    )
        db.upgrade(engine)
        assert db.current_revision(engine) == HEAD
        with engine.connect() as c:
            got = c.execute(text("SELECT package_count FROM inventories ORDER BY id")).scalars().all()
        assert got == [3, 0]
    finally:
        engine.dispose()


def test_concurrent_first_opens_migrate_once(tmp_path: Path) -> None:
    errors: list[BaseException] = []
    stores: list[Store] = []

    def go() -> None:
        try:
            stores.append(Store.open(data_dir=tmp_path))
        except BaseException as e:  # pragma: no cover - the failure the test looks for
            errors.append(e)

    threads = [threading.Thread(target=go) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert all(db.current_revision(s.engine) == HEAD for s in stores)
    for s in stores:
        s.close()


def test_bad_database_url_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ContainmentError, match="unsupported database"):
        Store.open(url="mysql://x/y")
    with pytest.raises(ContainmentError, match="not a database URL"):
        Store.open(url="::not a url::")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ContainmentError, match="data directory|not a directory"):
        Store.open(data_dir=tmp_path / "file")


def test_sqlite_is_in_wal_mode_with_a_busy_timeout(tmp_path: Path) -> None:
    with Store.open(data_dir=tmp_path) as s, s.engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert c.exec_driver_sql("PRAGMA busy_timeout").scalar() == db.BUSY_TIMEOUT_MS
    assert (tmp_path / db.DB_FILE).exists()


def test_default_data_dir_is_containment_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTAINMENT_DATA", str(tmp_path / "d"))
    with Store.open() as s:
        s.add_user("x", "developer")
    assert (tmp_path / "d" / db.DB_FILE).exists()
    assert (tmp_path / "d" / audit.KEY_FILE).exists()


# ------------------------------------------------------------------ people


def test_users_roles_and_duplicates(store: Store) -> None:
    for i, role in enumerate(ROLES):
        store.add_user(f"user{i}", role)
    assert [(u["name"], u["role"]) for u in store.users()] == [(f"user{i}", r) for i, r in enumerate(ROLES)]
    with pytest.raises(ContainmentError, match="exists already"):
        store.add_user("user0", "admin")
    with pytest.raises(ContainmentError, match="role 'root' unknown"):
        store.add_user("eve", "root")
    for bad in ("", " padded", "tab\there", "nul\x00", "x" * 129):
        with pytest.raises(ContainmentError):
            store.add_user(bad, "developer")
    assert len(store.users()) == len(ROLES)


def test_passwords_are_argon2id_and_login_verifies(store: Store) -> None:
    store.add_user("alice", "security", password="correct horse")
    store.add_user("bob", "developer")  # tokens only
    with store.read() as s:
        stored = s.scalar(select(User.password_hash).where(User.name == "alice"))
    assert stored is not None and stored.startswith("$argon2id$") and "correct horse" not in stored
    assert store.login("alice", "correct horse") == Principal("alice", "security")
    assert store.login("alice", "correct hors") is None
    assert store.login("alice", "") is None
    assert store.login("bob", "") is None
    assert store.login("nobody", "correct horse") is None


def test_tokens_are_hashed_and_authenticate(store: Store) -> None:
    store.add_user("ci", "developer")
    token = store.create_token("ci", scopes=("images:write",))
    assert token.startswith("ctm_")
    p = store.authenticate(token)
    assert p is not None and (p.name, p.role) == ("ci", "developer") and p.token_id
    with store.read() as s:
        row = s.scalar(select(Token))
    assert row is not None and row.hash == token_hash(token) == hashlib.sha256(token.encode()).hexdigest()
    assert row.scopes == ["images:write"]
    secret = token.split("_", 2)[2]  # ctm_<id>_<secret>: the secret itself may hold "_"
    with store.engine.connect() as c:  # the plain token is nowhere in the database
        for t in ("tokens", "audit_records", "users"):
            for r in c.execute(text(f"SELECT * FROM {t}")).all():  # noqa: S608 - fixed table names
                assert secret not in json.dumps([str(x) for x in r])
    assert store.tokens("ci")[0]["id"] == p.token_id


def test_forged_expired_revoked_tokens_are_refused(store: Store) -> None:
    store.add_user("ci", "developer")
    token = store.create_token("ci")
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert store.authenticate(forged) is None
    other_id = "ctm_" + "0" * 16 + token[20:]
    assert store.authenticate(other_id) is None
    assert store.authenticate("") is None
    assert store.authenticate(token + " ") is None
    assert store.authenticate(token) is not None
    # expired: 0 days lives until now; a 90-day token whose expiry passed
    assert store.authenticate(store.create_token("ci", expires_days=0)) is None
    old = store.create_token("ci", expires_days=90)
    with store.write() as s:
        s.execute(
            update(Token).where(Token.hash == token_hash(old)).values(expires=now() - timedelta(seconds=1))
        )
    assert store.authenticate(old) is None
    forever = store.create_token("ci", expires_days=None)
    assert store.authenticate(forever) is not None
    # revoked
    pid = store.authenticate(token)
    assert pid is not None
    assert store.revoke_token(pid.token_id) is True
    assert store.authenticate(token) is None
    assert store.revoke_token("nope") is False
    # bad parameters
    with pytest.raises(ContainmentError, match="does not exist"):
        store.create_token("ghost")
    for bad_scopes in (("UPPER",), ("a b",), ("x",) * 33):
        with pytest.raises(ContainmentError, match="scopes"):
            store.create_token("ci", scopes=bad_scopes)
    with pytest.raises(ContainmentError, match="expiry"):
        store.create_token("ci", expires_days=-1)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=120))
def test_authenticate_never_raises_on_any_string(tmp_path_factory: pytest.TempPathFactory, s: str) -> None:
    global _FUZZ_STORE
    if _FUZZ_STORE is None:
        _FUZZ_STORE = Store.open(data_dir=tmp_path_factory.mktemp("fuzz"))
        _FUZZ_STORE.add_user("u", "auditor")
    assert _FUZZ_STORE.authenticate(s) is None
    assert _FUZZ_STORE.authenticate("ctm_" + "a" * 16 + "_" + s) is None


_FUZZ_STORE: Store | None = None


# ------------------------------------------------------------------ images


def test_inventory_is_stored_once_per_digest_with_repositories_and_tags(store: Store) -> None:
    inv = inventory()
    assert store.put_inventory(inv, "scan", "ci") == D1
    assert store.put_inventory(inv, "scan", "ci") == D1
    store.put_inventory(
        inventory(target="docker.io/library/app:latest"), "registry", "ci", refs=["app:stable"]
    )
    with store.engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM packages")).scalar() == 2
        assert c.execute(text("SELECT count(*) FROM inventories")).scalar() == 1
    [entry] = store.images()
    assert entry["digest"] == D1
    assert entry["repositories"] == ["127.0.0.1:5000/app", "docker.io/library/app"]
    assert entry["tags"] == [
        "127.0.0.1:5000/app:1",
        "docker.io/library/app:latest",
        "docker.io/library/app:stable",
    ]
    assert entry["packages"] == 2 and entry["os"] == "debian 12"
    detail = store.image(D1)
    assert detail is not None
    openssl = next(p for p in detail["packages"] if p["name"] == "openssl")
    assert openssl == {
        "purl": "pkg:deb/debian/openssl@3.0.11-1",
        "name": "openssl",
        "version": "3.0.11-1",
        "type": "deb",
        "layer": "sha256:" + "a" * 64,
        "path": "var/lib/dpkg/status",
        "source_name": "",
        "source_version": "",
    }
    assert detail["inventory"]["layers"][0]["diff_id"] == "sha256:" + "a" * 64
    # a tag moves to the new image it points at
    store.put_inventory(inventory(target="127.0.0.1:5000/app:1", digest=D2), "scan", "ci")
    by = {e["digest"]: e for e in store.images()}
    assert "127.0.0.1:5000/app:1" in by[D2]["tags"] and "127.0.0.1:5000/app:1" not in by[D1]["tags"]
    assert by[D1]["repositories"] == by[D2]["repositories"][:1] + ["docker.io/library/app"]
    assert store.image("sha256:" + "f" * 64) is None


def test_images_paginate(store: Store) -> None:
    for i in range(7):
        store.put_inventory(inventory(digest=f"sha256:{i:064x}", target=f"r/app{i}:1"), "scan", "ci")
    first, rest = store.images(limit=3), store.images(limit=10, offset=3)
    assert len(first) == 3 and len(rest) == 4
    assert {e["digest"] for e in first + rest} == {f"sha256:{i:064x}" for i in range(7)}
    assert store.count_images() == 7


def test_reports_store_counts_and_score(store: Store) -> None:
    inv = inventory()
    f = Finding(
        id="CVE-2024-1",
        aliases=(),
        package=inv.packages[0],
        ecosystem="Debian:12",
        installed_version="3.0.11-1",
        fixed_versions=("3.0.13-1",),
        status="fixed",
        severity="high",
        severity_source="debian",
    )
    report = ScanReport(inventory=inv, findings=(f, f), db={"built_at": "2026-12-01T00:00:00Z"})
    assert store.put_report(report, "ci", score={"value": 42, "grade": "C"}) == D1
    entry = store.images()[0]
    assert entry["last_scan"]["counts"]["vulnerabilities"]["high"] == 2
    assert entry["last_scan"]["db_built_at"] == "2026-12-01T00:00:00Z"
    assert entry["score"]["value"] == 42 and entry["score"]["grade"] == "C"
    store.put_report(ScanReport(inventory=inv, findings=()), "ci", score=7)
    detail = store.image(D1)
    assert detail is not None and len(detail["scans"]) == 2
    assert detail["last_scan"]["counts"]["vulnerabilities"]["high"] == 0 and detail["score"]["value"] == 7
    with store.engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM packages")).scalar() == 2  # still once per digest


@pytest.mark.parametrize("bad", INJECTIONS)
def test_injection_strings_are_stored_verbatim(store: Store, bad: str) -> None:
    store.add_user(bad, "developer", password=bad)
    assert store.login(bad, bad) == Principal(bad, "developer")
    token = store.create_token(bad)
    assert store.authenticate(token) == Principal(bad, "developer", token.split("_")[1])
    inv = inventory(
        target=bad,
        packages=(
            pkg(bad, bad, purl=bad, path=bad, source_name=bad, source_version=bad, cataloger=bad, type="deb"),
        ),
    )
    digest = store.put_inventory(inv, bad, bad)
    store.put_report(ScanReport(inventory=inv, findings=()), bad)
    detail = store.image(digest)
    assert detail is not None
    [p] = detail["packages"]
    assert {p[k] for k in ("name", "version", "purl", "path", "source_name", "source_version")} == {bad}
    assert detail["inventory"]["target"] == bad and detail["source"] == bad
    assert detail["scans"][0]["actor"] == bad
    assert [u["name"] for u in store.users()] == [bad]
    assert (bad, "inventory.put", digest) in audit_actions(store)
    with store.engine.connect() as c:  # every table is still there
        assert c.execute(text("SELECT count(*) FROM users")).scalar() == 1


def test_text_a_database_cannot_keep_is_refused_and_nothing_stored(store: Store) -> None:
    with pytest.raises(ContainmentError, match="NUL"):
        store.put_inventory(inventory(packages=(pkg("a\x00b"),)), "scan", "ci")
    with pytest.raises(ContainmentError, match="NUL"):
        store.put_inventory(inventory(), "scan", "ci\x00")
    assert store.images() == []
    assert audit_actions(store) == []


# ------------------------------------------------------------------ SBOMs


def test_sbom_from_containment_is_tracked_as_an_inventory(store: Store) -> None:
    doc = to_cyclonedx(inventory())
    doc["specVersion"] = "1.6"
    assert store.put_sbom(doc, "ci") == D1
    entry = store.images()[0]
    assert entry["source"] == "sbom" and entry["packages"] == 2 and entry["tags"] == ["127.0.0.1:5000/app:1"]
    detail = store.image(D1)
    assert detail is not None
    assert {p["purl"] for p in detail["packages"]} == {
        "pkg:deb/debian/openssl@3.0.11-1",
        "pkg:deb/debian/zlib@1.2.13",
    }
    assert next(p for p in detail["packages"] if p["name"] == "openssl")["layer"] == "sha256:" + "a" * 64
    assert ("ci", "sbom.put", D1) in audit_actions(store)


def test_sbom_from_syft_without_a_digest_gets_a_stable_key(store: Store) -> None:
    doc = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "metadata": {"component": {"type": "container", "name": "alpine", "version": "3.19"}},
        "components": [
            {"type": "operating-system", "name": "alpine", "version": "3.19.1"},
            {
                "type": "library",
                "name": "musl",
                "version": "1.2.4-r2",
                "purl": "pkg:apk/alpine/musl@1.2.4-r2?distro=alpine-3.19.1",
                "properties": [{"name": "syft:location:0:path", "value": "/lib/apk/db/installed"}],
            },
        ],
    }
    key = store.put_sbom(doc, "ci")
    assert key.startswith("sbom:sha256:") and store.put_sbom(doc, "ci") == key
    [entry] = store.images()
    assert entry["tags"] == ["docker.io/library/alpine:3.19"] and entry["os"] == "alpine 3.19.1"
    detail = store.image(key)
    assert detail is not None
    assert detail["packages"][0]["path"] == "lib/apk/db/installed" and detail["packages"][0]["type"] == "apk"


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([], "JSON object"),
        ({"bomFormat": "SPDX"}, "not CycloneDX"),
        ({"bomFormat": "CycloneDX", "specVersion": "1.2"}, "specVersion"),
        ({"bomFormat": "CycloneDX", "specVersion": "1.6", "metadata": {}}, "container"),
        (
            {
                "bomFormat": "CycloneDX",
                "specVersion": "1.6",
                "metadata": {"component": {"type": "application"}},
            },
            "container",
        ),
        (
            {
                "bomFormat": "CycloneDX",
                "specVersion": "1.6",
                "metadata": {"component": {"type": "container", "name": "x"}},
                "components": {"not": "a list"},
            },
            "components must be a list",
        ),
        (
            {
                "bomFormat": "CycloneDX",
                "specVersion": "1.6",
                "metadata": {"component": {"type": "container", "name": "x"}},
                "components": [{"type": "library", "name": 5}],
            },
            r"components\[0\].name must be a string",
        ),
    ],
)
def test_bad_sboms_are_refused_saying_why(store: Store, doc: object, message: str) -> None:
    with pytest.raises(ContainmentError, match=message):
        store.put_sbom(doc, "ci")  # type: ignore[arg-type]
    assert store.images() == []


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=30,
)
COMPONENT = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["library", "application", "operating-system", "file", "container"]) | JSON,
        "name": st.text(max_size=30) | JSON,
        "version": st.text(max_size=30) | JSON,
        "purl": st.text(max_size=40) | JSON,
        "properties": st.lists(st.fixed_dictionaries({"name": st.text(max_size=20), "value": JSON})) | JSON,
        "components": JSON,
    },
)


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries(
        {
            "bomFormat": st.just("CycloneDX") | JSON,
            "specVersion": st.sampled_from(["1.4", "1.5", "1.6"]) | JSON,
            "metadata": st.fixed_dictionaries({"component": COMPONENT | JSON}) | JSON,
            "components": st.lists(COMPONENT, max_size=5) | JSON,
        }
    )
)
def test_sbom_reader_fuzz_returns_an_inventory_or_a_clear_error(doc: dict) -> None:
    try:
        inv, refs = inventory_from_cyclonedx(doc)
    except ContainmentError as e:
        assert str(e).startswith("SBOM: ")
        return
    assert inv.image_digest and all(isinstance(p.name, str) for p in inv.packages)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_split_reference_never_raises(ref: str) -> None:
    parts = split_reference(ref)
    assert parts is None or (parts[0] and "/" in parts[0])


def test_split_reference_normalises_docker_hub() -> None:
    assert split_reference("alpine:3.19") == ("docker.io/library/alpine", "3.19", "")
    assert split_reference("docker.io/library/alpine") == ("docker.io/library/alpine", "", "")
    assert split_reference("localhost:5000/a/b:t@" + D1) == ("localhost:5000/a/b", "t", D1)
    assert split_reference("/some/dir") is None and split_reference("oci:./x") is None


# ------------------------------------------------------------------ concurrency and audit


def test_two_stores_on_one_sqlite_file_write_concurrently(tmp_path: Path) -> None:
    a, b = Store.open(data_dir=tmp_path), Store.open(data_dir=tmp_path)
    errors: list[BaseException] = []

    def writer(s: Store, tag: str) -> None:
        try:
            for i in range(15):
                s.add_user(f"{tag}{i}", "developer")
                s.create_token(f"{tag}{i}")
                s.put_inventory(
                    inventory(digest=f"sha256:{tag}{i:063x}"[:71], target=f"r/{tag}:{i}"), "scan", tag
                )
        except BaseException as e:  # pragma: no cover - the failure the test looks for
            errors.append(e)

    threads = [
        threading.Thread(target=writer, args=(s, t)) for s, t in ((a, "a"), (b, "b"), (a, "c"), (b, "d"))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(a.users()) == 60 and len(b.images(limit=1000)) == 60
    assert len(audit_actions(a)) == 180
    out = tmp_path / "trail.jsonl"
    with a.engine.connect() as c:
        assert audit.export(c, str(out)) >= 180
    assert audit.verify_file(str(out)).ok
    a.close()
    b.close()


def test_every_mutation_is_audited_in_its_transaction(store: Store) -> None:
    store.add_user("alice", "admin", password="pw")
    token = store.create_token("alice", scopes=("users:write",))
    p = store.authenticate(token)
    assert p is not None
    store.put_inventory(inventory(), "scan", "alice")
    store.put_report(ScanReport(inventory=inventory(), findings=()), "alice")
    store.revoke_token(p.token_id, actor="alice")
    store.record("alice", "gate.decision", D1, {"allowed": False})
    with pytest.raises(ContainmentError):
        store.add_user("alice", "admin")  # refused: no record
    assert [x[1] for x in audit_actions(store)] == [
        "user.add",
        "token.create",
        "inventory.put",
        "scan.put",
        "token.revoke",
        "gate.decision",
    ]


def test_postgresql_restart_is_survived_without_manual_steps(
    pg_cluster: PgCluster,  # noqa: F811
    pg_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    store = Store.open(url=pg_url, data_dir=tmp_path)
    store.add_user("alice", "security")
    token = store.create_token("alice")
    pg_cluster.restart()  # every pooled connection is now dead
    assert store.authenticate(token) == Principal("alice", "security", token.split("_")[1])
    store.add_user("bob", "developer")
    pg_cluster.kill()  # a crash this time
    pg_cluster.start()
    assert [u["name"] for u in store.users()] == ["alice", "bob"]
    store.close()
