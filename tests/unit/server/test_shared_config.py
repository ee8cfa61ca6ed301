"""The configuration every process of a server shares lives in its database (server/config.py,
migration 0004): registries, webhooks, the gate's signing key, the advisory version last
evaluated; legacy files of a data directory are imported once; the CLI writes the rows with
--data or --database; one re-evaluation at a time across processes, and two machines (two
snapshot directories on one database) agree on what was evaluated. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from containment.server import config, currency, db, webhooks
from containment.server import registry_gate as rg
from containment.server.store import Store
from containment.supplychain import keys
from tests.unit.server.pg import pg_cluster, pg_url  # noqa: F401
from tests.unit.server.test_currency import (  # noqa: F401 - fixtures
    A,
    Receiver,
    audit,
    fake_registry,
    feed,
    receiver,
    run_all,
    setup_fleet,
)
from tests.unit.server.test_reevaluate import findings_of, osv

ROOT = Path(__file__).resolve().parents[3]
HOST = "127.0.0.1:5000"
SECRET = "legacy-secret-shared-with-the-registry"
POLICY = "stages:\n  prod:\n    max_severity: {CRITICAL: 0}\n"
SLACK = "https://hooks.example/services/T0/B0/the-token"
TABLES = ("registries", "webhooks", "signing_keys", "server_state")


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def store(url: str) -> Iterator[Store]:
    s = Store.open(url=url)
    yield s
    s.close()


def actions(store: Store) -> list[tuple[str, str, str]]:
    with store.engine.connect() as c:
        return [
            tuple(r) for r in c.execute(text("SELECT actor, action, subject FROM audit_records ORDER BY seq"))
        ]  # type: ignore[misc]


# ---------------------------------------------------------------------- migration


def test_migration_0004_adds_the_config_tables_and_drops_them_on_downgrade(url: str) -> None:
    from alembic import command

    engine = db.make_engine(db.resolve_url(url=url))
    cfg = db.migrations_config()
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0003")
        assert not set(TABLES) & set(inspect(engine).get_table_names())
        db.upgrade(engine)
        assert db.current_revision(engine) == db.head_revision()
        assert set(TABLES) <= set(inspect(engine).get_table_names())
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0003")
        assert not set(TABLES) & set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


# ---------------------------------------------------------------------- legacy files


def legacy_data_dir(d: Path, password: bytes = b"pw") -> Path:
    """A data directory as a server before migration 0004 left it."""
    d.mkdir(parents=True)
    cfg = rg.RegistryConfig(
        host=HOST,
        secret_sha256=rg._sha256(SECRET),
        policy=POLICY,
        policy_source="/etc/containment/policy.yaml",
        stage="prod",
        plain_http=True,
    )
    (d / rg.CONFIG_FILE).write_text(json.dumps({"registries": {HOST: asdict(cfg)}}))
    hooks = [{"url": SLACK, "kind": "slack", "stages": ["prod"], "headers": {"X-Auth": "abc"}}]
    (d / webhooks.CONFIG_FILE).write_text(json.dumps({"webhooks": hooks}))
    (d / "signing").mkdir()
    keys.write_keypair(str(d / "signing" / "cosign"), password)
    return d


def test_legacy_files_are_imported_once(url: str, tmp_path: Path) -> None:
    data = legacy_data_dir(tmp_path / "data")
    with Store.open(data_dir=data, url=url) as store:
        regs = rg.load_registries(store)
        assert list(regs) == [HOST] and regs[HOST].matches(SECRET) and regs[HOST].stage == "prod"
        assert regs[HOST].policy == POLICY and regs[HOST].plain_http
        (hook,) = webhooks.load(store, env=False)
        assert (hook.url, hook.kind, hook.stages, hook.headers) == (
            SLACK,
            "slack",
            ("prod",),
            {"X-Auth": "abc"},
        )
        key = config.signing_key(store)
        assert key is not None
        assert key.private_pem == (data / "signing" / "cosign.key").read_bytes()  # still encrypted
        assert key.public_pem == (data / "signing" / "cosign.pub").read_bytes()
        assert keys.parse_private(key.private_pem, b"pw").public_key() is not None
        got = [(a, b) for a, b, _ in actions(store)]
        assert ("import:registries.json", "registry.add") in got
        assert ("import:webhooks.json", "webhook.add") in got
        assert ("import:signing/cosign.key", "signing_key.set") in got
        assert SLACK not in json.dumps(actions(store))  # audited redacted
        assert rg.remove_registry(store, HOST, "alice")
    with Store.open(data_dir=data, url=url) as store:  # the files are still there: not read again
        assert rg.load_registries(store) == {}
        assert [a for _, a, _ in actions(store)].count("registry.add") == 1


def test_a_broken_legacy_file_is_left_for_the_next_open(url: str, tmp_path: Path) -> None:
    data = legacy_data_dir(tmp_path / "data")
    good = (data / rg.CONFIG_FILE).read_text()
    (data / rg.CONFIG_FILE).write_text("{")
    with Store.open(data_dir=data, url=url) as store:  # opens: the server runs without it
        assert rg.load_registries(store) == {}
        assert len(webhooks.load(store, env=False)) == 1  # the others were imported
    (data / rg.CONFIG_FILE).write_text(good)
    with Store.open(data_dir=data, url=url) as store:
        assert list(rg.load_registries(store)) == [HOST]


def test_a_store_without_a_data_dir_imports_nothing(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = legacy_data_dir(tmp_path / "data")
    monkeypatch.setenv("CONTAINMENT_DATA", str(data))  # --database alone: not the data dir's business
    with Store.open(url=url) as store:
        assert rg.load_registries(store) == {} and config.signing_key(store) is None


# ---------------------------------------------------------------------- the signing key


def test_signing_key_must_decrypt_and_match_its_public_key(store: Store, tmp_path: Path) -> None:
    k1, p1 = keys.write_keypair(str(tmp_path / "one"), b"pw")
    _, p2 = keys.write_keypair(str(tmp_path / "two"), b"pw")
    before = actions(store)
    with pytest.raises(keys.KeyFileError, match="wrong password"):
        config.set_signing_key(store, k1.read_bytes(), b"other", where=str(k1))
    with pytest.raises(Exception, match="not this private key"):
        config.set_signing_key(store, k1.read_bytes(), b"pw", p2.read_bytes(), where=str(k1))
    with pytest.raises(keys.KeyFileError, match="not a cosign private key"):
        config.set_signing_key(store, p1.read_bytes(), b"pw", where=str(p1))
    assert config.signing_key(store) is None and actions(store) == before  # nothing stored
    got = config.set_signing_key(store, k1.read_bytes(), b"pw", p1.read_bytes(), actor="alice")
    assert config.signing_key(store) == got and got.public_pem == p1.read_bytes()
    assert actions(store)[-1] == ("alice", "signing_key.set", config.GATE_KEY)
    assert config.remove_signing_key(store, "bob") and config.signing_key(store) is None
    assert not config.remove_signing_key(store, "bob")


# ---------------------------------------------------------------------- the CLI


def cli(*args: str, password: str = "pw") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONTAINMENT_")}
    return subprocess.run(
        [sys.executable, "-m", "containment", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**env, "CONTAINMENT_KEY_PASSWORD": password},
    )


def test_cli_writes_the_database(url: str, tmp_path: Path) -> None:
    """registry add/list/sync/remove, registry key set/show/remove, notify add/list/remove: with
    --database (PostgreSQL or any URL) as with --data; bad input: one line, exit 2, nothing stored."""
    where = ["--database", url]
    (tmp_path / "policy.yaml").write_text(POLICY)
    r = cli("registry", "add", HOST, "--policy", str(tmp_path / "policy.yaml"), "--secret", SECRET, *where)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == SECRET and "sync of" in r.stderr
    r = cli("registry", "list", "--json", *where)
    assert r.returncode == 0 and [x["host"] for x in json.loads(r.stdout)] == [HOST], r.stderr
    assert SECRET not in r.stdout
    assert cli("registry", "sync", HOST, *where).returncode == 0
    r = cli("registry", "sync", "127.0.0.1:1", *where)
    assert r.returncode == 2 and "not configured" in r.stderr
    r = cli("registry", "add", "not a host", *where)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1

    key, pub = keys.write_keypair(str(tmp_path / "cosign"), b"pw")
    r = cli("registry", "key", "set", str(key), *where, password="wrong")
    assert r.returncode == 2 and "wrong password" in r.stderr
    assert cli("registry", "key", "show", *where).returncode == 2  # none stored
    r = cli("registry", "key", "set", str(key), "--pub", str(pub), *where)
    assert r.returncode == 0 and r.stdout == pub.read_text(), r.stderr
    r = cli("registry", "key", "show", *where)
    assert r.returncode == 0 and r.stdout == pub.read_text()

    r = cli("notify", "add", SLACK, "--kind", "slack", "--stage", "prod", *where)
    assert r.returncode == 0 and "the-token" not in r.stdout + r.stderr, r.stderr
    r = cli("notify", "list", "--json", *where)
    assert [h["url"] for h in json.loads(r.stdout)] == ["https://hooks.example/…"]
    r = cli("notify", "add", "ftp://x/y", *where)
    assert r.returncode == 2 and "http:// or https://" in r.stderr

    with Store.open(url=url) as store:  # what the commands wrote, as any worker reads it
        assert list(rg.load_registries(store)) == [HOST]
        assert [h.url for h in webhooks.load(store, env=False)] == [SLACK]
        stored = config.signing_key(store)
        assert stored is not None and stored.public_pem == pub.read_bytes()
        assert [j["kind"] for j in currency.Jobs(store).list()] == [
            "registry-sync"
        ]  # add, then sync: one job
        done = [a for _, a, _ in actions(store)]
        assert {"registry.add", "webhook.add", "signing_key.set", "registry.sync.queued"} <= set(done)

    for args in (("registry", "remove", HOST), ("registry", "key", "remove"), ("notify", "remove", SLACK)):
        assert cli(*args, *where).returncode == 0
        r = cli(*args, *where)
        assert r.returncode == 2, args  # gone already: one line, exit 2
    with Store.open(url=url) as store:
        assert rg.load_registries(store) == {} and webhooks.load(store, env=False) == []
        assert config.signing_key(store) is None
        done = [a for _, a, _ in actions(store)]
        assert {"registry.remove", "webhook.remove", "signing_key.remove"} <= set(done)


# ---------------------------------------------------------------------- re-evaluation across machines


def test_one_evaluation_at_a_time_across_stores(url: str) -> None:
    """config.exclusive: two Store objects (two processes' worth) take turns."""
    s1, s2 = Store.open(url=url), Store.open(url=url)
    order: list[str] = []
    inside, release = threading.Event(), threading.Event()

    def first() -> None:
        with config.exclusive(s1, "test"):
            order.append("first in")
            inside.set()
            release.wait(30)
            order.append("first out")

    def second() -> None:
        inside.wait(30)
        with config.exclusive(s2, "test"):
            order.append("second in")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    try:
        for t in threads:
            t.start()
        inside.wait(30)
        time.sleep(0.5)  # the second is waiting on the lock by now
        assert order == ["first in"]
        release.set()
        for t in threads:
            t.join(30)
        assert order == ["first in", "first out", "second in"]
    finally:
        release.set()
        s1.close()
        s2.close()


def test_two_machines_agree_on_the_evaluated_version(
    url: str,
    tmp_path: Path,
    receiver: Receiver,  # noqa: F811
    fake_registry: Receiver,  # noqa: F811
) -> None:
    """Jobs of one database run on machine A, then B (each its own snapshot directory): the
    database's record of the version evaluated decides whether a machine's snapshot can be
    trusted; a stale one matches every package again and still alerts what was gained."""
    store = Store.open(url=url)
    try:
        a, b = tmp_path / "machine-a", tmp_path / "machine-b"
        adb = setup_fleet(store, tmp_path, tmp_path / "unused", fake_registry.host)
        webhooks.add(store, receiver.url + "/hook", "json")
        jobs = currency.Jobs(store)
        currency.enqueue(jobs, adb)
        assert run_all(store, a) == ["reevaluate"]  # A: the first evaluation
        assert config.get_state(store, config.EVALUATED) == currency.units_version(adb)

        feed(tmp_path, adb, osv("GHSA-flask", "PyPI", "Flask", "2.2.5", "CRITICAL"))
        currency.enqueue(jobs, adb)
        assert run_all(store, b) == ["reevaluate", "notify"]  # B: no snapshot of its own
        done = audit(store, "findings.reevaluated")[-1]
        assert done["full"] and done["images_new"] == 0 and done["alert_count"] == 1
        assert findings_of(store, A) == {"GHSA-req", "GHSA-flask"}
        assert [g[2]["alerts"][0]["digest"] for g in receiver.got] == [A]
        assert config.get_state(store, config.EVALUATED) == currency.units_version(adb)
        # A's watcher asks the database, not its own (older) snapshot: nothing to queue
        assert currency.Watcher(jobs, a, adb, interval=60).check() is None

        feed(tmp_path, adb, osv("GHSA-req2", "PyPI", "requests", "2.32.0", "HIGH"))
        currency.enqueue(jobs, adb)
        assert run_all(store, a) == ["reevaluate"]  # A again: its snapshot predates B's run
        done = audit(store, "findings.reevaluated")[-1]
        assert done["full"] and done["packages_matched"] == 4  # every package row
        feed(tmp_path, adb, osv("GHSA-req3", "PyPI", "requests", "2.33.0", "LOW"))
        currency.enqueue(jobs, adb)
        assert run_all(store, a) == ["reevaluate"]  # A once more: now its snapshot is the record
        done = audit(store, "findings.reevaluated")[-1]
        assert not done["full"] and done["packages_matched"] == 2  # requests of A and B only
    finally:
        store.close()
