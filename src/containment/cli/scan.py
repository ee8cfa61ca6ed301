"""`containment scan image|fs`: inventory, match against the advisory DB, report."""

from __future__ import annotations

import datetime
import os
import shlex
import sys
from enum import StrEnum
from typing import Annotated

import typer

from containment.cli.build import (
    Insecure,
    NoCache,
    NoProgress,
    Output,
    PlainHttp,
    Platform,
    Quiet,
    SkipDirs,
    SkipFiles,
    Target,
    Timeout,
    _inventory,
    skip_rules,
)
from containment.cli.common import EXIT_FINDINGS, fail, progress_printer, user_errors, warn, write_output
from containment.cli.deadline import deadline
from containment.cli.firstrun import SkipDbUpdate, open_store, set_skip_db_update
from containment.model import SEVERITIES, Finding, Inventory, ScanReport

app = typer.Typer(
    rich_markup_mode=None,
    help="Find known vulnerabilities in an image or a source tree.",
    no_args_is_help=True,
)

DEFAULT_IGNOREFILES = (".containmentignore", ".trivyignore.yaml", ".trivyignore")


class ScanFormat(StrEnum):
    table = "table"
    json = "json"
    sarif = "sarif"
    cyclonedx = "cyclonedx"


Format = Annotated[ScanFormat, typer.Option("--format", "-f", help="report format")]
Severity = Annotated[
    str | None,
    typer.Option("--severity", "-s", help="only these severities, comma-separated (e.g. HIGH,CRITICAL)"),
]
IgnoreUnfixed = Annotated[
    bool,
    typer.Option(
        "--ignore-unfixed",
        "--only-fixed",
        help="hide vulnerabilities with no fixed version (Grype: --only-fixed)",
    ),
]
FailOnSeverity = StrEnum("FailOnSeverity", {s: s for s in SEVERITIES})  # type: ignore[misc]
FailOn = Annotated[
    FailOnSeverity | None,
    typer.Option(
        "--fail-on",
        case_sensitive=False,
        help="exit 1 (or --exit-code) when a finding of this severity or worse remains (Grype)",
        show_default=False,
    ),
]
ListAllPkgs = Annotated[
    bool,
    typer.Option(
        "--list-all-pkgs", help="list every package in the report, not only vulnerable ones (json, table)"
    ),
]
ExitCode = Annotated[
    int, typer.Option("--exit-code", help="exit with this code when findings remain (CI gates)")
]
IgnoreFile = Annotated[
    str | None,
    typer.Option(
        "--ignorefile",
        help="ids/purls to ignore, with expiry and reason (default: .containmentignore if present)",
    ),
]
Vex = Annotated[
    list[str] | None, typer.Option("--vex", help="OpenVEX or CycloneDX VEX document (repeatable)")
]
Db = Annotated[
    str | None, typer.Option("--db", help="advisory database (default: $CONTAINMENT_DB or the cache dir)")
]
IncludeDev = Annotated[
    bool, typer.Option("--include-dev-deps", help="also report vulnerabilities of dev-only dependencies")
]


def _severities(text: str | None) -> set[str] | None:
    if not text:
        return None
    wanted = {s.strip().upper() for s in text.split(",") if s.strip()}
    bad = wanted - set(SEVERITIES)
    if bad:
        fail(f"--severity {text}: unknown {', '.join(sorted(bad))}; use {','.join(SEVERITIES)}")
    return wanted


def _run(
    inv: Inventory,
    fmt: ScanFormat,
    output: str | None,
    severity: str | None,
    ignore_unfixed: bool,
    exit_code: int,
    ignorefile: str | None,
    vex: list[str] | None,
    db: str | None,
    include_dev: bool,
    quiet: bool,
    *,
    list_all_pkgs: bool = False,
    fail_on: str | None = None,
) -> None:
    from containment.match import coverage, match

    wanted = _severities(severity)
    store = open_store(db, inv, quiet)  # a first scan downloads the database (cli/firstrun.py)
    try:
        findings, warnings = match(inv, store, include_dev=include_dev)
        update = "containment db update" + (f" --db {shlex.quote(db)}" if db else "")
        gaps = coverage(inv, store, include_dev=include_dev, update=update)
        db_summary = store.summary()
    finally:
        store.close()
    warnings.extend(g.message for g in gaps)
    for doc in vex or []:
        from containment.policy.vex import load_vex

        applied, w = load_vex(doc).apply(findings, inventory=inv)
        findings = list(applied)
        warnings.extend(w)
    path = ignorefile or next((f for f in DEFAULT_IGNOREFILES if os.path.isfile(f)), None)
    if path:
        from containment.policy.ignorefile import load_ignorefile

        applied, notes = load_ignorefile(path).apply(findings, datetime.date.today())
        findings = list(applied)
        warnings.extend(notes)
    findings = _filter(findings, wanted, ignore_unfixed)
    report = ScanReport(
        inv, tuple(findings), db=db_summary, warnings=tuple([*inv.warnings, *warnings]), gaps=tuple(gaps)
    )
    if not quiet:
        shown = list(dict.fromkeys(report.warnings))
        for note in shown[:20]:
            warn(note)
        if len(shown) > 20:
            print(f"containment: warning: ... and {len(shown) - 20} more", file=sys.stderr)
    write_output(
        _render(report, fmt, color=not output and sys.stdout.isatty(), packages=list_all_pkgs), output
    )
    if (exit_code or fail_on) and _failing(report.active, fail_on):
        raise typer.Exit(exit_code or EXIT_FINDINGS)


