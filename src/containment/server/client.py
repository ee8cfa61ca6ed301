"""The upload client CI uses: `containment scan image REF --server URL --token T` sends the scan's
JSON report (scan-1, with every package) to `POST URL/api/v1/scans` and prints nothing more.

Imports only httpx (a runtime dependency already), never FastAPI or SQLAlchemy. Every failure is a
ServerError naming the server and what to do (the CLI maps it to one line, exit 2)."""

from __future__ import annotations

import json
import os
from typing import Any

from containment.model import ContainmentError

TOKEN_ENV = "CONTAINMENT_TOKEN"
SERVER_ENV = "CONTAINMENT_SERVER"


class ServerError(ContainmentError):
    """The server refused the upload or could not be reached."""


def _base(url: str) -> str:
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ServerError(f"--server {url!r}: expected http://HOST:PORT or https://HOST")
    return url


def upload_report(server: str, token: str | None, report: dict[str, Any], timeout: float = 60.0) -> str:
    """POST the scan report; the image digest the server stored it under."""
    return _post(server, token, "/api/v1/scans", report, timeout)


def upload_sbom(server: str, token: str | None, sbom: dict[str, Any], timeout: float = 60.0) -> str:
    """POST a CycloneDX JSON SBOM; the digest the server tracks it under."""
    return _post(server, token, "/api/v1/sboms", sbom, timeout)


def _post(server: str, token: str | None, path: str, doc: dict[str, Any], timeout: float) -> str:
    import httpx

    base = _base(server)
    token = token or os.environ.get(TOKEN_ENV, "")
    if not token:
        raise ServerError(
            f"uploading to {base} needs a token: --token T or ${TOKEN_ENV} (containment token create)"
        )
    body = json.dumps(doc, ensure_ascii=False).encode()
    try:
        r = httpx.post(
            base + path,
            content=body,
            headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
            timeout=timeout,
        )
    except httpx.HTTPError as e:
        raise ServerError(f"cannot reach the server {base}: {e}") from None
    if r.status_code in (200, 201):
        try:
            return str(r.json()["digest"])
        except (ValueError, KeyError, TypeError):
            raise ServerError(
                f"{base}{path}: the server's answer is not containment's ({r.text[:100]!r})"
            ) from None
    try:
        detail = r.json().get("detail", r.text)
    except (ValueError, AttributeError):
        detail = r.text[:300]
    hint = {
        401: "the token is unknown, expired or revoked (containment token create NAME)",
        403: "the token's role may not upload (developer, security, operations or admin)",
        413: "the report is larger than the server's --max-body",
    }.get(r.status_code, "")
    raise ServerError(f"{base}{path}: HTTP {r.status_code}: {detail}" + (f"; {hint}" if hint else ""))
