"""`containment notify add|list|remove`: where the server sends alerts (server/webhooks.py).

An alert: after an advisory DB change, an image in a stage gained a finding over the stage's
limit (server/currency.py). Webhooks live in the server's database (--data DIR: its SQLite;
--database URL), audited `webhook.add` / `webhook.remove`; the server and every worker read them
at each run. $CONTAINMENT_WEBHOOK_URL / $CONTAINMENT_SLACK_WEBHOOK_URL add more per process.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from containment.cli.common import fail, user_errors
from containment.cli.registry import DatabaseOpt, DataOpt, _open

app = typer.Typer(
    rich_markup_mode=None, help="Where the server sends finding alerts (webhooks).", no_args_is_help=True
)


@app.command("add")
def add(
    url: Annotated[str, typer.Argument(help="http:// or https:// URL the alerts are POSTed to")],
    kind: Annotated[
        str, typer.Option("--kind", help='json (the alerts as JSON) or slack ({"text": ...})')
    ] = "json",
    stage: Annotated[
        list[str] | None, typer.Option("--stage", help="only alerts of this stage (repeatable; default: all)")
    ] = None,
    header: Annotated[
        list[str] | None, typer.Option("--header", help="'Name: value' sent with each POST (repeatable)")
    ] = None,
    data: DataOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """Send alerts to URL (replaces the entry with the same URL)."""
    from containment.server import webhooks

    with user_errors(), _open(data, database) as store:
        cfg = webhooks.add(store, url, kind, tuple(stage or ()), list(header or []))
    where = ", ".join(cfg.stages) if cfg.stages else "every stage"
    typer.echo(f"webhook {cfg.redacted} ({cfg.kind}): alerts of {where}")


@app.command("list")
def list_(
    as_json: Annotated[bool, typer.Option("--json", help="JSON output")] = False,
    data: DataOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """The webhooks alerts go to (URLs shown as scheme://host/…: their paths may hold a token)."""
    from containment.server import webhooks

    with user_errors(), _open(data, database) as store:
        hooks = webhooks.load(store)
    rows = [
        {
            "url": h.redacted,
            "kind": h.kind,
            "stages": list(h.stages),
            "headers": sorted(h.headers),
            "from": h.source,
        }
        for h in hooks
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        typer.echo(f"{r['url']}\t{r['kind']}\tstages={','.join(r['stages']) or '*'}\tfrom={r['from']}")


@app.command("remove")
def remove(
    url: Annotated[str, typer.Argument(help="the URL as added")],
    data: DataOpt = None,
    database: DatabaseOpt = None,
) -> None:
    """Stop sending alerts to URL."""
    from containment.server import webhooks

    with user_errors(), _open(data, database) as store:
        gone = webhooks.remove(store, url)
    if not gone:
        fail(f"{webhooks.redacted(url)}: no such webhook in the server's database (containment notify list)")
    typer.echo("removed")
