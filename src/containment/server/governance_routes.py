"""The REST operations for policies, exceptions and the audit trail (under /api/v1).

Who may call each is authz.OPERATIONS (checked by the middleware before the body is read or
anything is looked up: 401/403 there). Here, in this order: the body is parsed (400 bad JSON,
422 a field, naming it), the record is looked up (404 for a made-up id), and only then the
separation-of-duties rules of governance.py decide (409 Conflict: "you requested it yourself",
"you uploaded this version"). Nothing is stored on any 4xx.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request

from containment.server import governance as gov
from containment.server.authz import API
from containment.server.routes import ERRORS, _json_request, _object, _string, json_body, principal, store

router = APIRouter(prefix=API)

CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "separation of duties or the record's state forbids it (detail says which)"}
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "no record with that id"}}
POLICY_BODY = {
    "required": ["name", "document"],
    "properties": {
        "name": _string(max_len=64, pattern="^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"),
        "document": _string(max_len=1024 * 1024, description="the policy file (YAML), docs/policy-file.md"),
    },
}
EXCEPTION_BODY = {
    "required": ["subject", "scope", "stage", "reason", "expires"],
    "properties": {
        "subject": _string(
            max_len=gov.MAX_SUBJECT, description="vulnerability id (or alias) or check rule id"
        ),
        "scope": _string(max_len=512, description='image digest, repository (registry/path) or "*"'),
        "stage": _string(max_len=64, description='stage name or "*"'),
        "reason": _string(max_len=gov.MAX_REASON),
        "expires": _string(
            max_len=64, description=f"ISO 8601 date or date-time, at most {gov.MAX_DAYS} days ahead"
        ),
    },
}


async def _run(fn: Any, *args: Any) -> Any:
    """Call a governance function in a worker thread; its refusals become their 4xx."""
    from anyio import to_thread

    try:
        return await to_thread.run_sync(lambda: fn(*args))
    except gov.GovernanceError as e:
        raise HTTPException(e.status, str(e)[:500]) from None


async def _doc(request: Request, what: str) -> dict[str, Any]:
    return _object(json_body(await request.body(), what), what)


# --- policies --------------------------------------------------------------------------------


@router.get(
    "/policies", summary="Policy versions (newest first per name)", tags=["governance"], responses=ERRORS
)
async def list_policies(
    request: Request,
    name: str = Query("", max_length=64),
    limit: int = Query(100, ge=1, le=gov.MAX_LIMIT),
    offset: int = Query(0, ge=0, le=gov.MAX_OFFSET),
) -> dict[str, Any]:
    items = await _run(gov.policies, store(request), name, limit, offset)
    return {"policies": items, "limit": limit, "offset": offset}


@router.get(
    "/policies/{id}",
    summary="One policy version, with its document",
    tags=["governance"],
    responses={**ERRORS, **NOT_FOUND},
)
async def get_policy(request: Request, id: str) -> dict[str, Any]:  # noqa: A002 - the path's name
    return dict(await _run(gov.policy, store(request), id))


@router.post(
    "/policies",
    status_code=201,
    summary="Upload a policy document: stored inactive, as the name's next version (security)",
    tags=["governance"],
    openapi_extra=_json_request("the policy's name and its YAML document", POLICY_BODY),
    responses={**ERRORS, **CONFLICT},
)
async def upload_policy(request: Request) -> dict[str, Any]:
    doc = await _doc(request, "policy")
    return dict(
        await _run(
            gov.upload_policy, store(request), doc.get("name"), doc.get("document"), principal(request).name
        )
    )


@router.post(
    "/policies/{id}/activate",
    summary="Activate a policy version; never by its uploader (security)",
    tags=["governance"],
    responses={**ERRORS, **NOT_FOUND, **CONFLICT},
)
async def activate_policy(request: Request, id: str) -> dict[str, Any]:  # noqa: A002
    return dict(await _run(gov.activate_policy, store(request), id, principal(request).name))


# --- exceptions ------------------------------------------------------------------------------


@router.get("/exceptions", summary="Exceptions, newest first", tags=["governance"], responses=ERRORS)
async def list_exceptions(
    request: Request,
    state: str = Query("", max_length=16, description="requested, approved, rejected, revoked or expired"),
    limit: int = Query(100, ge=1, le=gov.MAX_LIMIT),
    offset: int = Query(0, ge=0, le=gov.MAX_OFFSET),
) -> dict[str, Any]:
    items = await _run(gov.exceptions, store(request), state, limit, offset)
    return {"exceptions": items, "limit": limit, "offset": offset}


@router.post(
    "/exceptions",
    status_code=201,
    summary="Request an exception (approved later by someone else in security)",
    tags=["governance"],
    openapi_extra=_json_request("what to waive, where, why and until when", EXCEPTION_BODY),
    responses=ERRORS,
)
async def request_exception(request: Request) -> dict[str, Any]:
    d = await _doc(request, "exception request")
    args = [d.get(k) for k in ("subject", "scope", "stage", "reason", "expires")]
    return dict(await _run(gov.request_exception, store(request), *args, principal(request).name))


@router.post(
    "/exceptions/{id}/approve",
    summary="Approve a requested exception; never one's own (security)",
    tags=["governance"],
    responses={**ERRORS, **NOT_FOUND, **CONFLICT},
)
async def approve_exception(request: Request, id: str) -> dict[str, Any]:  # noqa: A002
    return dict(await _run(gov.decide, store(request), id, principal(request).name, True))


@router.post(
    "/exceptions/{id}/reject",
    summary="Reject a requested exception; never one's own (security)",
    tags=["governance"],
    responses={**ERRORS, **NOT_FOUND, **CONFLICT},
)
async def reject_exception(request: Request, id: str) -> dict[str, Any]:  # noqa: A002
    return dict(await _run(gov.decide, store(request), id, principal(request).name, False))


@router.post(
    "/exceptions/{id}/revoke",
    summary="Revoke an exception (security; or its requester while it is pending)",
    tags=["governance"],
    responses={**ERRORS, **NOT_FOUND, **CONFLICT},
)
async def revoke_exception(request: Request, id: str) -> dict[str, Any]:  # noqa: A002
    who = principal(request)
    return dict(await _run(gov.revoke, store(request), id, who.name, who.role))


# --- audit -----------------------------------------------------------------------------------


@router.get(
    "/audit",
    summary="Audit records, newest first, as `containment audit export` writes them",
    tags=["governance"],
    responses=ERRORS,
)
async def audit_log(
    request: Request,
    actor: str = Query("", max_length=512),
    action: str = Query(
        "", max_length=200, description="an action (exception.approve) or its family (exception)"
    ),
    subject: str = Query("", max_length=1000, description="a prefix of the subject"),
    since: str = Query("", max_length=64, description="ISO 8601 date or date-time, inclusive"),
    until: str = Query("", max_length=64, description="ISO 8601 date or date-time; a date takes in that day"),
    limit: int = Query(100, ge=1, le=gov.MAX_LIMIT),
    offset: int = Query(0, ge=0, le=gov.MAX_OFFSET),
) -> dict[str, Any]:
    for what, v in (("actor", actor), ("action", action), ("subject", subject)):
        if "\x00" in v:
            raise HTTPException(422, f"{what}: text holds a NUL character")
    try:
        lo = gov.parse_when(since, "since") if since.strip() else None
        hi = gov.parse_when(until, "until", end_of_day=True) if until.strip() else None
    except gov.GovernanceError as e:
        raise HTTPException(422, str(e)) from None
    records = await _run(gov.audit_records, store(request), actor, action, subject, lo, hi, limit, offset)
    return {"records": records, "limit": limit, "offset": offset}
