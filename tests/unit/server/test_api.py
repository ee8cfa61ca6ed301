"""The API served for real: uvicorn on loopback in a thread, the real Store on SQLite (and on a
throwaway PostgreSQL where noted), requests over HTTP with httpx.

Uploads (CycloneDX SBOM, containment scan report), listings, users, tokens, session login,
bad input (4xx with a JSON error body, nothing stored), injection strings kept as data,
/healthz, /readyz, /metrics and the JSON access log."""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from containment.model import Finding, Inventory, LayerInfo, OSInfo, Package, ScanReport
from containment.report.findings_json import to_json
from containment.server import authz
from containment.server.app import create_app
from containment.server.store import Store
from tests.unit.server.pg import pg_cluster, pg_url  # noqa: F401

API = "/api/v1"
DIGEST = "sha256:" + "ab" * 32
INJECTION = "<script>alert('x')</script>\"'; DROP TABLE images; --"
SMALL_BODY = 64 * 1024


class LiveServer:
    """uvicorn serving `app` on 127.0.0.1 (a free port) in a thread."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app, log_config=None, access_log=False, lifespan="on", timeout_graceful_shutdown=5
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        for _ in range(600):
            if self.server.started or not self.thread.is_alive():
                break
            threading.Event().wait(0.05)
        if not self.server.started:
            raise RuntimeError("the test server did not start")
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


@dataclass
class Env:
    url: str
    store: Store
    tokens: dict[str, str]  # role -> token of a user with that role
    client: httpx.Client

    def call(self, method: str, path: str, role: str | None = None, **kw: Any) -> httpx.Response:
        headers = dict(kw.pop("headers", {}))
        if role is not None:
            headers["authorization"] = f"Bearer {self.tokens[role]}"
        return self.client.request(method, self.url + path, headers=headers, **kw)


def make_env(store: Store, max_body: int = SMALL_BODY) -> Iterator[Env]:
    tokens = {}
    for role in authz.ROLES:
        store.add_user(f"{role}-user", role, password=f"pw-{role}-123")
        tokens[role] = store.create_token(f"{role}-user")
    app = create_app(store, max_body=max_body)
    with LiveServer(app) as srv, httpx.Client(timeout=30) as client:
        yield Env(srv.url, store, tokens, client)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    store = Store.open(data_dir=tmp_path / "data")
    try:
        yield from make_env(store)
    finally:
        store.close()


@pytest.fixture
def pg_env(pg_url: str) -> Iterator[Env]:  # noqa: F811
    store = Store.open(url=pg_url)
    try:
        yield from make_env(store)
    finally:
        store.close()


def sbom(
    name: str = "app", digest: str = DIGEST, packages: tuple[tuple[str, str], ...] = (("zlib", "1.2.13"),)
) -> dict:
    return {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "metadata": {
            "component": {
                "type": "container",
                "name": name,
                "version": digest,
                "bom-ref": "image",
            }
        },
        "components": [
            {"type": "operating-system", "name": "debian", "version": "12"},
            *(
                {
                    "type": "library",
                    "name": n,
                    "version": v,
                    "purl": f"pkg:deb/debian/{n}@{v}?distro=debian-12",
                }
                for n, v in packages
            ),
        ],
    }


def scan_report(digest: str = "sha256:" + "cd" * 32, target: str = "registry.test/app:1") -> dict:
    pkg = Package(
        name="openssl",
        version="3.0.11-1~deb12u1",
        type="deb",
        purl="pkg:deb/debian/openssl@3.0.11-1~deb12u1?distro=debian-12",
        path="var/lib/dpkg/status",
        cataloger="dpkg",
        layer="sha256:" + "11" * 32,
    )
    inv = Inventory(
        target=target,
        kind="image",
        os=OSInfo(id="debian", version_id="12"),
        packages=(pkg,),
        layers=(LayerInfo(index=0, diff_id="sha256:" + "11" * 32),),
        image_digest=digest,
    )
    finding = Finding(
        id="CVE-2024-0727",
        aliases=(),
        package=pkg,
        ecosystem="Debian:12",
        installed_version=pkg.version,
        fixed_versions=("3.0.13-1~deb12u1",),
        status="fixed",
        severity="HIGH",
        severity_source="debian",
    )
    return to_json(ScanReport(inventory=inv, findings=(finding,)), packages=True)


def strings(doc: Any) -> Iterator[str]:
    if isinstance(doc, str):
        yield doc
    elif isinstance(doc, dict):
        for k, v in doc.items():
            yield k
            yield from strings(v)
    elif isinstance(doc, list):
        for v in doc:
            yield from strings(v)


def error_body(r: httpx.Response) -> dict:
    assert r.headers["content-type"].startswith("application/json"), r.text
    doc = r.json()
    assert "error" in doc and "detail" in doc, doc
    return doc


# --- operations ------------------------------------------------------------------------------


def test_health_ready_and_metrics(env: Env) -> None:
    assert env.call("GET", "/healthz").json() == {"status": "ok"}
    assert env.call("GET", "/readyz").status_code == 200
    env.call("GET", f"{API}/images")  # a refused request is counted too
    r = env.call("GET", "/metrics")
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    r = env.call("GET", "/metrics", "operations")
    assert r.status_code == 200
    assert 'containment_http_requests_total{method="GET",route="/api/v1/images",status="401"}' in r.text
    assert env.call("GET", "/metrics", "developer").status_code == 403
    # made-up paths do not grow the label set
    env.call("GET", "/no/such/path/12345")
    text = env.call("GET", "/metrics", "admin").text
    assert "12345" not in text and 'route="unmatched"' in text


def test_readyz_follows_the_database(pg_env: Env, pg_cluster) -> None:  # noqa: F811
    assert pg_env.call("GET", "/readyz").status_code == 200
    pg_cluster.stop()
    try:
        r = pg_env.call("GET", "/readyz")
        assert r.status_code == 503 and r.json()["status"] == "unavailable"
        assert pg_env.call("GET", "/healthz").status_code == 200  # alive, not ready
    finally:
        pg_cluster.start()
    assert pg_env.call("GET", "/readyz").status_code == 200  # recovered without a restart
    assert pg_env.call("GET", f"{API}/images", "auditor").status_code == 200


def test_access_log_is_json_lines(env: Env) -> None:
    from containment.server.ops import JsonFormatter, access

    seen: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(JsonFormatter().format(record))

    handler = Collect()
    access.addHandler(handler)
    old = access.level
    access.setLevel(logging.INFO)
    try:
        env.call("GET", f"{API}/images/{DIGEST}", "security")
        for _ in range(200):  # the record is written once the response has gone
            if any('"route": "/api/v1/images/{digest}"' in line for line in seen):
                break
            threading.Event().wait(0.05)
    finally:
        access.removeHandler(handler)
        access.setLevel(old)
    records = [json.loads(line) for line in seen]
    rec = next(r for r in records if r.get("route") == f"{API}/images/{{digest}}")
    assert rec["status"] == 404 and rec["principal"] == "security-user" and rec["method"] == "GET"


def test_openapi_without_and_with_token(env: Env) -> None:
    a = env.call("GET", f"{API}/openapi.json")
    b = env.call("GET", f"{API}/openapi.json", "developer")
    assert a.status_code == b.status_code == 200
    assert a.json() == b.json() and a.json()["openapi"].startswith("3.")


# --- inventory -------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["env", "pg_env"])
def test_sbom_upload_then_list_and_detail(backend: str, request: pytest.FixtureRequest) -> None:
    e: Env = request.getfixturevalue(backend)
    r = e.call("POST", f"{API}/sboms", "developer", json=sbom())
    assert r.status_code == 201, r.text
    digest = r.json()["digest"]
    assert digest == DIGEST
    again = e.call("POST", f"{API}/sboms", "operations", json=sbom())  # same image: still one entry
    assert again.status_code == 201
    e.call("POST", f"{API}/sboms", "security", json=sbom("other", "sha256:" + "ef" * 32))
    listing = e.call("GET", f"{API}/images", "auditor").json()["images"]
    assert sorted(i["digest"] for i in listing) == sorted([DIGEST, "sha256:" + "ef" * 32])
    detail = e.call("GET", f"{API}/images/{digest}", "auditor")
    assert detail.status_code == 200 and DIGEST in detail.text and "zlib" in detail.text
    assert e.call("GET", f"{API}/images/sha256:{'00' * 32}", "auditor").status_code == 404


def test_scan_report_upload(env: Env) -> None:
    report = scan_report()
    r = env.call("POST", f"{API}/scans", "developer", json=report)
    assert r.status_code == 201, r.text
    assert r.json()["digest"] == report["image_digest"]
    detail = env.call("GET", f"{API}/images/{report['image_digest']}", "security").json()
    assert "openssl" in json.dumps(detail)
    # a filesystem scan (no digest) and a report of another schema are refused, nothing stored
    fs = {**report, "image_digest": None, "kind": "filesystem"}
    assert env.call("POST", f"{API}/scans", "developer", json=fs).status_code == 422
    other = {**report, "schema_version": "one"}
    assert "scan-1" in error_body(env.call("POST", f"{API}/scans", "developer", json=other))["detail"]
    assert len(env.call("GET", f"{API}/images", "admin").json()["images"]) == 1


def test_injection_strings_are_stored_and_returned_as_data(env: Env) -> None:
    doc = sbom(INJECTION, packages=((INJECTION, "1.0"), ("ok", "1' OR '1'='1")))
    r = env.call("POST", f"{API}/sboms", "developer", json=doc)
    assert r.status_code == 201, r.text
    detail = env.call("GET", f"{API}/images/{DIGEST}", "developer")
    assert detail.headers["content-type"].startswith("application/json")
    texts = set(strings(detail.json()))
    assert INJECTION in texts and "1' OR '1'='1" in texts
    assert "<script>" not in detail.text.replace(json.dumps(INJECTION)[1:-1], "")  # only inside JSON strings
    assert detail.headers["x-content-type-options"] == "nosniff"  # never sniffed as HTML
    assert env.call("GET", f"{API}/images", "developer").json()["images"][0]["digest"] == DIGEST
    # a SQL-looking path value is only a value
    assert env.call("GET", f"{API}/images/sha256:' OR 1=1 --", "developer").status_code in (404, 422)


# --- bad input -------------------------------------------------------------------------------

BAD_BODIES = [
    (b"", 400),
    (b"not json", 400),
    (b'{"a": ', 400),
    (b"[NaN]", 400),
    (b'{"x": Infinity}', 400),
    (b"\xff\xfe{}", 400),
    (b"[" * 100_000 + b"]" * 100_000, 413),  # beyond the test's 64 KiB limit
    (b"[" * 30_000 + b"]" * 30_000, 400),  # deeper than the JSON parser goes
    (b"[" * 200 + b"]" * 200, 422),  # parses, deeper than MAX_DEPTH
    (b'"just a string"', 422),
    (b"[]", 422),
    (
        b'{"bomFormat": "CycloneDX", "specVersion": "1.6", "metadata": {"component": {"type": "library"}}}',
        422,
    ),
    (b'{"bomFormat": "SPDX"}', 422),
    (json.dumps(sbom("a\u0000b")).encode(), 422),
    (json.dumps(sbom()).replace('"app"', '"\\ud800"').encode(), 422),
    (b"1" * 5000, 400),  # an integer past Python's digit limit
]


@pytest.mark.parametrize(("body", "status"), BAD_BODIES, ids=range(len(BAD_BODIES)))
def test_bad_sbom_bodies(env: Env, body: bytes, status: int) -> None:
    r = env.call("POST", f"{API}/sboms", "developer", content=body)
    assert r.status_code == status, r.text
    error_body(r)
    assert env.call("GET", f"{API}/images", "developer").json()["images"] == []


def test_oversized_chunked_body_is_413(env: Env) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b" " * 4096

    r = env.call("POST", f"{API}/sboms", "developer", content=chunks())
    assert r.status_code == 413
    assert env.call("GET", "/healthz").status_code == 200  # the server goes on


def test_unknown_path_and_method(env: Env) -> None:
    assert error_body(env.call("GET", f"{API}/nothing", "admin"))["error"] == "not found"
    r = env.call("DELETE", f"{API}/images/{DIGEST}", "admin")
    assert r.status_code == 405 and r.headers["allow"] == "GET"


def test_query_limits(env: Env) -> None:
    for q in ("limit=0", "limit=100000", "offset=-1", "offset=99999999999999999999", "limit=abc"):
        r = env.call("GET", f"{API}/images?{q}", "developer")
        assert r.status_code == 422, (q, r.text)
        error_body(r)


# --- people ----------------------------------------------------------------------------------


def test_users_tokens_and_session(env: Env) -> None:
    r = env.call(
        "POST", f"{API}/users", "admin", json={"name": "alice", "role": "security", "password": "s3cret!"}
    )
    assert r.status_code == 201, r.text
    assert (
        env.call("POST", f"{API}/users", "admin", json={"name": "alice", "role": "security"}).status_code
        == 409
    )
    assert env.call("POST", f"{API}/users", "admin", json={"name": "bob", "role": "root"}).status_code == 422
    assert (
        env.call("POST", f"{API}/users", "admin", json={"name": INJECTION, "role": "developer"}).status_code
        == 422
    )
    users = env.call("GET", f"{API}/users", "auditor").json()["users"]
    assert {"alice", "admin-user"} <= {u["name"] for u in users}

    # session login: a cookie standing for alice, read back by /me; a wrong password is a 401
    bad = env.client.post(f"{env.url}{API}/login", json={"name": "alice", "password": "nope"})
    assert bad.status_code == 401
    with httpx.Client(base_url=env.url) as browser:
        ok = browser.post(f"{API}/login", json={"name": "alice", "password": "s3cret!"})
        assert ok.status_code == 200 and ok.json()["role"] == "security"
        assert "httponly" in ok.headers["set-cookie"].lower()
        assert browser.get(f"{API}/me").json() == {"name": "alice", "role": "security"}
        assert browser.get("/metrics").status_code == 403  # the session carries the role
        stolen = browser.cookies[authz.SESSION_COOKIE]
        assert browser.post(f"{API}/logout").status_code == 200
        assert browser.get(f"{API}/me").status_code == 401
    # the session's token is revoked: a copy of the cookie taken before is worthless
    copy = env.client.get(f"{env.url}{API}/me", headers={"cookie": f"{authz.SESSION_COOKIE}={stolen}"})
    assert copy.status_code == 401
    # a bearer caller's logout leaves its token alone (it ends browser sessions, not CI tokens)
    assert env.call("POST", f"{API}/logout", "developer").status_code == 200
    assert env.call("GET", f"{API}/me", "developer").status_code == 200

    # a token for oneself, carrying one's own role
    r = env.call("POST", f"{API}/tokens", "developer", json={"days": 7})
    assert r.status_code == 201
    new = r.json()["token"]
    me = env.client.get(f"{env.url}{API}/me", headers={"authorization": f"Bearer {new}"})
    assert me.json() == {"name": "developer-user", "role": "developer"}
    assert env.call("POST", f"{API}/tokens", "developer", json={"days": 0}).status_code == 422
    assert env.call("POST", f"{API}/tokens", "developer", json={"scopes": "all"}).status_code == 422


# --- fuzz: any JSON, any operation, never a 5xx ----------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20,
)
CYCLONEDX_ISH = st.fixed_dictionaries(
    {
        "bomFormat": st.sampled_from(["CycloneDX", "cyclonedx", ""]),
        "specVersion": st.sampled_from(["1.6", "1.4", "2.0", "1"]),
        "metadata": st.fixed_dictionaries(
            {
                "component": st.fixed_dictionaries(
                    {"type": st.sampled_from(["container", "library"])},
                    optional={"name": JSON, "version": JSON, "purl": JSON, "properties": JSON},
                )
            }
        ),
    },
    optional={"components": JSON},
)
POSTS = [f"{API}/sboms", f"{API}/scans", f"{API}/users", f"{API}/tokens", f"{API}/login"]
JSON_TYPE = {"content-type": "application/json"}  # /login takes nothing else (415): fuzz its parser


@pytest.fixture(scope="module")
def fuzz_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    store = Store.open(data_dir=tmp_path_factory.mktemp("fuzz"))
    try:
        yield from make_env(store)
    finally:
        store.close()


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    path=st.sampled_from(POSTS), doc=JSON | CYCLONEDX_ISH, role=st.sampled_from(["admin", "developer", None])
)
def test_fuzz_bodies_never_5xx(fuzz_env: Env, path: str, doc: Any, role: str | None) -> None:
    r = fuzz_env.call("POST", path, role, content=json.dumps(doc).encode(), headers=JSON_TYPE)
    assert r.status_code < 500, (path, doc, r.text)
    if r.status_code >= 400:
        error_body(r)


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(raw=st.binary(max_size=300), path=st.sampled_from(POSTS))
def test_fuzz_raw_bytes_never_5xx(fuzz_env: Env, raw: bytes, path: str) -> None:
    r = fuzz_env.call("POST", path, "admin", content=raw, headers=JSON_TYPE)
    assert r.status_code < 500, (raw, r.text)
    if r.status_code >= 400:
        error_body(r)
