"""Findings that stay current (server/currency.py): the advisory DB watcher queues one
re-evaluation per DB version, the job re-matches only the changed advisories' packages, and the
alerts reach real HTTP receivers (JSON and Slack format), every delivery audited. No image is
rescanned: the configured registry is a listening socket that must see no request."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from containment.advisories.importer import import_paths
from containment.model import ContainmentError, OSInfo
from containment.server import authz, currency, registry_gate, webhooks
from containment.server.app import create_app
from containment.server.jobs import DONE, FAILED, QUEUED
from containment.server.store import Store
from tests.unit.server.pg import pg_cluster, pg_url  # noqa: F401
from tests.unit.server.test_api import LiveServer
from tests.unit.server.test_reevaluate import decide, findings_of, inventory, osv, pkg

DEBIAN = OSInfo(id="debian", version_id="12")
A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64
C = "sha256:" + "c" * 64
POLICY = "stages:\n  prod:\n    max_severity: {CRITICAL: 0}\n  dev:\n    max_severity: {CRITICAL: 5}\n"


@dataclass
class Receiver:
    """A real HTTP server on loopback recording every POST; `status[path]` answers (default 200)."""

    got: list[tuple[str, dict[str, str], Any]] = field(default_factory=list)
    status: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        rec = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a: object) -> None:
                pass

            def _any(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                try:
                    doc = json.loads(body) if body else None
                except ValueError:
                    doc = body
                rec.got.append((f"{self.command} {self.path}", dict(self.headers), doc))
                code = rec.status.get(self.path, 200)
                self.send_response(code)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            do_POST = do_GET = do_HEAD = _any  # noqa: N815

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.host = f"127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def fake_registry() -> Iterator[Receiver]:
    """Where the configured registry points: any request to it would mean a rescan."""
    r = Receiver()
    yield r
    r.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        s = Store.open(data_dir=tmp_path / "data")
    else:
        s = Store.open(url=request.getfixturevalue("pg_url"), data_dir=tmp_path / "data")
    yield s
    s.close()


def feed(tmp: Path, db: Path, *records: dict[str, Any]) -> None:
    """What `containment db import DIR --db DB` does (the same function, in place)."""
    d = tmp / f"feed-{len(list(tmp.glob('feed-*')))}"
    d.mkdir()
    for r in records:
        (d / f"{r['id']}.json").write_text(json.dumps(r))
    import_paths([d], db)


def setup_fleet(store: Store, tmp: Path, data: Path, registry_host: str) -> Path:
    """Three stored images, A and B allowed into prod by the registry's gate; an advisory DB."""
    (tmp / "policy.yaml").write_text(POLICY)
    registry_gate.add_registry(
        store, registry_host, policy_file=str(tmp / "policy.yaml"), stage="prod", plain_http=True
    )
    store.put_inventory(
        inventory(
            A, DEBIAN, pkg("Flask", "2.0.0"), pkg("requests", "2.30.0"), target=f"{registry_host}/app:v1"
        ),
        "scan",
        "ci",
    )
    store.put_inventory(inventory(B, DEBIAN, pkg("requests", "2.30.0")), "scan", "ci")
    store.put_inventory(inventory(C, DEBIAN, pkg("flask", "2.0.0")), "scan", "ci")
    decide(store, A, "prod", True)
    decide(store, B, "prod", True)  # C is in no stage: it gains findings, but alerts nobody
    db = tmp / "advisories.db"
    feed(tmp, db, osv("GHSA-req", "PyPI", "requests", "2.31.0"))
    return db


def audit(store: Store, action: str) -> list[dict[str, Any]]:
    with store.engine.connect() as c:
        rows = c.execute(
            text("SELECT subject, detail FROM audit_records WHERE action = :a ORDER BY seq"), {"a": action}
        ).all()
    out = []
    for subject, detail in rows:
        d = json.loads(detail) if isinstance(detail, str) else dict(detail)
        out.append({"subject": subject, **d})
    return out


def run_all(store: Store, data: Path) -> list[str]:
    """Run every queued job of our kinds to its end, in order; their kinds."""
    jobs = currency.Jobs(store)
    h = currency.handlers(store, data)
    ran = []
    while (job := jobs.run_one(h)) is not None:
        ran.append(job.kind)
    return ran


