"""Vulnerability findings as a text table, grouped by target like Trivy.

Groups: OS packages (the scanned image / directory) first, then installed language packages
per ecosystem ("Python", "Node.js"), then one group per lockfile or binary path. Within a
group: worst severity first, then package name. Suppressed findings follow each group's
table with the reason they were silenced."""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import TYPE_CHECKING

from containment.escape import escape
from containment.model import Finding, ScanReport
from containment.report import _gaps
from containment.report import _vulns as v

if TYPE_CHECKING:
    from rich.table import Table
    from rich.text import Text

_SEVERITY_STYLE = {
    "CRITICAL": "bold red",
    "HIGH": "red",
    "MEDIUM": "yellow",
    "LOW": "cyan",
    "NEGLIGIBLE": "dim",
    "UNKNOWN": "dim",
}


def to_table(report: ScanReport, width: int = 160, color: bool = False, packages: bool = False) -> str:
    """The report as text. `color=True` adds ANSI styles (pass it only when stdout is a TTY);
    `packages=True` (--list-all-pkgs) lists every package of each group after its findings."""
    from rich.console import Console
    from rich.table import Table

    inv = report.inventory
    buf = io.StringIO()
    con = Console(
        file=buf,
        width=width,
        force_terminal=color,
        color_system="standard" if color else None,
        highlight=False,
        emoji=False,
        soft_wrap=False,
    )
    # a directory has no OS to speak of unless it is a root filesystem; an image without one is news
    osname = f"{inv.os.name or inv.os.id} ({inv.os.distro})" if inv.os else ""
    if not osname and inv.kind != "filesystem":
        osname = "no OS detected"
    con.print(_t(f"{inv.target}  {osname}".rstrip(), style="bold"))
    if inv.image_digest:
        con.print(_t(f"digest {inv.image_digest}"))
    if report.db.get("updated_at"):
        con.print(_t(f"advisory database updated {report.db['updated_at']}"))
    raters = sorted({f.severity_source for f in report.active if f.severity_source in v.CVE_RATERS})
    if raters:
        con.print(_t(f"severity ({', '.join(raters)}): {v.cve_raters_note(raters)}"))
    for line in _gaps.table_lines(report.all_gaps, "the result may miss packages or vulnerabilities"):
        con.print(_t(line, style="bold" if color else ""), soft_wrap=True)  # a command stays whole

    groups: dict[tuple[int, str, str], tuple[list[Finding], list[Finding]]] = {}
    for p in inv.packages:
        groups.setdefault(v.group_of(p, inv), ([], []))
    for f in report.findings:
        active, suppressed = groups.setdefault(v.group_of(f.package, inv), ([], []))
        (active if f.suppressed is None else suppressed).append(f)

    def sev(f: Finding) -> Text:
        s = v.severity(f)
        # whose rating, where it is not the distribution's or the advisory's own: "HIGH (nvd)"
        note = f" ({f.severity_source})" if f.severity_source in v.CVE_RATERS else ""
        return _t(s + note, style=_SEVERITY_STYLE[s] if color else "")

    def lines(texts: Iterable[str]) -> Text:  # one escaped line each, duplicates once
        from rich.text import Text

        return Text("\n").join(_t(x) for x in dict.fromkeys(texts))

    def layers(fs: list[Finding]) -> Text:
        return lines(v.layer_label(f.layer, inv) for f in fs)

    def paths(fs: list[Finding]) -> Text:
        return lines(v.display_path(f.package, inv) for f in fs)

    for key in sorted(groups):
        order, target, type_ = key
        # one row per vulnerability of a package name and version, however many copies hold it
        active_rows = _merged(groups[key][0])
        suppressed = [same[0] for same in _merged(groups[key][1])]
        con.print()
        con.print(_t(f"{target} ({type_})", style="bold"))
        con.print(_t("=" * min(width, len(escape(f"{target} ({type_})", control=True)))))
        con.print(_t(v.summary_line([same[0] for same in active_rows]) + _suppressed_note(len(suppressed))))
        if active_rows:
            # installed packages of one ecosystem come from many files: say which (a lockfile's
            # or binary's group is named after its file already; the OS has one database)
            with_path = order == 1
            with_layer = bool(inv.layers)
            table = Table(show_lines=False, expand=False, header_style="bold" if color else "")
            for name, kw, shown in (
                ("Library", {"overflow": "fold"}, True),
                ("Vulnerability", {"no_wrap": True}, True),
                ("Severity", {"no_wrap": True}, True),
                ("Status", {"no_wrap": True}, True),
                ("Installed", {"overflow": "fold"}, True),
                ("Fixed", {"overflow": "fold"}, True),
                ("Path", {"overflow": "fold", "ratio": 1}, with_path),
                ("Layer", {"no_wrap": True}, with_layer),
                ("Title", {"overflow": "fold", "ratio": 1}, True),
            ):
                if shown:
                    table.add_column(name, **kw)
            for same in active_rows:
                f = same[0]
                cells = [
                    _t(f.package.name),
                    _t(f.id),
                    sev(f),
                    _t(f.status),
                    _t(f.installed_version),
                    _t(v.fixed(f)),
                    *([paths(same)] if with_path else []),
                    *([layers(same)] if with_layer else []),
                    _t(v.title(f)),
                ]
                table.add_row(*cells)
            con.print(table)
        if suppressed:
            table = Table(
                title="Suppressed", title_justify="left", expand=False, header_style="bold" if color else ""
            )
            table.add_column("Library", overflow="fold")
            table.add_column("Vulnerability", no_wrap=True)
            table.add_column("Severity", no_wrap=True)
            table.add_column("Installed", overflow="fold")
            table.add_column("Reason", overflow="fold", ratio=1)
            for f in v.sorted_findings(suppressed):
                table.add_row(
                    _t(f.package.name),
                    _t(f.id),
                    sev(f),
                    _t(f.installed_version),
                    _t(v.suppression_text(f)),
                )
            con.print(table)
        if packages:
            con.print(_packages_table(report, key, color))
    return "\n".join(line.rstrip() for line in buf.getvalue().splitlines()) + "\n"


