"""Inventory as a table (grouped by layer) or as containment's own JSON.

Every string from the image reaches the table as plain text (never rich markup) with
undecodable bytes and control characters percent-encoded (containment.escape)."""

from __future__ import annotations

import io
from collections import Counter
from typing import Any

from containment.escape import escape
from containment.model import Inventory
from containment.report import _gaps

SCHEMA = "https://containment.invalid/schema/inventory-1.json"


def to_json(inv: Inventory) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "schema_version": 1,
        "target": inv.target,
        "kind": inv.kind,
        "image_digest": inv.image_digest or None,
        "image_id": inv.image_id or None,
        "os": inv.os.to_json() if inv.os else None,
        "layers": [layer.to_json() for layer in inv.layers],
        "packages": [p.to_json() for p in inv.packages],
        "warnings": list(inv.warnings),
        "complete": inv.complete,  # false: a package database could not be read (see gaps)
        "gaps": [g.to_json() for g in inv.gaps],
    }


def to_table(inv: Inventory, width: int = 140) -> str:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    def t(s: str) -> Text:
        return Text(escape(s, control=True))

    buf = io.StringIO()
    con = Console(
        file=buf, width=width, force_terminal=False, color_system=None, highlight=False, emoji=False
    )
    osname = f"{inv.os.name or inv.os.id} ({inv.os.distro})" if inv.os else "unknown OS"
    con.print(t(f"{inv.target}  {osname}  {len(inv.packages)} packages"))
    if inv.image_digest:
        con.print(t(f"digest {inv.image_digest}"))
    for line in _gaps.table_lines(inv.gaps, "the packages listed may not be all"):
        con.print(t(line), soft_wrap=True)
    by_layer: dict[str, list[Any]] = {}
    for p in inv.packages:
        by_layer.setdefault(p.layer, []).append(p)
    groups: list[tuple[str, str, list[Any]]] = []
    if inv.layers:
        for layer in inv.layers:
            pk = by_layer.pop(layer.diff_id, [])
            title = f"layer {layer.index}  {layer.diff_id[:19]}  {layer.created_by[:80]}".rstrip()
            groups.append((title, layer.diff_id, pk))
    for key, pk in by_layer.items():
        groups.append((key or "filesystem", key, pk))
    for title, _, pk in groups:
        counts = Counter(p.type for p in pk)
        summary = ", ".join(f"{n} {t}" for t, n in counts.most_common()) or "no packages"
        if not pk:
            con.print(t(title), Text("  no packages introduced here"), sep="\n")
            continue
        heading = Text("\n").join([t(title), t(summary)])
        table = Table(title=heading, title_justify="left", show_lines=False, expand=False)
        table.add_column("type")
        table.add_column("name", overflow="fold")
        table.add_column("version", overflow="fold")
        table.add_column("found at", overflow="fold")
        for p in pk:
            table.add_row(t(p.type), t(p.name + (" (dev)" if p.dev else "")), t(p.version), t("/" + p.path))
        con.print(table)
    return buf.getvalue()
