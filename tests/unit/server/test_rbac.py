"""The RBAC walk: every operation of the served OpenAPI document x every role (and no token),
read from the document's own `x-roles`, on SQLite and on PostgreSQL.

For each call: made-up path values and a `{}` body (then hostile bodies for refused roles).
A listed role never gets 401/403/5xx; an unlisted role always gets 403 (never 2xx, 404, 422),
whatever it sends; no token, a forged, expired, revoked or foreign-scheme credential gets 401
with `WWW-Authenticate: Bearer`. Refused calls change nothing (audit trail and users)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from containment.server import authz
from containment.server.store import Store
from tests.unit.server.pg import pg_cluster, pg_url  # noqa: F401
from tests.unit.server.test_api import SMALL_BODY, Env, make_env

MADE_UP = {
    "digest": ["sha256:" + "0" * 64, "made-up", "sbom:sha256:" + "f" * 64, "%00", "..%2f..%2fetc"],
    "id": ["1", "999999999", "made-up", "-1", "%00"],  # policies and exceptions
}
HOSTILE = [b"{}", b"", b"not json", b"[" * 5000, b'{"name": "x", "role": "admin"}', b"x" * (SMALL_BODY * 2)]
CALLERS = [*authz.ROLES, None]  # None: no token


@pytest.fixture(params=["sqlite", "postgresql"])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Env]:
    if request.param == "sqlite":
        store = Store.open(data_dir=tmp_path / "data")
    else:
        store = Store.open(url=request.getfixturevalue("pg_url"))
    try:
        yield from make_env(store)
    finally:
        store.close()


def operations(env: Env) -> list[tuple[str, str, list[str]]]:
    doc = env.call("GET", "/api/v1/openapi.json").json()
    ops = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            ops.append((method.upper(), path, op["x-roles"]))
    return ops


def concrete(path: str) -> list[str]:
    names = re.findall(r"\{(\w+)\}", path)
    if not names:
        return [path]
    out = []
    for i in range(max(len(MADE_UP[n]) for n in names)):
        p = path
        for n in names:
            p = p.replace(f"{{{n}}}", MADE_UP[n][i % len(MADE_UP[n])])
        out.append(p)
    return out


def test_x_roles_are_the_table_the_middleware_enforces(env: Env) -> None:
    ops = operations(env)
    assert len(ops) == len(authz.OPERATIONS) - 1  # all but the document itself
    for method, path, roles in ops:
        assert isinstance(roles, list) and roles, (method, path)
        assert roles == [authz.ANONYMOUS] or (authz.ANONYMOUS not in roles and set(roles) <= set(authz.ROLES))
        assert tuple(roles) == authz.OPERATIONS[(method, path)]
    assert authz.OPERATIONS[("GET", "/healthz")] == authz.PUBLIC
    # separation of duties: admins manage users, the auditor never writes
    assert "admin" in authz.OPERATIONS[("POST", "/api/v1/users")]
    writes = [roles for (m, _), roles in authz.OPERATIONS.items() if m != "GET" and roles != authz.PUBLIC]
    assert all("auditor" not in r for r in writes if r != authz.EVERYONE)


def test_rbac_walk(env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    tally: Counter[str] = Counter()
    failures = []
    ops = operations(env)
    for method, template, roles in ops:
        public = roles == [authz.ANONYMOUS]
        for path in concrete(template):
            for caller in CALLERS:
                allowed = public or caller in roles
                bodies = [b"{}"] if allowed or method == "GET" else HOSTILE
                for body in bodies:
                    kw = {"content": body} if method != "GET" else {}
                    r = env.call(method, path, caller, **kw)
                    tally["calls"] += 1
                    s = r.status_code
                    if s >= 500:
                        failures.append(("5xx", method, path, caller, s, r.text[:200]))
                    if allowed:
                        if s in (401, 403):
                            tally["wrongly refused"] += 1
                            failures.append(("wrongly refused", method, path, caller, s, r.text[:200]))
                    else:
                        want = 401 if caller is None else 403
                        if 200 <= s < 300:
                            tally["unauthorised successes"] += 1
                        if s != want:
                            failures.append((f"want {want}", method, path, caller, s, r.text[:200]))
                        if s == 401:
                            assert r.headers["www-authenticate"].startswith("Bearer")
                        assert r.json()["error"] in ("unauthorized", "forbidden")
    with capsys.disabled():
        print(
            f"\nRBAC walk: {len(ops)} operations x {len(CALLERS)} callers, {tally['calls']} calls: "
            f"{tally['unauthorised successes']} unauthorised successes, {tally['wrongly refused']} wrongly refused"
        )
    assert not failures, failures[:10]
    assert tally["unauthorised successes"] == 0 and tally["wrongly refused"] == 0


def test_bad_credentials_get_401(env: Env) -> None:
    good = env.tokens["admin"]
    tid = good.split("_")[1]
    forged = f"ctm_{tid}_{'A' * 43}"  # a real token id with a made-up secret
    expired = env.store.create_token("admin-user", expires_days=0)
    revoked = env.store.create_token("admin-user")
    assert env.store.revoke_token(revoked.split("_")[1])
    for header in (
        f"Bearer {forged}",
        f"Bearer {expired}",
        f"Bearer {revoked}",
        "Bearer -",
        "Bearer ctm_nothing",
        f"Basic {good}",
        f"bearer{good}",
        "Bearer " + "x" * 5000,
    ):
        r = env.client.get(f"{env.url}/api/v1/users", headers={"authorization": header})
        assert r.status_code == 401, (header[:40], r.text)
        assert r.headers["www-authenticate"].startswith("Bearer")
        assert r.json()["error"] == "unauthorized"
    r = env.client.get(f"{env.url}/api/v1/users", headers={"authorization": f"Bearer {good}"})
    assert r.status_code == 200
    # a forged session cookie is no better
    r = env.client.get(f"{env.url}/api/v1/me", headers={"cookie": f"{authz.SESSION_COOKIE}={forged}"})
    assert r.status_code == 401


def test_refused_calls_change_nothing(env: Env) -> None:
    users = env.store.users()
    for role in ("developer", "security", "operations", "auditor"):
        r = env.call("POST", "/api/v1/users", role, json={"name": f"evil-{role}", "role": "admin"})
        assert r.status_code == 403
    r = env.call("POST", "/api/v1/sboms", "auditor", json={"bomFormat": "CycloneDX"})
    assert r.status_code == 403
    assert env.store.users() == users
    assert env.call("GET", "/api/v1/images", "auditor").json()["images"] == []
