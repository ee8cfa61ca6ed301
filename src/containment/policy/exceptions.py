"""Policy exceptions: approved, expiring waivers of findings, and their export as OpenVEX.

An exception names a finding id (a vulnerability id or alias; or a check rule id, for
misconfigurations and secrets) and narrows it by scope: a purl glob (the vulnerable package),
an image glob (the scanned target) and the stages it holds in. It carries who approved it, why,
and until when: after its expiry date it stops applying, and the gate's decision lists it as
expired, so a stale waiver is seen rather than silently honoured or silently dropped.

Why a separate module: the gate applies exceptions, `containment policy export-vex` writes the
vulnerability ones as an OpenVEX document (0.2.0) that `containment.policy.vex` reads back, so
the same waivers reach `scan --vex` and other VEX consumers.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from containment.model import Finding, Inventory, Misconfiguration, SecretFinding, Suppression
from containment.policy import _purl

OPENVEX_CONTEXT = "https://openvex.dev/ns/v0.2.0"
SUPPRESSION_KIND = "policy-exception"

Item = Finding | Misconfiguration | SecretFinding


@dataclass(frozen=True)
class PolicyException:
    id: str  # CVE-..., GHSA-..., or a rule id (CTM-IMG-001)
    reason: str
    approver: str
    expires: dt.date  # applies through this day
    purl: str = ""  # purl glob; "" = any package
    image: str = ""  # image glob; "" = any image
    stages: tuple[str, ...] = ()  # () = every stage
    line: int = 0  # where it starts in the policy file

    def expired(self, today: dt.date) -> bool:
        return today > self.expires

    def in_stage(self, stage: str) -> bool:
        return not self.stages or stage in self.stages

    def covers_image(self, inv: Inventory) -> bool:
        return not self.image or any(fnmatch.fnmatchcase(name, self.image) for name in image_names(inv))

    def matches(self, item: Item) -> bool:
        want = self.id.casefold()
        if isinstance(item, Finding):
            ids: tuple[str, ...] = (item.id, *item.aliases, *item.advisory_ids)
            if self.purl and not _purl.matches(self.purl, item.package.purl, glob=True):
                return False
        else:
            if self.purl:
                return False  # a purl scope names packages: misconfigurations and secrets have none
            ids = (item.rule.id, *item.rule.aliases)
        return any(want == i.casefold() for i in ids)

    def where(self, source: str) -> str:
        return f"{source}:{self.line}" if self.line else source

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "id": self.id,
            "reason": self.reason,
            "approver": self.approver,
            "expires": self.expires.isoformat(),
        }
        if self.purl:
            d["purl"] = self.purl
        if self.image:
            d["image"] = self.image
        if self.stages:
            d["stages"] = list(self.stages)
        if self.line:
            d["line"] = self.line
        return d


def image_names(inv: Inventory) -> list[str]:
    """The names an image glob is matched against: the target as given, without its transport
    (`oci:`, `docker://`, ...), without its tag or digest, and the image's digests."""
    t = inv.target.strip()
    names = [t]
    for prefix in ("oci:", "docker-archive:", "docker://", "registry:", "podman:", "docker:", "dir:"):
        if t.startswith(prefix):
            t = t[len(prefix) :].lstrip("/") if prefix == "docker://" else t[len(prefix) :]
            names.append(t)
            break
    bare = t.split("@", 1)[0]
    colon = bare.rfind(":")
    if colon > bare.rfind("/"):
        bare = bare[:colon]
    names.append(bare)
    names += [d for d in (inv.image_digest, inv.image_id) if d]
    return list(dict.fromkeys(names))


@dataclass(frozen=True)
class Applied:
    """One exception and the findings it covered (applied) or would have covered (expired)."""

    exception: PolicyException
    findings: tuple[str, ...]
    message: str

    def to_json(self) -> dict[str, Any]:
        return {**self.exception.to_json(), "findings": list(self.findings), "message": self.message}


def finding_key(item: Item) -> str:
    """A stable id for a finding in a decision: `CVE-... pkg:...` / `RULE path|field`."""
    if isinstance(item, Finding):
        return f"{item.id} {item.package.purl}"
    return f"{item.rule.id} {item.location.path or item.location.field or item.location.layer}"


