"""The registry gate's front door (server/registry_gate.py): configuration, the shared secret,
Distribution notification envelopes -> one job per pushed tag, redelivery deduplicated, forged
or malformed envelopes refused with nothing stored. The scan/quarantine/attest path runs against
a real registry in tests/e2e/test_registry_gate_e2e.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from containment.model import ContainmentError
from containment.server import registry_gate as rg
from containment.server.jobs import QUEUED
from containment.server.store import Store

HOST = "127.0.0.1:5000"
SECRET = "s3cret-shared-with-the-registry"
D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
MT = "application/vnd.docker.distribution.manifest.v2+json"
POLICY = "stages:\n  prod:\n    secrets: deny\n"


def event(
    repo: str = "app",
    tag: str | None = "v1",
    digest: str = D1,
    action: str = "push",
    mt: str = MT,
    eid: str = "e1",
) -> dict[str, Any]:
    target: dict[str, Any] = {"mediaType": mt, "digest": digest, "repository": repo, "size": 528}
    if tag is not None:
        target["tag"] = tag
    return {"id": eid, "action": action, "target": target, "request": {"host": HOST, "method": "PUT"}}


def envelope(*events: dict[str, Any]) -> bytes:
    return json.dumps({"events": list(events)}).encode()


@pytest.fixture
def data(tmp_path: Path) -> Path:
    (tmp_path / "policy.yaml").write_text(POLICY)
    with Store.open(data_dir=tmp_path / "data") as store:
        rg.add_registry(
            store,
            HOST,
            policy_file=str(tmp_path / "policy.yaml"),
            stage="prod",
            secret=SECRET,
            plain_http=True,
        )
    return tmp_path / "data"


@pytest.fixture
def gate(data: Path) -> Iterator[rg.Gate]:
    store = Store.open(data_dir=data)
    g = rg.Gate(store, data, autostart=False)
    yield g
    store.close()


def audit_actions(store: Store) -> list[str]:
    with store.engine.connect() as c:
        return [r[0] for r in c.execute(text("SELECT action FROM audit_records ORDER BY seq"))]


def test_the_database_keeps_only_the_secret_hash_and_audits_the_change(data: Path) -> None:
    assert not (data / rg.CONFIG_FILE).exists()  # the configuration is the database's (migration 0004)
    store = Store.open(data_dir=data)
    try:
        with store.engine.connect() as c:
            dumped = json.dumps([list(map(str, r)) for r in c.execute(text("SELECT * FROM registries"))])
            trail = json.dumps([list(map(str, r)) for r in c.execute(text("SELECT * FROM audit_records"))])
        assert SECRET not in dumped and SECRET not in trail and HOST in dumped
        regs = rg.load_registries(store)
        assert list(regs) == [HOST] and regs[HOST].stage == "prod" and regs[HOST].plain_http
        assert regs[HOST].matches(SECRET) and not regs[HOST].matches(SECRET + "x")
        assert audit_actions(store).count("registry.add") == 1
        assert rg.remove_registry(store, HOST, "alice") and not rg.remove_registry(store, HOST, "alice")
        assert rg.load_registries(store) == {} and audit_actions(store)[-1] == "registry.remove"
    finally:
        store.close()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"host": "not a host"}, "HOST or HOST:PORT"),
        ({"secret": "short"}, "16 to 512"),
        ({"secret": " padded-secret-value "}, "surrounding"),
        ({"stage": "prd"}, "did you mean prod"),
        ({"quarantine": "Bad Repo"}, "repository name"),
        ({"policy_file": "/nonexistent/policy.yaml"}, "cannot read"),
    ],
)
def test_add_registry_refuses_bad_input(tmp_path: Path, kwargs: dict[str, Any], message: str) -> None:
    (tmp_path / "policy.yaml").write_text(POLICY)
    args: dict[str, Any] = {"host": HOST, "policy_file": str(tmp_path / "policy.yaml"), "stage": "prod"}
    args.update(kwargs)
    with Store.open(data_dir=tmp_path / "d") as store:
        with pytest.raises(ContainmentError, match=message):
            rg.add_registry(store, args.pop("host"), **args)
        assert rg.load_registries(store) == {} and "registry.add" not in audit_actions(store)


def test_without_stage_the_policy_s_last_stage_gates(tmp_path: Path) -> None:
    """`registry add HOST --policy policy.yaml` (no --stage, as the issue writes it): the stage
    images travel towards, the file's last."""
    (tmp_path / "policy.yaml").write_text("stages:\n  dev: {}\n  test: {}\n  prod:\n    secrets: deny\n")
    with Store.open(data_dir=tmp_path / "d") as store:
        cfg, _ = rg.add_registry(store, HOST, policy_file=str(tmp_path / "policy.yaml"))
        assert cfg.stage == "prod" and rg.load_registries(store)[HOST].stage == "prod"