def _failing(active: tuple[Finding, ...], fail_on: str | None) -> list[Finding]:
    """The findings that fail the run: all that remain, or with --fail-on those at or above it
    (CRITICAL > HIGH > MEDIUM > LOW > NEGLIGIBLE > UNKNOWN, as Grype orders them)."""
    if not fail_on:
        return list(active)
    worst = SEVERITIES.index(str(fail_on).upper())
    return [f for f in active if f.severity in SEVERITIES and SEVERITIES.index(f.severity) <= worst]


def _filter(findings: list[Finding], wanted: set[str] | None, ignore_unfixed: bool) -> list[Finding]:
    out = []
    for f in findings:
        if wanted is not None and f.severity not in wanted:
            continue
        if ignore_unfixed and f.status != "fixed":
            continue
        out.append(f)
    return out


def _render(report: ScanReport, fmt: ScanFormat, color: bool = False, packages: bool = False) -> str:
    """The report in `fmt`; `packages` (--list-all-pkgs) lists every package in json and table
    (CycloneDX lists them always, SARIF has no place for packages)."""
    from containment.cli.common import dump_json

    if fmt is ScanFormat.json:
        from containment.report.findings_json import to_json

        return dump_json(to_json(report, packages=packages))
    if fmt is ScanFormat.sarif:
        from containment.report.sarif import to_sarif

        return dump_json(to_sarif(report))
    if fmt is ScanFormat.cyclonedx:
        from containment.report.cyclonedx import to_cyclonedx_vulns

        return dump_json(to_cyclonedx_vulns(report))
    from containment.report.table import to_table

    return to_table(report, color=color, packages=packages)


@app.command("image")
def image(
    target: Target,
    format: Format = ScanFormat.table,
    output: Output = None,
    severity: Severity = None,
    ignore_unfixed: IgnoreUnfixed = False,
    exit_code: ExitCode = 0,
    ignorefile: IgnoreFile = None,
    vex: Vex = None,
    db: Db = None,
    skip_db_update: SkipDbUpdate = False,
    include_dev_deps: IncludeDev = False,
    platform: Platform = None,
    plain_http: PlainHttp = False,
    insecure: Insecure = False,
    no_cache: NoCache = False,
    quiet: Quiet = False,
    no_progress: NoProgress = False,
    skip_dirs: SkipDirs = None,
    skip_files: SkipFiles = None,
    timeout: Timeout = None,
    list_all_pkgs: ListAllPkgs = False,
    fail_on: FailOn = None,
) -> None:
    """Scan an image (or a rootfs with dir:PATH) for known vulnerabilities.

    With no advisory database yet, the first scan downloads one (see --skip-db-update); exit
    code 3 when that download fails (offline: containment db update --source DIR|URL)."""
    set_skip_db_update(skip_db_update)
    with deadline(timeout, target), user_errors(target):
        inv = _inventory(
            target,
            platform,
            plain_http,
            insecure,
            no_cache,
            True,
            progress=not no_progress,
            skip=skip_rules(skip_dirs, skip_files),
        )
        _run(
            inv,
            format,
            output,
            severity,
            ignore_unfixed,
            exit_code,
            ignorefile,
            vex,
            db,
            include_dev_deps,
            quiet,
            list_all_pkgs=list_all_pkgs,
            fail_on=fail_on,
        )


@app.command("fs")
def fs(
    path: Annotated[
        str, typer.Argument(help="a source tree or directory: lockfiles, manifests, installed trees")
    ],
    format: Format = ScanFormat.table,
    output: Output = None,
    severity: Severity = None,
    ignore_unfixed: IgnoreUnfixed = False,
    exit_code: ExitCode = 0,
    ignorefile: IgnoreFile = None,
    vex: Vex = None,
    db: Db = None,
    skip_db_update: SkipDbUpdate = False,
    include_dev_deps: IncludeDev = False,
    quiet: Quiet = False,
    no_progress: NoProgress = False,
    skip_dirs: SkipDirs = None,
    skip_files: SkipFiles = None,
    timeout: Timeout = None,
    list_all_pkgs: ListAllPkgs = False,
    fail_on: FailOn = None,
) -> None:
    """Scan a directory: lockfiles and manifests (npm, pip, Go, Cargo, Maven, ...) and installed trees.

    With no advisory database yet, the first scan downloads one (see --skip-db-update); exit
    code 3 when that download fails (offline: containment db update --source DIR|URL)."""
    set_skip_db_update(skip_db_update)
    with deadline(timeout, path), user_errors(path):
        from containment.layers import Analyzer
        from containment.cache import LayerCache

        if not os.path.isdir(path):
            fail(f"{path}: not a directory; give the root of a source tree (or use scan image for images)")
        analyzer = Analyzer(
            cache=LayerCache(enabled=False),
            progress=progress_printer(quiet, enabled=not no_progress),
            prefer_installed=False,
            skip=skip_rules(skip_dirs, skip_files),
        )
        inv = analyzer.inventory_dir(path, path)
        _run(
            inv,
            format,
            output,
            severity,
            ignore_unfixed,
            exit_code,
            ignorefile,
            vex,
            db,
            include_dev_deps,
            quiet,
            list_all_pkgs=list_all_pkgs,
            fail_on=fail_on,
        )


__all__ = ["app", "EXIT_FINDINGS"]
