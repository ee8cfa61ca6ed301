"""Dashboard pages for exceptions and policies: the request -> approve flow in plain HTML forms.

- `GET /ui/exceptions` (`?state=`): the list, a request form (roles that may request), and on
  each pending request an approve/reject form shown only to security and never on one's own
  request (the server refuses it anyway: 409, governance.py);
- `GET /ui/policies`: versions, an upload form and activate buttons (security only; never on a
  version one uploaded oneself).

Forms POST with the session cookie. Cookie-authenticated POSTs carry a per-session token
(`csrf` field, dashboard.csrf_token, as the sign-out form): HMAC-SHA256 keyed by the session cookie's own secret value, which a page from
another site cannot read, so it cannot forge the field (the cookie is also SameSite=Strict; this
is the second lock). A request with a bearer token sends no cookie on its own and needs none.
A wrong or missing token is a 400 page ("reload the page"), and nothing is stored.

Every value reaches HTML through Jinja2's autoescape (dashboard.render).
"""

from __future__ import annotations

import hmac
from typing import Any
from urllib.parse import parse_qs, urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from containment.server import governance as gov
from containment.server.authz import APPROVERS, REQUESTERS
from containment.server.dashboard import RESPONSES, csrf_token, render

router = APIRouter(prefix="/ui", tags=["dashboard"])

MAX_FORM = 4 * 1024 * 1024  # a policy document (1 MiB) URL-encoded
FORM_FIELDS = 16
PAGE = 200


def _form_body(desc: str, fields: dict[str, Any], required: list[str]) -> dict[str, Any]:
    props = {"csrf": {"type": "string", "maxLength": 128}, **fields}
    return {
        "requestBody": {
            "required": True,
            "description": desc,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {"type": "object", "required": required, "properties": props}
                }
            },
        }
    }


def _s(n: int) -> dict[str, Any]:
    return {"type": "string", "maxLength": n}


FORM_RESPONSES: dict[int | str, dict[str, Any]] = {
    **RESPONSES,
    303: {"description": "done: back to the list"},
    400: {"description": "the form is malformed or its token is stale (reload the page)"},
    409: {"description": "separation of duties or the record's state forbids it"},
}


async def _form(request: Request) -> dict[str, str] | None:
    """The urlencoded form (first value of each field), or None when it is not one we take or
    its token is wrong."""
    raw = await request.body()
    if len(raw) > MAX_FORM:
        return None
    try:
        parsed = parse_qs(raw.decode("utf-8"), max_num_fields=FORM_FIELDS, keep_blank_values=True)
    except (UnicodeDecodeError, ValueError):
        return None
    form = {k: v[0] for k, v in parsed.items() if v}
    want = csrf_token(request)
    if want and not hmac.compare_digest(form.get("csrf", "").encode(), want.encode()):
        return None
    return form


def _who(request: Request) -> Any:
    return request.state.principal


def _store(request: Request) -> Any:
    return request.app.state.store


async def _call(fn: Any, *args: Any) -> tuple[Any, gov.GovernanceError | None]:
    from anyio import to_thread

    try:
        return await to_thread.run_sync(lambda: fn(*args)), None
    except gov.GovernanceError as e:
        return None, e


# ------------------------------------------------------------------------------ exceptions


async def _exceptions_page(
    request: Request, state: str = "", status: int = 200, error: str = "", form: dict[str, str] | None = None
) -> Response:
    items, err = await _call(gov.exceptions, _store(request), state, PAGE, 0)
    if err is not None:
        items, status, error, state = [], err.status, str(err), ""
    who = _who(request)
    return render(
        request,
        "exceptions.html",
        status,
        title="Exceptions",
        items=items,
        state=state,
        states=(*gov.STATES, "expired"),
        error=error,
        form=form or {},
        csrf=csrf_token(request),
        can_request=who.role in REQUESTERS,
        can_decide=who.role in APPROVERS,
        max_days=gov.MAX_DAYS,
    )


@router.get("/exceptions", summary="Dashboard: exceptions", response_class=HTMLResponse, responses=RESPONSES)
async def exceptions_page(request: Request, state: str = Query("", max_length=16)) -> Response:
    return await _exceptions_page(request, state.strip())


_BAD_FORM = "The form could not be read or its token is stale: reload the page and send it again."


