"""The dashboard served for real (uvicorn on loopback, the real Store on SQLite and on a
throwaway PostgreSQL): every page for every role per authz.OPERATIONS, hostile text stored
through the store rendered escaped (never as markup), the plain-HTML sign-in form, the audit
trail's filters and keyset paging, pagination of the fleet, findings with fix advice."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote_plus

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from containment.model import Inventory, LayerInfo, OSInfo, Package
from containment.server import authz, dashboard
from containment.server.models import Decision, Image, Scan, ScoreRow, Signature
from containment.server.store import Store
from tests.unit.server.pg import pg_cluster, pg_url  # noqa: F401
from tests.unit.server.test_api import SMALL_BODY, Env, LiveServer

DIGEST = "sha256:" + "ab" * 32
LAYER = "sha256:" + "11" * 32
HOSTILE = [
    "<script>alert('x')</script>",
    '"><img src=x onerror=alert(1)>',
    "' onmouseover='alert(1)",
    "</td></tr></table><h1>owned</h1>",
    "{{ 7*7 }}{% raw %}",
    "javascript:alert(1)",
    "&lt;already-escaped&gt; & ampersand",
]
PAGES = ["/ui", f"/ui/images/{DIGEST}", f"/ui/images/{DIGEST}/report"]


def inventory(
    digest: str = DIGEST,
    target: str = "registry.test:5000/team/app:1",
    names: tuple[str, ...] = ("zlib", "openssl"),
    created_by: str = "RUN apt-get install -y zlib1g",
) -> Inventory:
    return Inventory(
        target=target,
        kind="image",
        os=OSInfo(id="debian", version_id="12"),
        packages=tuple(
            Package(
                name=n,
                version="1.0-1",
                type="deb",
                purl=f"pkg:deb/debian/{quote(n, safe='')}@1.0-1",
                path="var/lib/dpkg/status",
                cataloger="dpkg",
                layer=LAYER,
            )
            for n in names
        ),
        layers=(LayerInfo(index=0, diff_id=LAYER, size=1234, created_by=created_by),),
        image_digest=digest,
    )


APPS: dict[int, Any] = {}  # id(store) -> the FastAPI app serving it (to set app.state in a test)


def make_env(store: Store) -> Iterator[Env]:
    """test_api.make_env, keeping the app at hand."""
    import httpx

    from containment.server.app import create_app

    tokens = {}
    for role in authz.ROLES:
        store.add_user(f"{role}-user", role, password=f"pw-{role}-123")
        tokens[role] = store.create_token(f"{role}-user")
    app = create_app(store, max_body=SMALL_BODY)
    APPS[id(store)] = app.app.app  # ObserveMiddleware -> AuthzMiddleware -> FastAPI
    try:
        with LiveServer(app) as srv, httpx.Client(timeout=30) as client:
            yield Env(srv.url, store, tokens, client)
    finally:
        APPS.pop(id(store), None)


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


@pytest.fixture
def sqlite_env(tmp_path: Path) -> Iterator[Env]:
    store = Store.open(data_dir=tmp_path / "data")
    try:
        yield from make_env(store)
    finally:
        store.close()


class Markup(HTMLParser):
    """The elements and attributes a page really holds (what a browser would build)."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> Markup:
    m = Markup()
    m.feed(page)
    m.close()
    return m


def assert_inert(page: str) -> Markup:
    m = parse(page)
    assert "script" not in m.tags and "img" not in m.tags
    assert not any(a.startswith("on") for a, _ in m.attrs), [a for a, _ in m.attrs if a.startswith("on")]
    assert not any((v or "").strip().lower().startswith("javascript:") for _, v in m.attrs)
    return m


