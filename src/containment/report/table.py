"""A scan as text tables: vulnerabilities grouped by target like Trivy, then misconfigurations
per file, then secrets.

Vulnerability groups: OS packages (the scanned image / directory) first, then installed
language packages per ecosystem ("Python", "Node.js"), then one group per lockfile or binary
path. Within a group: worst severity first, then package name. Suppressed findings follow each
group's table with the reason they were silenced. Misconfigurations: one table per file (the
image config last), by line. Secrets: one table, worst first, each with where it is, its layer
and, for a file a later layer deleted, "removed in layer N, still in the image"; only the
masked match is ever shown. A kind whose scanner did not run has no section; one that ran and
found nothing says so."""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

from containment.escape import escape
from containment.model import Finding, Misconfiguration, ScanReport, SecretFinding
from containment.report import _checks, _gaps
from containment.report import _vulns as v

if TYPE_CHECKING:
    from rich.console import Console
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
    vulns = _checks.VULN in report.scanners
    if vulns and report.db.get("updated_at"):
        con.print(_t(f"advisory database updated {report.db['updated_at']}"))
    raters = sorted({f.severity_source for f in report.active if f.severity_source in v.CVE_RATERS})
    if raters:
        con.print(_t(f"severity ({', '.join(raters)}): {v.cve_raters_note(raters)}"))
    for line in _gaps.table_lines(report.all_gaps, "the result may miss packages or vulnerabilities"):
        con.print(_t(line, style="bold" if color else ""), soft_wrap=True)  # a command stays whole
    if vulns:
        _vulnerabilities(con, report, width, color, packages)
    if _checks.CONFIG in report.scanners:
        _misconfigurations(con, report, width, color)
        _workloads(con, report, width)
    if _checks.SECRET in report.scanners:
        _secrets(con, report, width, color)
    if len(report.scanners) > 1:
        con.print()
        con.print(_t(_totals(report), style="bold" if color else ""))
    return "\n".join(line.rstrip() for line in buf.getvalue().splitlines()) + "\n"


def _vulnerabilities(con: Console, report: ScanReport, width: int, color: bool, packages: bool) -> None:
    """The vulnerability groups, each with its Total, table, suppressed table (and packages)."""
    from rich.table import Table

    inv = report.inventory

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


def _sev(sev: str, color: bool) -> Text:
    s = _checks.severity(sev)
    return _t(s, style=_SEVERITY_STYLE[s] if color else "")


def _heading(con: Console, title: str, width: int) -> None:
    con.print()
    con.print(_t(title, style="bold"))
    con.print(_t("=" * min(width, len(escape(title, control=True)))))


def _misconfigurations(con: Console, report: ScanReport, width: int, color: bool) -> None:
    """Per file (the image config last): rule, severity, line, message; then the suppressed."""
    from rich.table import Table

    inv = report.inventory
    items = _checks.sorted_misconfigurations(report.misconfigurations)
    active = [m for m in items if m.suppressed is None]
    _heading(con, "Misconfigurations", width)
    con.print(_t(_checks.summary_line(active, len(items) - len(active))))
    if not items:
        con.print(_t("no misconfigurations found"))
        return
    files: dict[str, list[Misconfiguration]] = {}
    for m in items:
        files.setdefault(m.location.path, []).append(m)
    for path, group in files.items():
        loc = group[0].location
        name = (
            _checks.where(replace(loc, start_line=0, field=""), inv)
            if path
            else f"{inv.target} (image config)"
        )
        kind = group[0].rule.kind if path else ""
        con.print()
        con.print(_t(f"{name} ({kind})" if kind else name, style="bold"))
        shown = [m for m in group if m.suppressed is None]
        silenced = [m for m in group if m.suppressed is not None]
        con.print(_t(_checks.summary_line(shown, len(silenced))))
        layer = next((m.location.layer for m in group if m.location.layer), "")
        if layer:
            con.print(_t(f"found in {_checks.layer_name(layer, inv)}"))
        header = "bold" if color else ""
        if shown:
            table = Table(expand=False, header_style=header)
            table.add_column("Rule", no_wrap=True)
            table.add_column("Severity", no_wrap=True)
            table.add_column("Line", no_wrap=True, justify="right")
            table.add_column("Message", overflow="fold", ratio=1)
            for m in shown:
                table.add_row(_t(m.rule.id), _sev(m.severity, color), _t(_lines(m)), _t(_misconfig_text(m)))
            con.print(table)
        if silenced:
            table = Table(title="Suppressed", title_justify="left", expand=False, header_style=header)
            table.add_column("Rule", no_wrap=True)
            table.add_column("Severity", no_wrap=True)
            table.add_column("Line", no_wrap=True, justify="right")
            table.add_column("Reason", overflow="fold", ratio=1)
            for m in silenced:
                table.add_row(
                    _t(m.rule.id),
                    _sev(m.severity, color),
                    _t(_lines(m)),
                    _t(_checks.suppression_text(m.suppressed)),
                )
            con.print(table)


