"""A first scan with no advisory database downloads one: the ecosystems the scanned target needs.

`open_store(db, inv, quiet)` is what `scan image|fs` open the database with:
- the file exists, or `--skip-db-update` / `CONTAINMENT_SKIP_DB_UPDATE=1`: it is opened as is
  (a missing file is then the usual error: exit 2, "run `containment db update` ...");
- no file: on a terminal (and not --quiet) one line on stderr says what is downloaded from where
  and progress bars show; elsewhere (CI logs) it is silent unless it fails; `db update` runs for the OSV ecosystems of the target's packages (a
  Debian image with a venv: Debian and PyPI), from `$CONTAINMENT_DB_SOURCE` or osv.dev (with an
  `nvd/` folder on the mirror, NVD's CVSS too). Later scans do not download: `db update` refreshes.
- the download fails for want of a network (DownloadError): one line naming the offline way
  (`containment db update --source DIR|URL`, `CONTAINMENT_DB_SOURCE`) and exit code 3; nothing is
  left behind.
A target with no package an advisory feed covers needs no database: nothing is downloaded and
the scan reports no vulnerabilities.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from contextvars import ContextVar
from typing import Annotated, Any

import typer

from containment.model import DownloadError, Inventory

SkipDbUpdate = Annotated[
    bool,
    typer.Option(
        "--skip-db-update",
        envvar="CONTAINMENT_SKIP_DB_UPDATE",
        help="never download the advisory database (a scan downloads it once when there is none)",
    ),
]
SCAN_OFFLINE = (
    "offline? fill it from a mirror: containment db update --source DIR|URL (or set "
    "CONTAINMENT_DB_SOURCE=DIR|URL), or scan with --skip-db-update --db FILE"
)


def needed_ecosystems(inv: Inventory) -> list[str]:
    """The OSV ecosystems (base names, as `db update -e` takes them) of the inventory's packages."""
    from containment.advisories.names import ecosystem_base
    from containment.match import queries

    out: dict[str, None] = {}
    for _, q in queries(inv):
        if q is not None:
            out.update(dict.fromkeys(ecosystem_base(e) for e in q.ecosystems))
    return sorted(out)


class EmptyStore:
    """What a target no advisory feed covers is matched against: nothing."""

    path = None

    def affected(self, ecosystem: str, package: str) -> list[Any]:
        return []

    def ecosystems_like(self, pattern: str) -> list[str]:
        return []

    def ecosystems(self) -> list[str]:
        return []

    def advisories(self, ids: Iterable[str]) -> dict[str, Any]:
        return {}

    def cve_cvss(self, cves: Iterable[str]) -> dict[str, Any]:
        return {}

    def summary(self) -> dict[str, Any]:
        return {}

    def close(self) -> None:
        pass


_SKIP: ContextVar[bool] = ContextVar("skip_db_update", default=False)


def set_skip_db_update(value: bool) -> None:
    """What the running scan command was given for --skip-db-update (open_store's default)."""
    _SKIP.set(bool(value))


def _is_tty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def open_store(db: str | None, inv: Inventory, quiet: bool, skip: bool | None = None) -> Any:
    """The advisory store for a scan, downloaded first when there is none (module docstring).
    `skip` defaults to the command's --skip-db-update."""
    from containment.advisories.store import AdvisoryStore, default_path
    from containment.advisories.update import NONE_CREATED, OFFLINE, resolve_source

    path = default_path(db)
    if skip is None:
        skip = _SKIP.get()
    if skip or path.exists() or path.is_symlink():
        return AdvisoryStore.open(db)
    ecos = needed_ecosystems(inv)
    if not ecos:
        return EmptyStore()
    source = resolve_source()
    if not quiet and _is_tty(sys.stderr):
        print(
            f"containment: no advisory database at {path}: downloading {', '.join(ecos)} from {source} "
            "(once; `containment db update` refreshes it, --skip-db-update skips this)",
            file=sys.stderr,
        )
    from containment.cli.db import run_update

    try:
        run_update(str(path), source, ecos, quiet)
    except DownloadError as e:
        msg = str(e).replace(f"; {OFFLINE}", "").replace(f"; {NONE_CREATED}", "")
        raise DownloadError(
            f"no advisory database yet and downloading it failed: {msg}; {SCAN_OFFLINE}"
        ) from None
    return AdvisoryStore.open(db)
