"""The `containment` command."""

from __future__ import annotations

import typer

from containment import __version__
from containment.cli import build, cache, db, demo, scan

app = typer.Typer(
    rich_markup_mode=None,
    name="containment",
    help="Container security from build to run: inventory, SBOMs, vulnerabilities, policy.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command()(build.sbom)
app.command()(build.inventory)
app.add_typer(scan.app, name="scan")
app.add_typer(cache.app, name="cache")
app.add_typer(db.app, name="db")
app.command()(demo.demo)


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(f"containment {__version__}")


if __name__ == "__main__":  # pragma: no cover
    app()
