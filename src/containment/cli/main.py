"""The `containment` command."""

from __future__ import annotations

import typer

from containment import __version__
from containment.cli import admin, build, cache, checks, db, demo, gate, scan
from containment.cli import audit as audit_cli
from containment.cli import notify as notify_cli
from containment.cli import registry as registry_cli
from containment.cli import score as score_cli
from containment.cli import serve as serve_cli
from containment.cli import sign as sign_cli
from containment.cli import worker as worker_cli
from containment.cli.entry import ContainmentTyper, Shell

app = ContainmentTyper(
    rich_markup_mode=None,
    name="containment",
    help="Container security from build to run: inventory, SBOMs, vulnerabilities, secrets, "
    "misconfigurations, risk score, policy gates, signatures, promotion.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command()(build.sbom)
app.command()(build.inventory)
app.add_typer(scan.app, name="scan")
app.add_typer(checks.app, name="checks")
app.command("score")(score_cli.score)
app.command("gate")(gate.gate)
app.add_typer(gate.policy_app, name="policy")
app.add_typer(sign_cli.key_app, name="key")
for _f in (sign_cli.sign, sign_cli.attest, sign_cli.verify, sign_cli.promote):
    app.command()(_f)
app.add_typer(audit_cli.app, name="audit")
app.command("serve")(serve_cli.serve)
app.command("worker")(worker_cli.worker)
app.add_typer(registry_cli.app, name="registry")
app.add_typer(notify_cli.app, name="notify")
app.add_typer(admin.user_app, name="user")
app.add_typer(admin.token_app, name="token")
db.app.command("import-kev")(score_cli.import_kev)
db.app.command("import-epss")(score_cli.import_epss)
app.add_typer(cache.app, name="cache")
app.add_typer(db.app, name="db")
app.command()(demo.demo)


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(f"containment {__version__}")


@app.command()
def completion(shell: Shell) -> None:
    """Print the shell completion script: `source <(containment completion bash)`, or save it
    where your shell loads completions (zsh: a file `_containment` on $fpath; fish:
    ~/.config/fish/completions/containment.fish)."""
    from containment.cli.entry import completion_script

    typer.echo(completion_script(shell.value))


if __name__ == "__main__":  # pragma: no cover
    from containment.__main__ import main

    main()