def apply(
    exceptions: Iterable[PolicyException],
    items: Iterable[Item],
    *,
    stage: str,
    inventory: Inventory,
    today: dt.date,
    source: str = "",
) -> tuple[list[Item], list[Applied], list[Applied]]:
    """Mark the items the exceptions in scope cover (already suppressed ones stay as they are).

    Returns the items, the exceptions applied (with what they covered) and the expired ones in
    scope (with what they would have covered): those no longer apply."""
    scoped = [e for e in exceptions if e.in_stage(stage) and e.covers_image(inventory)]
    hits: dict[PolicyException, list[str]] = {e: [] for e in scoped}
    out: list[Item] = []
    for item in items:
        if item.suppressed is None:
            for e in scoped:
                if not e.matches(item):
                    continue
                hits[e].append(finding_key(item))
                if e.expired(today):
                    continue
                item = replace(  # type: ignore[type-var]
                    item,
                    suppressed=Suppression(
                        kind=SUPPRESSION_KIND,
                        reason=f"{e.reason} (approved by {e.approver})",
                        source=e.where(source),
                        expires=e.expires.isoformat(),
                    ),
                )
                break
        out.append(item)
    applied, expired = [], []
    for e in scoped:
        found = tuple(hits[e])
        if e.expired(today):
            n = len(found)
            msg = (
                f"{e.where(source)}: exception {e.id} (approved by {e.approver}) expired on "
                f"{e.expires.isoformat()} and no longer applies"
                + (f" ({n} finding{'s' if n != 1 else ''} count again)" if n else "")
                + "; renew or remove it"
            )
            expired.append(Applied(e, found, msg))
        elif found:
            msg = f"{e.where(source)}: exception {e.id} applied to {len(found)} finding(s): {e.reason}"
            applied.append(Applied(e, found, msg))
    return out, applied, expired


# ------------------------------------------------------------------------------ OpenVEX


def to_openvex(
    exceptions: Iterable[PolicyException],
    *,
    source: str,
    author: str,
    today: dt.date,
    stage: str | None = None,
    timestamp: dt.datetime | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """The exceptions as an OpenVEX 0.2.0 document (status not_affected, the reason as impact
    statement, approver and expiry in status_notes), with notes on what was left out.

    Left out: expired exceptions, those of other stages (when `stage` is given) and those whose
    id is a check rule (CTM-...: not a vulnerability). Products: the purl scope (as written:
    OpenVEX has no globs, so a glob is only honoured by readers that match it as a pattern) and
    the image scope; an exception with neither applies to any product, which OpenVEX cannot
    say: it is left out, with a note."""
    ts = (timestamp or dt.datetime.combine(today, dt.time(), tzinfo=dt.UTC)).isoformat()
    statements: list[dict[str, Any]] = []
    notes: list[str] = []
    for e in exceptions:
        where = e.where(source)
        if e.expired(today):
            notes.append(f"{where}: exception {e.id} expired on {e.expires.isoformat()}; not exported")
            continue
        if stage is not None and not e.in_stage(stage):
            continue
        if e.id.upper().startswith("CTM-"):
            notes.append(
                f"{where}: exception {e.id} is about a check rule, not a vulnerability; not exported"
            )
            continue
        products: list[dict[str, Any]] = []
        if e.purl and e.image:
            products.append({"@id": e.image, "subcomponents": [{"@id": e.purl}]})
        elif e.purl:
            products.append({"@id": e.purl})
        elif e.image:
            products.append({"@id": e.image})
        else:
            notes.append(f"{where}: exception {e.id} names no purl or image; OpenVEX needs a product")
            continue
        if any(c in (e.purl + e.image) for c in "*?["):
            notes.append(
                f"{where}: exception {e.id} scope has a glob; OpenVEX readers may match it literally"
            )
        statements.append(
            {
                "vulnerability": {"name": e.id},
                "products": products,
                "status": "not_affected",
                "impact_statement": e.reason,
                "status_notes": f"approved by {e.approver}; expires {e.expires.isoformat()}"
                + (f"; stages {', '.join(e.stages)}" if e.stages else ""),
                "timestamp": ts,
            }
        )
    body = json.dumps(statements, sort_keys=True).encode()
    doc = {
        "@context": OPENVEX_CONTEXT,
        "@id": "https://containment.invalid/vex/" + hashlib.sha256(body).hexdigest()[:32],
        "author": author,
        "timestamp": ts,
        "version": 1,
        "tooling": "containment policy export-vex",
        "statements": statements,
    }
    return doc, notes


__all__ = ["Applied", "PolicyException", "apply", "finding_key", "image_names", "to_openvex"]
