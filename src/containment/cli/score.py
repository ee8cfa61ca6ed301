"""`containment score REF` (the risk score and what to fix first) and the exploit feeds'
imports, `containment db import-kev FILE|URL` and `db import-epss FILE|URL`.

Thin: parse flags, call `service.score.score_target` / `advisories.exploits.import_feed`, print.
Exit codes: 0 scored / imported, 2 bad input (3 when a download failed).
"""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from containment.cli.build import (
    Insecure,
    NoCache,
    NoProgress,
    Output,
    PlainHttp,
    Platform,
    Quiet,
    Target,
    Timeout,
)
from containment.cli.common import dump_json, progress_printer, user_errors, warn, write_output
from containment.cli.deadline import deadline
from containment.cli.firstrun import SkipDbUpdate, open_store, set_skip_db_update

if TYPE_CHECKING:  # the score module loads only when a score is asked for
    from containment.model import ScanReport
    from containment.policy.score import Action, Score


class ScoreFormat(StrEnum):
    table = "table"
    json = "json"


Db = Annotated[
    str | None, typer.Option("--db", help="advisory database (default: $CONTAINMENT_DB or the cache dir)")
]


def render(target: str, report: ScanReport, s: Score, fmt: ScoreFormat, top: int = 10) -> str:
    if fmt is ScoreFormat.json:
        return dump_json({"target": target, "score": s.to_json(), "complete": report.complete})
    lines = [f"{target}: {s.headline}"]
    lines.append("  " + "  ".join(f"{k} {v}" for k, v in s.components.items()))
    by_key = {a.key: a for a in s.actions}
    if s.top_actions:
        lines.append(f"  first {len(s.top_actions)}:")
        lines += [_action_line(n, by_key[k]) for n, k in enumerate(s.top_actions, 1)]
    rest = [a for a in s.actions if a.key not in s.top_actions][: max(0, top - len(s.top_actions))]
    if rest:
        lines.append("  then:")
        lines += [_action_line(n, a) for n, a in enumerate(rest, len(s.top_actions) + 1)]
    more = len(s.actions) - len(s.top_actions) - len(rest)
    if more > 0:
        lines.append(
            f"  ... and {more} more actions (--format json lists them all, with every finding's points)"
        )
    if s.exploits:
        feeds = ", ".join(
            f"{f['name']} {f.get('version') or f.get('date') or ''} ({f['records']})" for f in s.exploits
        )
        lines.append(f"  exploit feeds: {feeds}")
    elif report.findings:
        lines.append(
            "  exploit feeds: none imported (containment db import-kev / import-epss weigh exploited CVEs)"
        )
    if not report.complete:
        lines.append("  incomplete: some packages could not be read or matched (see the warnings)")
    return "\n".join(lines)


def _action_line(n: int, a: Action) -> str:
    count = f"{a.findings} finding{'s' if a.findings != 1 else ''}"
    return f"  {n:>3}. {a.points:5.1f} pts  {a.label}  ({count}; alone: -{a.drop:.1f})"


def score(
    target: Target,
    format: Annotated[ScoreFormat, typer.Option("--format", "-f", help="table or json")] = ScoreFormat.table,
    output: Output = None,
    top: Annotated[int, typer.Option("--top", min=1, help="how many actions the table lists")] = 10,
    db: Db = None,
    skip_db_update: SkipDbUpdate = False,
    ignorefile: Annotated[
        str | None,
        typer.Option("--ignorefile", help="ids/purls/rules to ignore (suppressed findings score 0)"),
    ] = None,
    vex: Annotated[
        list[str] | None, typer.Option("--vex", help="OpenVEX or CycloneDX VEX (repeatable)")
    ] = None,
    policy: Annotated[
        list[str] | None, typer.Option("--policy", help="Rego policy file or directory")
    ] = None,
    platform: Platform = None,
    plain_http: PlainHttp = False,
    insecure: Insecure = False,
    no_cache: NoCache = False,
    quiet: Quiet = False,
    no_progress: NoProgress = False,
    timeout: Timeout = None,
) -> None:
    """The image's risk score, 0-100 (A-F), from its vulnerabilities (severity, CVSS, fix, CISA KEV
    and EPSS when imported), secrets, misconfigurations and hygiene, with the actions that lower
    it most ("fix these 3 to drop from 71 to 22"). Formula: docs/score.md."""
    from containment.service import ScanOptions
    from containment.service.score import score_target

    set_skip_db_update(skip_db_update)
    with deadline(timeout, target), user_errors(target):
        options = ScanOptions(
            kind="image",
            scanners=("vuln", "secret", "config"),
            platform=platform,
            plain_http=plain_http,
            tls_verify=not insecure,
            cache=not no_cache,
            db=db,
            ignorefile=ignorefile,
            vex=tuple(vex or ()),
            policies=tuple(policy or ()),
        )
        report, s = score_target(
            target,
            options,
            open_store=lambda inv: open_store(db, inv, quiet),
            progress=progress_printer(quiet, enabled=not no_progress),
        )
        if not quiet:
            shown = list(dict.fromkeys(report.warnings))
            for note in shown[:20]:
                warn(note)
            if len(shown) > 20:
                print(f"containment: warning: ... and {len(shown) - 20} more", file=sys.stderr)
        write_output(render(target, report, s, format, top), output)


Source = Annotated[str, typer.Argument(help="a local file, a file:// or an http(s) URL", show_default=False)]
JsonOut = Annotated[bool, typer.Option("--json", help="print what was imported as JSON")]


def _import(kind: str, source: str, db: str | None, json_out: bool) -> None:
    from containment.advisories.exploits import import_feed

    with user_errors(source):
        res = import_feed(kind, source, db)
    if json_out:
        typer.echo(dump_json(res))
        return
    for f in res["feeds"]:
        typer.echo(
            f"imported {f['name']}: {f['records']} CVEs (version {f['version'] or '-'}, {f['date'] or 'no date'}) "
            f"from {f['location']} into {res['path']}"
        )


def import_kev(source: Source, db: Db = None, json_out: JsonOut = False) -> None:
    """Import CISA's Known Exploited Vulnerabilities catalog (known_exploited_vulnerabilities.json)
    into the advisory database; the risk score weighs those CVEs x3."""
    _import("kev", source, db, json_out)


def import_epss(source: Source, db: Db = None, json_out: JsonOut = False) -> None:
    """Import FIRST's EPSS scores (epss_scores-*.csv.gz, gzipped or plain CSV) into the advisory
    database; the risk score weighs a CVE by 1 + 2 x its exploitation probability."""
    _import("epss", source, db, json_out)
