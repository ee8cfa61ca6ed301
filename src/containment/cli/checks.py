"""`containment checks list`: every built-in rule, with the ids peers give it."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from containment.cli.build import Output
from containment.cli.common import user_errors, write_output
from containment.model import CHECK_KINDS

app = typer.Typer(rich_markup_mode=None, help="The built-in checks.", no_args_is_help=True)


class ListFormat(StrEnum):
    table = "table"
    json = "json"


KindOption = Annotated[
    str | None,
    typer.Option("--kind", help=f"only rules of this kind: {', '.join(k for k in CHECK_KINDS if k != 'policy')}"),
]


@app.command("list")
def list_(
    format: Annotated[ListFormat, typer.Option("--format", "-f", help="output format")] = ListFormat.table,
    kind: KindOption = None,
    output: Output = None,
) -> None:
    """Every rule: id, severity, kind, aliases (hadolint, CIS Docker, Checkov, Pod Security
    Standards ids) and what it checks."""
    from containment.checks.registry import all_rules
    from containment.cli.common import dump_json, fail

    with user_errors():
        rules = all_rules()
        if kind:
            if kind not in CHECK_KINDS:
                fail(f"--kind {kind}: unknown; use one of {', '.join(CHECK_KINDS)}")
            rules = [r for r in rules if r.kind == kind]
        if format is ListFormat.json:
            write_output(dump_json({"rules": [r.to_json() for r in rules]}), output)
            return
        width = max((len(r.id) for r in rules), default=2)
        lines = [f"{'ID'.ljust(width)}  {'SEVERITY':<8}  {'KIND':<10}  TITLE / ALIASES"]
        for r in rules:
            lines.append(f"{r.id.ljust(width)}  {r.severity:<8}  {r.kind:<10}  {r.title}")
            if r.aliases:
                lines.append(f"{'':{width}}  {'':8}  {'':10}    aka {', '.join(r.aliases)}")
        lines.append(f"\n{len(rules)} rules")
        write_output("\n".join(lines) + "\n", output)
