"""`containment scan image|fs`: inventory, match against the advisory DB, report."""

from __future__ import annotations

import os
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
    skip_rules,
)
from containment.cli.common import EXIT_FINDINGS, fail, progress_printer, user_errors, warn, write_output
from containment.cli.deadline import deadline
from containment.cli.firstrun import SkipDbUpdate, open_store, set_skip_db_update
from containment.model import (
    SEVERITIES,
    ContainmentError,
    Finding,
    Misconfiguration,
    ScanReport,
    SecretFinding,
)
from containment.service import ScanOptions

app = typer.Typer(
    rich_markup_mode=None,
    help="Find vulnerabilities, secrets and misconfigurations in an image, a source tree or config files.",
    no_args_is_help=True,
)


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


Scanners = Annotated[
    str | None,
    typer.Option(
        "--scanners",
        help="what to look for, comma-separated: vuln, secret, config (misconfigurations) (default: vuln)",
    ),
]
Policy = Annotated[
    list[str] | None,
    typer.Option(
        "--policy", help="Rego policy file or directory, Conftest-style deny/warn rules (repeatable)"
    ),
]
Namespace = Annotated[
    list[str] | None,
    typer.Option("--namespace", help="Rego package(s) whose rules run (repeatable; default: main)"),
]
Server = Annotated[
    str | None,
    typer.Option("--server", help="also upload the report to this containment server (URL); needs --token"),
]
Token = Annotated[str | None, typer.Option("--token", help="API token for --server (containment token create)")]
SecretAllowlist = Annotated[
    str | None,
    typer.Option("--secret-allowlist", help="YAML file of secret rules, paths and values not to report"),
]


def _scanners(text: str | None, default: tuple[str, ...]) -> tuple[str, ...]:
    from containment.model import SCANNERS

    if not text:
        return default
    wanted = [s.strip().lower() for s in text.split(",") if s.strip()]
    aliases = {"vulnerability": "vuln", "misconfig": "config", "secrets": "secret"}
    wanted = [aliases.get(s, s) for s in wanted]
    bad = [s for s in wanted if s not in SCANNERS]
    if bad or not wanted:
        fail(f"--scanners {text}: unknown {', '.join(bad) or 'empty list'}; use some of {','.join(SCANNERS)}")
    return tuple(dict.fromkeys(wanted))