def test_db_change_reevaluates_only_touched_packages_and_notifies(
    store: Store, tmp_path: Path, receiver: Receiver, fake_registry: Receiver
) -> None:
    data = tmp_path / "data"
    db = setup_fleet(store, tmp_path, data, fake_registry.host)
    webhooks.add(store, receiver.url + "/hook", "json")
    webhooks.add(store, receiver.url + "/services/T000/B000/XXXX", "slack", stages=("prod",))
    webhooks.add(store, receiver.url + "/dev-only", "json", stages=("dev",))  # wants none of these alerts
    jobs = currency.Jobs(store)
    watcher = currency.Watcher(jobs, data, db, interval=60)

    first = watcher.check()  # no snapshot yet: the first evaluation, in full
    assert first is not None
    assert run_all(store, data) == ["reevaluate"]
    assert findings_of(store, A) == {"GHSA-req"} and findings_of(store, B) == {"GHSA-req"}
    assert receiver.got == []  # first evaluations alert nothing: nothing was gained

    assert watcher.check() is None  # unchanged file: one stat
    feed(tmp_path, db, osv("GHSA-req", "PyPI", "requests", "2.31.0"))  # re-import, nothing new
    assert watcher.check() is None  # the file moved, its version did not: no job
    assert jobs.counts()[QUEUED] == 0

    # the update: a critical advisory for Flask (A and C have it; B does not)
    feed(tmp_path, db, osv("GHSA-flask", "PyPI", "Flask", "2.2.5", "CRITICAL"))
    jid = watcher.check()
    assert jid is not None and watcher.check() is None
    job = jobs.get(jid)
    assert job is not None and job["key"] == currency.units_version(db)
    assert run_all(store, data) == ["reevaluate", "notify", "notify"]

    done = audit(store, "findings.reevaluated")[-1]
    assert done["packages_matched"] == 2  # Flask of A and of C, nothing else
    assert done["images_evaluated"] == 2 and done["images_new"] == 0 and not done["full"]
    assert done["alert_count"] == 1 and done["stages"] == ["prod"]
    assert findings_of(store, A) == {"GHSA-req", "GHSA-flask"}
    assert findings_of(store, B) == {"GHSA-req"} and findings_of(store, C) == {"GHSA-flask"}

    by_path = {g[0]: g for g in receiver.got}
    assert set(by_path) == {"POST /hook", "POST /services/T000/B000/XXXX"}
    body = by_path["POST /hook"][2]
    assert body["event"] == "findings.gained" and body["count"] == 1
    (alert,) = body["alerts"]
    assert (alert["digest"], alert["stage"], alert["severity"], alert["count"], alert["limit"]) == (
        A,
        "prod",
        "critical",
        1,
        0,
    )
    assert alert["gained"] == [{"id": "GHSA-flask", "package": "Flask", "version": "2.0.0"}]
    assert alert["repositories"] == [f"{fake_registry.host}/app"]
    slack = by_path["POST /services/T000/B000/XXXX"][2]
    assert set(slack) == {"text"} and "GHSA-flask" in slack["text"] and "stage prod" in slack["text"]
    assert by_path["POST /hook"][1]["Content-Type"] == "application/json"

    deliveries = audit(store, "notify.delivery")
    assert len(deliveries) == 2 and all(d["ok"] and d["status"] == 200 for d in deliveries)
    assert {d["subject"] for d in deliveries} == {
        receiver.url + "/…"
    }  # the hook's path (its token) is not kept
    assert fake_registry.got == []  # no image rescanned, no registry contacted
    assert jobs.counts()[FAILED] == 0


def test_an_image_stored_while_the_db_stays_the_same_is_evaluated(
    store: Store, tmp_path: Path, receiver: Receiver, fake_registry: Receiver
) -> None:
    """An SBOM or scan uploaded after the last run, with no advisory change since: the watcher
    still queues a run, which evaluates that image alone."""
    data = tmp_path / "data"
    db = setup_fleet(store, tmp_path, data, fake_registry.host)
    jobs = currency.Jobs(store)
    watcher = currency.Watcher(jobs, data, db, interval=60)
    assert watcher.check() is not None and run_all(store, data) == ["reevaluate"]
    assert watcher.check() is None  # every stored image evaluated, the DB unchanged: nothing

    late = "sha256:" + "d" * 64
    store.put_inventory(inventory(late, DEBIAN, pkg("requests", "2.30.0")), "sbom", "ci")
    jid = watcher.check()
    assert jid is not None and watcher.check() is None  # queued once
    assert run_all(store, data) == ["reevaluate"]
    done = audit(store, "findings.reevaluated")[-1]
    assert done["images_evaluated"] == 1 and done["images_new"] == 1
    assert findings_of(store, late) == {"GHSA-req"}
    assert watcher.check() is None


