"""The REST operations under /api/v1 (who may call each: authz.OPERATIONS, enforced before here).

Bodies are read by the authz middleware (size-limited) and parsed here by `json_body`: bad
JSON (syntax, encoding, NaN/Infinity, nesting deeper than the parser allows) is a 400; JSON
that is not the expected document, or text the database cannot hold (NUL, lone surrogates),
is a 422 naming the field. Every answer is JSON; errors are `{"error": ..., "detail": ...}`.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson
from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response

from containment.server.authz import API, ROLES, SESSION_COOKIE

router = APIRouter(prefix=API)

# OCI digest grammar (algorithm ":" encoded), and the store's own sbom:sha256:... keys
DIGEST_RE = re.compile(
    r"\A[a-z0-9]+(?:[+._-][a-z0-9]+)*(?::[a-z0-9]+(?:[+._-][a-z0-9]+)*)*:[A-Za-z0-9=_-]{32,256}\Z"
)
MAX_DEPTH = 64
MAX_LIMIT = 1000
MAX_OFFSET = 2**31 - 1
NAME_RE = re.compile(r"\A[A-Za-z0-9][A-Za-z0-9._@-]{0,63}\Z")
# the 200 answer of an operation that returns `json_ok(...)`: an object (FastAPI cannot infer it)
OBJECT_200: dict[int | str, dict[str, Any]] = {
    200: {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}
}


def json_ok(doc: Any) -> Response:
    """A 200 JSON answer encoded by orjson. A route that returns a dict has FastAPI walk it twice
    (jsonable_encoder, then json.dumps): 7 ms of a 100-image listing. The store's documents hold
    JSON types only (times already ISO strings), so nothing needs converting."""
    return Response(orjson.dumps(doc), media_type="application/json")


def _bad_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def json_body(raw: bytes, what: str = "body") -> Any:
    if not raw.strip():
        raise HTTPException(400, f"the {what} is empty: send a JSON document")
    try:
        doc = json.loads(raw, parse_constant=_bad_constant)
    except RecursionError:
        raise HTTPException(400, f"the {what} nests too deeply") from None
    except ValueError as e:  # JSONDecodeError, UnicodeDecodeError, NaN/Infinity, huge integers
        raise HTTPException(400, f"the {what} is not valid JSON: {str(e)[:200]}") from None
    check_text(doc)
    return doc


def is_json_type(content_type: str) -> bool:
    """application/json or application/…+json, parameters (charset) aside."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def check_text(doc: Any) -> None:
    """Every string (keys too) can be stored as text: valid UTF-8, no NUL; nesting bounded."""
    stack: list[tuple[Any, str, int]] = [(doc, "$", 0)]
    while stack:
        node, where, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise HTTPException(422, f"{where}: nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, dict):
            for k, v in node.items():
                _check_string(k, f"{where} (a key)")
                stack.append((v, f"{where}.{k[:40]}", depth + 1))
        elif isinstance(node, list):
            stack.extend((v, f"{where}[{i}]", depth + 1) for i, v in enumerate(node))
        elif isinstance(node, str):
            _check_string(node, where)


def _check_string(s: str, where: str) -> None:
    if "\x00" in s:
        raise HTTPException(422, f"{where}: text holds a NUL character")
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        raise HTTPException(422, f"{where}: text holds an unpaired surrogate") from None


def _object(doc: Any, what: str) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise HTTPException(422, f"the {what} must be a JSON object")
    return doc


def _text(doc: dict[str, Any], key: str, required: bool = True, max_len: int = 256) -> str:
    v = doc.get(key)
    if v is None and not required:
        return ""
    if not isinstance(v, str) or (required and not v):
        raise HTTPException(422, f"{key}: a non-empty string is required")
    if len(v) > max_len:
        raise HTTPException(422, f"{key}: at most {max_len} characters")
    return v


def store(request: Request) -> Any:
    return request.app.state.store


def principal(request: Request) -> Any:
    return request.state.principal


def input_errors() -> tuple[type[Exception], ...]:
    """What the store raises for input it refuses (mapped to 422): ContainmentError and ValueError."""
    from containment.model import ContainmentError

    return (ContainmentError, ValueError)


def _json_request(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {"application/json": {"schema": {"type": "object", **schema}}},
        }
    }


def _string(min_len: int = 1, max_len: int = 256, **more: Any) -> dict[str, Any]:
    return {"type": "string", "minLength": min_len, "maxLength": max_len, **more}