@router.post(
    "/exceptions",
    summary="Dashboard: request an exception (form)",
    response_class=Response,
    responses=FORM_RESPONSES,
    openapi_extra=_form_body(
        "subject, scope, stage, reason, expires (YYYY-MM-DD)",
        {
            k: _s(n)
            for k, n in (("subject", 256), ("scope", 512), ("stage", 64), ("reason", 4000), ("expires", 64))
        },
        ["subject", "scope", "stage", "reason", "expires"],
    ),
)
async def request_exception(request: Request) -> Response:
    form = await _form(request)
    if form is None:
        return await _exceptions_page(request, status=400, error=_BAD_FORM)
    args = [form.get(k, "") for k in ("subject", "scope", "stage", "reason", "expires")]
    _, err = await _call(gov.request_exception, _store(request), *args, _who(request).name)
    if err is not None:
        return await _exceptions_page(request, status=err.status, error=str(err), form=form)
    return RedirectResponse("/ui/exceptions?" + urlencode({"state": "requested"}), 303)


async def _decision(request: Request, id: str, fn: Any, *args: Any) -> Response:  # noqa: A002
    form = await _form(request)
    if form is None:
        return await _exceptions_page(request, status=400, error=_BAD_FORM)
    _, err = await _call(fn, _store(request), id, *args)
    if err is not None:
        return await _exceptions_page(request, status=err.status, error=str(err))
    return RedirectResponse("/ui/exceptions", 303)


@router.post(
    "/exceptions/{id}/approve",
    summary="Dashboard: approve an exception (form)",
    response_class=Response,
    responses=FORM_RESPONSES,
    openapi_extra=_form_body("the form token", {}, []),
)
async def approve_exception(request: Request, id: str) -> Response:  # noqa: A002
    return await _decision(request, id, gov.decide, _who(request).name, True)


@router.post(
    "/exceptions/{id}/reject",
    summary="Dashboard: reject an exception (form)",
    response_class=Response,
    responses=FORM_RESPONSES,
    openapi_extra=_form_body("the form token", {}, []),
)
async def reject_exception(request: Request, id: str) -> Response:  # noqa: A002
    return await _decision(request, id, gov.decide, _who(request).name, False)


@router.post(
    "/exceptions/{id}/revoke",
    summary="Dashboard: revoke an exception (form)",
    response_class=Response,
    responses=FORM_RESPONSES,
    openapi_extra=_form_body("the form token", {}, []),
)
async def revoke_exception(request: Request, id: str) -> Response:  # noqa: A002
    who = _who(request)
    return await _decision(request, id, gov.revoke, who.name, who.role)


# ------------------------------------------------------------------------------ policies


async def _policies_page(
    request: Request, status: int = 200, error: str = "", form: dict[str, str] | None = None
) -> Response:
    items, _ = await _call(gov.policies, _store(request), "", PAGE, 0)
    return render(
        request,
        "policies.html",
        status,
        title="Policies",
        items=items or [],
        error=error,
        form=form or {},
        csrf=csrf_token(request),
        can_manage=_who(request).role in APPROVERS,
    )


@router.get("/policies", summary="Dashboard: policies", response_class=HTMLResponse, responses=RESPONSES)
async def policies_page(request: Request) -> Response:
    return await _policies_page(request)


@router.post(
    "/policies",
    summary="Dashboard: upload a policy version (form)",
    response_class=Response,
    responses=FORM_RESPONSES,
    openapi_extra=_form_body(
        "name and document (YAML)", {"name": _s(64), "document": _s(1024 * 1024)}, ["name", "document"]
    ),
)
async def upload_policy(request: Request) -> Response:
    form = await _form(request)
    if form is None:
        return await _policies_page(request, 400, _BAD_FORM)
    # browsers send textarea line breaks as CRLF: the document is kept as the author wrote it
    document = form.get("document", "").replace("\r\n", "\n")
    _, err = await _call(
        gov.upload_policy, _store(request), form.get("name", ""), document, _who(request).name
    )
    if err is not None:
        return await _policies_page(request, err.status, str(err), form)
    return RedirectResponse("/ui/policies", 303)


@router.post(
    "/policies/{id}/activate",
    summary="Dashboard: activate a policy version (form)",
    response_class=Response,
    responses=FORM_RESPONSES,
    openapi_extra=_form_body("the form token", {}, []),
)
async def activate_policy(request: Request, id: str) -> Response:  # noqa: A002
    form = await _form(request)
    if form is None:
        return await _policies_page(request, 400, _BAD_FORM)
    _, err = await _call(gov.activate_policy, _store(request), id, _who(request).name)
    if err is not None:
        return await _policies_page(request, err.status, str(err))
    return RedirectResponse("/ui/policies", 303)
