"""What one layer holds that matters after squashing, per analyzer group. JSON round-trips
for the layer cache: one cache entry per (layer, group), each with the walk's own structure
(whiteouts, opaque dirs, links) so any entry alone can be squashed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from containment.model import ConfigDoc, FileFact, Gap, Package, SecretFinding
from containment.notes import Note

# 2: warnings many files share a cause of are notes; 3: gaps (what was not read);
# 4: one entry per analyzer group, walk warnings apart from analyzer warnings
FACTS_VERSION = 4


@dataclass
class LayerFacts:
    diff_id: str
    groups: list[str] = field(default_factory=list)  # the analyzer groups whose facts it holds
    # the walk's structure
    whiteouts: list[str] = field(default_factory=list)
    opaque: list[str] = field(default_factory=list)
    symlinks: dict[str, str] = field(default_factory=dict)
    walk_warnings: list[str] = field(default_factory=list)
    walk_notes: list[Note] = field(default_factory=list)
    # packages group
    packages: list[Package] = field(default_factory=list)
    wanted: list[str] = field(default_factory=list)  # every path a cataloger read (replaces lower ones)
    os_files: dict[str, str] = field(default_factory=dict)
    # any group: what an analyzer could not read
    warnings: list[str] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)  # warnings said once per cause after squashing
    gaps: list[Gap] = field(default_factory=list)
    # secrets / config / files groups (their analyzers' failures: group -> warnings)
    group_warnings: dict[str, list[str]] = field(default_factory=dict)
    secrets: list[SecretFinding] = field(default_factory=list)
    configs: list[ConfigDoc] = field(default_factory=list)
    files: list[FileFact] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "v": FACTS_VERSION,
            "diff_id": self.diff_id,
            "groups": self.groups,
            "whiteouts": self.whiteouts,
            "opaque": self.opaque,
            "symlinks": self.symlinks,
            "walk_warnings": self.walk_warnings,
            "walk_notes": [n.to_json() for n in self.walk_notes],
            "packages": [p.to_json() for p in self.packages],
            "wanted": self.wanted,
            "os_files": self.os_files,
            "warnings": self.warnings,
            "notes": [n.to_json() for n in self.notes],
            "gaps": [g.to_json() for g in self.gaps],
            "group_warnings": self.group_warnings,
            "secrets": [s.to_json() for s in self.secrets],
            "configs": [c.to_json() for c in self.configs],
            "files": [f.to_json() for f in self.files],
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> LayerFacts:
        return cls(
            diff_id=d["diff_id"],
            groups=list(d.get("groups", [])),
            whiteouts=list(d.get("whiteouts", [])),
            opaque=list(d.get("opaque", [])),
            symlinks=dict(d.get("symlinks", {})),
            walk_warnings=list(d.get("walk_warnings", [])),
            walk_notes=[Note.from_json(n) for n in d.get("walk_notes", [])],
            packages=[Package.from_json(p) for p in d.get("packages", [])],
            wanted=list(d.get("wanted", [])),
            os_files=dict(d.get("os_files", {})),
            warnings=list(d.get("warnings", [])),
            notes=[Note.from_json(n) for n in d.get("notes", [])],
            gaps=[Gap.from_json(g) for g in d.get("gaps", [])],
            group_warnings={k: list(v) for k, v in d.get("group_warnings", {}).items()},
            secrets=[SecretFinding.from_json(s) for s in d.get("secrets", [])],
            configs=[ConfigDoc.from_json(c) for c in d.get("configs", [])],
            files=[FileFact.from_json(f) for f in d.get("files", [])],
        )

    def only(self, group: str) -> LayerFacts:
        """The part of these facts one group's cache entry holds (plus the walk's structure)."""
        out = LayerFacts(
            self.diff_id,
            [group],
            self.whiteouts,
            self.opaque,
            self.symlinks,
            self.walk_warnings,
            self.walk_notes,
        )
        if group in self.group_warnings:
            out.group_warnings = {group: self.group_warnings[group]}
        if group == "packages":
            out.packages, out.wanted, out.os_files = self.packages, self.wanted, self.os_files
            out.warnings, out.notes, out.gaps = self.warnings, self.notes, self.gaps
        elif group == "secrets":
            out.secrets = self.secrets
        elif group == "config":
            out.configs = self.configs
        elif group == "files":
            out.files = self.files
        return out

    @staticmethod
    def merge(parts: list[LayerFacts]) -> LayerFacts:
        """One layer's facts from its groups' cache entries (each carries the same structure)."""
        first = parts[0]
        out = LayerFacts(
            first.diff_id,
            [],
            first.whiteouts,
            first.opaque,
            first.symlinks,
            first.walk_warnings,
            first.walk_notes,
        )
        for p in parts:
            out.groups += [g for g in p.groups if g not in out.groups]
            out.packages += p.packages
            out.wanted += p.wanted
            out.os_files.update(p.os_files)
            out.warnings += p.warnings
            out.notes += p.notes
            out.gaps += p.gaps
            out.secrets += p.secrets
            out.configs += p.configs
            out.files += p.files
            for g, ws in p.group_warnings.items():
                out.group_warnings.setdefault(g, []).extend(ws)
        return out


__all__ = ["FACTS_VERSION", "LayerFacts"]