LOGIN_BODY = {
    "required": ["name", "password"],
    "properties": {"name": _string(), "password": _string(max_len=1024)},
}
USER_BODY = {
    "required": ["name", "role"],
    "properties": {
        "name": _string(max_len=64, pattern=NAME_RE.pattern.replace("\\A", "^").replace("\\Z", "$")),
        "role": {"type": "string", "enum": list(ROLES)},
        "password": _string(max_len=1024),
    },
}
TOKEN_BODY = {
    "properties": {
        "days": {"type": "integer", "minimum": 1, "maximum": 366, "default": 90},
        "scopes": {
            "type": "array",
            "maxItems": 32,
            "items": _string(max_len=64, pattern="^[a-z][a-z0-9:._*-]{0,63}$"),
        },
    }
}
SBOM_BODY = {
    "required": ["bomFormat", "specVersion", "metadata"],
    "properties": {
        "bomFormat": {"type": "string", "enum": ["CycloneDX"]},
        "specVersion": {"type": "string", "enum": ["1.4", "1.5", "1.6"]},
        "metadata": {
            "type": "object",
            "required": ["component"],
            "properties": {
                "component": {
                    "type": "object",
                    "required": ["type", "name"],
                    "properties": {
                        "type": {"type": "string", "enum": ["container"]},
                        "name": _string(max_len=1000),
                    },
                }
            },
        },
        "components": {"type": "array", "items": {"type": "object"}},
    },
}
SCAN_BODY = {
    "description": "containment's scan-1 JSON (containment/data/scan-1.schema.json), of an image",
    "required": ["schema", "schema_version", "target", "kind", "image_digest", "layers", "scanners"],
}


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "the body is not JSON"},
    401: {"description": "no, or an unknown, token"},
    403: {"description": "the caller's role may not call this operation"},
    413: {"description": "the body is too large"},
    422: {"description": "the document is not what the operation takes"},
}


# --- session ---------------------------------------------------------------------------------


@router.post(
    "/login",
    summary="Session login (name + password) -> cookie",
    tags=["auth"],
    openapi_extra=_json_request("name and password", LOGIN_BODY),
    responses={**ERRORS, 415: {"description": "the body is not sent as application/json"}},
)
async def login(request: Request) -> Response:
    # A page on another site can make a browser POST a form or text/plain (JSON-looking) body
    # here without asking first (no CORS preflight), and the answer's cookie would sign the
    # victim in as the attacker (login CSRF). Only a JSON content type needs that preflight,
    # which this server never grants: so anything else is refused, before the body is read.
    if not is_json_type(request.headers.get("content-type", "")):
        raise HTTPException(415, "send the login as JSON, with Content-Type: application/json")
    doc = _object(json_body(await request.body()), "login")
    name = _text(doc, "name")
    password = _text(doc, "password", max_len=1024)
    from anyio import to_thread

    who = await to_thread.run_sync(store(request).login, name, password)
    if who is None:
        raise HTTPException(401, "unknown name or wrong password", headers={"www-authenticate": "Bearer"})
    response = JSONResponse({"name": who.name, "role": who.role})
    await open_session(store(request), who, request, response)
    return response


async def open_session(st: Any, who: Any, request: Request, response: Response) -> None:
    """A session for `who`: a short-lived token of its own scope, kept in an HttpOnly cookie
    (the API's login and the dashboard's login form both open one here)."""
    from anyio import to_thread

    token = await to_thread.run_sync(
        lambda: st.create_token(who.name, scopes=("session",), expires_days=1, actor=who.name)
    )
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )


def revoke_session(request: Request) -> None:
    """Signing out revokes the session token the cookie carried, so a copy of the cookie is
    worthless afterwards. A caller with a bearer token (CI) keeps it: signing out ends a
    browser session, not an API token (`containment token revoke` does that)."""
    if request.headers.get("authorization") or not request.cookies.get(SESSION_COOKIE):
        return
    p = principal(request)
    if p.token_id:
        store(request).revoke_token(p.token_id, actor=p.name)


@router.post(
    "/logout",
    summary="End the session: its token is revoked and the cookie cleared",
    tags=["auth"],
    responses=ERRORS,
)
def logout(request: Request) -> Response:
    revoke_session(request)
    response = JSONResponse({"status": "logged out"})
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/me", summary="The caller: name and role", tags=["auth"], responses=ERRORS)
def me(request: Request) -> dict[str, Any]:
    p = principal(request)
    return {"name": p.name, "role": p.role}


# --- inventory -------------------------------------------------------------------------------


