"""Who may call what: the ONE operation x roles table, and the ASGI middleware that enforces it.

`OPERATIONS` maps (method, route template) to the roles allowed to call it. The same table
feeds the OpenAPI document's `x-roles` (app.py) and this module's middleware, so what the
document declares is exactly what the server enforces. `("anonymous",)` alone marks a public
operation.

The middleware runs before routing, before the body is read and before any lookup:

1. the request path, as sent (raw), is matched against the table's templates (`{name}` is one path segment);
   a path no template matches gets 404 and a known path with a method the table does not list
   405, here: nothing the table does not list reaches the application (deny by default); a
   path whose decoded form names another operation (an encoded "/" in a value) is refused
   after the role check (404), so a refused role still gets 403;
2. a non-public operation needs `Authorization: Bearer <token>` (or the session cookie set by
   `POST /api/v1/login`); no credential, or one the store does not know (forged, expired,
   revoked), gets 401 with `WWW-Authenticate: Bearer`;
3. a principal whose role the operation does not list gets 403, whatever the body or the path
   values;
4. only then is the body read, at most `max_body` bytes (413 beyond, whether announced by
   Content-Length or sent chunked), and handed to the application with the principal in
   `scope["state"]["principal"]`.

Separation of duties (issue 11): admins manage users and tokens but hold no role on policy or
exceptions (APPROVERS is `security` alone), so an admin cannot change policy or waive a finding
(an admin can add a security user, and that `user.add` is an audit record). Within `security`,
the table cannot say "someone else", so server/governance.py adds two rules after the lookup:
an exception is approved or rejected never by its requester, and a policy version is activated
never by its uploader (two-person rule). Those refusals are 409 Conflict, not 403: the role
may call the operation (a listed role never gets 403), it is this record that stands in the way. Exceptions are requested by the
roles that ship images (REQUESTERS); the auditor reads and never writes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any, Protocol

ROLES = ("developer", "security", "operations", "auditor", "admin")
ANONYMOUS = "anonymous"
PUBLIC = (ANONYMOUS,)
EVERYONE = ROLES
READERS = ROLES  # every signed-in role reads the inventory
UPLOADERS = ("developer", "security", "operations", "admin")  # CI and people; the auditor only reads
APPROVERS = ("security",)  # policy and exception decisions: never admin (separation of duties)
REQUESTERS = ("developer", "security", "operations")  # who ships images asks for exceptions
SESSION_COOKIE = "containment_session"
API = "/api/v1"

# (method, route template) -> roles. The only place where access is decided.
OPERATIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    # Prometheus scrapes with a bearer token (its `authorization:` setting): counts by route and
    # status say little, but nothing is public that need not be.
    ("GET", "/metrics"): ("operations", "admin"),
    ("GET", f"{API}/openapi.json"): PUBLIC,
    ("POST", f"{API}/login"): PUBLIC,
    ("POST", f"{API}/logout"): EVERYONE,
    ("GET", f"{API}/me"): EVERYONE,
    ("POST", f"{API}/sboms"): UPLOADERS,
    ("POST", f"{API}/scans"): UPLOADERS,
    ("GET", f"{API}/images"): READERS,
    ("GET", f"{API}/images/{{digest}}"): READERS,
    ("GET", f"{API}/users"): ("admin", "auditor"),
    ("POST", f"{API}/users"): ("admin",),
    ("POST", f"{API}/tokens"): EVERYONE,  # a token for oneself, with one's own role
    # the registry gate (server/registry_gate.py): called by a registry, not a person. No token
    # and no role (public here) because it authenticates by the per-registry SHARED SECRET in the
    # X-Containment-Secret header instead; a missing or unknown secret is refused (4xx, nothing
    # stored) by the route itself. SHARED_SECRET lists such operations.
    ("POST", f"{API}/registry/events"): PUBLIC,
    # findings kept current (server/currency.py): queue a re-evaluation against the advisory DB
    ("POST", f"{API}/reevaluate"): ("security", "operations"),
    # governance (server/governance_routes.py): see "Separation of duties" above
    ("GET", f"{API}/policies"): READERS,
    ("GET", f"{API}/policies/{{id}}"): READERS,
    ("POST", f"{API}/policies"): APPROVERS,
    ("POST", f"{API}/policies/{{id}}/activate"): APPROVERS,
    ("GET", f"{API}/exceptions"): READERS,
    ("POST", f"{API}/exceptions"): REQUESTERS,
    ("POST", f"{API}/exceptions/{{id}}/approve"): APPROVERS,
    ("POST", f"{API}/exceptions/{{id}}/reject"): APPROVERS,
    ("POST", f"{API}/exceptions/{{id}}/revoke"): REQUESTERS,  # security, or the requester while pending
    ("GET", f"{API}/audit"): ("auditor", "security", "admin"),
    # the dashboard (server/dashboard.py): HTML pages, same roles as the data they show
    ("GET", "/ui"): READERS,
    ("GET", "/ui/images/{digest}"): READERS,
    ("GET", "/ui/images/{digest}/report"): READERS,
    ("GET", "/ui/audit"): ("auditor", "security", "admin"),
    ("GET", "/ui/login"): PUBLIC,
    ("POST", "/ui/login"): PUBLIC,
    ("POST", "/ui/logout"): EVERYONE,
    ("GET", "/ui/exceptions"): READERS,
    ("POST", "/ui/exceptions"): REQUESTERS,
    ("POST", "/ui/exceptions/{id}/approve"): APPROVERS,
    ("POST", "/ui/exceptions/{id}/reject"): APPROVERS,
    ("POST", "/ui/exceptions/{id}/revoke"): REQUESTERS,
    ("GET", "/ui/policies"): READERS,
    ("POST", "/ui/policies"): APPROVERS,
    ("POST", "/ui/policies/{id}/activate"): APPROVERS,
    ("GET", "/ui/dashboard.css"): PUBLIC,
    ("GET", "/ui/print.css"): PUBLIC,
}

# operations public in the role table that authenticate the caller by a shared secret instead
SHARED_SECRET = frozenset({("POST", f"{API}/registry/events")})

DEFAULT_MAX_BODY = 32 * 1024 * 1024  # a large image's SBOM is a few MiB


class Authenticator(Protocol):
    def __call__(self, token: str) -> Any: ...


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    roles: tuple[str, ...]
    pattern: re.Pattern[str]

    @property
    def public(self) -> bool:
        return self.roles == PUBLIC


def _compile(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[A-Za-z_][A-Za-z0-9_]*\})", template)
    rx = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(rf"\A{rx}\Z")


ROUTES = tuple(Route(m, t, roles, _compile(t)) for (m, t), roles in OPERATIONS.items())


def check_table() -> None:
    """Every entry names a non-empty list of known roles; anonymous only alone."""
    for (method, template), roles in OPERATIONS.items():
        if not roles:
            raise ValueError(f"{method} {template}: no role may call it")
        if ANONYMOUS in roles and roles != PUBLIC:
            raise ValueError(f"{method} {template}: anonymous must stand alone")
        unknown = set(roles) - set(ROLES) - {ANONYMOUS}
        if unknown:
            raise ValueError(f"{method} {template}: unknown roles {sorted(unknown)}")


check_table()


def match(method: str, path: str) -> tuple[Route | None, bool]:
    """The table's route for (method, path), and whether the path matched any template."""
    known = False
    for r in ROUTES:
        if r.pattern.match(path):
            known = True
            if r.method == method or (method == "HEAD" and r.method == "GET"):
                return r, True
    return None, known


