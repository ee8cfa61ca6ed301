"""Helpers shared by the formats for the two check kinds (misconfigurations, secrets): order,
counts per severity, where a finding is, which layer, and why it is suppressed.

Each kind keeps its own model (containment.model.Misconfiguration / SecretFinding); these
helpers only read them, so that the table, JSON, SARIF and CycloneDX say the same thing in the
same order. A secret's `match` is already masked by the scanner; nothing here ever sees more."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from containment.model import SEVERITIES, Inventory, Location, Misconfiguration, SecretFinding, Suppression

_RANK = {s: i for i, s in enumerate(SEVERITIES)}

# What a scanner name in ScanReport.scanners reports (and the kind's name in every format).
VULN, SECRET, CONFIG = "vuln", "secret", "config"


def severity(sev: str) -> str:
    s = (sev or "").upper()
    return s if s in _RANK else "UNKNOWN"


def rank(sev: str) -> int:
    return _RANK[severity(sev)]


def counts(items: Iterable[Misconfiguration | SecretFinding]) -> dict[str, int]:
    """Items per severity, every severity present (0 when none), worst first."""
    out = {s: 0 for s in SEVERITIES}
    for x in items:
        out[severity(x.severity)] += 1
    return out


def summary_line(items: list[Misconfiguration] | list[SecretFinding], suppressed: int = 0) -> str:
    c = counts(items)
    text = f"Total: {len(items)} (" + ", ".join(f"{s}: {n}" for s, n in c.items()) + ")"
    return text + (f"; suppressed: {suppressed}" if suppressed else "")


def sorted_misconfigurations(items: Iterable[Misconfiguration]) -> list[Misconfiguration]:
    """Per file (image config last), then line, then worst severity, then rule id."""
    return sorted(
        items,
        key=lambda m: (
            not m.location.path,
            m.location.path,
            m.location.start_line,
            rank(m.severity),
            m.rule.id,
            m.location.field,
            m.resource,
            m.message,
        ),
    )


def sorted_secrets(items: Iterable[SecretFinding]) -> list[SecretFinding]:
    """Worst severity first, then where (files before the image config), then rule id."""
    return sorted(
        items,
        key=lambda s: (
            rank(s.severity),
            not s.location.path,
            s.location.path,
            s.location.start_line,
            s.location.field,
            s.rule.id,
            s.match,
            s.location.layer,
        ),
    )


def layer_index(diff_id: str, inv: Inventory) -> int | None:
    """The index of the layer with this diff_id, when the inventory lists it."""
    if not diff_id:
        return None
    for layer in inv.layers:
        if layer.diff_id == diff_id:
            return layer.index
    return None


def short_id(diff_id: str) -> str:
    return diff_id.split(":", 1)[-1][:12] if diff_id else ""


def layer_name(diff_id: str, inv: Inventory) -> str:
    """`layer 4` when the inventory maps the diff_id to an index, else its short diff_id."""
    i = layer_index(diff_id, inv)
    return f"layer {i}" if i is not None else short_id(diff_id)


def removed_note(s: SecretFinding, inv: Inventory) -> str:
    """Why a secret whose file a later layer deleted is still reported."""
    if not s.removed_in:
        return ""
    return f"removed in {layer_name(s.removed_in, inv)}, still in the image"


def where(loc: Location, inv: Inventory) -> str:
    """`path:line`, `path` or `image config: <field>`; a path is absolute inside an image."""
    if not loc.path:
        return "image config" + (f": {loc.field}" if loc.field else "")
    path = loc.path if inv.kind == "filesystem" else "/" + loc.path.lstrip("/")
    if loc.start_line > 0:
        return f"{path}:{loc.start_line}"
    return path


def suppression_text(s: Suppression | None) -> str:
    """One line telling why a misconfiguration or secret is suppressed."""
    if s is None:
        return ""
    text = s.kind + ": " + (s.reason or "no reason given")
    if s.justification:
        text += f" [{s.justification}]"
    if s.expires:
        text += f" (until {s.expires})"
    if s.source:
        text += f" — {s.source}"
    return text


def kind_counts(items: list[Misconfiguration] | list[SecretFinding]) -> dict[str, Any]:
    """The summary block of one kind in containment's JSON: active and suppressed per severity."""
    active = [x for x in items if x.suppressed is None]
    silenced = [x for x in items if x.suppressed is not None]
    return {
        "total": len(active),
        "severities": counts(active),
        "suppressed": len(silenced),
        "suppressed_severities": counts(silenced),
    }
