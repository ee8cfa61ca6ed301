"""Policies, exceptions and the audit API (server/governance*.py), on SQLite and PostgreSQL.

The separation-of-duties rules (nobody approves their own exception; a policy version is
activated by someone other than its uploader; admins hold no role here), expiry, the effect of
approved exceptions on gate decisions, hostile text stored verbatim and rendered inert, the
dashboard forms with their per-session token, and the audit API answering exactly what
`containment audit export` writes."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from containment import audit
from containment.model import Finding, Inventory, Package, ScanReport
from containment.policy.gate import evaluate
from containment.policy.policyfile import parse_policy
from containment.server import governance as gov
from containment.server.models import PolicyException, now
from containment.server.store import Store
from tests.unit.server.pg import pg_cluster, pg_url  # noqa: F401
from tests.unit.server.test_api import Env, make_env
from tests.unit.server.test_dashboard import assert_inert, sign_in
from tests.unit.server.test_store import INJECTIONS

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64
REPO = "127.0.0.1:5000/team/app"
POLICY = """\
stages:
  prod:
    max_severity: {CRITICAL: 0}
  dev:
"""
SOON = (dt.date.today() + dt.timedelta(days=30)).isoformat()


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        s = Store.open(data_dir=tmp_path / "data")
    else:
        s = Store.open(url=request.getfixturevalue("pg_url"))
    try:
        for name, role in (
            ("dev", "developer"),
            ("sec1", "security"),
            ("sec2", "security"),
            ("adm", "admin"),
        ):
            s.add_user(name, role)
        yield s
    finally:
        s.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Env]:
    if request.param == "sqlite":
        s = Store.open(data_dir=tmp_path / "data")
    else:
        s = Store.open(url=request.getfixturevalue("pg_url"))
    try:
        s.add_user("security2-user", "security", password="pw-security2-123")
        yield from make_env(s)
    finally:
        s.close()


def actions(store: Store) -> list[str]:
    return [r["action"] for r in gov.audit_records(store, limit=1000)][::-1]


def critical_report(digest: str = D1, target: str = f"{REPO}:1") -> ScanReport:
    pkg = Package(
        name="openssl",
        version="1.0",
        type="deb",
        purl="pkg:deb/debian/openssl@1.0",
        path="var/lib/dpkg/status",
        cataloger="dpkg-status",
    )
    f = Finding(
        id="CVE-2024-0001",
        aliases=("GHSA-aaaa-bbbb-cccc",),
        package=pkg,
        ecosystem="Debian:12",
        installed_version="1.0",
        fixed_versions=(),
        status="affected",
        severity="CRITICAL",
        severity_source="debian",
    )
    inv = Inventory(target=target, kind="image", os=None, packages=(pkg,), image_digest=digest)
    return ScanReport(inventory=inv, findings=(f,), scanners=("vuln",))


# ------------------------------------------------------------------------------ store level


def test_exception_flow_and_separation_of_duties(store: Store) -> None:
    x = gov.request_exception(store, "CVE-2024-0001", D1, "prod", "no fix upstream", SOON, "sec1")
    assert x["state"] == "requested" and x["requested_by"] == "sec1" and not x["expired"]
    # nobody approves or rejects their own request, not even security
    for approve in (True, False):
        with pytest.raises(gov.Conflict, match="requested by you.*someone else"):
            gov.decide(store, x["id"], "sec1", approve)
    assert gov.exception(store, x["id"])["state"] == "requested"
    with pytest.raises(gov.NotFound):
        gov.decide(store, 999_999, "sec2", True)
    with pytest.raises(gov.NotFound):
        gov.decide(store, "made-up", "sec2", True)
    done = gov.decide(store, x["id"], "sec2", True)
    assert done["state"] == "approved" and done["decided_by"] == "sec2" and done["decided"]
    with pytest.raises(gov.Conflict, match="approved already"):
        gov.decide(store, x["id"], "sec2", False)
    # a developer may not revoke an approved one (not theirs, not pending); security may
    with pytest.raises(gov.Conflict, match="only security"):
        gov.revoke(store, x["id"], "dev", "developer")
    assert gov.revoke(store, x["id"], "sec2", "security")["state"] == "revoked"
    with pytest.raises(gov.Conflict, match="nothing to revoke"):
        gov.revoke(store, x["id"], "sec2", "security")
    # the requester withdraws their own pending request; a rejected one stays rejected
    y = gov.request_exception(store, "CTM-IMG-001", "*", "*", "false positive", SOON, "dev")
    assert gov.revoke(store, y["id"], "dev", "developer")["state"] == "revoked"
    z = gov.request_exception(store, "CVE-2024-0002", REPO, "dev", "later", SOON, "dev")
    assert gov.decide(store, z["id"], "sec1", False)["state"] == "rejected"
    assert [e["id"] for e in gov.exceptions(store, "rejected")] == [z["id"]]
    assert {e["id"] for e in gov.exceptions(store)} == {x["id"], y["id"], z["id"]}
    with pytest.raises(gov.GovernanceError, match="state: one of"):
        gov.exceptions(store, "nonsense")
    assert actions(store).count("exception.request") == 3
    assert actions(store).count("exception.revoke") == 2
    assert actions(store).count("exception.approve") == 1 and actions(store).count("exception.reject") == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("expires", "2001-01-01", "has passed"),
        ("expires", (dt.date.today() + dt.timedelta(days=400)).isoformat(), "at most 365 days"),
        ("expires", "next tuesday", "not an ISO 8601"),
        ("expires", "", "ISO 8601"),
        ("expires", None, "ISO 8601"),
        ("subject", "", "non-empty"),
        ("subject", "CVE-1\nCVE-2", "one line"),
        ("subject", "x" * 300, "at most"),
        ("scope", "not a scope'; DROP TABLE exceptions;--", "scope:"),
        ("scope", "", "non-empty"),
        ("stage", "prod stage", "stage:"),
        ("reason", "", "non-empty"),
        ("reason", "a\x00b", "NUL"),
        ("reason", 42, "string"),
    ],
)
def test_bad_requests_are_refused_and_store_nothing(
    store: Store, field: str, value: Any, message: str
) -> None:
    args = {"subject": "CVE-2024-0001", "scope": D1, "stage": "prod", "reason": "why", "expires": SOON}
    args[field] = value
    before = actions(store)
    with pytest.raises(gov.GovernanceError, match=message):
        gov.request_exception(store, *args.values(), "dev")
    assert gov.exceptions(store) == [] and actions(store) == before


def test_expiry_bounds_accept_dates_and_datetimes(store: Store) -> None:
    last = (dt.date.today() + dt.timedelta(days=365)).isoformat()
    a = gov.request_exception(store, "CVE-1", "*", "*", "r", last, "dev")
    assert a["expires"].startswith((dt.date.today() + dt.timedelta(days=366)).isoformat())  # through that day
    b = gov.request_exception(store, "CVE-2", "*", "*", "r", _in(hours=2), "dev")
    assert b["expires"].endswith("Z") and not b["expired"]
    c = gov.request_exception(store, "CVE-3", "*", "*", "r", _in(days=2, zone=5), "dev")
    assert c["expires"].endswith("Z")  # kept in UTC whatever zone it was given in


def _in(zone: int = 0, **delta: float) -> str:
    tz = dt.timezone(dt.timedelta(hours=zone))
    return (dt.datetime.now(tz) + dt.timedelta(**delta)).isoformat()


def test_active_exceptions_apply_to_the_gate_and_stop_when_expired(store: Store) -> None:
    policy = parse_policy(POLICY, "policy.yaml")
    report = critical_report()
    assert not evaluate(report, policy, "prod").passed
    x = gov.request_exception(store, "GHSA-aaaa-bbbb-cccc", REPO, "prod", "mitigated by config", SOON, "dev")
    assert gov.active_exceptions(store, "prod", D1, [REPO]) == []  # requested only
    gov.decide(store, x["id"], "sec1", True)
    # scope: by repository, by digest or "*"; stage: its own or "*"
    assert len(gov.active_exceptions(store, "prod", D1, [REPO])) == 1
    assert gov.active_exceptions(store, "prod", D1, ["127.0.0.1:5000/other"]) == []
    assert gov.active_exceptions(store, "dev", D1, [REPO]) == []
    d = evaluate(report, gov.with_exceptions(store, policy, "prod", D1, [REPO]), "prod")
    assert d.passed, d.reasons
    [applied] = d.exceptions_applied
    assert f"server exception #{x['id']}" in applied.message and "mitigated by config" in applied.message
    assert applied.exception.approver == "sec1"
    # another image of another repository is not covered
    other = critical_report(D2, "127.0.0.1:5000/other:1")
    assert not evaluate(
        other, gov.with_exceptions(store, policy, "prod", D2, ["127.0.0.1:5000/other"]), "prod"
    ).passed
    y = gov.request_exception(store, "CVE-2024-0001", D2, "*", "digest scope", SOON, "dev")
    gov.decide(store, y["id"], "sec2", True)
    assert evaluate(other, gov.with_exceptions(store, policy, "prod", D2, []), "prod").passed
    # expired: no longer applies, without anyone revoking it
    with store.write() as s:
        s.execute(update(PolicyException).values(expires=now() - dt.timedelta(seconds=1)))
    assert gov.active_exceptions(store, "prod", D1, [REPO]) == []
    assert not evaluate(report, gov.with_exceptions(store, policy, "prod", D1, [REPO]), "prod").passed
    assert {e["id"] for e in gov.exceptions(store, "expired")} == {x["id"], y["id"]}
    late = gov.request_exception(store, "CVE-2024-7", "*", "*", "asked in time", SOON, "dev")
    with store.write() as s:
        s.execute(
            update(PolicyException)
            .where(PolicyException.id == late["id"])
            .values(expires=now() - dt.timedelta(seconds=1))
        )
    with pytest.raises(gov.Conflict, match="expired .* before it was approved"):
        gov.decide(store, late["id"], "sec1", True)
    with pytest.raises(gov.Conflict, match="nothing|already"):
        gov.decide(store, y["id"], "sec1", True)
    # a revoked one stops applying at once
    with store.write() as s:
        s.execute(update(PolicyException).values(expires=now() + dt.timedelta(days=3)))
    assert len(gov.active_exceptions(store, "prod", D1, [REPO])) == 1
    gov.revoke(store, x["id"], "sec2", "security")
    assert gov.active_exceptions(store, "prod", D1, [REPO]) == []


def test_policy_upload_and_two_person_activation(store: Store) -> None:
    v1 = gov.upload_policy(store, "default", POLICY, "sec1")
    assert (v1["version"], v1["active"], v1["stages"]) == (1, False, ["prod", "dev"])
    with pytest.raises(gov.Conflict, match="uploaded by you.*two-person"):
        gov.activate_policy(store, v1["id"], "sec1")
    a = gov.activate_policy(store, v1["id"], "sec2")
    assert a["active"] and a["approved_by"] == "sec2"
    with pytest.raises(gov.Conflict, match="already active"):
        gov.activate_policy(store, v1["id"], "sec2")
    v2 = gov.upload_policy(store, "default", POLICY + "  test:\n", "sec2")
    assert v2["version"] == 2 and not v2["active"]
    gov.activate_policy(store, v2["id"], "sec1")
    listed = {p["version"]: p["active"] for p in gov.policies(store, "default")}
    assert listed == {1: False, 2: True}  # one active version per name
    assert gov.policy(store, v2["id"])["document"] == POLICY + "  test:\n"
    with pytest.raises(gov.NotFound):
        gov.activate_policy(store, 424242, "sec1")
    assert actions(store)[-4:] == ["policy.upload", "policy.activate", "policy.upload", "policy.activate"]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("stages:\n  prod:\n    max_scor: 4\n", r"default\.yaml:3: .*max_scor"),
        ("stages: [", r"default\.yaml"),
        ("", "non-empty"),
        ("stages:\n  prod:\n    required_signatures: [/etc/passwd]\n", "key id .*not by a file"),
        ("stages:\n  prod:\n    required_signatures: [../../audit-key.pem]\n", "not by a file"),
    ],
)
def test_bad_policies_are_refused_with_the_parsers_line(store: Store, document: str, message: str) -> None:
    before = actions(store)
    with pytest.raises(gov.GovernanceError, match=message):
        gov.upload_policy(store, "default", document, "sec1")
    assert gov.policies(store) == [] and actions(store) == before


# ------------------------------------------------------------------------------ the API


def test_api_flow_roles_and_conflicts(env: Env) -> None:
    body = {"subject": "CVE-2024-0001", "scope": D1, "stage": "prod", "reason": "r", "expires": SOON}
    r = env.call("POST", "/api/v1/exceptions", "security", json=body)
    assert r.status_code == 201, r.text
    xid = r.json()["id"]
    # the duty rule: 409 with a detail saying why, not 403 (the role may call it)
    r = env.call("POST", f"/api/v1/exceptions/{xid}/approve", "security")
    assert r.status_code == 409 and "requested by you" in r.json()["detail"], r.text
    assert r.json()["error"] == "conflict"
    # roles decide first (before lookup): an admin or a developer gets 403 even on a made-up id
    for role in ("admin", "developer", "operations", "auditor"):
        for path in (f"/api/v1/exceptions/{xid}/approve", "/api/v1/exceptions/999999/approve"):
            assert env.call("POST", path, role).status_code == 403
        assert (
            env.call("POST", "/api/v1/policies", role, json={"name": "p", "document": POLICY}).status_code
            == 403
        )
    assert env.call("POST", "/api/v1/exceptions", "auditor", json=body).status_code == 403
    assert env.call("POST", "/api/v1/exceptions/999999/approve", "security").status_code == 404
    assert env.call("POST", "/api/v1/exceptions/made-up/approve", "security").status_code == 404
    r = env.call("POST", f"/api/v1/exceptions/{xid}/approve")  # no credential at all
    assert r.status_code == 401
    other = env.store.create_token("security2-user")
    r = env.client.post(
        f"{env.url}/api/v1/exceptions/{xid}/approve", headers={"authorization": f"Bearer {other}"}
    )
    assert (
        r.status_code == 200
        and r.json()["state"] == "approved"
        and r.json()["decided_by"] == "security2-user"
    )
    listed = env.call("GET", "/api/v1/exceptions?state=approved", "auditor").json()["exceptions"]
    assert [x["id"] for x in listed] == [xid]
    assert env.call("GET", "/api/v1/exceptions?state=bogus", "auditor").status_code == 422
    # malformed bodies: 400/422, nothing stored
    for raw in (b"", b"not json", b"[]", b'{"subject": 1}', json.dumps({**body, "expires": "soon"}).encode()):
        r = env.call("POST", "/api/v1/exceptions", "developer", content=raw)
        assert r.status_code in (400, 422), (raw, r.status_code)
        assert r.json()["error"] in ("bad request", "invalid")
    assert len(env.call("GET", "/api/v1/exceptions", "auditor").json()["exceptions"]) == 1
    # policies: 422 with the parser's line; uploader cannot activate
    r = env.call(
        "POST",
        "/api/v1/policies",
        "security",
        json={"name": "default", "document": "stages:\n  p:\n    max_scor: 1\n"},
    )
    assert r.status_code == 422 and "default.yaml:3" in r.json()["detail"], r.text
    r = env.call("POST", "/api/v1/policies", "security", json={"name": "default", "document": POLICY})
    assert r.status_code == 201
    pid = r.json()["id"]
    assert env.call("POST", f"/api/v1/policies/{pid}/activate", "security").status_code == 409
    r = env.client.post(
        f"{env.url}/api/v1/policies/{pid}/activate", headers={"authorization": f"Bearer {other}"}
    )
    assert r.status_code == 200 and r.json()["active"]
    assert env.call("GET", f"/api/v1/policies/{pid}", "developer").json()["document"] == POLICY
    assert env.call("GET", "/api/v1/policies/424242", "developer").status_code == 404
    for q in ("name=%00", "name=a%0Ab", "limit=0", "offset=-1"):  # NUL would be a 5xx on PostgreSQL
        assert env.call("GET", f"/api/v1/policies?{q}", "developer").status_code == 422, q
    assert env.call("GET", "/ui/exceptions?state=%00", "developer").status_code == 422


def test_injection_text_is_stored_verbatim_and_rendered_inert(env: Env) -> None:
    for evil in INJECTIONS:
        subject = evil.strip().replace("\n", " ") or "x"
        body = {"subject": subject, "scope": "*", "stage": "*", "reason": evil + "\n" + evil, "expires": SOON}
        r = env.call("POST", "/api/v1/exceptions", "developer", json=body)
        assert r.status_code == 201, (evil, r.text)
        got = r.json()
        assert (got["subject"], got["reason"]) == (subject, body["reason"])
    listed = env.call("GET", "/api/v1/exceptions?limit=1000", "auditor").json()["exceptions"]
    assert sorted(x["reason"] for x in listed) == sorted(e + "\n" + e for e in INJECTIONS)
    # the policy document, verbatim too (YAML comments and strings hold anything)
    doc = (
        "# "
        + " ".join(INJECTIONS).replace("\n", " ")
        + '\nstages:\n  prod:\n    description: "<script>alert(1)</script>"\n'
    )
    r = env.call("POST", "/api/v1/policies", "security", json={"name": "evil", "document": doc})
    assert r.status_code == 201, r.text
    assert env.call("GET", f"/api/v1/policies/{r.json()['id']}", "auditor").json()["document"] == doc
    for page in ("/ui/exceptions", "/ui/policies"):
        html = env.call("GET", page, "security").text
        assert_inert(html)
        assert "<script>alert(1)</script>" not in html
    html = env.call("GET", "/ui/exceptions", "security").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # the tables still exist, with every row
    with env.store.read() as s:
        assert s.query(PolicyException).count() == len(INJECTIONS)
    # scope and stage are identifiers: an injection there is a 422 and stores nothing
    for field in ("scope", "stage"):
        body = {
            "subject": "CVE-1",
            "scope": "*",
            "stage": "*",
            "reason": "r",
            "expires": SOON,
            field: INJECTIONS[0],
        }
        r = env.call("POST", "/api/v1/exceptions", "developer", json=body)
        assert r.status_code == 422 and r.json()["detail"].startswith(field), r.text
    with env.store.read() as s:
        assert s.query(PolicyException).count() == len(INJECTIONS)


def test_audit_api_answers_what_export_writes(env: Env) -> None:
    body = {"subject": "CVE-2024-9", "scope": "*", "stage": "prod", "reason": "r", "expires": SOON}
    for _ in range(3):
        assert env.call("POST", "/api/v1/exceptions", "developer", json=body).status_code == 201
    buf = io.BytesIO()
    audit.export(env.store.engine, buf)
    exported = [json.loads(line) for line in buf.getvalue().splitlines()[1:]]
    got = env.call("GET", "/api/v1/audit?limit=1000", "auditor").json()["records"]
    assert got == exported[::-1]  # newest first, the very same records
    assert [audit.canonical(r) for r in got] == [audit.canonical(r) for r in exported[::-1]]
    # filters
    q = env.call("GET", "/api/v1/audit?action=exception&actor=developer-user", "security").json()["records"]
    assert [r["action"] for r in q] == ["exception.request"] * 3
    assert env.call("GET", "/api/v1/audit?subject=CVE-2024", "admin").json()["records"] == q
    assert env.call("GET", "/api/v1/audit?subject=CVE-2025", "admin").json()["records"] == []
    assert env.call("GET", "/api/v1/audit?subject=%25", "admin").json()["records"] == []  # a literal %
    first = q[-1]  # the oldest request: since is inclusive, until exclusive
    since = env.call("GET", "/api/v1/audit", "auditor", params={"since": first["time"]}).json()["records"]
    assert since == [r for r in got if r["seq"] >= first["seq"]] and len(since) >= 3
    until = env.call("GET", "/api/v1/audit", "auditor", params={"until": first["time"]}).json()["records"]
    assert until == [r for r in got if r["seq"] < first["seq"]] and until
    zoned = first["time"][:19] + "+00:00"  # another spelling of (about) the same instant
    assert env.call("GET", "/api/v1/audit", "auditor", params={"since": zoned}).status_code == 200
    today = dt.date.today().isoformat()
    assert len(
        env.call("GET", f"/api/v1/audit?since={today}&until={today}", "auditor").json()["records"]
    ) == len(got)
    page = env.call("GET", "/api/v1/audit?limit=2&offset=1", "auditor").json()["records"]
    assert page == got[1:3]
    for bad in ("since=yesterday", "until=2026-13-01", "limit=0", "limit=100000", "offset=-1", "actor=%00"):
        r = env.call("GET", f"/api/v1/audit?{bad}", "auditor")
        assert r.status_code == 422, (bad, r.text)
    for role in ("developer", "operations"):
        assert env.call("GET", "/api/v1/audit", role).status_code == 403


# ------------------------------------------------------------------------------ dashboard


def _session(env: Env, name: str, password: str) -> dict[str, str]:
    return sign_in(env, name, password)  # through the form, with its token, as a browser does


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf" value="([0-9a-f]{64})"', html)
    assert m, "no form token in the page"
    return m.group(1)


def test_dashboard_forms_request_approve_with_a_session_token(env: Env) -> None:
    dev = _session(env, "developer-user", "pw-developer-123")
    page = env.client.get(f"{env.url}/ui/exceptions", headers=dev)
    assert page.status_code == 200 and "Request an exception" in page.text
    token = _csrf(page.text)
    form = {
        "subject": "CVE-2024-0001",
        "scope": REPO,
        "stage": "prod",
        "reason": "<b>why</b>",
        "expires": SOON,
    }
    # no token, a wrong one, or another session's: 400 and nothing stored
    sec = _session(env, "security-user", "pw-security-123")
    sec_token = _csrf(env.client.get(f"{env.url}/ui/exceptions", headers=sec).text)
    assert sec_token != token
    for bad in ({}, {"csrf": "0" * 64}, {"csrf": sec_token}):
        r = env.client.post(f"{env.url}/ui/exceptions", data={**form, **bad}, headers=dev)
        assert r.status_code == 400 and "reload the page" in r.text, r.text[:300]
    assert env.call("GET", "/api/v1/exceptions", "auditor").json()["exceptions"] == []
    # bad input: the form comes back with the message and what was typed
    r = env.client.post(
        f"{env.url}/ui/exceptions", data={**form, "expires": "2001-01-01", "csrf": token}, headers=dev
    )
    assert r.status_code == 422 and "has passed" in r.text and "&lt;b&gt;why&lt;/b&gt;" in r.text
    r = env.client.post(f"{env.url}/ui/exceptions", data={**form, "csrf": token}, headers=dev)
    assert r.status_code == 303
    [x] = env.call("GET", "/api/v1/exceptions", "auditor").json()["exceptions"]
    assert x["requested_by"] == "developer-user" and x["reason"] == "<b>why</b>"
    approve = f"/ui/exceptions/{x['id']}/approve"
    # buttons: never to the developer, to security (not the requester)
    assert approve not in env.client.get(f"{env.url}/ui/exceptions", headers=dev).text
    assert approve in env.client.get(f"{env.url}/ui/exceptions", headers=sec).text
    assert approve not in env.call("GET", "/ui/exceptions", "admin").text
    assert env.call("POST", approve, "admin", data={}).status_code == 403  # admins never approve
    # the developer cannot approve (403 by the table, before the form is read)
    assert env.client.post(f"{env.url}{approve}", data={"csrf": token}, headers=dev).status_code == 403
    r = env.client.post(f"{env.url}{approve}", data={"csrf": sec_token}, headers=sec)
    assert r.status_code == 303
    assert env.call("GET", "/api/v1/exceptions", "auditor").json()["exceptions"][0]["state"] == "approved"
    # security's own request shows no approve button to them, and a forced POST is a 409 page
    r = env.client.post(f"{env.url}/ui/exceptions", data={**form, "csrf": sec_token}, headers=sec)
    assert r.status_code == 303
    own = env.call("GET", "/api/v1/exceptions?state=requested", "auditor").json()["exceptions"][0]["id"]
    assert f"/ui/exceptions/{own}/approve" not in env.client.get(f"{env.url}/ui/exceptions", headers=sec).text
    r = env.client.post(f"{env.url}/ui/exceptions/{own}/approve", data={"csrf": sec_token}, headers=sec)
    assert r.status_code == 409 and "requested by you" in r.text
    # a bearer token needs no form token (no cookie: nothing to forge)
    r = env.call("POST", f"/ui/exceptions/{own}/reject", "security", data={})
    assert r.status_code == 409  # the bearer's user is security-user too: still their own
    other = env.store.create_token("security2-user")
    r = env.client.post(f"{env.url}/ui/exceptions/{own}/reject", headers={"authorization": f"Bearer {other}"})
    assert r.status_code == 303


def test_dashboard_policies_upload_and_activate(env: Env) -> None:
    sec = _session(env, "security-user", "pw-security-123")
    page = env.client.get(f"{env.url}/ui/policies", headers=sec)
    assert "Upload a policy version" in page.text
    token = _csrf(page.text)
    assert "Upload a policy version" not in env.call("GET", "/ui/policies", "admin").text
    r = env.client.post(
        f"{env.url}/ui/policies",
        data={"name": "default", "document": "stages:\n  x:\n    max_scor: 1\n", "csrf": token},
        headers=sec,
    )
    assert r.status_code == 422 and "default.yaml:3" in r.text
    r = env.client.post(
        f"{env.url}/ui/policies",
        data={"name": "default", "document": POLICY.replace("\n", "\r\n"), "csrf": token},
        headers=sec,
    )
    assert r.status_code == 303
    [p] = env.call("GET", "/api/v1/policies", "auditor").json()["policies"]
    assert env.call("GET", f"/api/v1/policies/{p['id']}", "auditor").json()["document"] == POLICY
    activate = f"/ui/policies/{p['id']}/activate"
    assert activate not in env.client.get(f"{env.url}/ui/policies", headers=sec).text  # own upload
    r = env.client.post(f"{env.url}{activate}", data={"csrf": token}, headers=sec)
    assert r.status_code == 409 and "two-person" in r.text
    sec2 = _session(env, "security2-user", "pw-security2-123")
    page2 = env.client.get(f"{env.url}/ui/policies", headers=sec2).text
    assert activate in page2
    r = env.client.post(f"{env.url}{activate}", data={"csrf": _csrf(page2)}, headers=sec2)
    assert r.status_code == 303
    assert env.call("GET", "/api/v1/policies", "auditor").json()["policies"][0]["active"]


# ------------------------------------------------------------------------------ fuzz


def test_schemathesis_finds_no_server_error_on_governance(env: Env) -> None:
    cli = Path(sys.executable).parent / "schemathesis"
    if not cli.exists():
        pytest.skip("schemathesis not installed in the venv (pip install schemathesis)")
    for role in ("security", "developer"):
        p = subprocess.run(
            [
                str(cli),
                "run",
                f"{env.url}/api/v1/openapi.json",
                "-H",
                f"Authorization: Bearer {env.tokens[role]}",
                "--include-path-regex",
                "^/(api/v1|ui)/(policies|exceptions|audit)",
                "--checks",
                "not_a_server_error",
                "--max-examples",
                "25",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
        summary = next((ln for ln in p.stdout.splitlines() if "generated," in ln), "").strip()
        print(f"\nschemathesis governance ({role}): {summary}")
        assert p.returncode == 0, "\n".join(p.stdout.splitlines()[-40:])
        assert "generated" in p.stdout


# ------------------------------------------------------------------------------ where decisions are made


def test_registry_gate_decision_names_the_exception(store: Store, tmp_path: Path) -> None:
    """Gate._decide records the exceptions a decision was made with, in its reasons and audit."""
    from types import SimpleNamespace

    from containment.server import registry_gate as rg
    from containment.server.models import Decision, Image

    (tmp_path / "policy.yaml").write_text(POLICY)
    rg.add_registry(store, "127.0.0.1:5000", policy_file=str(tmp_path / "policy.yaml"), stage="prod")
    gate = rg.Gate(store, tmp_path / "gate", autostart=False)
    cfg = gate.registries()["127.0.0.1:5000"]
    x = gov.request_exception(store, "CVE-2024-0001", REPO, "prod", "vendor says unreachable", SOON, "dev")
    gov.decide(store, x["id"], "sec1", True)
    ev = {"host": "127.0.0.1:5000", "repository": "team/app", "tag": "1", "digest": D1}
    policy = gov.with_exceptions(store, parse_policy(POLICY, "policy.yaml"), "prod", D1, [REPO])
    decision = evaluate(critical_report(), policy, "prod")
    assert decision.passed
    job = SimpleNamespace(id=1, attempt=1, key=rg.job_key(ev))
    with store.write() as s:
        gate._decide(s, ev, cfg, decision, "none", [], job, Decision, Image)  # type: ignore[arg-type]
    with store.read() as s:
        row = s.query(Decision).one()
    assert row.allowed
    [reason] = [r for r in row.reasons if r["rule"] == "exception"]
    assert f"server exception #{x['id']}" in reason["message"] and reason["findings"]
    [rec] = gov.audit_records(store, action="registry.decision")
    assert any(f"server exception #{x['id']}" in m for m in rec["detail"]["reasons"])


def test_reevaluation_alerts_leave_out_waived_findings(store: Store) -> None:
    from containment.policy.policyfile import Stage
    from containment.server.reevaluate import _alerts

    pkg = critical_report().inventory.packages[0]
    stages = {"prod": Stage(name="prod", max_severity={"CRITICAL": 0})}
    found = [[7, "CVE-2024-0001", "critical", False]]

    def alerts() -> list[Any]:
        return _alerts(store, stages, {1: {"prod"}}, {1: found}, {1: found}, {7: pkg}, {1: D1}, None)

    assert len(alerts()) == 1
    x = gov.request_exception(store, "cve-2024-0001", D1, "*", "accepted", SOON, "dev")
    assert len(alerts()) == 1  # requested is not approved
    gov.decide(store, x["id"], "sec2", True)
    assert alerts() == []
    gov.revoke(store, x["id"], "sec2", "security")
    assert len(alerts()) == 1


def test_concurrent_decisions_take_turns(store: Store) -> None:
    """Two security members deciding one request at once: one wins, the other is told (409);
    two versions activated at once: one active version remains."""
    import threading

    ids = [gov.request_exception(store, f"CVE-{i}", "*", "*", "r", SOON, "dev")["id"] for i in range(8)]
    outcomes: list[tuple[int, str]] = []
    lock = threading.Lock()

    def decide(eid: int, who: str, approve: bool, go: threading.Barrier) -> None:
        go.wait()
        try:
            gov.decide(store, eid, who, approve)
            got = "won"
        except gov.Conflict:
            got = "conflict"
        with lock:
            outcomes.append((eid, got))

    for eid in ids:
        go = threading.Barrier(2)
        ts = [
            threading.Thread(target=decide, args=(eid, w, a, go))
            for w, a in (("sec1", True), ("sec2", False))
        ]
        for t in ts:
            t.start()
        for t in ts:
            t.join(60)
    for eid in ids:
        assert sorted(g for e, g in outcomes if e == eid) == ["conflict", "won"]
    decided = [
        r
        for r in gov.audit_records(store, action="exception", limit=1000)
        if r["action"] != "exception.request"
    ]
    assert sorted(r["detail"]["id"] for r in decided) == sorted(ids)

    v = [gov.upload_policy(store, "p", POLICY, "sec1")["id"] for _ in range(2)]
    go = threading.Barrier(2)
    errors: list[Exception] = []

    def activate(pid: int, who: str) -> None:
        go.wait()
        try:
            gov.activate_policy(store, pid, who)
        except Exception as e:  # noqa: BLE001 - collected and asserted below
            errors.append(e)

    ts = [threading.Thread(target=activate, args=(pid, "sec2")) for pid in v]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    assert errors == []
    assert sum(p["active"] for p in gov.policies(store, "p")) == 1
