"""`containment db update|import|status`: the local advisory database."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from containment.cli.common import dump_json, user_errors, warn

app = typer.Typer(
    rich_markup_mode=None, help="Build, update and inspect the local advisory database.", no_args_is_help=True
)

DB_HELP = "Advisory database file (default: $CONTAINMENT_DB, else <cache dir>/db/advisories.db)."
MAX_SHOWN_WARNINGS = 50


def _warn_all(warnings: list[str], dropped: int = 0) -> None:
    for w in warnings[:MAX_SHOWN_WARNINGS]:
        warn(w)
    more = max(0, len(warnings) - MAX_SHOWN_WARNINGS) + dropped
    if more:
        print(
            f"containment: warning: ... and {more} more warnings (--json lists the first 1000)",
            file=sys.stderr,
        )


@contextmanager
def _progress(quiet: bool) -> Iterator[Any]:
    """A rich progress display on stderr, or None when quiet / not a terminal."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as p:
        yield p


def _counts(c: dict[str, Any], indent: str = "") -> list[str]:
    """What the database holds, the same lines for `db status` and after `db import`/`update`
    (advisories.store.counts computes them; its docstring and the README define each)."""
    lines = [
        f"{indent}records           {c['records']}",
        f"{indent}advisories        {c['advisories']} ({c['withdrawn']} of them withdrawn)",
        f"{indent}affected entries  {c['affected']}",
        f"{indent}CVSS ratings      {c['cvss_cves']} CVEs",
    ]
    ecos = c["ecosystems"]
    if ecos:
        w = max(len("ecosystem"), *(len(e) for e in ecos))
        lines.append(f"{indent}{'ecosystem'.ljust(w)}  advisories  affected entries")
        for e, n in ecos.items():
            lines.append(f"{indent}{e.ljust(w)}  {n['advisories']:>10}  {n['affected']:>16}")
    return lines


def _report(stats: dict[str, Any], verb: str) -> str:
    lines = [
        f"{verb} {stats['records']} records from {stats['files']} files into {stats['path']} "
        f"in {stats['seconds']:.1f} s",
        f"  skipped           {stats['skipped']} records",
        f"  units             {stats['added']} new, {stats['replaced']} changed, {stats['unchanged']} unchanged",
    ]
    if stats.get("database"):
        lines.append("the database now holds (as `containment db status` counts):")
        lines.extend(_counts(stats["database"], "  "))
    return "\n".join(lines)


@app.command("import")
def import_(
    paths: list[Path] = typer.Argument(
        ...,
        help="OSV JSON/YAML files, folders or zips; Alpine secdb; Debian tracker JSON.",
        readable=False,  # the importer says what is wrong with a path, in one line (exit 2)
    ),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    json_out: bool = typer.Option(False, "--json", help="Print the counts as JSON."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar, no warnings."),
) -> None:
    """Import advisory files into the database (created when missing); re-importing is idempotent."""
    from containment.advisories.importer import import_paths

    with user_errors(), _progress(quiet) as bar:
        task = bar.add_task("importing", total=None, detail="") if bar else None

        def prog(done: int, total: int) -> None:
            if bar is not None:
                bar.update(task, completed=done, total=total, detail=f"{done}/{total} files")

        stats = import_paths(paths, db, progress=prog).to_json()
    if not quiet:
        _warn_all(stats["warnings"], stats["warnings_dropped"])
    typer.echo(dump_json(stats) if json_out else _report(stats, "imported"))


def run_update(db: str | None, source: str | None, ecosystems: list[str] | None, quiet: bool) -> Any:
    """`advisories.update.update` with progress bars on stderr (a terminal, not quiet): db update
    and a first scan's download (cli/firstrun.py) show the same."""
    from containment.advisories.update import update as run

    with _progress(quiet) as bar:
        tasks: dict[str, Any] = {}

        def dl(eco: str, done: int, total: int | None) -> None:
            if bar is None:
                return
            if eco not in tasks:
                tasks[eco] = bar.add_task(f"download {eco}", total=total, detail="")
            size = f"{done / 1e6:.1f}" + (f"/{total / 1e6:.1f}" if total else "") + " MB"
            bar.update(tasks[eco], completed=done, total=total, detail=size)

        def imp(done: int, total: int) -> None:
            if bar is None:
                return
            if "_import" not in tasks:
                tasks["_import"] = bar.add_task("importing", total=total, detail="")
            bar.update(tasks["_import"], completed=done, total=total, detail=f"{done}/{total} files")

        return run(db, source, ecosystems, download_progress=dl, import_progress=imp)


@app.command()
def update(
    source: str | None = typer.Option(
        None,
        "--source",
        metavar="DIR|URL",
        help="Mirror to read instead of osv.dev (offline use): a base URL or directory with "
        "<ecosystem>/all.zip, and optionally nvd/nvdcve-2.0-*.json.gz for NVD's CVSS ($CONTAINMENT_DB_SOURCE).",
    ),
    ecosystem: list[str] | None = typer.Option(
        None, "--ecosystem", "-e", help="Ecosystem to download (repeatable; default: those in the database)."
    ),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    json_out: bool = typer.Option(False, "--json", help="Print the counts as JSON."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar, no warnings."),
) -> None:
    """Download OSV advisories and rebuild the database (swapped in only when all went well).

    Exit codes: 0 done; 2 bad input (an ecosystem the mirror does not have, a missing mirror
    directory); 3 the advisory download failed (network unreachable, timeout, HTTP error, a
    download cut short or damaged; retrying may help). On any failure the database is left as
    it was. Offline, point --source DIR|URL at a mirror.
    """
    with user_errors():
        res = run_update(db, source, ecosystem or None, quiet)
        stats = res.stats.to_json()
    if not quiet:
        _warn_all(stats["warnings"], stats["warnings_dropped"])
    if json_out:
        typer.echo(dump_json({**stats, "source": res.source, "downloads": res.downloads}))
    else:
        typer.echo(f"source {res.source}: {', '.join(res.ecosystems)}")
        typer.echo(_report(stats, "updated:"))


@app.command()
def status(
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
    json_out: bool = typer.Option(False, "--json", help="Print the status as JSON."),
) -> None:
    """Where the database is, its schema, when it was updated, its sources and counts.

    records: entries as the feeds write them (an OSV record, an Alpine secdb or Debian tracker
    (package, CVE) pair, an NVD CVE); advisories: one per id and feed, withdrawn ones included;
    affected entries: (advisory, ecosystem, package) of advisories not withdrawn, what scans
    match; CVSS ratings: CVEs with a CVSS from NVD or osv.dev (the severity fallback)."""
    from containment.advisories.store import AdvisoryStore

    with user_errors(), AdvisoryStore.open(db) as s:
        st = s.status()
    if json_out:
        typer.echo(dump_json(st))
        return
    lines = [
        f"database          {st['path']}",
        f"schema version    {st['schema_version']}",
        f"built             {st['built_at']}",
        f"updated           {st['updated_at']}",
        f"size              {st['size_bytes'] / 1e6:.1f} MB",
        *_counts(st),
    ]
    if st["sources"]:
        w = max(len("source"), *(len(s["name"]) for s in st["sources"]))
        lines.append(f"{'source'.ljust(w)}  records  advisories  CVSS CVEs  imported              location")
        for s in st["sources"]:
            lines.append(
                f"{s['name'].ljust(w)}  {s['records']:>7}  {s['advisories']:>10}  {s['cvss_cves']:>9}  "
                f"{s['imported_at']:<20}  {s['location']}"
            )
    typer.echo("\n".join(lines))