def test_every_page_for_every_role(env: Env) -> None:
    env.store.put_inventory(inventory(), "scan", "ci")
    pages = {**dict.fromkeys(PAGES, authz.READERS), "/ui/audit": dashboard.AUDIT_READERS}
    for path, allowed in pages.items():
        assert authz.OPERATIONS[("GET", re.sub(r"sha256:[0-9a-f]{64}", "{digest}", path))] == allowed
        for role in authz.ROLES:
            r = env.call("GET", path, role)
            if role in allowed:
                assert r.status_code == 200, (path, role, r.text[:300])
                assert r.headers["content-type"].startswith("text/html")
                assert "script-src" not in r.headers["content-security-policy"]  # default-src 'none'
                m = parse(r.text)
                assert "main" in m.tags and "script" not in m.tags
                assert any(a == "lang" for a, _ in m.attrs)
            else:
                assert r.status_code == 403, (path, role, r.status_code)
                assert r.json()["error"] == "forbidden"
        r = env.call("GET", path)
        assert r.status_code == 401 and r.json()["error"] == "unauthorized"
    # what the pages show
    fleet = env.call("GET", "/ui", "developer").text
    assert "registry.test:5000" in fleet and "registry.test:5000/team/app" in fleet
    assert DIGEST[:23] in fleet
    img = env.call("GET", f"/ui/images/{DIGEST}", "developer").text
    assert "openssl" in img and "zlib" in img and "RUN apt-get install -y zlib1g" in img
    assert "registry.test:5000/team/app:1" in img
    audit = env.call("GET", "/ui/audit", "auditor").text
    assert "inventory.put" in audit and ">ci<" in audit
    # public pieces
    for path in ("/ui/login", "/ui/dashboard.css", "/ui/print.css"):
        assert env.call("GET", path).status_code == 200
    assert "@media" not in env.call("GET", "/ui/print.css").text  # linked with media="print"
    assert "@page" in env.call("GET", "/ui/print.css").text


def test_hostile_text_from_the_store_is_escaped(env: Env) -> None:
    s = env.store
    evil = " ".join(HOSTILE)
    s.put_inventory(inventory(names=tuple(HOSTILE), created_by=evil), "scan", "ci")
    with s.write() as w:
        image_id = w.query(Image.id).filter(Image.digest == DIGEST).scalar()
        w.add(
            ScoreRow(
                image_id=image_id,
                value=88.0,
                grade="E",
                detail={
                    "headline": evil,
                    "components": {evil: 3},
                    "actions": [{"label": f"upgrade {evil}", "findings": 1, "drop": 9.5, "fixable": True}],
                    "contributions": [
                        {"id": evil, "kind": "vuln", "subject": evil, "severity": evil, "factors": [evil]}
                    ],
                },
            )
        )
        w.add(
            Signature(image_id=image_id, kind="attestation", predicate_type=evil, signer=evil, verified=True)
        )
        w.add(
            Decision(
                image_id=image_id,
                digest=DIGEST,
                stage=evil,
                policy=evil,
                allowed=False,
                action="quarantined",
                reasons=[evil, {"rule": evil}],
                actor="gate",
            )
        )
    for text in HOSTILE:
        s.record("gate", f"gate.{text}", text, {"why": text})
    pages = {p: "security" for p in PAGES} | {"/ui/audit": "auditor", "/ui/audit?action=gate": "auditor"}
    for path, role in pages.items():
        r = env.call("GET", path, role)
        assert r.status_code == 200, (path, r.text[:200])
        m = assert_inert(r.text)
        shown = "".join(m.text)
        for text in HOSTILE:
            assert text not in r.text or not any(c in text for c in "<>\"'&"), (path, text)
            if path != "/ui":  # the fleet lists no package names
                assert text in shown, (path, text)  # shown as text, exactly, once parsed
        assert "<h1>owned</h1>" not in r.text


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=60).filter(
        lambda t: t.strip() == t and t
    )
)
def test_any_package_name_renders_as_text(sqlite_env: Env, name: str) -> None:
    digest = "sha256:" + format(abs(hash(name)) % 16**64, "064x")
    sqlite_env.store.put_inventory(inventory(digest=digest, names=(name,)), "scan", "ci")
    r = sqlite_env.call("GET", f"/ui/images/{digest}", "developer")
    assert r.status_code == 200
    m = assert_inert(r.text)
    assert html.escape(name, quote=False) in r.text or name in "".join(m.text)
    assert name in "".join(m.text)