def test_receiver_down_or_refusing(tmp_path: Path, receiver: Receiver, fake_registry: Receiver) -> None:
    store = Store.open(data_dir=tmp_path / "data")
    try:
        data = tmp_path / "data"
        db = setup_fleet(store, tmp_path, data, fake_registry.host)
        jobs = currency.Jobs(store)
        currency.enqueue(jobs, db)
        run_all(store, data)
        receiver.status["/refuses"] = 400
        receiver.status["/busy"] = 503
        webhooks.add(store, receiver.url + "/refuses", "json")
        webhooks.add(store, receiver.url + "/busy", "json")
        feed(tmp_path, db, osv("GHSA-flask", "PyPI", "Flask", "2.2.5", "CRITICAL"))
        jid, new, _ = currency.enqueue(jobs, db)
        assert new
        assert run_all(store, data) == ["reevaluate", "notify", "notify"]
        paths = [g[0] for g in receiver.got]
        assert paths.count("POST /refuses") == 1  # a 4xx: refused, never sent again
        assert paths.count("POST /busy") == 4  # a 503: the first try and the webhook's 3 quick retries
        notes = {j["id"]: j for j in jobs.list(kind=currency.NOTIFY)}
        states = sorted((j["state"], j["attempts"]) for j in notes.values())
        assert states == [(DONE, 1), (QUEUED, 1)]  # the busy one waits out its backoff, then runs again
        busy = next(j for j in notes.values() if j["state"] == QUEUED)
        assert "not delivered after 4 tries (HTTP 503" in busy["error"] and busy["not_before"]
        deliveries = sorted((d["status"], d["ok"], d["tries"]) for d in audit(store, "notify.delivery"))
        assert deliveries == [(400, False, 1), (503, False, 4)]
    finally:
        store.close()


def test_api_queues_and_the_app_runs_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, receiver: Receiver
) -> None:
    data = tmp_path / "data"
    store = Store.open(data_dir=data)
    try:
        db = setup_fleet(store, tmp_path, data, receiver.host)
        tokens = {}
        for role in authz.ROLES:
            store.add_user(f"{role}-user", role, password=f"pw-{role}-123")
            tokens[role] = store.create_token(f"{role}-user")
        app = create_app(store, data_dir=data, advisory_db=db)
        with LiveServer(app) as srv, httpx.Client(timeout=30) as client:

            def post(role: str, body: bytes = b"{}") -> httpx.Response:
                return client.post(
                    srv.url + "/api/v1/reevaluate",
                    content=body,
                    headers={"authorization": f"Bearer {tokens[role]}", "content-type": "application/json"},
                )

            for role in ("developer", "auditor", "admin"):
                assert post(role).status_code == 403
            for bad in (b"[]", b'{"full": "yes"}', b'{"other": 1}', b"not json"):
                r = post("security", bad)
                assert r.status_code == 422 and r.json()["error"] == "invalid"
            r = post("security")
            assert r.status_code == 202, r.text
            got = r.json()
            assert got["queued"] and got["version"] == currency.units_version(db) and not got["full"]
            jobs = currency.Jobs(store)
            deadline = time.monotonic() + 60
            while jobs.get(got["job"])["state"] != DONE and time.monotonic() < deadline:  # type: ignore[index]
                time.sleep(0.1)
            assert jobs.get(got["job"])["state"] == DONE  # type: ignore[index]
            assert findings_of(store, A) == {"GHSA-req"}
            r = post("operations", b'{"full": true}')
            assert r.status_code == 202 and r.json()["full"]
            queued = [a for a in audit(store, "findings.reevaluate.queued")]
            assert [q["subject"].endswith("+full") for q in queued] == [False, True]
        db.unlink()
        app2 = create_app(store, data_dir=data, advisory_db=db)
        with LiveServer(app2) as srv, httpx.Client(timeout=30) as client:
            r = client.post(
                srv.url + "/api/v1/reevaluate",
                json={},
                headers={"authorization": f"Bearer {tokens['security']}"},
            )
            assert r.status_code == 409 and "db update" in r.json()["detail"]
    finally:
        store.close()


def test_watcher_thread_in_the_served_app(tmp_path: Path, receiver: Receiver) -> None:
    """serve's path: the lifespan starts the watcher; an import into the DB is all it takes."""
    data = tmp_path / "data"
    store = Store.open(data_dir=data)
    try:
        db = setup_fleet(store, tmp_path, data, "127.0.0.1:9")
        webhooks.add(store, receiver.url + "/hook", "json")
        app = create_app(store, data_dir=data, advisory_db=db, watch_interval=0.2)
        with LiveServer(app):
            deadline = time.monotonic() + 60
            while not audit(store, "findings.reevaluated") and time.monotonic() < deadline:
                time.sleep(0.1)
            assert len(audit(store, "findings.reevaluated")) == 1  # the first evaluation
            feed(tmp_path, db, osv("GHSA-flask", "PyPI", "Flask", "2.2.5", "CRITICAL"))
            while not receiver.got and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(1.0)  # a second job would have been queued by now
        assert len(audit(store, "findings.reevaluated")) == 2
        assert [g[0] for g in receiver.got] == ["POST /hook"]
        assert receiver.got[0][2]["alerts"][0]["digest"] == A
    finally:
        store.close()