def roles_for(method: str, template: str) -> tuple[str, ...]:
    return OPERATIONS[(method.upper(), template)]


def credential(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The bearer token, else the session cookie's value, else None."""
    cookie_value = None
    for name, value in headers:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            return ""  # a credential of another scheme: not ours, refused as unknown
        if name == b"cookie":
            for part in value.decode("latin-1").split(";"):
                k, _, v = part.strip().partition("=")
                if k == SESSION_COOKIE and v:
                    cookie_value = v
    return cookie_value


Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


async def send_json(
    send: Send, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> None:
    data = json.dumps(body).encode()
    hdrs = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    hdrs += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": hdrs})
    await send({"type": "http.response.body", "body": data})


class _TooLarge(Exception):
    pass


class AuthzMiddleware:
    """Enforces OPERATIONS before the application sees the request (see the module docstring).

    `authenticate(token)` returns the principal (with `.role` and `.name`) or None; it may block
    (a database lookup), so it runs in a worker thread."""

    def __init__(self, app: ASGIApp, authenticate: Authenticator, max_body: int = DEFAULT_MAX_BODY) -> None:
        self.app = app
        self.authenticate = authenticate
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # the path as sent (a path value may hold an encoded "/"): the operation the caller asked for
        raw = scope.get("raw_path")
        path = raw.decode("latin-1") if isinstance(raw, bytes | bytearray) else scope["path"]
        route, known = match(scope["method"], path)
        if route is None:  # deny by default: nothing the table does not list reaches the app
            if known:
                allowed = ", ".join(sorted({r.method for r in ROUTES if r.pattern.match(path)}))
                await send_json(
                    send,
                    405,
                    {"error": "method not allowed", "detail": f"allowed: {allowed}"},
                    {"allow": allowed},
                )
            else:
                await send_json(
                    send, 404, {"error": "not found", "detail": f"no operation at {scope['path']}"}
                )
            return
        scope.setdefault("state", {})["route"] = route.template
        principal = None
        if not route.public:
            token = credential(scope.get("headers", []))
            if token:
                from anyio import to_thread

                principal = await to_thread.run_sync(self.authenticate, token)
            if principal is None:
                error = "missing credentials" if token is None else "unknown, expired or revoked token"
                await send_json(
                    send,
                    401,
                    {"error": "unauthorized", "detail": error},
                    {"www-authenticate": 'Bearer realm="containment"'},
                )
                return
            if principal.role not in route.roles:
                await send_json(
                    send,
                    403,
                    {
                        "error": "forbidden",
                        "detail": f"role {principal.role} may not call {route.method} {route.template}",
                        "allowed_roles": list(route.roles),
                    },
                )
                return
            scope["state"]["principal"] = principal
        if match(scope["method"], scope["path"])[0] is not route:
            # decoded, the path names another operation or none ("%2F" in a value): not served
            await send_json(send, 404, {"error": "not found", "detail": "a path value may not hold '/'"})
            return
        try:
            body = await self._read_body(scope, receive)
        except _TooLarge:
            await send_json(
                send, 413, {"error": "payload too large", "detail": f"the body exceeds {self.max_body} bytes"}
            )
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # http.disconnect once the client goes

        await self.app(scope, replay, send)

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes:
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    if int(value) > self.max_body:
                        raise _TooLarge
                except ValueError:
                    pass  # the server's HTTP parser refuses a bad length before we are called
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise _TooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)