def login_form(client: Any, url: str) -> tuple[str, str]:
    """GET /ui/login: (the form's token, the login cookie the answer set)."""
    form = client.get(f"{url}/ui/login")
    assert form.status_code == 200
    m = re.search(r'<input type="hidden" name="csrf" value="([A-Za-z0-9_-]+)">', form.text)
    assert m, "no token in the sign-in form"
    # set now, or kept from an earlier visit (the client's jar sent it; the server reused it)
    return m.group(1), form.cookies.get(dashboard.LOGIN_COOKIE) or client.cookies[dashboard.LOGIN_COOKIE]


def sign_in(env: Env, name: str, password: str) -> dict[str, str]:
    """Sign in through the form as a browser does (the form's token and its cookie); the session
    cookie as request headers."""
    import httpx

    with httpx.Client(timeout=30) as browser:
        token, cookie = login_form(browser, env.url)
        r = browser.post(
            f"{env.url}/ui/login",
            data={"name": name, "password": password, "csrf": token},
            headers={"cookie": f"{dashboard.LOGIN_COOKIE}={cookie}"},
            follow_redirects=False,
        )
    assert r.status_code == 303, r.text[:300]
    return {"cookie": f"{authz.SESSION_COOKIE}={r.cookies[authz.SESSION_COOKIE]}"}


def test_sign_in_form_sets_the_session_cookie(sqlite_env: Env) -> None:
    env = sqlite_env
    form = env.call("GET", "/ui/login")
    assert form.status_code == 200
    labels = parse(form.text)
    assert "label" in labels.tags and ("for", "l-pw") in labels.attrs
    token, cookie = login_form(env.client, env.url)
    set_cookie = form.headers["set-cookie"].lower()
    assert "httponly" in set_cookie and "samesite=strict" in set_cookie and "path=/ui/login" in set_cookie
    with_token = {"cookie": f"{dashboard.LOGIN_COOKIE}={cookie}"}
    again, _ = login_form(env.client, env.url)  # the browser's cookie is kept: several tabs work
    assert again == token
    bad = env.client.post(
        f"{env.url}/ui/login",
        data={"name": "auditor-user", "password": "nope", "csrf": token},
        headers=with_token,
    )
    assert bad.status_code == 401 and "wrong password" in bad.text
    assert authz.SESSION_COOKIE not in bad.headers.get("set-cookie", "")
    for body in (b"", b"{}", b"name=&password=", b"name=a%00b&password=x"):
        r = env.client.post(
            f"{env.url}/ui/login",
            content=body + f"&csrf={token}".encode(),
            headers={"content-type": "application/x-www-form-urlencoded", **with_token},
        )
        assert r.status_code == 400, (body[:20], r.status_code)
        assert authz.SESSION_COOKIE not in r.headers.get("set-cookie", "")
    for body in (b"\xff\xfe", b"x" * 10000):  # not a form at all
        r = env.client.post(
            f"{env.url}/ui/login",
            content=body,
            headers={"content-type": "application/x-www-form-urlencoded", **with_token},
        )
        assert r.status_code == 400 and authz.SESSION_COOKIE not in r.headers.get("set-cookie", "")
    ok = env.client.post(
        f"{env.url}/ui/login",
        data={"name": "auditor-user", "password": "pw-auditor-123", "csrf": token},
        headers=with_token,
        follow_redirects=False,
    )
    assert ok.status_code == 303 and ok.headers["location"] == "/ui"
    session = ok.cookies[authz.SESSION_COOKIE]
    assert "httponly" in ok.headers["set-cookie"].lower() and "samestrict" not in ok.headers["set-cookie"]
    headers = {"cookie": f"{authz.SESSION_COOKIE}={session}"}
    page = env.client.get(f"{env.url}/ui/audit", headers=headers)
    assert page.status_code == 200 and "auditor-user" in page.text and "Sign out" in page.text
    logout_token = re.search(
        r'action="/ui/logout">\s*<input type="hidden" name="csrf" value="([0-9a-f]{64})"', page.text
    )
    assert logout_token, "no token in the sign-out form"
    out = env.client.post(
        f"{env.url}/ui/logout", data={"csrf": logout_token.group(1)}, headers=headers, follow_redirects=False
    )
    assert out.status_code == 303 and out.headers["location"] == "/ui/login"
    assert (
        f'{authz.SESSION_COOKIE}=""' in out.headers["set-cookie"] or "Max-Age=0" in out.headers["set-cookie"]
    )


