"""Operations: /healthz, /readyz, /metrics, structured (JSON line) logs, graceful shutdown.

- `GET /healthz` (public): 200 as soon as the process serves requests.
- `GET /readyz` (public): 200 when the store answers a query within `READY_TIMEOUT` seconds,
  else 503 with the reason (a load balancer takes the instance out; nothing is retried here).
  With `--broker`, `"broker": "ok"|"unavailable"` too: Redis away degrades, it does not stop
  the server taking events (they wait as jobs until the reconciler can send them).
- `GET /metrics` (roles `operations`, `admin`: Prometheus scrapes with a bearer token):
  `containment_http_requests_total{method,route,status}` and
  `containment_http_request_seconds{method,route}`, `route` being the route template (or
  `unmatched`), so made-up paths cannot grow the label set; plus the process collectors.
- Logs: one JSON object per line on stderr (`ts`, `level`, `logger`, `msg` and the record's
  extra fields); one `request` record per request with method, route, status, duration and
  the principal's name.
- Graceful shutdown: uvicorn stops accepting on SIGTERM/SIGINT, lets requests in flight
  finish (up to `--graceful-timeout`), then the app's lifespan closes the store.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from containment.server.authz import ASGIApp, Message, Receive, Scope, Send

READY_TIMEOUT = 5.0
log = logging.getLogger("containment.server")
access = logging.getLogger("containment.server.access")

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "color_message",
}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        doc.update({k: v for k, v in record.__dict__.items() if k not in _STANDARD})
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str)


def configure_logging(level: str = "info") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    for name in ("containment.server", "uvicorn", "uvicorn.error"):
        lg = logging.getLogger(name)
        lg.handlers[:] = [handler]
        lg.setLevel(level.upper())
        lg.propagate = False


class Metrics:
    """The app's own registry (several apps in one process, as in tests, never collide)."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram
        from prometheus_client.gc_collector import GCCollector
        from prometheus_client.platform_collector import PlatformCollector
        from prometheus_client.process_collector import ProcessCollector

        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self.requests = Counter(
            "containment_http_requests",
            "HTTP requests answered, by route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "containment_http_request_seconds",
            "Time to answer an HTTP request",
            ["method", "route"],
            registry=self.registry,
        )

    def render(self) -> tuple[bytes, str]:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return generate_latest(self.registry), CONTENT_TYPE_LATEST


SECURITY_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"cache-control", b"no-store")]


class ObserveMiddleware:
    """Outermost: counts, times and logs every request, refused ones included."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 0

        async def observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        try:
            await self.app(scope, receive, observed)
        finally:
            elapsed = time.perf_counter() - start
            state = scope.get("state", {})
            route = state.get("route", "unmatched")
            method = scope["method"] if route != "unmatched" else "other"
            self.metrics.requests.labels(method, route, str(status)).inc()
            self.metrics.latency.labels(method, route).observe(elapsed)
            principal = state.get("principal")
            access.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "route": route,
                    "status": status,
                    "ms": round(elapsed * 1000, 2),
                    "principal": getattr(principal, "name", None),
                    "client": (scope.get("client") or ("", 0))[0],
                },
            )


def ping(store: Any) -> None:
    """One query on the store: its own `ping()` when it has one, else the smallest listing."""
    own = getattr(store, "ping", None)
    if callable(own):
        own()
    else:
        store.images(1, 0)


router = APIRouter()


@router.get("/healthz", summary="Liveness: the process answers", tags=["operations"])
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness: the store answers",
    tags=["operations"],
    responses={503: {"description": "the store does not answer"}},
)
async def readyz(request: Request) -> Response:
    import anyio

    store = request.app.state.store
    try:
        with anyio.fail_after(READY_TIMEOUT):
            await anyio.to_thread.run_sync(ping, store, abandon_on_cancel=True)
    except TimeoutError:
        return JSONResponse({"status": "unavailable", "detail": "the store did not answer in time"}, 503)
    except Exception as e:  # the database is down or unreachable: that is the answer, not a failure
        log.warning("readiness check failed", extra={"error": str(e)})
        return JSONResponse(
            {"status": "unavailable", "detail": f"the store does not answer: {type(e).__name__}"}, 503
        )
    body: dict[str, Any] = {"status": "ready"}
    runner = getattr(getattr(request.app.state, "gate", None), "runner", None)
    if runner is not None and getattr(runner, "broker_url", None):
        # the broker away is reported, not fatal: events and uploads are still stored as jobs,
        # and the reconciler sends their messages once Redis answers again
        try:
            with anyio.fail_after(READY_TIMEOUT):
                await anyio.to_thread.run_sync(runner.broker.ping, abandon_on_cancel=True)
            body["broker"] = "ok"
        except Exception as e:  # BrokerError says what; a timeout says nothing
            body["broker"] = "unavailable"
            log.warning("broker check failed", extra={"error": str(e) or type(e).__name__})
    return JSONResponse(body)


@router.get("/metrics", summary="Prometheus metrics", tags=["operations"], response_class=Response)
def metrics(request: Request) -> Response:
    data, content_type = request.app.state.metrics.render()
    return Response(data, media_type=content_type)
