"""`containment cache info|clean`."""

from __future__ import annotations

import typer

from containment.cli.common import user_errors

app = typer.Typer(rich_markup_mode=None, help="Show or empty the layer cache.", no_args_is_help=True)


@app.command()
def info() -> None:
    """Where the cache is and what it holds."""
    from containment import cache

    with user_errors():
        i = cache.info()
        typer.echo(
            f"cache dir   {i.path}\nlayers      {i.layers}\nsize        {i.bytes / 1e6:.1f} MB\nanalyzers   {i.analyzers}"
        )


@app.command()
def clean() -> None:
    """Remove every cached layer analysis."""
    from containment import cache

    with user_errors():
        i = cache.clean()
        typer.echo(f"removed {i.layers} cached layers ({i.bytes / 1e6:.1f} MB) from {i.path}")