def _audit_count(store: Store) -> int:
    from sqlalchemy import func, select

    from containment.server.models import audit_records

    with store.read() as s:
        return int(s.scalar(select(func.count()).select_from(audit_records)) or 0)


def test_sign_in_refuses_a_forged_form(env: Env) -> None:
    """Login CSRF: a page elsewhere makes the victim's browser post the attacker's name and
    password. It can send neither the login cookie (SameSite=Strict, and it cannot read or set
    it) nor its value in the form: 400, the form again, no session, nothing written."""
    import httpx

    good = {"name": "developer-user", "password": "pw-developer-123"}
    token, cookie = login_form(env.client, env.url)
    other, _ = login_form(httpx.Client(timeout=30), env.url)  # the attacker's own token
    before = _audit_count(env.store)
    forged = [
        ({}, {}),  # a cross-site post: no cookie, no token
        ({"csrf": token}, {}),  # the token without its cookie
        ({}, {"cookie": f"{dashboard.LOGIN_COOKIE}={cookie}"}),  # the cookie without the token
        ({"csrf": other}, {"cookie": f"{dashboard.LOGIN_COOKIE}={cookie}"}),  # another browser's token
        ({"csrf": ""}, {"cookie": f"{dashboard.LOGIN_COOKIE}="}),  # both empty
        ({"csrf": "x" * 43}, {"cookie": f"{dashboard.LOGIN_COOKIE}={'x' * 42}"}),
    ]
    for extra, headers in forged:
        with httpx.Client(timeout=30) as victim:
            r = victim.post(
                f"{env.url}/ui/login", data={**good, **extra}, headers=headers, follow_redirects=False
            )
        assert r.status_code == 400, (extra, headers, r.status_code)  # 403 is for roles alone
        assert r.headers["content-type"].startswith("text/html")
        assert "expired or was sent from another page" in r.text
        assert authz.SESSION_COOKIE not in r.headers.get("set-cookie", "")
        fresh = re.search(r'name="csrf" value="([A-Za-z0-9_-]{43})"', r.text)
        assert fresh, "the refusal offers a working form again"
    assert _audit_count(env.store) == before  # no login, no session token, no record
    # the form as the server gave it still signs in
    assert sign_in(env, "developer-user", "pw-developer-123")["cookie"].startswith(authz.SESSION_COOKIE)


def test_sign_out_needs_the_sessions_token(env: Env) -> None:
    headers = sign_in(env, "security-user", "pw-security-123")
    page = env.client.get(f"{env.url}/ui", headers=headers)
    token = dashboard_token(page.text)
    other = dashboard_token(
        env.client.get(f"{env.url}/ui", headers=sign_in(env, "developer-user", "pw-developer-123")).text
    )
    assert other != token
    for data in (
        {},
        {"csrf": ""},
        {"csrf": other},
        {"csrf": token[:-1] + "0" if token[-1] != "0" else token[:-1] + "1"},
    ):
        r = env.client.post(f"{env.url}/ui/logout", data=data, headers=headers, follow_redirects=False)
        assert r.status_code == 400, (data, r.status_code)
        assert "Not signed out" in r.text and "set-cookie" not in r.headers
        assert env.client.get(f"{env.url}/ui", headers=headers).status_code == 200  # still signed in
    r = env.client.post(f"{env.url}/ui/logout", data={"csrf": token}, headers=headers, follow_redirects=False)
    assert r.status_code == 303 and "Max-Age=0" in r.headers["set-cookie"]
    # signed out for good: the session's token is revoked, the cookie a thief copied is refused
    assert env.client.get(f"{env.url}/ui", headers=headers, follow_redirects=False).status_code == 401
    # a bearer token sends no cookie a page elsewhere could ride on: no form token needed
    r = env.call("POST", "/ui/logout", "developer", follow_redirects=False)
    assert r.status_code == 303


