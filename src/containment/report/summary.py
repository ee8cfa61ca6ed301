"""A short summary of an inventory (and its findings): what `containment demo` prints.

Packages per type and per layer, findings per severity when an advisory database was there;
a screenful, never a row per package (`inventory` and `scan` list those). Every string from the
image is written escaped (containment.escape): one line each, no control characters.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from containment.ecosystems import label
from containment.escape import escape
from containment.model import Finding, Gap, Inventory
from containment.report import _gaps
from containment.report import _vulns as v


def _e(text: str) -> str:
    return escape(" ".join(text.split()), control=True)


def _types(counts: Counter[str]) -> str:
    return ", ".join(f"{n} {t}" for t, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def to_summary(
    inv: Inventory, findings: Sequence[Finding] | None = None, db_note: str = "", gaps: Sequence[Gap] = ()
) -> str:
    """`findings` None: no advisory database (say `db_note`, what to do); else the scan's findings.
    `gaps`: what the advisory database does not cover (the inventory's own gaps are added)."""
    out = []
    osname = f"{inv.os.name or inv.os.id} ({inv.os.distro})" if inv.os else "no OS detected"
    n = len(inv.packages)
    out.append(f"{_e(inv.target)}  {_e(osname)}  {n} package{'' if n == 1 else 's'}")
    incomplete = _gaps.table_lines((*inv.gaps, *gaps), "the summary may miss packages or vulnerabilities")
    out += [escape(line, control=True) for line in incomplete]

    out.append("")
    out.append("packages per type")
    by_type = Counter(p.type for p in inv.packages)
    w = max((len(t) for t in by_type), default=4)
    for t, k in sorted(by_type.items(), key=lambda kv: (-kv[1], kv[0])):
        name = label(t)
        out.append(f"  {_e(t).ljust(w)}  {k:>6}" + (f"  {_e(name)}" if name != t else ""))

    if inv.layers:
        out.append("")
        out.append("packages per layer")
        per_layer: dict[str, Counter[str]] = {}
        for p in inv.packages:
            per_layer.setdefault(p.layer, Counter())[p.type] += 1
        for layer in inv.layers:
            made = _e(v.instruction(layer.created_by, 60)) or "(no history)"
            counts = per_layer.get(layer.diff_id, Counter())
            what = _e(_types(counts)) if counts else "adds no package"
            out.append(f"  {layer.index:>2}  {made.ljust(60)}  {what}")

    out.append("")
    out.append("vulnerabilities")
    if findings is None:
        out.append("  " + (_e(db_note) or "no advisory database"))
    else:
        if db_note:
            out.append("  advisory database " + _e(db_note))
        active = [f for f in findings if f.suppressed is None]
        out.append("  " + v.summary_line(active))
        packages = {(f.package.name, f.installed_version) for f in active}
        if active:
            out.append(f"  in {len(packages)} package{'' if len(packages) == 1 else 's'}")
    return "\n".join(out) + "\n"
