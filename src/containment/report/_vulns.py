"""Helpers shared by the vulnerability report formats: ordering, counts, grouping, links."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from containment.ecosystems import label
from containment.model import CVSS, OS_TYPES, SEVERITIES, Finding, Inventory, Package

_RANK = {s: i for i, s in enumerate(SEVERITIES)}

# Catalogers whose Package.path is a per-package metadata file (dist-info METADATA, a
# node_modules package.json, a gemspec, a jar): their packages are grouped by ecosystem,
# like Trivy's "Python" / "Node.js" targets. Every other language cataloger reads one
# lockfile or binary per path, and that path is the group.
_INSTALLED_CATALOGERS = frozenset({"java-archive", "ruby-installed-gemspec"})


# severity sources that are a CVE record's CVSS (match.cve_rating), not the distribution's or
# the advisory's own rating: the table marks them, SARIF and CycloneDX name them
CVE_RATERS = {
    "nvd": "the CVE's CVSS from NVD",
    "osv-cve": "the CVE's CVSS from osv.dev's CVE record",
}


def cve_raters_note(raters: Iterable[str]) -> str:
    """One line telling what a marked severity is."""
    whose = " or ".join(CVE_RATERS[r] for r in raters if r in CVE_RATERS)
    return f"{whose}; neither the distribution nor the advisory rated it"


def severity(f: Finding) -> str:
    s = (f.severity or "").upper()
    return s if s in _RANK else "UNKNOWN"


def severity_rank(sev: str) -> int:
    return _RANK.get((sev or "").upper(), _RANK["UNKNOWN"])


def sort_key(f: Finding) -> tuple[Any, ...]:
    """Severity (worst first), then package, then vulnerability id."""
    p = f.package
    return (severity_rank(f.severity), p.name.lower(), p.name, p.version, f.id, p.path, p.purl)


def sorted_findings(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=sort_key)


def counts(findings: Iterable[Finding]) -> dict[str, int]:
    """Findings per severity, every severity present (0 when none), worst first."""
    out = {s: 0 for s in SEVERITIES}
    for f in findings:
        out[severity(f)] += 1
    return out


def summary_line(findings: list[Finding]) -> str:
    c = counts(findings)
    return f"Total: {len(findings)} (" + ", ".join(f"{s}: {n}" for s, n in c.items()) + ")"


def short_layer(diff_id: str) -> str:
    return diff_id.split(":", 1)[-1][:12] if diff_id else ""


# How builders record a Dockerfile line in the image history's created_by:
#   classic: `/bin/sh -c #(nop)  CMD ["bash"]`, `/bin/sh -c apt-get ...`, `|2 A=1 B=2 /bin/sh -c ...`
#   BuildKit: `RUN /bin/sh -c apt-get ... # buildkit`, `COPY . /app # buildkit`
_SHELL = re.compile(r"^(?:RUN\s+)?(?:\|\d+(?:\s+\S+=\S*)*\s+)?/bin/(?:ba|da)?sh\s+-c\s+")
_NOP = re.compile(r"^#\(nop\)\s*")
_CONTENT_HASH = re.compile(r"\b(file|dir|multi):([0-9a-f]{8})[0-9a-f]{56}\b")
# leading steps of a RUN line that tell nothing about what the layer holds
_NOISE = re.compile(
    r"^(?:set\s+[-+]\S+|(?:apt-get|apt|apk|dnf|yum|microdnf|zypper)(?:\s+-\S+)*\s+(?:update|makecache|refresh)"
    r"(?:\s+-\S+)*|mkdir\s+(?:-p\s+)?\S+|cd\s+\S+|export\s+\S+|true)\s*(?:&&|;)\s*"
)


def instruction(created_by: str, limit: int = 32) -> str:
    """A layer's history entry as the Dockerfile line that made it, cut to `limit` characters:
    `RUN /bin/sh -c apt-get update && apt-get install -y curl # buildkit` -> `RUN apt-get install -y curl`."""
    text = " ".join(created_by.split())
    if text.endswith("# buildkit"):
        text = text[: -len("# buildkit")].rstrip()
    m = _SHELL.match(text)
    if m:
        body = text[m.end() :]
        nop = _NOP.match(body)
        text = body[nop.end() :] if nop else "RUN " + body
    text = _CONTENT_HASH.sub(r"\1:\2", text)  # ADD file:4b03b5f5 in /
    if text.startswith("RUN "):
        body = text[4:]
        while (n := _NOISE.match(body)) and n.end() < len(body):
            body = body[n.end() :]
        text = "RUN " + body
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def layer_label(diff_id: str, inv: Inventory, limit: int = 28) -> str:
    """The layer a package came from, as users know it: the instruction that created it."""
    for layer in inv.layers:
        if layer.diff_id == diff_id:
            return instruction(layer.created_by, limit) or f"layer {layer.index}"
    return short_layer(diff_id)


def display_path(p: Package, inv: Inventory) -> str:
    """Where a package was found: absolute inside an image, relative to a scanned directory."""
    if not p.path:
        return ""
    return p.path if inv.kind == "filesystem" else "/" + p.path


def is_installed(p: Package) -> bool:
    return p.cataloger.endswith("-installed") or p.cataloger in _INSTALLED_CATALOGERS


def group_of(p: Package, inv: Inventory) -> tuple[int, str, str]:
    """(order, target, type) of the report group a package belongs to.

    OS packages first (target = the scanned image or directory, type = the distro), then
    installed language packages per ecosystem ("Python", "Node.js"), then one group per
    lockfile / binary path."""
    if p.type in OS_TYPES:
        distro = f"{inv.os.id} {inv.os.version_id}".strip() if inv.os else p.type
        return (0, inv.target, distro)
    if is_installed(p):
        return (1, label(p.type), p.type)
    return (2, display_path(p, inv) or p.ecosystem, p.type)


def vuln_url(vid: str) -> str:
    """A page describing a vulnerability id."""
    u = vid.upper()
    if u.startswith("CVE-"):
        return f"https://nvd.nist.gov/vuln/detail/{u}"
    if u.startswith("GHSA-"):
        return f"https://github.com/advisories/{vid}"
    if u.startswith(("DSA-", "DLA-", "TEMP-")):
        return f"https://security-tracker.debian.org/tracker/{u}"
    return f"https://osv.dev/vulnerability/{vid}"


def cvss_score(f: Finding) -> CVSS | None:
    """The highest-scored CVSS of the newest version family (4.0 / 3.x before 2.0)."""
    if not f.cvss:
        return None
    modern = [c for c in f.cvss if not c.version.startswith("2")]
    return max(modern or list(f.cvss), key=lambda c: c.score)


def title(f: Finding, limit: int = 100) -> str:
    t = f.title or (f.description.strip().splitlines()[0] if f.description.strip() else "")
    return t if len(t) <= limit else t[: limit - 1].rstrip() + "…"


def fixed(f: Finding) -> str:
    return ", ".join(f.fixed_versions)


def suppression_text(f: Finding) -> str:
    """One line telling why a finding is suppressed."""
    s = f.suppressed
    if s is None:
        return ""
    if s.kind == "vex":
        text = "VEX " + (s.reason or "not_affected")
        if s.justification:
            text += f" [{s.justification}]"
    else:
        text = s.kind + ": " + (s.reason or "no reason given")
        if s.expires:
            text += f" (until {s.expires})"
    if s.source:
        text += f" — {s.source}"
    return text