def dashboard_token(page: str) -> str:
    m = re.search(r'action="/ui/logout">\s*<input type="hidden" name="csrf" value="([0-9a-f]{64})"', page)
    assert m, "no token in the sign-out form"
    return m.group(1)


def test_api_login_takes_json_only(sqlite_env: Env) -> None:
    """POST /api/v1/login sets the session cookie too: a page elsewhere could post it a form or a
    text/plain body shaped as JSON without a CORS preflight. Anything but JSON is a 415."""
    import json

    env = sqlite_env
    good = {"name": "developer-user", "password": "pw-developer-123"}
    before = _audit_count(env.store)
    bodies = [
        ("application/x-www-form-urlencoded", b"name=developer-user&password=pw-developer-123"),
        ("text/plain", json.dumps(good).encode()),  # <form enctype="text/plain"> can send this
        ("multipart/form-data; boundary=x", b"--x\r\n"),
        ("", json.dumps(good).encode()),  # fetch() with a Blob body of no type
        ("application/jsonx", json.dumps(good).encode()),
    ]
    for ctype, body in bodies:
        headers = {"content-type": ctype} if ctype else {}
        r = env.client.post(f"{env.url}/api/v1/login", content=body, headers=headers)
        assert r.status_code == 415, (ctype, r.status_code, r.text)
        assert "application/json" in r.json()["detail"]
        assert "set-cookie" not in r.headers
    assert _audit_count(env.store) == before
    for ctype in ("application/json", "application/json; charset=utf-8", "Application/JSON"):
        r = env.client.post(
            f"{env.url}/api/v1/login", content=json.dumps(good).encode(), headers={"content-type": ctype}
        )
        assert r.status_code == 200 and authz.SESSION_COOKIE in r.headers["set-cookie"], ctype


def test_audit_filters_and_paging(sqlite_env: Env) -> None:
    env = sqlite_env
    for i in range(230):
        env.store.record("alice" if i % 2 else "bob", "gate.decision" if i % 3 else "scan.put", f"s{i}", {})

    def seqs(query: str) -> list[int]:
        r = env.call("GET", f"/ui/audit?{query}", "security")
        assert r.status_code == 200, r.text[:300]
        return [int(x) for x in re.findall(r'<th scope="row">(\d+)</th>', r.text)]

    page1 = seqs("")
    assert len(page1) == dashboard.AUDIT_PAGE and page1 == sorted(page1, reverse=True)
    page2 = seqs(f"before={page1[-1]}")
    assert page2 and max(page2) < min(page1) and len(page2) == dashboard.AUDIT_PAGE
    alice = env.call("GET", "/ui/audit?actor=alice&action=gate", "security").text
    rows = re.findall(r"<td>(alice|bob)</td><td>([a-z.]+)</td>", alice)
    assert rows and all(a == "alice" and act == "gate.decision" for a, act in rows)
    assert 'value="alice"' in alice  # the form keeps the filter
    everything_alice = env.call("GET", "/ui/audit?actor=alice", "security").text  # 115 records: 2 pages
    assert re.search(r'href="\?before=\d+&amp;actor=alice"', everything_alice)  # the next link keeps it
    today = datetime.now(UTC).date()
    assert seqs(f"since={today + timedelta(days=1)}") == []
    assert len(seqs(f"since={today - timedelta(days=1)}&until={today}")) == dashboard.AUDIT_PAGE
    assert seqs("action=nothing") == []
    assert seqs("action=gate.%25") == []  # LIKE wildcards are literal
    for bad in (
        "since=yesterday",
        "until=2024-13-01",
        "before=0",
        "before=x",
        "actor=a%0Ab",
        "page=-1&since=1",
    ):
        r = env.call("GET", f"/ui/audit?{bad}", "security")
        assert r.status_code == 422, (bad, r.status_code)
        assert r.json()["error"] == "invalid"


