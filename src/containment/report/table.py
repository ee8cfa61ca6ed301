"""Vulnerability findings as a text table, grouped by target like Trivy.

Groups: OS packages (the scanned image / directory) first, then installed language packages
per ecosystem ("Python", "Node.js"), then one group per lockfile or binary path. Within a
group: worst severity first, then package name. Suppressed findings follow each group's
table with the reason they were silenced."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from containment.escape import escape
from containment.model import Finding, ScanReport
from containment.report import _vulns as v

if TYPE_CHECKING:
    from rich.text import Text

_SEVERITY_STYLE = {
    "CRITICAL": "bold red",
    "HIGH": "red",
    "MEDIUM": "yellow",
    "LOW": "cyan",
    "NEGLIGIBLE": "dim",
    "UNKNOWN": "dim",
}


def to_table(report: ScanReport, width: int = 160, color: bool = False) -> str:
    """The report as text. `color=True` adds ANSI styles (pass it only when stdout is a TTY)."""
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
    osname = f"{inv.os.name or inv.os.id} ({inv.os.distro})" if inv.os else "no OS detected"
    con.print(_t(f"{inv.target}  {osname}", style="bold"))
    if inv.image_digest:
        con.print(_t(f"digest {inv.image_digest}"))
    all_active = list(report.active)
    con.print(_t(v.summary_line(all_active) + _suppressed_note(len(report.suppressed))))
    if report.db.get("updated_at"):
        con.print(_t(f"advisory database updated {report.db['updated_at']}"))

    groups: dict[tuple[int, str, str], tuple[list[Finding], list[Finding]]] = {}
    for p in inv.packages:
        groups.setdefault(v.group_of(p, inv), ([], []))
    for f in report.findings:
        active, suppressed = groups.setdefault(v.group_of(f.package, inv), ([], []))
        (active if f.suppressed is None else suppressed).append(f)

    def sev(f: Finding) -> Text:
        s = v.severity(f)
        return _t(s, style=_SEVERITY_STYLE[s] if color else "")

    for key in sorted(groups):
        _, target, type_ = key
        active, suppressed = groups[key]
        con.print()
        con.print(_t(f"{target} ({type_})", style="bold"))
        con.print(_t("=" * min(width, len(escape(f"{target} ({type_})", control=True)))))
        con.print(_t(v.summary_line(active) + _suppressed_note(len(suppressed))))
        if active:
            table = Table(show_lines=False, expand=False, header_style="bold" if color else "")
            for name, kw in (
                ("Library", {"overflow": "fold"}),
                ("Vulnerability", {"no_wrap": True}),
                ("Severity", {"no_wrap": True}),
                ("Status", {"no_wrap": True}),
                ("Installed", {"overflow": "fold"}),
                ("Fixed", {"overflow": "fold"}),
                ("Layer", {"no_wrap": True}),
                ("Title", {"overflow": "fold", "ratio": 1}),
            ):
                table.add_column(name, **kw)
            for f in v.sorted_findings(active):
                table.add_row(
                    _t(f.package.name),
                    _t(f.id),
                    sev(f),
                    _t(f.status),
                    _t(f.installed_version),
                    _t(v.fixed(f)),
                    _t(v.short_layer(f.layer)),
                    _t(v.title(f)),
                )
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
    return "\n".join(line.rstrip() for line in buf.getvalue().splitlines()) + "\n"


def _t(text: str, style: str = "") -> Text:
    """Plain text (never markup) with undecodable bytes and control characters escaped."""
    from rich.text import Text

    return Text(escape(text, control=True), style=style)


def _suppressed_note(n: int) -> str:
    return f"; suppressed: {n}" if n else ""
