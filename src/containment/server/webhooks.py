"""Where alerts go: the webhooks configured for a server, in `DATA/webhooks.json` and the environment.

`containment notify add URL --kind json|slack [--stage S] [--header 'Name: value'] --data DIR`
writes the file (atomic, mode 0600: a Slack incoming-webhook URL is itself the secret), the way
`containment registry add` writes registries.json; a running server reads it at each delivery,
so no restart is needed. `--stage` limits a webhook to the alerts of those stages (none: all).

The environment adds webhooks no file holds (for containers whose data directory is a volume
and whose secrets come from the orchestrator): `CONTAINMENT_WEBHOOK_URL` (kind json) and
`CONTAINMENT_SLACK_WEBHOOK_URL` (kind slack), each a whitespace-separated list of URLs.

A URL is shown and audited only as `scheme://host[:port]/…` (`redacted`): paths of Slack,
Mattermost or Teams hooks carry their token.
"""

from __future__ import annotations

import json
import os
import urllib.parse
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from containment.atomicfile import write_atomic
from containment.model import ContainmentError
from containment.server.notify import Webhook

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
    source: str = "file"  # file | env

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


def load(data_dir: str | os.PathLike[str], env: bool = True) -> list[WebhookConfig]:
    """The file's webhooks, then the environment's."""
    path = Path(data_dir) / CONFIG_FILE
    out: list[WebhookConfig] = []
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raw = b""
    except OSError as e:
        raise ContainmentError(f"{path}: cannot read ({e.strerror})") from None
    if raw:
        try:
            doc = json.loads(raw)
            for entry in doc["webhooks"]:
                cfg = WebhookConfig(
                    url=str(entry["url"]),
                    kind=str(entry.get("kind", "json")),
                    stages=tuple(str(s) for s in entry.get("stages", ())),
                    headers={str(k): str(v) for k, v in (entry.get("headers") or {}).items()},
                )
                _check(cfg.url, cfg.kind, cfg.headers)
                out.append(cfg)
        except (ValueError, KeyError, TypeError, AttributeError, ContainmentError) as e:
            raise ContainmentError(
                f"{path}: not a webhooks file ({e}); remove it and add the webhooks again"
            ) from None
    if env:
        for var, kind in ((ENV_JSON, "json"), (ENV_SLACK, "slack")):
            for url in os.environ.get(var, "").split():
                try:
                    _check(url, kind, {})
                except ContainmentError as e:
                    raise ContainmentError(f"${var}: {e}") from None
                out.append(WebhookConfig(url=url, kind=kind, source="env"))
    return out


def add(
    data_dir: str | os.PathLike[str],
    url: str,
    kind: str = "json",
    stages: tuple[str, ...] = (),
    headers: list[str] | None = None,
) -> WebhookConfig:
    """Add (or replace, by URL) a webhook in the file; bad input is a ContainmentError naming it."""
    if kind not in KINDS:
        raise ContainmentError(f"--kind {kind!r}: use json or slack")
    hdrs: dict[str, str] = {}
    for h in headers or []:
        name, sep, value = h.partition(":")
        if not sep or not name.strip() or not value.strip():
            raise ContainmentError(f"--header {h!r}: expected 'Name: value'")
        hdrs[name.strip()] = value.strip()
    from containment.server.registry_gate import STAGE_RE

    for s in stages:
        if not STAGE_RE.fullmatch(s):
            raise ContainmentError(f"--stage {s!r}: not a stage name")
    _check(url, kind, hdrs)
    cfg = WebhookConfig(url=url, kind=kind, stages=tuple(dict.fromkeys(stages)), headers=hdrs)
    d = Path(data_dir)
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    kept = [c for c in load(d, env=False) if c.url != url]
    _save(d, [*kept, cfg])
    return cfg


def remove(data_dir: str | os.PathLike[str], url: str) -> bool:
    d = Path(data_dir)
    have = load(d, env=False)
    kept = [c for c in have if c.url != url]
    if len(kept) == len(have):
        return False
    _save(d, kept)
    return True


def _save(d: Path, hooks: list[WebhookConfig]) -> None:
    rows: list[dict[str, Any]] = []
    for c in hooks:
        row = asdict(c)
        row.pop("source")
        row["stages"] = list(c.stages)
        rows.append(row)
    path = d / CONFIG_FILE
    write_atomic(path, json.dumps({"webhooks": rows}, indent=2))
