"""`containment gate REF --policy policy.yaml --stage prod` and `containment policy check|export-vex`.

Thin: parse flags, call containment.service.gate (one scan + the policy's decision), print.
Exit codes: 0 the image may enter the stage, 1 refused (reasons printed), 2 bad input
(policy file, stage, reference)."""

from __future__ import annotations

import datetime as dt
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
from containment.cli.common import EXIT_FINDINGS, dump_json, progress_printer, user_errors, warn, write_output
from containment.cli.deadline import deadline
from containment.cli.firstrun import SkipDbUpdate, open_store, set_skip_db_update

if TYPE_CHECKING:  # the policy modules (and YAML) load only when a gate runs
    from containment.policy.gate import Decision

policy_app = typer.Typer(
    rich_markup_mode=None, help="Gate policy files: check one, export its exceptions.", no_args_is_help=True
)


class GateFormat(StrEnum):
    table = "table"
    json = "json"


PolicyFile = Annotated[str, typer.Option("--policy", help="the policy YAML file (docs/policy-file.md)")]
StageName = Annotated[
    str, typer.Option("--stage", help="the stage the image would enter (dev, test, prod, ...)")
]


def render(decision: Decision) -> str:
    """The decision for a person: verdict, one line per reason, exceptions applied and expired."""
    verb = "PASSED" if decision.passed else "REFUSED"
    lines = [f"{decision.target}: {verb} for stage {decision.stage} ({decision.policy})"]
    if decision.score is not None:
        lines.append(f"  risk score: {decision.score:g}")
    lines += [f"  x {r.rule}: {r.message}" for r in decision.reasons]
    lines += [f"  ~ {a.message}" for a in decision.exceptions_applied]
    lines += [f"  ! {a.message}" for a in decision.expired_exceptions]
    if decision.passed and not decision.checked:
        lines.append("  (the stage sets no requirement)")
    return "\n".join(lines)


def gate(
    target: Target,
    policy: PolicyFile,
    stage: StageName,
    format: Annotated[GateFormat, typer.Option("--format", "-f", help="output format")] = GateFormat.table,
    output: Output = None,
    previous: Annotated[
        str | None,
        typer.Option("--previous", help="the previous stage's image, for the policy's no_debug rule"),
    ] = None,
    key: Annotated[
        list[str] | None,
        typer.Option(
            "--key", help="public key whose signatures/attestations on the image are verified (repeatable)"
        ),
    ] = None,
    db: Annotated[str | None, typer.Option("--db", help="advisory database")] = None,
    skip_db_update: SkipDbUpdate = False,
    platform: Platform = None,
    plain_http: PlainHttp = False,
    insecure: Insecure = False,
    no_cache: NoCache = False,
    quiet: Quiet = False,
    no_progress: NoProgress = False,
    timeout: Timeout = None,
) -> None:
    """Decide whether an image may enter a stage of a policy: scan it (vulnerabilities, secrets,
    misconfigurations), apply the policy's exceptions, check every requirement of the stage.
    Exit 0 passed, 1 refused (reasons printed), 2 bad input."""
    from containment.model import SCANNERS
    from containment.service.gate import gate as run_gate
    from containment.service.scan import ScanOptions

    set_skip_db_update(skip_db_update)
    with deadline(timeout, target), user_errors(target):
        options = ScanOptions(
            kind="image",
            scanners=SCANNERS,
            platform=platform,
            plain_http=plain_http,
            tls_verify=not insecure,
            cache=not no_cache,
            db=db,
            default_ignorefiles=False,  # the policy's exceptions are the gate's only waivers
        )
        report, decision = run_gate(
            target,
            policy,
            stage,
            options,
            keys=tuple(key or ()),
            previous=previous,
            open_store=lambda inv: open_store(db, inv, quiet),
            progress=progress_printer(quiet, enabled=not no_progress),
        )
        if not quiet:
            for note in list(dict.fromkeys([*report.warnings, *decision.notes]))[:20]:
                warn(note)
        text = dump_json(decision.to_json()) if format is GateFormat.json else render(decision)
        write_output(text, output)
        if not decision.passed:
            raise typer.Exit(EXIT_FINDINGS)


@policy_app.command("check")
def check(policy: Annotated[str, typer.Argument(help="the policy YAML file")]) -> None:
    """Validate a policy file: exit 0 and a summary when it is usable, 2 with the first problem."""
    from containment.policy.policyfile import load_policy

    with user_errors(policy):
        p = load_policy(policy)
        today = dt.date.today()
        stale = [e for e in p.exceptions if e.expired(today)]
        print(f"{policy}: {len(p.stages)} stage(s) ({', '.join(p.stages)}), {len(p.exceptions)} exception(s)")
        for e in stale:
            warn(
                f"{e.where(policy)}: exception {e.id} expired on {e.expires.isoformat()}; it no longer applies"
            )


@policy_app.command("export-vex")
def export_vex(
    policy: Annotated[str, typer.Argument(help="the policy YAML file")],
    output: Output = None,
    stage: Annotated[str | None, typer.Option("--stage", help="only the exceptions of this stage")] = None,
    author: Annotated[str, typer.Option("--author", help="the document's author")] = "containment",
    quiet: Quiet = False,
) -> None:
    """Write the policy's exceptions (not expired) as an OpenVEX document, readable by
    `containment scan --vex` and other VEX consumers."""
    from containment.policy.exceptions import to_openvex
    from containment.policy.policyfile import load_policy

    with user_errors(policy):
        p = load_policy(policy)
        if stage is not None:
            p.stage(stage)
        doc, notes = to_openvex(
            p.exceptions, source=policy, author=author, today=dt.date.today(), stage=stage
        )
        if not quiet:
            for n in notes:
                warn(n)
        write_output(dump_json(doc), output)
        if not doc["statements"] and not quiet:
            print("containment: the policy has no exception to export", file=sys.stderr)


__all__ = ["check", "export_vex", "gate", "policy_app", "render"]
