"""Where alerts go: the webhooks configured for a server, in its database and the environment.

`containment notify add URL --kind json|slack [--stage S] [--header 'Name: value'] --data DIR`
(or `--database URL`) writes a row of the `webhooks` table (migration 0004), audited
`webhook.add` / `webhook.remove`; the whole URL is kept (a Slack incoming-webhook URL is itself
the secret: the database is as private as the data directory's 0600 file was). Every process
(the server, `containment worker` on any machine) reads the table at each run, so no restart is
needed. `--stage` limits a webhook to the alerts of those stages (none: all). A legacy
`DATA/webhooks.json` is imported once (server/config.py).

The environment adds webhooks the database does not hold (for containers whose secrets come from
the orchestrator): `CONTAINMENT_WEBHOOK_URL` (kind json) and `CONTAINMENT_SLACK_WEBHOOK_URL`
(kind slack), each a whitespace-separated list of URLs, read by each process from its own
environment (a worker delivering alerts needs them too).

A URL is shown and audited only as `scheme://host[:port]/…` (`redacted`): paths of Slack,
Mattermost or Teams hooks carry their token.
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from containment.model import ContainmentError
from containment.server.notify import Webhook

if TYPE_CHECKING:
    from containment.server.store import Store

CONFIG_FILE = "webhooks.json"
ENV_JSON = "CONTAINMENT_WEBHOOK_URL"
ENV_SLACK = "CONTAINMENT_SLACK_WEBHOOK_URL"
KINDS = ("json", "slack")


@dataclass(frozen=True)
class WebhookConfig:
    url: str
    kind: str = "json"
    stages: tuple[str, ...] = ()  # empty: every stage's alerts
    headers: dict[str, str] = field(default_factory=dict)
    source: str = "database"  # database | env

    def webhook(self) -> Webhook:
        return Webhook(self.url, self.kind, headers=dict(self.headers))

    def wants(self, stage: str) -> bool:
        return not self.stages or stage in self.stages

    @property
    def redacted(self) -> str:
        return redacted(self.url)


def redacted(url: str) -> str:
    u = urllib.parse.urlsplit(url)
    return f"{u.scheme}://{u.netloc.rpartition('@')[2]}/…"


def _check(url: str, kind: str, headers: dict[str, str]) -> None:
    Webhook(url, kind, headers=headers)  # NotifyError naming the bad URL, kind or header


def load(store: Store, env: bool = True) -> list[WebhookConfig]:
    """The database's webhooks (in the order added), then the environment's."""
    from sqlalchemy import select

    from containment.server.models import WebhookRow

    with store.read() as s:
        rows = s.scalars(select(WebhookRow).order_by(WebhookRow.id)).all()
        out = [
            WebhookConfig(
                url=r.url,
                kind=r.kind,
                stages=tuple(str(x) for x in r.stages or ()),
                headers={str(k): str(v) for k, v in (r.headers or {}).items()},
                source="database",
            )
            for r in rows
        ]
    if env:
        for var, kind in ((ENV_JSON, "json"), (ENV_SLACK, "slack")):
            for url in os.environ.get(var, "").split():
                try:
                    _check(url, kind, {})
                except ContainmentError as e:
                    raise ContainmentError(f"${var}: {e}") from None
                out.append(WebhookConfig(url=url, kind=kind, source="env"))
    return out


def read_legacy(path: Path) -> list[WebhookConfig]:
    """The entries of a webhooks.json written before migration 0004 (config.import_legacy)."""
    out: list[WebhookConfig] = []
    try:
        doc = json.loads(path.read_bytes())
        for entry in doc["webhooks"]:
            cfg = WebhookConfig(
                url=str(entry["url"]),
                kind=str(entry.get("kind", "json")),
                stages=tuple(str(s) for s in entry.get("stages", ())),
                headers={str(k): str(v) for k, v in (entry.get("headers") or {}).items()},
            )
            _check(cfg.url, cfg.kind, cfg.headers)
            out.append(cfg)
    except OSError as e:
        raise ContainmentError(f"{path}: cannot read ({e.strerror})") from None
    except (ValueError, KeyError, TypeError, AttributeError, ContainmentError) as e:
        raise ContainmentError(f"{path}: not a webhooks file ({e}); add the webhooks again") from None
    return out


def _url_sha256(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8", "surrogatepass")).hexdigest()


def put(store: Store, s: Any, cfg: WebhookConfig, actor: str) -> None:
    """Add `cfg` (replacing the entry with its URL) in the caller's write transaction, audited
    with the URL redacted and the header names only (their values may be credentials)."""
    from sqlalchemy import select

    from containment.server.models import WebhookRow

    h = _url_sha256(cfg.url)
    old = s.scalar(select(WebhookRow).where(WebhookRow.url_sha256 == h))
    if old is not None:  # replaced: deleted and added again, last in the order, as the file did
        s.delete(old)
        s.flush()
    s.add(
        WebhookRow(
            url_sha256=h,
            url=cfg.url,
            kind=cfg.kind,
            stages=list(cfg.stages),
            headers=dict(cfg.headers),
            created_by=actor,
        )
    )
    s.flush()
    detail = {
        "kind": cfg.kind,
        "stages": list(cfg.stages),
        "headers": sorted(cfg.headers),
        "replaced": old is not None,
    }
    store._audit(s, actor, "webhook.add", cfg.redacted, detail)


def add(
    store: Store,
    url: str,
    kind: str = "json",
    stages: tuple[str, ...] = (),
    headers: list[str] | None = None,
    actor: str = "cli",
) -> WebhookConfig:
    """Add (or replace, by URL) a webhook in the store; bad input is a ContainmentError naming
    it, and stores nothing."""
    if kind not in KINDS:
        raise ContainmentError(f"--kind {kind!r}: use json or slack")
    hdrs: dict[str, str] = {}
    for h in headers or []:
        name, sep, value = h.partition(":")
        if not sep or not name.strip() or not value.strip():
            raise ContainmentError(f"--header {h!r}: expected 'Name: value'")
        hdrs[name.strip()] = value.strip()
    from containment.server.registry_gate import STAGE_RE

    for st in stages:
        if not STAGE_RE.fullmatch(st):
            raise ContainmentError(f"--stage {st!r}: not a stage name")
    _check(url, kind, hdrs)
    cfg = WebhookConfig(
        url=url, kind=kind, stages=tuple(dict.fromkeys(stages)), headers=hdrs, source="database"
    )
    with store.write() as s:
        put(store, s, cfg, actor)
    return cfg


def remove(store: Store, url: str, actor: str = "cli") -> bool:
    """Stop sending alerts to `url` (audited); False when no webhook has it. Notify jobs already
    queued for it are dropped (audited `notify.dropped`)."""
    from sqlalchemy import select

    from containment.server.models import WebhookRow

    with store.write() as s:
        row = s.scalar(select(WebhookRow).where(WebhookRow.url_sha256 == _url_sha256(url)))
        if row is None:
            return False
        s.delete(row)
        store._audit(s, actor, "webhook.remove", redacted(url), {})
    return True