def test_fleet_pages_filters_and_risk(sqlite_env: Env) -> None:
    env = sqlite_env
    for i in range(60):
        repo = "registry.test:5000/team/app" if i < 45 else "docker.io/library/other"
        env.store.put_inventory(
            inventory(digest="sha256:" + format(i, "064x"), target=f"{repo}:v{i}"), "scan", "ci"
        )
    first = env.call("GET", "/ui", "operations").text
    assert (
        "page 1 of 2" in first and first.count('<th scope="row"><a href="/ui/images/') == dashboard.PAGE_SIZE
    )
    second = env.call("GET", "/ui?page=2", "operations").text
    assert second.count('<th scope="row"><a href="/ui/images/') == 10
    only = env.call("GET", "/ui?repository=docker.io/library/other", "operations").text
    assert only.count('<th scope="row"><a href="/ui/images/') == 15 and "(15)" in only
    assert re.search(r"not scanned</span></th><td class=\"num\">60<", first)
    assert env.call("GET", "/ui?page=99", "operations").status_code == 200  # clamped to the last page
    for bad in ("page=0", "page=abc", "repository=a%00b"):
        r = env.call("GET", f"/ui?{bad}", "operations")
        assert r.status_code == 422 and r.json()["error"] == "invalid", bad


def test_unknown_image_is_an_html_404(env: Env) -> None:
    for digest in ("sha256:" + "0" * 64, "made-up", "%3Cscript%3E", "%00", "a%0Ab", "x" * 300):
        r = env.call("GET", f"/ui/images/{digest}", "developer")
        assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
        assert_inert(r.text)
        assert "No such image" in r.text


def test_findings_with_fix_advice_from_the_provider(sqlite_env: Env) -> None:
    env = sqlite_env
    env.store.put_inventory(inventory(), "scan", "ci")
    r = env.call("GET", f"/ui/images/{DIGEST}", "developer")
    assert "No finding evaluated" in r.text
    calls: list[str] = []

    def provider(digest: str) -> list[dict[str, object]]:
        calls.append(digest)
        pkg = {"name": "openssl", "version": "1.0-1", "layer": LAYER}
        return [
            {
                "id": "CVE-2024-0001",
                "severity": "low",
                "package": pkg,
                "installed_version": "1.0-1",
                "fixed_versions": ["1.0-2"],
                "status": "fixed",
            },
            {
                "id": "CVE-2024-0002",
                "severity": "critical",
                "package": pkg,
                "installed_version": "1.0-1",
                "fixed_versions": [],
                "status": "affected",
            },
        ]

    app = APPS[id(env.store)]
    app.state.findings = provider
    try:
        page = env.call("GET", f"/ui/images/{DIGEST}", "developer").text
    finally:
        del app.state.findings
    assert calls == [DIGEST]
    assert "upgrade openssl from 1.0-1 to 1.0-2" in page and "no fix yet" in page
    assert page.index("CVE-2024-0002") < page.index("CVE-2024-0001")  # critical first
    assert "layer 0" in page


def test_registry_of_and_worst() -> None:
    assert dashboard.registry_of("registry.test:5000/team/app") == "registry.test:5000"
    assert dashboard.registry_of("localhost/app") == "localhost"
    assert dashboard.registry_of("library/debian") == "docker.io"
    assert dashboard.registry_of("debian") == "docker.io"
    assert dashboard.worst(None) == "not scanned"
    assert dashboard.worst({"critical": 0, "high": 2, "low": 5}) == "high"
    assert dashboard.worst({"critical": 0}) == "none"


