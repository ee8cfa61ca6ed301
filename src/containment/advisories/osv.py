"""OSV schema 1.x records (https://ossf.github.io/osv-schema/) -> store units.

- ``withdrawn`` records are stored (``advisories()`` returns them) but never matched.
- ``ranges``: ECOSYSTEM and SEMVER are kept; GIT ranges (commit hashes) are dropped, so an
  affected entry with only GIT ranges is kept only when it lists explicit ``versions``.
- Affected.severity, first found: the entry's ``ecosystem_specific``/``database_specific``
  ``urgency`` or ``severity`` (Debian urgency, ...), a Debian changelog entry's urgency, the
  entry's own non-CVSS ``severity[]`` (OSV 1.7), the record's ``database_specific.severity``
  (GHSA: ("ghsa", "MODERATE"); a distribution's record: its vendor, ("openeuler", "High")),
  the record's non-CVSS ``severity[]`` (Ubuntu priority), or for a distribution's record the
  rating its summary opens with (Red Hat errata and rebuilds: "Important: openssl security update").
  A distribution's rating is named as ``containment.distros`` names its vendor (redhat, rocky, ...).
- Affected.extra keeps ``source``, ``purl``, ``ecosystem_specific`` and ``database_specific``
  (e.g. Go's affected symbols).
- osv.dev's CVE records (id ``CVE-...``, converted from NVD and the CVE list; their ``affected``
  entries carry GIT ranges and no ``package``): stored as advisories with no affected entries,
  and their CVSS ``severity[]`` also as CVSS rows of source ``osv-cve`` (the severity fallback
  by CVE id, ``match.severity_of``). An affected entry without ``package`` is skipped, not the
  record (the schema allows it).
"""

from __future__ import annotations

import re
from typing import Any

from containment import distros
from containment.advisories import names
from containment.advisories.codec import dumps
from containment.advisories.feed import Malformed, Sink, Unit

FEED = "osv"
CVE_SOURCE = "osv-cve"  # CVSS rows from osv.dev's CVE records
_CVSS_VERSION = {"CVSS_V2": "2.0", "CVSS_V4": "4.0"}
# Red Hat errata (and the AlmaLinux / Rocky Linux rebuilds) open the summary with their rating
_ERRATA_RATING = re.compile(r"^(Critical|Important|Moderate|Low): ")
EVENT_KINDS = frozenset({"introduced", "fixed", "last_affected", "limit"})
KEPT_RANGES = frozenset({"ECOSYSTEM", "SEMVER"})


def is_osv(doc: Any) -> bool:
    if isinstance(doc, list):
        return bool(doc) and all(is_osv(d) for d in doc[:3])
    return (
        isinstance(doc, dict)
        and isinstance(doc.get("id"), str)
        and ("affected" in doc or "modified" in doc or "schema_version" in doc)
    )


def parse(doc: Any, where: str, sink: Sink, origin: str = "") -> list[Unit]:
    """Units for one document (an OSV record, or a list of them)."""
    recs = doc if isinstance(doc, list) else [doc]
    out: list[Unit] = []
    for n, rec in enumerate(recs):
        rid = rec.get("id") if isinstance(rec, dict) else None
        label = repr(rid) if isinstance(rid, str) else f"record #{n}"
        try:
            u = parse_record(rec)
        except Malformed as e:
            sink.skip(where, f"{label} field {e.field}", e.message)
            continue
        except (TypeError, ValueError, KeyError, AttributeError, RecursionError) as e:
            sink.skip(where, label, f"malformed record ({type(e).__name__}: {e})")
            continue
        u.origin = origin
        out.append(u)
    return out


def _text(v: Any, field: str) -> str:
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    raise Malformed(field, f"expected a string, got {type(v).__name__}")


def _scalar(v: Any, field: str) -> str:
    """A version-like string; JSON numbers are tolerated (``"introduced": 0``)."""
    if isinstance(v, str):
        return v
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return str(v)
    raise Malformed(field, f"expected a version string, got {type(v).__name__}")