def test_forged_or_missing_secret_stores_nothing(gate: rg.Gate) -> None:
    before = audit_actions(gate.store)
    for secret in (None, "", "wrong-secret-of-the-right-length", SECRET[:-1], SECRET + " "):
        status, body = gate.accept(secret, envelope(event()))
        assert status == rg.FORGED_STATUS and "secret" in body["detail"]
    assert gate.jobs.counts()[QUEUED] == 0
    assert audit_actions(gate.store) == before


def test_push_events_become_one_job_per_tag_and_redelivery_adds_nothing(gate: rg.Gate) -> None:
    body = envelope(
        event(),
        event(tag="v2", eid="e2"),  # same digest, another tag: gated for that tag too
        event(repo="web", digest=D2, eid="e3"),
        event(action="pull", eid="e4"),
        event(mt="application/octet-stream", eid="e5"),  # a blob
        event(tag=None, eid="e6"),  # an index child pushed by digest
        event(tag="sha256-" + "1" * 64 + ".att", eid="e7"),  # our own attestation
        event(repo="quarantine/app", eid="e8"),  # our own quarantine copy
    )
    status, got = gate.accept(SECRET, body)
    assert (status, got) == (202, {"queued": 3, "duplicates": 0, "ignored": 5})
    jobs = gate.jobs.list(state=QUEUED)
    assert sorted(j["key"] for j in jobs) == sorted(
        [f"{HOST}/app:v1@{D1}", f"{HOST}/app:v2@{D1}", f"{HOST}/web:v1@{D2}"]
    )
    assert audit_actions(gate.store).count("registry.push") == 3
    status, got = gate.accept(SECRET, body)  # the registry re-sends (no ack seen, or a retry)
    assert (status, got) == (200, {"queued": 0, "duplicates": 3, "ignored": 5})
    assert len(gate.jobs.list()) == 3 and audit_actions(gate.store).count("registry.push") == 3


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"not json",
        b"[]",
        b'{"events": {}}',
        json.dumps({"events": ["x"]}).encode(),
        json.dumps({"events": [{"action": "push"}]}).encode(),
        envelope(event(repo="UPPER/case")),
        envelope(event(repo="../etc")),
        envelope(event(digest="sha256:abc")),
        envelope(event(tag="bad tag")),
        envelope(event(), event(digest="md5:00")),  # one bad event refuses the envelope: none queued
        json.dumps({"events": [event()] * (rg.MAX_EVENTS + 1)}).encode(),
        b"[" * 100000,
    ],
)
def test_malformed_envelopes_are_400_and_store_nothing(gate: rg.Gate, raw: bytes) -> None:
    before = audit_actions(gate.store)
    status, body = gate.accept(SECRET, raw)
    assert status == 400 and body["error"] == "bad request" and body["detail"]
    assert gate.jobs.list() == [] and audit_actions(gate.store) == before


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
_FIELDS = st.fixed_dictionaries(
    {
        "action": st.sampled_from(["push", "pull", "delete"]) | st.text(max_size=8),
        "target": st.fixed_dictionaries(
            {
                "mediaType": st.sampled_from(sorted(rg.MANIFEST_TYPES)) | st.text(max_size=10),
                "repository": st.from_regex(r"[a-z0-9/._-]{0,20}", fullmatch=True) | _JSON,
                "digest": st.sampled_from([D1, D2]) | st.text(max_size=80),
                "tag": st.none() | st.from_regex(r"[A-Za-z0-9_.-]{0,12}", fullmatch=True) | _JSON,
            }
        )
        | _JSON,
        "id": _JSON,
    }
)
_GATES: list[rg.Gate] = []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    doc=st.one_of(_JSON, st.fixed_dictionaries({"events": st.lists(_FIELDS, max_size=5)})),
    junk=st.binary(max_size=40),
)
def test_any_envelope_is_answered_never_raises(
    tmp_path_factory: pytest.TempPathFactory, doc: Any, junk: bytes
) -> None:
    if not _GATES:
        d = tmp_path_factory.mktemp("gatefuzz")
        store = Store.open(data_dir=d)
        rg.add_registry(store, HOST, secret=SECRET)
        _GATES.append(rg.Gate(store, d, autostart=False))
    g = _GATES[0]
    for raw in (json.dumps(doc).encode(), junk):
        before = len(g.jobs.list())
        status, body = g.accept(SECRET, raw)
        assert status in (200, 202, 400), (status, body)
        after = len(g.jobs.list())
        assert (after > before) == (status == 202)
        assert g.accept("forged-secret-forged-secret", raw)[0] == rg.FORGED_STATUS
        assert len(g.jobs.list()) == after


