"""The FastAPI application: `create_app(store)`.

Layers, outermost first: ObserveMiddleware (metrics + one log line per request, refused
requests included) -> AuthzMiddleware (the operation x roles table: 401/403 before routing,
body read with a size limit) -> FastAPI (routes.py, ops.py).

The OpenAPI 3 document is served at /api/v1/openapi.json; every operation in it carries
`x-roles` from authz.OPERATIONS, and the app refuses to build when a route is missing from
that table (or the table names a route that does not exist), so nothing is served unguarded.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from containment import __version__
from containment.server import (
    authz,
    currency,
    dashboard,
    dashboard_governance,
    governance_routes,
    ops,
    registry_gate,
    routes,
)

OPENAPI_URL = f"{authz.API}/openapi.json"
_REASONS = {
    400: "bad request",
    404: "not found",
    405: "method not allowed",
    409: "conflict",
    415: "unsupported media type",
    422: "invalid",
}


def create_app(
    store: Any,
    max_body: int = authz.DEFAULT_MAX_BODY,
    close_store: bool = False,
    data_dir: Any = None,
    advisory_db: Any = None,
    watch_interval: float | None = None,
    broker: str | None = None,
) -> Any:
    """The ASGI application serving `store` (a containment.server.store.Store, or anything with
    its API). `close_store`: close it when the app shuts down (the serve command's own store).
    `advisory_db` / `watch_interval`: the DB the findings follow, and how often its change is
    looked for (None: never; `POST /api/v1/reevaluate` only), server/currency.py."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ops.log.info("server ready", extra={"version": __version__})
        if gate is not None:
            gate.resume()  # the registry gate's workers (jobs left by a killed server run again)
        if current is not None:
            current.resume()  # the advisory DB watcher (and the workers, for jobs the CLI queued)
        try:
            yield
        finally:
            ops.log.info("server stopping")
            if current is not None:
                current.stop()
            if gate is not None:
                gate.stop()
            if close_store:
                store.close()

    api = FastAPI(
        title="containment",
        version=__version__,
        openapi_url=OPENAPI_URL,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    api.state.store = store
    metrics = ops.Metrics()
    api.state.metrics = metrics
    api.include_router(ops.router)
    api.include_router(routes.router)
    # None for a store double; `broker`: jobs run by `containment worker` processes (server/broker.py)
    gate = registry_gate.gate_for(store, data_dir, broker=broker)
    api.state.gate = gate
    api.include_router(registry_gate.router)
    current = currency.currency_for(store, data_dir, advisory_db, watch_interval, gate)
    api.state.currency = current
    api.include_router(currency.router)
    api.include_router(dashboard.router)
    api.include_router(governance_routes.router)
    api.include_router(dashboard_governance.router)
    api.openapi = lambda: _openapi(api)  # type: ignore[method-assign]
    _check_routes(api)

    @api.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            {"error": _REASONS.get(exc.status_code, "error"), "detail": exc.detail},
            exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @api.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"where": ".".join(str(p) for p in e.get("loc", ())), "problem": str(e.get("msg", ""))}
            for e in exc.errors()
        ]
        return JSONResponse({"error": "invalid", "detail": problems}, 422)

    guarded = authz.AuthzMiddleware(api, store.authenticate, max_body=max_body)
    return ops.ObserveMiddleware(guarded, metrics)


def _check_routes(api: FastAPI) -> None:
    """The operations the OpenAPI document lists are exactly the table's (the middleware answers
    404/405 itself for anything the table lacks, so an unlisted route could not even be reached)."""
    doc = _openapi(api)
    served = {("GET", OPENAPI_URL)} | {
        (m.upper(), path) for path, item in doc.get("paths", {}).items() for m in item if m.upper() in METHODS
    }
    table = set(authz.OPERATIONS)
    if served - table:
        raise RuntimeError(f"operations without roles in authz.OPERATIONS: {sorted(served - table)}")
    if table - served:
        raise RuntimeError(f"authz.OPERATIONS names operations not served: {sorted(table - served)}")


METHODS = {"GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE"}


def _openapi(api: FastAPI) -> dict[str, Any]:
    if api.openapi_schema:
        return api.openapi_schema
    doc = FastAPI.openapi(api)
    doc["info"]["description"] = (__doc__ or "").strip()
    doc.setdefault("components", {})["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer"},
        "session": {"type": "apiKey", "in": "cookie", "name": authz.SESSION_COOKIE},
    }
    for path, item in doc.get("paths", {}).items():
        for method, op in item.items():
            if method.upper() not in METHODS:
                continue
            roles = list(authz.roles_for(method, path))
            op["x-roles"] = roles
            if roles != [authz.ANONYMOUS]:
                op["security"] = [{"bearer": []}, {"session": []}]
    api.openapi_schema = doc
    return doc


# `containment serve --workers N`: the settings each server process builds its app from
SERVE_ENV = "CONTAINMENT_SERVE_SETTINGS"


def from_environment() -> Any:
    """The app of one of `serve --workers N`'s processes (uvicorn's app factory; each process
    imports it anew): the serve command's settings come as JSON in $CONTAINMENT_SERVE_SETTINGS.
    Each process opens its own store; jobs are claimed from the store, so any process may run
    them (as with several servers on one database)."""
    import json
    import os

    from containment.server.ops import configure_logging
    from containment.server.store import Store

    settings = json.loads(os.environ[SERVE_ENV])
    configure_logging(settings["log_level"])
    store = Store.open(data_dir=settings["data"], url=settings["database"])
    return create_app(
        store,
        max_body=settings["max_body"],
        close_store=True,
        data_dir=settings["data"],
        advisory_db=settings["advisory_db"],
        watch_interval=settings["watch_interval"],
        broker=settings["broker"],
    )


__all__ = ["OPENAPI_URL", "SERVE_ENV", "create_app", "from_environment"]