def _list(v: Any, field: str) -> list[Any]:
    if v is None:
        return []
    if isinstance(v, list):
        return v
    raise Malformed(field, f"expected a list, got {type(v).__name__}")


def _dict(v: Any, field: str) -> dict[str, Any]:
    if v is None:
        return {}
    if isinstance(v, dict):
        return v
    raise Malformed(field, f"expected an object, got {type(v).__name__}")


def _severity_list(v: Any, field: str) -> list[list[str]]:
    out = []
    for i, s in enumerate(_list(v, field)):
        if not isinstance(s, dict):
            raise Malformed(f"{field}[{i}]", "expected an object")
        t = s.get("type")
        score = s.get("score")
        if not isinstance(t, str) or not t:
            raise Malformed(f"{field}[{i}].type", "missing or not a string")
        out.append([t, _scalar(score, f"{field}[{i}].score")])
    return out


def _first_urgency(holder: Any) -> tuple[str, str]:
    """(value, kind): a security team's urgency/severity ("" kind), or else a changelog upload's
    urgency (kind "changelog": how fast the maintainer wanted the upload out, a weaker signal)."""
    if not isinstance(holder, dict):
        return "", ""
    for k in ("urgency", "severity"):
        v = holder.get(k)
        if isinstance(v, str) and v:
            return v, ""
    ce = holder.get("changelog_entry")
    if isinstance(ce, dict):
        u = ce.get("urgency")
        if isinstance(u, str) and u:
            return u, "changelog"
    return "", ""