def _workloads(con: Console, report: ScanReport, width: int) -> None:
    """Each Kubernetes workload and the strictest Pod Security Standards profile it meets."""
    from rich.table import Table

    if not report.workloads:
        return
    _heading(con, "Pod Security Standards", width)
    table = Table(expand=False)
    table.add_column("Workload", overflow="fold")
    table.add_column("File", overflow="fold")
    table.add_column("Meets", no_wrap=True)
    for w in report.workloads:
        where = (
            f"/{w.location.path}:{w.location.start_line}" if w.location.start_line else f"/{w.location.path}"
        )
        table.add_row(_t(w.resource), _t(where), _t(w.pss_level))
    con.print(table)


def _lines(m: Misconfiguration) -> str:
    loc = m.location
    if loc.start_line <= 0:
        return "-"
    if loc.end_line > loc.start_line:
        return f"{loc.start_line}-{loc.end_line}"
    return str(loc.start_line)


def _misconfig_text(m: Misconfiguration) -> str:
    text = m.message or m.rule.title
    if not m.location.path and m.location.field:
        text += f" ({m.location.field})"
    if m.level == "warn":
        text += " [warn]"
    return text


def _secrets(con: Console, report: ScanReport, width: int, color: bool) -> None:
    """Rule, severity, where, layer, masked match (and removed-but-still-there), then the suppressed."""
    from rich.table import Table

    inv = report.inventory
    items = _checks.sorted_secrets(report.secrets)
    shown = [s for s in items if s.suppressed is None]
    silenced = [s for s in items if s.suppressed is not None]
    _heading(con, "Secrets", width)
    con.print(_t(_checks.summary_line(shown, len(silenced))))
    if not items:
        con.print(_t("no secrets found"))
        return
    header = "bold" if color else ""
    with_layer = any(s.location.layer for s in items)
    with_note = any(s.removed_in for s in items)
    if shown:
        table = Table(expand=False, header_style=header)
        for name, kw, on in (
            ("Rule", {"no_wrap": True}, True),
            ("Secret", {"overflow": "fold"}, True),
            ("Severity", {"no_wrap": True}, True),
            ("Where", {"overflow": "fold", "ratio": 1}, True),
            ("Layer", {"no_wrap": True}, with_layer),
            ("Match", {"overflow": "fold"}, True),
            ("Note", {"overflow": "fold", "ratio": 1}, with_note),
        ):
            if on:
                table.add_column(name, **kw)
        for s in shown:
            table.add_row(*_secret_cells(s, report, color, with_layer, with_note))
        con.print(table)
    if silenced:
        table = Table(title="Suppressed", title_justify="left", expand=False, header_style=header)
        table.add_column("Rule", no_wrap=True)
        table.add_column("Severity", no_wrap=True)
        table.add_column("Where", overflow="fold", ratio=1)
        table.add_column("Match", overflow="fold")
        table.add_column("Reason", overflow="fold", ratio=1)
        for s in silenced:
            table.add_row(
                _t(s.rule.id),
                _sev(s.severity, color),
                _t(_checks.where(s.location, inv)),
                _t(s.match),
                _t(_checks.suppression_text(s.suppressed)),
            )
        con.print(table)


def _secret_cells(
    s: SecretFinding, report: ScanReport, color: bool, with_layer: bool, with_note: bool
) -> list[Text]:
    inv = report.inventory
    cells = [
        _t(s.rule.id),
        _t(s.rule.title),
        _sev(s.severity, color),
        _t(_checks.where(s.location, inv)),
    ]
    if with_layer:
        cells.append(_t(_checks.layer_name(s.location.layer, inv)))
    cells.append(_t(s.match))
    if with_note:
        cells.append(_t(_checks.removed_note(s, inv)))
    return cells


def _totals(report: ScanReport) -> str:
    """One line, the active items of every kind looked for (suppressed ones in brackets)."""
    parts = []
    for scanner, label, items in (
        (_checks.VULN, "vulnerabilities", report.findings),
        (_checks.CONFIG, "misconfigurations", report.misconfigurations),
        (_checks.SECRET, "secrets", report.secrets),
    ):
        if scanner in report.scanners:
            silenced = sum(1 for x in items if x.suppressed is not None)
            part = f"{label}: {len(items) - silenced}"
            parts.append(part + (f" (suppressed: {silenced})" if silenced else ""))
    return "Totals: " + ", ".join(parts)


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