def test_the_route_over_http_public_in_x_roles_secret_checked(data: Path) -> None:
    import httpx

    from containment.server import authz
    from containment.server.app import create_app
    from tests.unit.server.test_api import LiveServer

    store = Store.open(data_dir=data)
    app = create_app(store, close_store=True, data_dir=data)
    gate = app.app.app.state.gate  # ObserveMiddleware -> AuthzMiddleware -> FastAPI
    assert isinstance(gate, rg.Gate)
    gate.autostart = False  # no registry here: the jobs stay queued for this test to read
    url_path = f"{authz.API}/registry/events"
    assert authz.OPERATIONS[("POST", url_path)] == authz.PUBLIC and ("POST", url_path) in authz.SHARED_SECRET
    with LiveServer(app) as srv, httpx.Client(timeout=30) as c:
        doc = c.get(f"{srv.url}{authz.API}/openapi.json").json()
        assert doc["paths"][url_path]["post"]["x-roles"] == ["anonymous"]
        ev = envelope(event())
        for headers in (
            {},
            {rg.SECRET_HEADER: "forged-forged-forged"},
            {"authorization": f"Bearer {SECRET}"},
        ):
            r = c.post(srv.url + url_path, content=ev, headers=headers)
            assert r.status_code == rg.FORGED_STATUS and r.json()["error"] == "bad request", r.text
        assert gate.jobs.list() == []
        ct = {"content-type": "application/vnd.docker.distribution.events.v1+json", rg.SECRET_HEADER: SECRET}
        r = c.post(srv.url + url_path, content=ev, headers=ct)
        assert r.status_code == 202 and r.json()["queued"] == 1, r.text
        r = c.post(srv.url + url_path, content=ev, headers=ct)
        assert r.status_code == 200 and r.json()["duplicates"] == 1
        r = c.post(srv.url + url_path, content=b"{" * 5000, headers=ct)
        assert r.status_code == 400
        assert c.post(srv.url + url_path, content=b"x" * (rg.MAX_BODY + 1), headers=ct).status_code == 413
    assert [j["key"] for j in gate.jobs.list()] == [f"{HOST}/app:v1@{D1}"]
