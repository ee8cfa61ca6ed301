"""`containment notify add|list|remove`: where the server sends alerts (server/webhooks.py).

An alert: after an advisory DB change, an image in a stage gained a finding over the stage's
limit (server/currency.py). Webhooks live in DIR/webhooks.json (mode 0600); a running server
reads the file at each delivery. $CONTAINMENT_WEBHOOK_URL / $CONTAINMENT_SLACK_WEBHOOK_URL add
more without a file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from containment.cli.common import fail, user_errors
from containment.cli.registry import DataOpt, _data

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
) -> None:
    """Send alerts to URL (replaces the entry with the same URL)."""
    from containment.server import webhooks

    with user_errors():
        cfg = webhooks.add(_data(data), url, kind, tuple(stage or ()), list(header or []))
    where = ", ".join(cfg.stages) if cfg.stages else "every stage"
    typer.echo(f"webhook {cfg.redacted} ({cfg.kind}): alerts of {where}")


@app.command("list")
def list_(
    as_json: Annotated[bool, typer.Option("--json", help="JSON output")] = False,
    data: DataOpt = None,
) -> None:
    """The webhooks alerts go to (URLs shown as scheme://host/…: their paths may hold a token)."""
    from containment.server import webhooks

    with user_errors():
        hooks = webhooks.load(_data(data))
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
) -> None:
    """Stop sending alerts to URL."""
    from containment.server import webhooks

    d: Path = _data(data)
    with user_errors():
        gone = webhooks.remove(d, url)
    if not gone:
        fail(f"{url}: no such webhook in {d / webhooks.CONFIG_FILE} (containment notify list)")
    typer.echo("removed")