def test_webhook_config(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Webhooks are rows of the server's database (any worker reads them), every change audited
    with the URL redacted: a Slack hook's path is its token."""
    url = "https://hooks.example/services/T/B/secret"
    cfg = webhooks.add(store, url, "slack", ("prod",), ["X-Auth: abc"])
    assert cfg.redacted == "https://hooks.example/…"
    webhooks.add(store, "https://other.example/a", "json")
    webhooks.add(store, url, "json")  # same URL: replaced, now last
    got = webhooks.load(store)
    assert [(h.url, h.kind, h.stages) for h in got] == [
        ("https://other.example/a", "json", ()),
        (url, "json", ()),
    ]
    for args, message in (
        (("ftp://x/y", "json"), "http:// or https://"),
        (("https://x/y", "xml"), "json or slack"),
        (("https://x/y", "json", ("bad stage!",)), "not a stage name"),
        (("https://x/y", "json", (), ["no-colon"]), "Name: value"),
    ):
        with pytest.raises(ContainmentError, match=message):
            webhooks.add(store, *args)  # type: ignore[arg-type]
    monkeypatch.setenv(webhooks.ENV_SLACK, "https://chat.example/hooks/abc")
    assert [(h.kind, h.source) for h in webhooks.load(store)][-1] == ("slack", "env")
    monkeypatch.setenv(webhooks.ENV_JSON, "not-a-url")
    with pytest.raises(ContainmentError, match=webhooks.ENV_JSON):
        webhooks.load(store)
    assert webhooks.remove(store, url)
    assert not webhooks.remove(store, url)
    trail = audit(store, "webhook.add") + audit(store, "webhook.remove")
    assert len(trail) == 4 and "secret" not in json.dumps(trail) and "abc" not in json.dumps(trail)
    assert {t["subject"] for t in trail} == {"https://hooks.example/…", "https://other.example/…"}


def test_stages_from_registries_and_the_active_policy(tmp_path: Path) -> None:
    from containment.server import governance

    data = tmp_path / "data"
    store = Store.open(data_dir=data)
    try:
        (tmp_path / "policy.yaml").write_text(POLICY)
        registry_gate.add_registry(
            store, "127.0.0.1:9", policy_file=str(tmp_path / "policy.yaml"), stage="prod"
        )
        assert sorted(currency.stages_for(data, store)) == ["prod"]  # the stage the registry gates with
        doc = "stages:\n  staging:\n    max_severity: {HIGH: 2}\n  prod:\n    max_severity: {LOW: 0}\n"
        pid = governance.upload_policy(store, "fleet", doc, "alice")["id"]
        assert sorted(currency.stages_for(data, store)) == ["prod"]  # not active yet
        governance.activate_policy(store, pid, "bob")
        got = currency.stages_for(data, store)
        assert sorted(got) == ["prod", "staging"] and {
            k.lower(): v for k, v in got["staging"].max_severity.items()
        } == {"high": 2}
        assert {k.lower(): v for k, v in got["prod"].max_severity.items()} == {
            "low": 0
        }  # the active policy decides prod at the gate (registry_gate.gate_policy): its limits
    finally:
        store.close()


def test_a_run_that_finished_meanwhile_is_not_followed_by_another(
    store: Store, tmp_path: Path, fake_registry: Receiver
) -> None:
    """The watcher saw an unevaluated image, then a run evaluated it before the enqueue: the
    check is asked again under the enqueue's write lock, and no second run is queued."""
    data = tmp_path / "data"
    db = setup_fleet(store, tmp_path, data, fake_registry.host)
    jobs = currency.Jobs(store)
    watcher = currency.Watcher(jobs, data, db, interval=60)
    assert watcher.check() is not None and run_all(store, data) == ["reevaluate"]
    stale_look = watcher._unevaluated
    watcher._unevaluated = lambda: True  # type: ignore[method-assign]  # the look before the run ended
    try:
        assert watcher.check() is None
    finally:
        watcher._unevaluated = stale_look  # type: ignore[method-assign]
    assert jobs.counts()[QUEUED] == 0