def _packages_table(report: ScanReport, key: tuple[int, str, str], color: bool) -> Table:
    """--list-all-pkgs: every package of one group, with its count of active findings."""
    from rich.table import Table

    inv = report.inventory
    found: dict[tuple[str, str], int] = {}
    for f in report.active:
        k = (f.package.purl, f.package.path)
        found[k] = found.get(k, 0) + 1
    table = Table(title="Packages", title_justify="left", expand=False, header_style="bold" if color else "")
    table.add_column("Package", overflow="fold")
    table.add_column("Version", overflow="fold")
    table.add_column("Vulnerabilities", no_wrap=True, justify="right")
    table.add_column("Found at", overflow="fold", ratio=1)
    for p in inv.packages:
        if v.group_of(p, inv) != key:
            continue
        n = found.get((p.purl, p.path), 0)
        table.add_row(_t(p.name), _t(p.version), _t(str(n) if n else "-"), _t(p.path))
    return table


def _merged(findings: list[Finding]) -> list[list[Finding]]:
    """Findings in report order, those differing only in where the package was found (a
    dist-info and an egg-info of one release, two copies of a jar) together, first one leading."""
    rows: dict[tuple[str, ...], list[Finding]] = {}
    for f in v.sorted_findings(findings):
        key = (
            f.package.type,
            f.package.name,
            f.installed_version,
            f.id,
            f.status,
            v.fixed(f),
            v.severity(f),
            v.suppression_text(f),
        )
        rows.setdefault(key, []).append(f)
    return list(rows.values())


def _t(text: str, style: str = "") -> Text:
    """Plain text (never markup) with undecodable bytes and control characters escaped."""
    from rich.text import Text

    return Text(escape(text, control=True), style=style)


def _suppressed_note(n: int) -> str:
    return f"; suppressed: {n}" if n else ""
