"""Debian Security Tracker JSON (https://security-tracker.debian.org/tracker/data/json) -> one unit.

Shape: ``{source package: {CVE id: {description, scope, releases: {codename: {status,
fixed_version, urgency, nodsa?, nodsa_reason?}}}}}``. Per (package, CVE, release):
- ``resolved`` with ``fixed_version`` "0": never affected -> not stored;
- ``resolved``: affected before ``fixed_version`` (ECOSYSTEM range introduced 0, fixed V);
- ``open`` / ``undetermined``: affected, no fix (range introduced 0) with status
  ``wont_fix`` when ``nodsa_reason`` is "ignored" or the urgency is "unimportant" or
  "end-of-life" (the release no longer gets fixes for it), else ``unfixed``;
- severity ("debian", urgency) with the tracker's trailing "*" marks removed.

Releases map to ``Debian:<major>`` (squeeze 6 ... bookworm 12, trixie 13, forky 14, duke 15).
``sid``/``unstable`` map to ``Debian:sid`` (no OSV name exists; the matcher uses it for an
os-release without VERSION_ID). Other names (``experimental``, unknown codenames) are skipped
with one warning per file. One Advisory per CVE for the feed (source "debian-tracker"); the
unit replaced on re-import is the whole file. Records = (package, CVE) pairs.
"""

from __future__ import annotations

from itertools import islice
from typing import Any

from containment.advisories import names
from containment.advisories.codec import dumps
from containment.advisories.feed import Sink, Unit

FEED = "debian-tracker"
CODENAMES = {
    "squeeze": "6",
    "wheezy": "7",
    "jessie": "8",
    "stretch": "9",
    "buster": "10",
    "bullseye": "11",
    "bookworm": "12",
    "trixie": "13",
    "forky": "14",
    "duke": "15",
    "sid": "sid",
    "unstable": "sid",
}
WONT_FIX_URGENCY = frozenset({"unimportant", "end-of-life"})


def is_tracker(doc: Any) -> bool:
    if not isinstance(doc, dict) or not doc:
        return False
    for cves in islice(doc.values(), 5):
        if not isinstance(cves, dict):
            return False
        for info in islice(cves.values(), 3):
            if isinstance(info, dict) and isinstance(info.get("releases"), dict):
                return True
    return False


def ecosystem_for(codename: str) -> str | None:
    n = CODENAMES.get(codename.strip().lower())
    return f"Debian:{n}" if n else None


def parse(doc: Any, where: str, sink: Sink, origin: str = "") -> list[Unit]:
    advisories: dict[str, dict[str, Any]] = {}
    affected = []
    records = 0
    unknown: set[str] = set()
    for pkg, cves in doc.items():
        if not isinstance(pkg, str) or not pkg.strip() or not isinstance(cves, dict):
            sink.skip(where, f"package {pkg!r}", "not a package name mapping to CVE objects")
            continue
        pkg = pkg.strip()
        for cid, info in cves.items():
            label = f"{pkg}/{cid}"
            if not isinstance(cid, str) or not cid.strip() or not isinstance(info, dict):
                sink.skip(where, label, "not an id mapping to an object")
                continue
            cid = cid.strip()
            rels = info.get("releases")
            if not isinstance(rels, dict):
                sink.skip(where, f"{label}.releases", "missing or not an object")
                continue
            records += 1
            desc = info.get("description")
            scope = info.get("scope")
            rows = []
            bad = ""
            for codename, r in rels.items():
                if not isinstance(codename, str) or not isinstance(r, dict):
                    bad = f"releases.{codename}: not an object"
                    break
                eco = ecosystem_for(codename)
                if eco is None:
                    unknown.add(codename)
                    continue
                status = r.get("status")
                urgency = r.get("urgency")
                urgency = urgency.rstrip("*").strip() if isinstance(urgency, str) else ""
                fixed = r.get("fixed_version")
                extra: dict[str, Any] = {"source": FEED, "release": codename}
                if status == "resolved":
                    if not isinstance(fixed, str) or not fixed.strip():
                        bad = f"releases.{codename}.fixed_version: missing for a resolved issue"
                        break
                    fixed = fixed.strip()
                    if fixed == "0":
                        continue  # not affected
                    ranges = [["ECOSYSTEM", [["introduced", "0"], ["fixed", fixed]]]]
                    st = ""
                elif status in ("open", "undetermined"):
                    ranges = [["ECOSYSTEM", [["introduced", "0"]]]]
                    reason = r.get("nodsa_reason")
                    st = "wont_fix" if reason == "ignored" or urgency in WONT_FIX_URGENCY else "unfixed"
                    if status == "undetermined":
                        extra["undetermined"] = True
                    for k in ("nodsa", "nodsa_reason"):
                        if isinstance(r.get(k), str) and r[k]:
                            extra[k] = r[k]
                else:
                    bad = f"releases.{codename}.status: unknown status {status!r}"
                    break
                d: dict[str, Any] = {"p": pkg, "r": ranges}
                if urgency:
                    d["s"] = ["debian", urgency]
                if st:
                    d["st"] = st
                d["x"] = extra
                rows.append((cid, eco, names.normalize(eco, pkg), 0, dumps(d)))
            if bad:
                sink.skip(where, label, bad)
                records -= 1
                continue
            affected.extend(rows)
            if cid not in advisories:
                adoc: dict[str, Any] = {"id": cid}
                if isinstance(desc, str) and desc:
                    adoc["details"] = desc
                    adoc["summary"] = desc.split("\n", 1)[0][:200]
                adoc["source"] = FEED
                adoc["references"] = [f"https://security-tracker.debian.org/tracker/{cid}"]
                dbs = {k: info[k] for k in ("scope", "debianbug") if isinstance(info.get(k), (str, int))}
                if isinstance(scope, str) and scope:
                    dbs["scope"] = scope
                if dbs:
                    adoc["database_specific"] = dbs
                advisories[cid] = adoc
    if unknown:
        sink.warn(f"{where}: releases {', '.join(sorted(unknown))} have no Debian version; not imported")
    adv_rows = [(cid, FEED, "", 0, dumps(a)) for cid, a in advisories.items()]
    return [Unit(FEED, FEED, FEED, adv_rows, affected, records, origin).seal()]