@router.post(
    "/sboms",
    status_code=201,
    summary="Upload a CycloneDX 1.6 JSON SBOM of a container image",
    tags=["inventory"],
    openapi_extra=_json_request(
        "a CycloneDX JSON document whose metadata.component is a container", SBOM_BODY
    ),
    responses=ERRORS,
)
async def upload_sbom(request: Request) -> dict[str, Any]:
    doc = _object(json_body(await request.body(), "SBOM"), "SBOM")
    if doc.get("bomFormat") != "CycloneDX":
        raise HTTPException(422, 'bomFormat: "CycloneDX" is required (only CycloneDX JSON is taken)')
    spec = doc.get("specVersion")
    if not isinstance(spec, str) or not re.fullmatch(r"1\.[0-9]+", spec):
        raise HTTPException(422, 'specVersion: a CycloneDX 1.x version such as "1.6" is required')
    meta = doc.get("metadata")
    component = meta.get("component") if isinstance(meta, dict) else None
    if not isinstance(component, dict) or component.get("type") != "container":
        raise HTTPException(422, 'metadata.component: a component of type "container" is required')
    if "components" in doc and not isinstance(doc["components"], list):
        raise HTTPException(422, "components: must be a list")
    from anyio import to_thread

    try:
        digest = await to_thread.run_sync(store(request).put_sbom, doc, principal(request).name)
    except input_errors() as e:
        raise HTTPException(422, f"the SBOM was refused: {str(e)[:300]}") from None
    return {"digest": digest}


@router.post(
    "/scans",
    status_code=201,
    summary="Upload a containment JSON scan report (scan-1), as CI does",
    tags=["inventory"],
    openapi_extra=_json_request("the output of `containment scan image REF --format json`", SCAN_BODY),
    responses=ERRORS,
)
async def upload_scan(request: Request) -> dict[str, Any]:
    doc = _object(json_body(await request.body(), "scan report"), "scan report")
    validate_scan(doc)
    report = report_from_json(doc)
    from anyio import to_thread

    try:
        digest = await to_thread.run_sync(store(request).put_report, report, principal(request).name)
    except input_errors() as e:
        raise HTTPException(422, f"the scan report was refused: {str(e)[:300]}") from None
    return {"digest": digest}


_SCAN_VALIDATOR: Any = None


def validate_scan(doc: dict[str, Any]) -> None:
    """The report against containment/data/scan-1.schema.json; the first error, named, is a 422."""
    global _SCAN_VALIDATOR
    if _SCAN_VALIDATOR is None:
        import jsonschema

        from containment.report.findings_json import schema_path

        schema = json.loads(schema_path().read_text())
        _SCAN_VALIDATOR = jsonschema.Draft202012Validator(schema)
    try:
        error = next(iter(_SCAN_VALIDATOR.iter_errors(doc)), None)
    except RecursionError:
        raise HTTPException(422, "the scan report nests too deeply") from None
    if error is not None:
        where = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        raise HTTPException(422, f"not a containment scan report (scan-1): {where}: {error.message[:300]}")
    if not doc.get("image_digest"):
        raise HTTPException(422, "image_digest: only reports of images (with a digest) are stored")