def _run(
    target: str,
    options: ScanOptions,
    fmt: ScanFormat,
    output: str | None,
    quiet: bool,
    *,
    exit_code: int = 0,
    fail_on: str | None = None,
    list_all_pkgs: bool = False,
    progress: bool = True,
    server: str | None = None,
    token: str | None = None,
) -> None:
    """Everything a scan does is the service's (containment.service.scan); here: render, exit."""
    from containment.service import scan

    report = scan(
        target,
        options,
        open_store=lambda inv: open_store(options.db, inv, quiet),  # a first scan downloads the DB
        progress=progress_printer(quiet, enabled=progress),
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
    if server:  # CI hands the result to the server, which keeps it (and re-evaluates it later)
        from containment.report.findings_json import to_json
        from containment.server.client import upload_report

        digest = upload_report(server, token, to_json(report, packages=True))
        if not quiet:
            print(f"containment: uploaded to {server} as {digest}", file=sys.stderr)
    if (exit_code or fail_on) and _failing(report, fail_on):
        raise typer.Exit(exit_code or EXIT_FINDINGS)


def _failing(report: ScanReport, fail_on: str | None) -> list[Finding | Misconfiguration | SecretFinding]:
    """What fails the run: every active finding of every kind (a Rego `warn` never fails), or with
    --fail-on those at or above it (CRITICAL > HIGH > MEDIUM > LOW > NEGLIGIBLE > UNKNOWN, as
    Grype orders them)."""
    active: list[Finding | Misconfiguration | SecretFinding] = [
        *report.active,
        *(m for m in report.active_misconfigurations if m.level != "warn"),
        *report.active_secrets,
    ]
    if not fail_on:
        return active
    worst = SEVERITIES.index(str(fail_on).upper())
    return [f for f in active if f.severity in SEVERITIES and SEVERITIES.index(f.severity) <= worst]


def _shared(
    skip_dirs: list[str] | None,
    skip_files: list[str] | None,
    db: str | None,
    include_dev: bool,
    ignore_unfixed: bool,
    ignorefile: str | None,
    vex: list[str] | None,
    policy: list[str] | None,
    namespace: list[str] | None,
) -> dict[str, object]:
    """The ScanOptions fields scan image and scan fs take alike."""
    return {
        "skip": skip_rules(skip_dirs, skip_files),
        "db": db,
        "include_dev": include_dev,
        "ignore_unfixed": ignore_unfixed,
        "ignorefile": ignorefile,
        "vex": tuple(vex or ()),
        "policies": tuple(policy or ()),
        "policy_namespaces": tuple(namespace or ("main",)),
    }


def _options(kind: str, scanners: tuple[str, ...], severity: str | None, **kw: object) -> ScanOptions:
    wanted = _severities(severity)
    try:
        return ScanOptions(
            kind=kind,
            scanners=scanners,
            severities=frozenset(wanted) if wanted else None,
            **kw,  # type: ignore[arg-type]
        )
    except ContainmentError as e:
        fail(str(e))


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
    scanners: Scanners = None,
    severity: Severity = None,
    ignore_unfixed: IgnoreUnfixed = False,
    exit_code: ExitCode = 0,
    ignorefile: IgnoreFile = None,
    vex: Vex = None,
    db: Db = None,
    skip_db_update: SkipDbUpdate = False,
    include_dev_deps: IncludeDev = False,
    policy: Policy = None,
    namespace: Namespace = None,
    secret_allowlist: SecretAllowlist = None,
    server: Server = None,
    token: Token = None,
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
    """Scan an image (or a rootfs with dir:PATH): vulnerabilities, and with --scanners also
    secrets in every layer (deleted ones too) and misconfigurations (image config and hygiene,
    config files in the image, --policy Rego rules), all from one walk of the layers.

    With no advisory database yet, the first vulnerability scan downloads one (see
    --skip-db-update); exit code 3 when that download fails (offline: containment db update
    --source DIR|URL)."""
    set_skip_db_update(skip_db_update)
    with deadline(timeout, target), user_errors(target):
        options = _options(
            "image",
            _scanners(scanners, ("vuln",)),
            severity,
            platform=platform,
            plain_http=plain_http,
            tls_verify=not insecure,
            cache=not no_cache,
            **_shared(
                skip_dirs, skip_files, db, include_dev_deps, ignore_unfixed, ignorefile, vex, policy, namespace
            ),
            secret_allowlist=secret_allowlist,
        )
        _run(
            target,
            options,
            format,
            output,
            quiet,
            exit_code=exit_code,
            fail_on=fail_on,
            list_all_pkgs=list_all_pkgs,
            progress=not no_progress,
            server=server,
            token=token,
        )


@app.command("fs")
def fs(
    path: Annotated[
        str, typer.Argument(help="a source tree or directory: lockfiles, manifests, installed trees")
    ],
    format: Format = ScanFormat.table,
    output: Output = None,
    scanners: Scanners = None,
    severity: Severity = None,
    ignore_unfixed: IgnoreUnfixed = False,
    exit_code: ExitCode = 0,
    ignorefile: IgnoreFile = None,
    vex: Vex = None,
    db: Db = None,
    skip_db_update: SkipDbUpdate = False,
    include_dev_deps: IncludeDev = False,
    policy: Policy = None,
    namespace: Namespace = None,
    secret_allowlist: SecretAllowlist = None,
    server: Server = None,
    token: Token = None,
    quiet: Quiet = False,
    no_progress: NoProgress = False,
    skip_dirs: SkipDirs = None,
    skip_files: SkipFiles = None,
    timeout: Timeout = None,
    list_all_pkgs: ListAllPkgs = False,
    fail_on: FailOn = None,
) -> None:
    """Scan a directory: lockfiles and manifests (npm, pip, Go, Cargo, Maven, ...) and installed
    trees for vulnerabilities; with --scanners secret,config also secrets and config files.

    With no advisory database yet, the first vulnerability scan downloads one (see
    --skip-db-update); exit code 3 when that download fails (offline: containment db update
    --source DIR|URL)."""
    set_skip_db_update(skip_db_update)
    with deadline(timeout, path), user_errors(path):
        if not os.path.isdir(path):
            fail(f"{path}: not a directory; give the root of a source tree (or use scan image for images)")
        options = _options(
            "fs",
            _scanners(scanners, ("vuln",)),
            severity,
            **_shared(
                skip_dirs, skip_files, db, include_dev_deps, ignore_unfixed, ignorefile, vex, policy, namespace
            ),
            secret_allowlist=secret_allowlist,
        )
        _run(
            path,
            options,
            format,
            output,
            quiet,
            exit_code=exit_code,
            fail_on=fail_on,
            list_all_pkgs=list_all_pkgs,
            progress=not no_progress,
            server=server,
            token=token,
        )


@app.command("config")
def config(
    path: Annotated[
        str,
        typer.Argument(help="a directory or one file: Dockerfiles, Kubernetes manifests, Compose files"),
    ],
    format: Format = ScanFormat.table,
    output: Output = None,
    severity: Severity = None,
    exit_code: ExitCode = 0,
    policy: Policy = None,
    namespace: Namespace = None,
    quiet: Quiet = False,
    no_progress: NoProgress = False,
    skip_dirs: SkipDirs = None,
    skip_files: SkipFiles = None,
    timeout: Timeout = None,
    fail_on: FailOn = None,
) -> None:
    """Check Dockerfiles, Kubernetes manifests and Compose files for misconfigurations, with the
    built-in rules (containment checks list) and your own Rego policies (--policy)."""
    with deadline(timeout, path), user_errors(path):
        if not os.path.exists(path):
            fail(
                f"{path}: no such file or directory; give a directory or a Dockerfile, manifest or Compose file"
            )
        options = _options(
            "config",
            ("config",),
            severity,
            skip=skip_rules(skip_dirs, skip_files),
            policies=tuple(policy or ()),
            policy_namespaces=tuple(namespace or ("main",)),
        )
        _run(
            path,
            options,
            format,
            output,
            quiet,
            exit_code=exit_code,
            fail_on=fail_on,
            progress=not no_progress,
        )


__all__ = ["app", "EXIT_FINDINGS"]