def test_fleet_by_stage_registry_and_trend(env: Env) -> None:
    """The overview's stage table, filters (GET query parameters) and trend, on both databases;
    a hostile stage name shows as text."""
    s = env.store
    targets = {
        "sha256:" + "a1" * 32: "registry.test:5000/team/api:1",
        "sha256:" + "b2" * 32: "registry.test:5000/team/web:2",
        "sha256:" + "c3" * 32: "docker.io/library/debian:12",
    }
    for digest, target in targets.items():
        s.put_inventory(inventory(digest=digest, target=target), "scan", "ci", refs=[target])
    evil = HOSTILE[1]
    with s.write() as w:
        ids = {d: w.query(Image.id).filter(Image.digest == d).scalar() for d in targets}
        a, b, c = targets
        for digest, stage, allowed, action in (
            (a, "prod", True, "none"),
            (a, "prod", False, "quarantined"),  # a's newest prod decision
            (b, "prod", False, "denied"),
            (c, evil, True, "attested"),
        ):
            w.add(Decision(image_id=ids[digest], digest=digest, stage=stage, allowed=allowed, action=action))
        w.add(Scan(image_id=ids[a], actor="ci", critical=2, high=1))
        w.add(Scan(image_id=ids[b], actor="ci", medium=4))
    page = env.call("GET", "/ui", "developer").text
    assert_inert(page)
    stage_rows = re.findall(
        r'<tr><th scope="row"><a href="/ui\?stage=([^"&]+)">[^<]*</a></th>(.*?)</tr>', page, re.S
    )
    table = {
        unquote_plus(html.unescape(st)): re.findall(r'class="num">(?:<a [^>]*>)?(\d+)', cells)
        for st, cells in stage_rows
    }
    assert table == {"prod": ["0", "1", "1"], evil: ["1", "0", "0"]}, table  # allowed, denied, quarantined
    assert evil in "".join(parse(page).text)

    def listed(query: str) -> set[str]:
        r = env.call("GET", f"/ui?{query}", "developer")
        assert r.status_code == 200, (query, r.text[:300])
        assert_inert(r.text)
        return {x for x in targets if f'title="{x}"' in r.text}

    assert listed("") == set(targets)
    assert listed("stage=prod") == {a, b}
    assert listed("stage=prod&status=quarantined") == {a}
    assert listed("stage=prod&status=allowed") == set()  # a was allowed, then quarantined
    assert listed("registry=registry.test%3A5000") == {a, b}
    assert listed("registry=docker.io") == {c}
    assert listed("registry=docker.io&stage=prod") == set()
    assert listed("repository=registry.test%3A5000%2Fteam%2Fweb") == {b}
    assert listed(f"stage={quote(evil)}") == {c}
    # the trend: today's row holds the newest scans' counts (2 critical, 1 high, 4 medium)
    trend = env.call("GET", "/ui?days=7", "developer").text
    today = datetime.now(UTC).date().isoformat()
    row = re.search(rf'<tr><th scope="row">{today}</th>((?:<td class="num">\d+</td>)+)</tr>', trend)
    assert row, trend[-3000:]
    assert re.findall(r"\d+", row.group(1)) == ["3", "2", "2", "1", "4", "0", "0"]
    assert trend.count('<tr><th scope="row">20') == 7
    assert "<svg" in trend and 'role="img"' in trend and "<title" in trend
    scoped = env.call("GET", "/ui?days=1&registry=docker.io", "developer").text
    assert re.search(rf'<th scope="row">{today}</th><td class="num">1</td><td class="num">0</td>', scoped)
    for bad in (
        "status=denied",
        "stage=prod&status=maybe",
        "days=0",
        "days=367",
        "registry=a%0Ab",
        "stage=x%00",
    ):
        r = env.call("GET", f"/ui?{bad}", "developer")
        assert r.status_code == 422 and r.json()["error"] == "invalid", (bad, r.status_code)


