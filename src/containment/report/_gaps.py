"""How every format says a result is incomplete (containment.model.Gap) and carries warnings.

A result with gaps is marked in every format: tables print an INCOMPLETE block under the
summary; containment's JSON has `complete` (the scan report: `summary.complete`) and `gaps`;
SARIF has `runs[].properties.complete` and one tool execution notification per warning (level
`error` for a gap); CycloneDX has `containment:complete`, `containment:gap` and
`containment:warning` metadata properties; SPDX says it in `creationInfo.comment`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from containment.model import Gap

TABLE_LIMIT = 10  # gap lines a table shows; JSON lists them all


def messages(gaps: Iterable[Gap]) -> list[str]:
    """Each gap's message once, in order (several gaps may share one: hard links of a layer)."""
    return list(dict.fromkeys(g.message for g in gaps))


def headline(gaps: Iterable[Gap], what: str) -> str:
    n = len(messages(gaps))
    return f"INCOMPLETE: {what}; {n} problem{'s' if n != 1 else ''}:"


def table_lines(gaps: tuple[Gap, ...], what: str) -> list[str]:
    """The INCOMPLETE block of a table: a headline, then one line per problem."""
    if not gaps:
        return []
    msgs = messages(gaps)
    lines = [headline(gaps, what)]
    lines += [f"  - {m}" for m in msgs[:TABLE_LIMIT]]
    if len(msgs) > TABLE_LIMIT:
        lines.append(f"  ... and {len(msgs) - TABLE_LIMIT} more (--format json lists them all)")
    return lines


def cyclonedx_properties(warnings: Iterable[str], gaps: tuple[Gap, ...]) -> list[dict[str, Any]]:
    gap_msgs = messages(gaps)
    props: list[dict[str, Any]] = [{"name": "containment:complete", "value": "false" if gaps else "true"}]
    props += [{"name": "containment:gap", "value": m} for m in gap_msgs]
    props += [
        {"name": "containment:warning", "value": w} for w in dict.fromkeys(warnings) if w not in gap_msgs
    ]
    return props


def spdx_comment(warnings: Iterable[str], gaps: tuple[Gap, ...], what: str) -> str | None:
    gap_msgs = messages(gaps)
    rest = [w for w in dict.fromkeys(warnings) if w not in gap_msgs]
    if not gap_msgs and not rest:
        return None
    lines = [headline(gaps, what), *gap_msgs] if gap_msgs else []
    if rest:
        lines += ["Warnings:", *rest]
    return "\n".join(lines)


def sarif_notifications(warnings: Iterable[str], gaps: tuple[Gap, ...]) -> list[dict[str, Any]]:
    gap_msgs = messages(gaps)
    out: list[dict[str, Any]] = [
        {"level": "error", "message": {"text": m}, "descriptor": {"id": "containment/incomplete"}}
        for m in gap_msgs
    ]
    out += [
        {"level": "warning", "message": {"text": w}, "descriptor": {"id": "containment/warning"}}
        for w in dict.fromkeys(warnings)
        if w not in gap_msgs
    ]
    return out