def report_from_json(doc: dict[str, Any]) -> Any:
    """containment's scan-1 JSON (validated) -> ScanReport: the inventory (every package when
    the report lists them, `--list-all-pkgs`, else the vulnerable ones) and each kind's findings."""
    from containment.model import (
        Finding,
        Gap,
        Inventory,
        LayerInfo,
        Misconfiguration,
        OSInfo,
        Package,
        ScanReport,
        SecretFinding,
        Suppression,
    )

    def finding(d: dict[str, Any]) -> Finding:
        return Finding(
            id=str(d["id"]),
            aliases=tuple(str(a) for a in d.get("aliases", ())),
            package=Package.from_json(d["package"]),
            ecosystem=str(d.get("ecosystem", "")),
            installed_version=str(d.get("installed_version", "")),
            fixed_versions=tuple(str(v) for v in d.get("fixed_versions", ())),
            status=str(d.get("status", "")),
            severity=str(d.get("severity", "UNKNOWN")),
            severity_source=str(d.get("severity_source", "")),
            title=str(d.get("title", "")),
            description=str(d.get("description", "")),
            data_source=str(d.get("data_source", "")),
            advisory_ids=tuple(str(a) for a in d.get("advisory_ids", ())),
            references=tuple(str(r) for r in d.get("references", ())),
            published=str(d.get("published", "")),
            modified=str(d.get("modified", "")),
            suppressed=Suppression.from_json(d.get("suppressed")),
        )

    try:
        findings = tuple(finding(f) for f in [*doc.get("findings", ()), *doc.get("suppressed", ())])
        if "packages" in doc:
            packages = tuple(Package.from_json(p) for p in doc["packages"])
        else:
            packages = tuple(dict.fromkeys(f.package for f in findings))
        layers = tuple(
            LayerInfo(
                index=int(x.get("index", i)),
                diff_id=str(x.get("diff_id", "")),
                digest=str(x.get("digest", "")),
                media_type=str(x.get("media_type", "")),
                size=int(x.get("size", 0)),
                created_by=str(x.get("created_by", "")),
            )
            for i, x in enumerate(doc.get("layers", ()))
        )
        inventory = Inventory(
            target=str(doc["target"]),
            kind=str(doc["kind"]),
            os=OSInfo.from_json(doc["os"]) if doc.get("os") else None,
            packages=packages,
            layers=layers,
            image_digest=str(doc.get("image_digest") or ""),
            image_id=str(doc.get("image_id") or ""),
            warnings=tuple(str(w) for w in doc.get("warnings", ())),
        )
        return ScanReport(
            inventory=inventory,
            findings=findings,
            db=dict(doc.get("db") or {}),
            gaps=tuple(Gap.from_json(g) for g in doc.get("gaps", ())),
            misconfigurations=tuple(Misconfiguration.from_json(m) for m in doc.get("misconfigurations", ())),
            secrets=tuple(SecretFinding.from_json(x) for x in doc.get("secrets", ())),
            scanners=tuple(str(x) for x in doc.get("scanners", ("vuln",))),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        detail = f"not a containment scan report (scan-1): {type(e).__name__}: {str(e)[:200]}"
        raise HTTPException(422, detail) from None


@router.get(
    "/images",
    summary="Every image the server knows, newest first",
    tags=["inventory"],
    responses={**ERRORS, **OBJECT_200},
)
def list_images(
    request: Request,
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
) -> Response:
    items = store(request).images(limit, offset)
    return json_ok({"images": items, "limit": limit, "offset": offset})


@router.get(
    "/images/{digest}",
    summary="One image: inventory, findings, scans",
    tags=["inventory"],
    responses={**ERRORS, **OBJECT_200, 404: {"description": "no image with that digest"}},
)
def get_image(request: Request, digest: str) -> Response:
    if not DIGEST_RE.match(digest):
        raise HTTPException(422, "digest: expected algorithm:hex, e.g. sha256:0123...")
    found = store(request).image(digest)
    if found is None:
        raise HTTPException(404, f"no image {digest}")
    return json_ok(found)


# --- people ----------------------------------------------------------------------------------


@router.get("/users", summary="Every user and role", tags=["users"], responses=ERRORS)
def list_users(request: Request) -> dict[str, Any]:
    return {"users": list(store(request).users())}


@router.post(
    "/users",
    status_code=201,
    summary="Add a user with one role (admin)",
    tags=["users"],
    openapi_extra=_json_request("name, role and an optional password", USER_BODY),
    responses={**ERRORS, 409: {"description": "a user of that name exists"}},
)
async def add_user(request: Request) -> dict[str, Any]:
    doc = _object(json_body(await request.body(), "user"), "user")
    name = _text(doc, "name", max_len=64)
    if not NAME_RE.match(name):
        raise HTTPException(
            422, "name: letters, digits, . _ @ - (at most 64), starting with a letter or digit"
        )
    role = _text(doc, "role", max_len=32)
    if role not in ROLES:
        raise HTTPException(422, f"role: one of {', '.join(ROLES)}")
    password = _text(doc, "password", required=False, max_len=1024) or None
    from anyio import to_thread

    try:
        await to_thread.run_sync(
            lambda: store(request).add_user(name, role, password, actor=principal(request).name)
        )
    except input_errors() as e:
        raise HTTPException(409 if "exist" in str(e) else 422, str(e)[:300]) from None
    return {"name": name, "role": role}


@router.post(
    "/tokens",
    status_code=201,
    summary="A new API token for the caller (shown once)",
    tags=["users"],
    openapi_extra=_json_request("optional lifetime in days and scopes", TOKEN_BODY),
    responses=ERRORS,
)
async def create_token(request: Request) -> dict[str, Any]:
    doc = _object(json_body(await request.body(), "token request"), "token request")
    days = doc.get("days", 90)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 366:
        raise HTTPException(422, "days: a whole number of days, 1 to 366")
    scopes = doc.get("scopes", [])
    if not isinstance(scopes, list) or not all(isinstance(x, str) for x in scopes):
        raise HTTPException(422, "scopes: a list of words such as images:read")
    me = principal(request)
    from anyio import to_thread

    try:
        token = await to_thread.run_sync(
            lambda: store(request).create_token(
                me.name, scopes=tuple(scopes), expires_days=days, actor=me.name
            )
        )
    except input_errors() as e:
        raise HTTPException(422, str(e)[:300]) from None
    return {"token": token, "name": me.name, "role": me.role, "scopes": scopes, "days": days}
