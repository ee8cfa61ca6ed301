"""Build-stage commands: sbom, inventory."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from containment.cli.common import dump_json, fail, progress_printer, user_errors, warn, write_output
from containment.cli.deadline import Duration, deadline

if TYPE_CHECKING:
    from containment.image.skip import SkipRules

TARGET_HELP = (
    "podman:NAME[:TAG] | docker:NAME[:TAG] (local engine) | oci:DIR[:TAG] | docker-archive:FILE[:TAG] | "
    "dir:PATH | [REGISTRY/]REPO[:TAG|@DIGEST] (a local engine's image if it has one, else the registry)"
)


class SbomFormat(StrEnum):
    cyclonedx = "cyclonedx"
    spdx = "spdx"
    json = "json"


class InventoryFormat(StrEnum):
    table = "table"
    json = "json"


Target = Annotated[str, typer.Argument(help=TARGET_HELP, show_default=False)]
Platform = Annotated[
    str | None, typer.Option("--platform", help="OS/ARCH[/VARIANT] from a multi-platform image")
]
PlainHttp = Annotated[
    bool, typer.Option("--plain-http", help="talk HTTP, not HTTPS, to the registry (loopback)")
]
Insecure = Annotated[bool, typer.Option("--insecure", help="do not verify the registry's TLS certificate")]
NoCache = Annotated[
    bool, typer.Option("--no-cache", help="analyze every layer again; do not read or write the cache")
]
Quiet = Annotated[
    bool, typer.Option("--quiet", "-q", help="no progress and no warnings on stderr (errors still)")
]
Output = Annotated[str | None, typer.Option("--output", "-o", help="write to this file instead of stdout")]
NoProgress = Annotated[bool, typer.Option("--no-progress", help="no progress display (warnings still shown)")]
SkipDirs = Annotated[
    list[str] | None,
    typer.Option(
        "--skip-dirs",
        help="directories not to read, globs relative to the root (e.g. '**/node_modules,usr/share/doc'; "
        "comma-separated or repeated)",
    ),
]
SkipFiles = Annotated[
    list[str] | None,
    typer.Option(
        "--skip-files", help="files not to read, globs relative to the root (e.g. '**/*.jar'; repeatable)"
    ),
]
Timeout = Annotated[
    float | None,
    typer.Option(
        "--timeout",
        click_type=Duration(),
        metavar="DURATION",
        help="stop with an error after this long, e.g. 30s, 5m, 1h (default: no limit)",
        show_default=False,
    ),
]


def skip_rules(dirs: list[str] | None, files: list[str] | None) -> SkipRules | None:
    """--skip-dirs / --skip-files as rules for the walk (a bad glob: ContainmentError, exit 2)."""
    if not dirs and not files:
        return None
    from containment.image.skip import SkipRules

    return SkipRules.from_flags(dirs, files)


def _inventory(
    target: str,
    platform: str | None,
    plain_http: bool,
    insecure: bool,
    no_cache: bool,
    quiet: bool,
    *,
    progress: bool = True,
    skip: SkipRules | None = None,
):  # type: ignore[no-untyped-def]
    from containment.cache import LayerCache
    from containment.layers import Analyzer, scan_target

    analyzer = Analyzer(
        cache=LayerCache(enabled=not no_cache), progress=progress_printer(quiet, enabled=progress), skip=skip
    )
    inv = scan_target(target, analyzer, platform=platform, plain_http=plain_http, tls_verify=not insecure)
    if not quiet:
        import sys

        for w in inv.warnings[:20]:
            warn(w)
        if len(inv.warnings) > 20:
            print(f"containment: warning: ... and {len(inv.warnings) - 20} more", file=sys.stderr)
    return inv


def sbom(
    target: Target,
    format: Annotated[SbomFormat, typer.Option("--format", "-f", help="SBOM format")] = SbomFormat.cyclonedx,
    output: Output = None,
    platform: Platform = None,
    plain_http: PlainHttp = False,
    insecure: Insecure = False,
    no_cache: NoCache = False,
    quiet: Quiet = False,
    no_progress: NoProgress = False,
    skip_dirs: SkipDirs = None,
    skip_files: SkipFiles = None,
    timeout: Timeout = None,
) -> None:
    """Write a software bill of materials (CycloneDX 1.6 or SPDX 2.3 JSON) for an image or rootfs."""
    with deadline(timeout, target), user_errors(target):
        inv = _inventory(
            target,
            platform,
            plain_http,
            insecure,
            no_cache,
            quiet,
            progress=not no_progress,
            skip=skip_rules(skip_dirs, skip_files),
        )
        if format is SbomFormat.cyclonedx:
            from containment.report.cyclonedx import to_cyclonedx

            doc = to_cyclonedx(inv)
        elif format is SbomFormat.spdx:
            from containment.report.spdx import to_spdx

            doc = to_spdx(inv)
        else:
            from containment.report.inventory import to_json

            doc = to_json(inv)
        write_output(dump_json(doc), output)


def inventory(
    target: Target,
    format: Annotated[InventoryFormat, typer.Option("--format", "-f")] = InventoryFormat.table,
    output: Output = None,
    platform: Platform = None,
    plain_http: PlainHttp = False,
    insecure: Insecure = False,
    no_cache: NoCache = False,
    quiet: Quiet = False,
    no_progress: NoProgress = False,
    skip_dirs: SkipDirs = None,
    skip_files: SkipFiles = None,
    timeout: Timeout = None,
) -> None:
    """What is installed, layer by layer."""
    with deadline(timeout, target), user_errors(target):
        inv = _inventory(
            target,
            platform,
            plain_http,
            insecure,
            no_cache,
            quiet,
            progress=not no_progress,
            skip=skip_rules(skip_dirs, skip_files),
        )
        from containment.report import inventory as rep

        if format is InventoryFormat.json:
            write_output(dump_json(rep.to_json(inv)), output)
        else:
            write_output(rep.to_table(inv), output)


__all__ = ["sbom", "inventory", "fail"]
