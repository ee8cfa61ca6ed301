"""Warnings said once per cause, not once per file.

A scan of a root filesystem can meet the same problem in hundreds of places (twenty Go binaries
built from a checkout all report version `(devel)`; every jar of a broken vendor directory is
unreadable). Producers record a `Note`: the cause, worded the same for every subject, and the
subject it happened to. `condense` turns them into warnings: one line per cause, with a count
and a few examples; a cause met once reads as a plain warning ("subject: cause").

This module imports nothing of the project: image, catalog, match and cli all use it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

EXAMPLES = 3  # subjects named in a condensed warning


@dataclass(frozen=True)
class Note:
    cause: str  # what went wrong, in words that do not name the subject
    subject: str = ""  # the file or package it happened to
    where: str = ""  # the target or layer it happened in (notes in different places stay apart)
    noun: str = "files"  # what the subjects are, plural: "files", "packages", "entries"

    def to_json(self) -> list[str]:
        return [self.cause, self.subject, self.where, self.noun]

    @classmethod
    def from_json(cls, d: Any) -> Note:
        cause, subject, where, noun = (list(d) + ["", "", "", "files"])[:4]
        return cls(str(cause), str(subject), str(where), str(noun) or "files")


def condense(notes: Iterable[Note], examples: int = EXAMPLES) -> list[str]:
    """One warning per (place, cause), in the order causes were first met."""
    groups: dict[tuple[str, str, str], dict[str, None]] = {}
    for n in notes:
        groups.setdefault((n.where, n.cause, n.noun), {})[n.subject] = None
    out = []
    for (where, cause, noun), subjects in groups.items():
        prefix = f"{where}: " if where else ""
        names = [s for s in subjects if s]
        if len(names) <= 1:
            out.append(prefix + (f"{names[0]}: {cause}" if names else cause))
            continue
        shown = ", ".join(names[:examples])
        more = f", and {len(names) - examples} more" if len(names) > examples else ""
        out.append(f"{prefix}{cause} ({len(names)} {noun}: {shown}{more})")
    return out