def parse_record(rec: Any) -> Unit:
    if not isinstance(rec, dict):
        raise Malformed("(record)", "not an object")
    rid = rec.get("id")
    if not isinstance(rid, str) or not rid.strip():
        raise Malformed("id", "missing or not a string")
    rid = rid.strip()
    aliases = _list(rec.get("aliases"), "aliases")
    for i, a in enumerate(aliases):
        if not isinstance(a, str):
            raise Malformed(f"aliases[{i}]", "not a string")
    severity = _severity_list(rec.get("severity"), "severity")
    refs: list[str] = []
    for i, r in enumerate(_list(rec.get("references"), "references")):
        if not isinstance(r, dict):
            raise Malformed(f"references[{i}]", "not an object")
        url = r.get("url")
        if isinstance(url, str) and url:
            refs.append(url)
    dbs = _dict(rec.get("database_specific"), "database_specific")
    withdrawn = _text(rec.get("withdrawn"), "withdrawn")
    modified = _text(rec.get("modified"), "modified")
    wd = 1 if withdrawn else 0
    affected = _list(rec.get("affected"), "affected")

    # first pass: validate and find the record's source ecosystem
    entries: list[tuple[str, str, dict[str, Any]]] = []
    for i, a in enumerate(affected):
        if not isinstance(a, dict):
            raise Malformed(f"affected[{i}]", "not an object")
        pkg = a.get("package")
        if pkg is None:
            continue  # a CVE record's GIT-only entry: nothing to match by package
        if not isinstance(pkg, dict):
            raise Malformed(f"affected[{i}].package", "not an object")
        eco = pkg.get("ecosystem")
        name = pkg.get("name")
        if not isinstance(eco, str) or not eco.strip():
            raise Malformed(f"affected[{i}].package.ecosystem", "missing or not a string")
        if not isinstance(name, str) or not name.strip():
            raise Malformed(f"affected[{i}].package.name", "missing or not a string")
        entries.append((eco.strip(), name.strip(), a))
    source = f"osv:{entries[0][0]}" if entries else FEED

    rec_sev: tuple[str, str] | None = None
    # a distribution's record carries that distribution's rating (openEuler, Azure Linux write
    # database_specific.severity; the Red Hat family prefixes the summary, "Important: ...")
    vendor = distros.vendor_of(entries[0][0]) if entries else ""
    rs = dbs.get("severity")
    if isinstance(rs, str) and rs:
        src = "ghsa" if rid.startswith("GHSA-") or "github_reviewed" in dbs else vendor or "osv"
        rec_sev = (src, rs)
    else:
        for t, score in severity:
            if not t.upper().startswith("CVSS"):
                rec_sev = (t.lower(), score)
                break
        if rec_sev is None and vendor:
            m = _ERRATA_RATING.match(_text(rec.get("summary"), "summary"))
            if m:
                rec_sev = (vendor, m.group(1))

    rows = []
    for i, (eco, name, a) in enumerate(entries):
        f = f"affected[{i}]"
        ranges: list[list[Any]] = []
        for j, r in enumerate(_list(a.get("ranges"), f"{f}.ranges")):
            if not isinstance(r, dict):
                raise Malformed(f"{f}.ranges[{j}]", "not an object")
            rtype = r.get("type")
            if not isinstance(rtype, str):
                raise Malformed(f"{f}.ranges[{j}].type", "missing or not a string")
            events = []
            for k, ev in enumerate(_list(r.get("events"), f"{f}.ranges[{j}].events")):
                if not isinstance(ev, dict) or len(ev) != 1:
                    raise Malformed(f"{f}.ranges[{j}].events[{k}]", "expected an object with one key")
                ((kind, ver),) = ev.items()
                if kind not in EVENT_KINDS:
                    raise Malformed(f"{f}.ranges[{j}].events[{k}]", f"unknown event {kind!r}")
                events.append([kind, _scalar(ver, f"{f}.ranges[{j}].events[{k}].{kind}")])
            if rtype.upper() in KEPT_RANGES and events:
                ranges.append([rtype.upper(), events])
        versions = [_scalar(v, f"{f}.versions") for v in _list(a.get("versions"), f"{f}.versions")]
        if not ranges and not versions:
            continue  # only GIT ranges (or nothing): cannot be matched by version
        es = a.get("ecosystem_specific")
        ds = a.get("database_specific")
        sev: tuple[str, str] | None = None
        u, kind = _first_urgency(es)
        if not u:
            u, kind = _first_urgency(ds)
        if u:
            base = distros.vendor_of(eco) or names.ecosystem_base(eco).lower()
            sev = (f"{base}-{kind}" if kind else base, u)
        else:
            for t, score in _severity_list(a.get("severity"), f"{f}.severity"):
                if not t.upper().startswith("CVSS"):
                    sev = (t.lower(), score)
                    break
            else:
                sev = rec_sev
        extra: dict[str, Any] = {"source": source}
        purl = (a.get("package") or {}).get("purl")
        if isinstance(purl, str) and purl:
            extra["purl"] = purl
        if isinstance(es, dict) and es:
            extra["ecosystem_specific"] = es
        if isinstance(ds, dict) and ds:
            extra["database_specific"] = ds
        doc: dict[str, Any] = {"p": name}
        if ranges:
            doc["r"] = ranges
        if versions:
            doc["v"] = versions
        if sev:
            doc["s"] = list(sev)
        doc["x"] = extra
        rows.append((rid, eco, names.normalize(eco, name), wd, dumps(doc)))

    adoc: dict[str, Any] = {"id": rid}
    if aliases:
        adoc["aliases"] = aliases
    for field in ("summary", "details", "published"):
        text = _text(rec.get(field), field)
        if text:
            adoc[field] = text
    if modified:
        adoc["modified"] = modified
    if severity:
        adoc["severity"] = severity
    if withdrawn:
        adoc["withdrawn"] = withdrawn
    if refs:
        adoc["references"] = refs
    adoc["source"] = source
    if dbs:
        adoc["database_specific"] = dbs
    cvss = []
    if rid.startswith("CVE-") and not wd:
        for t, score in severity:
            t = t.upper()
            if t.startswith("CVSS") and score.strip():
                version = _CVSS_VERSION.get(t) or (score.split("/", 1)[0].partition(":")[2] or "3.1")
                row = (rid, CVE_SOURCE, "", "", version, score.strip())
                if row not in cvss:
                    cvss.append(row)
    unit = Unit(FEED, rid, source, [(rid, source, modified, wd, dumps(adoc))], rows, 1, cvss=cvss)
    return unit.seal()