def test_navigation_follows_the_authz_table(sqlite_env: Env) -> None:
    for role in authz.ROLES:
        page = sqlite_env.call("GET", "/ui", role).text
        links = set(re.findall(r'<li><a href="(/ui[^"]*)"', page))
        expected = {href for href, _ in dashboard.NAV if role in authz.OPERATIONS.get(("GET", href), ())}
        assert links == expected, (role, links)
        assert ("/ui/audit" in links) == (role in dashboard.AUDIT_READERS)
        assert 'aria-current="page">Fleet' in page


def test_image_page_lists_the_reevaluations_findings(env: Env) -> None:
    from containment.server.models import InventoryRow, PackageRow

    s = env.store
    s.put_inventory(inventory(names=("zlib", "openssl", HOSTILE[0])), "scan", "ci")
    with s.write() as w:
        image_id = w.query(Image.id).filter(Image.digest == DIGEST).scalar()
        inv_id = w.query(InventoryRow.id).filter(InventoryRow.image_id == image_id).scalar()
        pkg = dict(w.query(PackageRow.name, PackageRow.id).filter(PackageRow.inventory_id == inv_id).all())
        computed = [
            [pkg["zlib"], "CVE-2023-0001", "low", True],
            [pkg["openssl"], "CVE-2024-0002", "critical", False],
            [pkg[HOSTILE[0]], HOSTILE[3], "high", True],
        ]
        w.add(
            Scan(
                image_id=image_id,
                actor="reevaluate",
                scanners=["vuln"],
                critical=1,
                high=1,
                low=1,
                counts={"vulnerabilities": {"critical": 1, "high": 1, "low": 1}},
                computed={"db_built_at": "2026-12-01", "findings": computed},
            )
        )
    page = env.call("GET", f"/ui/images/{DIGEST}", "developer").text
    assert_inert(page)
    shown = "".join(parse(page).text)
    assert "3 findings (2 with a fix)" in shown and "2026-12-01" in shown
    order = re.findall(r'<tr><th scope="row">([^<]*)</th><td><span class="badge sev-(\w+)', page)
    assert [sev for _, sev in order][:3] == ["critical", "high", "low"], order
    assert "upgrade zlib from 1.0-1: CVE-2023-0001 names a fixed version" in shown
    assert "no fix yet" in shown and HOSTILE[3] in shown and HOSTILE[0] in shown
    assert "<h1>owned</h1>" not in page
    report = env.call("GET", f"/ui/images/{DIGEST}/report", "developer").text
    assert "CVE-2024-0002" in report


def test_audit_subject_filter(sqlite_env: Env) -> None:
    env = sqlite_env
    for i, subject in enumerate(["sha256:ab12", "sha256:ab34", "sha256:cd56", "100%_x", HOSTILE[0]]):
        env.store.record("ci", "gate.decision", subject, {"i": i})

    def subjects(query: str) -> list[str]:
        r = env.call("GET", f"/ui/audit?{query}", "auditor")
        assert r.status_code == 200, r.text[:300]
        assert_inert(r.text)
        return [html.unescape(x) for x in re.findall(r"<td><code>([^<]*)</code></td><td><code class", r.text)]

    assert subjects("subject=sha256%3Aab") == ["sha256:ab34", "sha256:ab12"]
    assert subjects("subject=sha256%3Acd56&action=gate") == ["sha256:cd56"]
    assert subjects("subject=100%25") == ["100%_x"] and subjects("subject=1%25") == []  # % is literal
    assert subjects(f"subject={quote(HOSTILE[0])}") == [HOSTILE[0]]
    page = env.call("GET", "/ui/audit?subject=sha256%3Aab", "auditor").text
    assert 'id="f-subject"' in page and 'value="sha256:ab"' in page and '<label for="f-subject">' in page
    assert env.call("GET", "/ui/audit?subject=a%0Ab", "auditor").status_code == 422
