"""Notifications: a webhook JSON POST, or a Slack-compatible ``{"text": ...}`` one, with retries.

``Webhook(url, kind="json"|"slack")``. ``send(payload)`` POSTs it and retries on what may pass
(connection refused or reset, timeouts, HTTP 408/425/429 and 5xx) with exponential backoff
(honouring a ``Retry-After`` of a few seconds), and never on another 4xx (the receiver refused
the message: sending it again would not help). The outcome is a `Delivery`, never an exception,
so a dead receiver cannot stop the work that notifies; `NotifyError` is only for a bad URL.

Payloads: `alerts_payload` (kind json: ``{"event": "findings.gained", "alerts": [...]}``) and
`slack_payload` (one line per alert in ``text``, which Slack's incoming webhooks, Mattermost and
Rocket.Chat all read).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from containment.model import ContainmentError

RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
USER_AGENT = "containment-server"
MAX_TEXT = 35_000  # Slack truncates a message's text at 40,000 characters


class NotifyError(ContainmentError):
    """A webhook that cannot be configured (bad URL or kind)."""


@dataclass(frozen=True)
class Delivery:
    ok: bool
    attempts: int
    status: int = 0  # the last HTTP status (0: no answer)
    error: str = ""


@dataclass(frozen=True)
class Webhook:
    url: str
    kind: str = "json"  # json | slack
    headers: Mapping[str, str] = field(default_factory=dict)
    retries: int = 3  # attempts after the first
    backoff: float = 0.5  # seconds before the first retry; doubles each time
    timeout: float = 10.0

    def __post_init__(self) -> None:
        u = urllib.parse.urlsplit(self.url) if isinstance(self.url, str) else None
        if u is None or u.scheme not in ("http", "https") or not u.hostname:
            raise NotifyError(f"webhook URL {self.url!r}: give an http:// or https:// URL")
        if self.kind not in ("json", "slack"):
            raise NotifyError(f"webhook kind {self.kind!r}: use json or slack")
        if not 0 <= self.retries <= 20 or self.backoff < 0 or self.timeout <= 0:
            raise NotifyError("webhook retries must be 0 to 20, backoff >= 0 and timeout > 0")
        for k, v in self.headers.items():
            if any(c in str(k) + str(v) for c in "\r\n\x00"):
                raise NotifyError(f"webhook header {k!r}: no line breaks or NUL")

    def send(self, payload: Mapping[str, Any], sleep: Callable[[float], None] = time.sleep) -> Delivery:
        # ASCII JSON: a package name holding an undecodable byte (a lone surrogate) still travels
        body = json.dumps(payload, ensure_ascii=True, separators=(",", ":")).encode("ascii")
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, **self.headers}
        status, error = 0, ""
        for attempt in range(1, self.retries + 2):
            wait = self.backoff * 2 ** (attempt - 1)
            req = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as r:  # noqa: S310 (checked scheme)
                    r.read(65536)
                    return Delivery(True, attempt, r.status)
            except urllib.error.HTTPError as e:
                status, error = e.code, f"HTTP {e.code} {e.reason}"
                retry_after = e.headers.get("Retry-After", "") if e.headers else ""
                if retry_after.isdigit():
                    wait = max(wait, min(float(retry_after), 30.0))
                if e.code not in RETRY_STATUS:
                    return Delivery(False, attempt, status, error)
            except (urllib.error.URLError, OSError) as e:
                reason = getattr(e, "reason", e)
                status, error = 0, f"{type(reason).__name__}: {reason}"
            if attempt <= self.retries:
                sleep(wait)
        return Delivery(False, self.retries + 1, status, error)

    def notify(self, alerts: Iterable[Any], sleep: Callable[[float], None] = time.sleep) -> Delivery | None:
        """Send `alerts` (reevaluate.Alert) in this webhook's format; None when there are none."""
        alerts = list(alerts)
        if not alerts:
            return None
        payload = slack_payload(alerts) if self.kind == "slack" else alerts_payload(alerts)
        return self.send(payload, sleep=sleep)


def alerts_payload(alerts: Iterable[Any]) -> dict[str, Any]:
    items = [a.to_json() for a in alerts]
    return {"event": "findings.gained", "count": len(items), "alerts": items}


def slack_payload(alerts: Iterable[Any]) -> dict[str, str]:
    lines = [a.text for a in alerts]
    head = f"containment: {len(lines)} image{'s' if len(lines) != 1 else ''} gained findings over a stage's limit"
    text = "\n".join([head, *(f"• {line}" for line in lines)])
    if len(text) > MAX_TEXT:
        text = text[: MAX_TEXT - 20].rsplit("\n", 1)[0] + "\n… (more not shown)"
    return {"text": text}
