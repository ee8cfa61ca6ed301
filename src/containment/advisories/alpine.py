"""Alpine secdb YAML/JSON (``distroversion``, ``packages[].pkg.{name, secfixes}``) -> one unit.

The secdb lists FIXED versions only, so each (package, id) becomes one Affected in
``Alpine:<distroversion>`` with one ECOSYSTEM range ``introduced 0, fixed <version>``.
- A version "0" means "never affected in this release": not stored.
- An entry such as ``"CVE-2017-8904 XSA-214"`` or ``"CVE-2018-10103 (SMB - partially fixed)"``
  is read for ids: every CVE (``CVE_2019-1``, ``CVE 2018-1`` spelled loosely too, ``CVE-2017-17434-1`` read as
  CVE-2017-17434) becomes an advisory and other ids on the line (XSA-214, TALOS-2017-0488)
  (and ``wnpa-sec-2017-18``) become its aliases; a line with no CVE makes each other id an advisory of its own.
- A CVE listed under several versions of one package takes the highest one (apk order).
- One Advisory per id for the whole feed (source "alpine-secdb"); the unit (replaced as a whole
  on re-import) is the file: ``Alpine:v3.11/main``.
Records = (package, id) pairs in the file.
"""

from __future__ import annotations

import re
from typing import Any

from containment.advisories import names
from containment.advisories.codec import dumps
from containment.advisories.feed import Sink, Unit
from containment.versions import InvalidVersion
from containment.versions import parse as vparse

FEED = "alpine-secdb"
_CVE = re.compile(r"\bCVE[-_ ](\d{4})-(\d{4,})", re.IGNORECASE)
_OTHER = re.compile(r"\b([A-Za-z][A-Za-z0-9]{1,15}(?:-[A-Za-z]+)*(?:-\d+)+)\b")
_PLAIN = re.compile(r"CVE-\d{4}-\d{4,}")


def is_secdb(doc: Any) -> bool:
    return isinstance(doc, dict) and "distroversion" in doc and "packages" in doc


def parse_ids(text: str) -> tuple[list[str], list[str]]:
    """(CVE ids, other ids) named in one secfixes line."""
    if _PLAIN.fullmatch(text):
        return [text], []
    cves = []
    for m in _CVE.finditer(text):
        c = f"CVE-{m.group(1)}-{m.group(2)}"
        if c not in cves:
            cves.append(c)
    rest = _CVE.sub(" ", text)
    others = []
    for m in _OTHER.finditer(rest):
        o = m.group(1)
        if o not in others and not o.upper().startswith("CVE-"):
            others.append(o)
    return cves, others


def _max_version(versions: list[str]) -> str:
    best = versions[0]
    try:
        bv = vparse("apk", best)
        for v in versions[1:]:
            pv = vparse("apk", v)
            if pv > bv:
                best, bv = v, pv
    except InvalidVersion:
        return versions[-1]
    return best


def parse(doc: Any, where: str, sink: Sink, origin: str = "") -> list[Unit]:
    dv = doc.get("distroversion")
    if not isinstance(dv, str) or not dv.strip():
        sink.skip(where, "distroversion", "missing or not a string (file)")
        return []
    dv = dv.strip()
    eco = f"Alpine:{dv}"
    repo = doc.get("reponame")
    repo = repo.strip() if isinstance(repo, str) and repo.strip() else "main"
    pkgs = doc.get("packages")
    if pkgs is None:
        pkgs = []
    if not isinstance(pkgs, list):
        sink.skip(where, "packages", "not a list (file)")
        return []
    # (package, advisory id) -> fixed versions; advisory id -> aliases
    fixes: dict[tuple[str, str], list[str]] = {}
    aliases: dict[str, list[str]] = {}
    records = 0
    for i, entry in enumerate(pkgs):
        pkg = entry.get("pkg") if isinstance(entry, dict) else None
        name = pkg.get("name") if isinstance(pkg, dict) else None
        if not isinstance(name, str) or not name.strip():
            sink.skip(where, f"packages[{i}].pkg.name", "missing or not a string")
            continue
        name = name.strip()
        secfixes = pkg.get("secfixes")  # type: ignore[union-attr]
        if secfixes is None:
            continue
        if not isinstance(secfixes, dict):
            sink.skip(where, f"packages[{i}] ({name}).secfixes", "not a mapping")
            continue
        pairs: set[str] = set()
        for ver, lines in secfixes.items():
            if not isinstance(ver, str) or not ver.strip():
                sink.skip(where, f"packages[{i}] ({name}).secfixes", f"bad version key {ver!r}")
                continue
            ver = ver.strip()
            if isinstance(lines, str):
                lines = [lines]
            elif lines is None:
                lines = []
            elif not isinstance(lines, list):
                sink.skip(where, f"packages[{i}] ({name}).secfixes[{ver}]", "not a list of ids")
                continue
            for line in lines:
                if not isinstance(line, str):
                    sink.skip(
                        where, f"packages[{i}] ({name}).secfixes[{ver}]", f"id {line!r} is not a string"
                    )
                    continue
                cves, others = parse_ids(line)
                ids = cves or others
                if not ids:
                    sink.skip(where, f"packages[{i}] ({name}).secfixes[{ver}]", f"no advisory id in {line!r}")
                    continue
                for aid in ids:
                    pairs.add(aid)
                    if ver == "0":
                        continue  # never affected in this release
                    fixes.setdefault((name, aid), []).append(ver)
                    if cves:
                        al = aliases.setdefault(aid, [])
                        al.extend(o for o in others if o not in al)
                    else:
                        aliases.setdefault(aid, [])
        records += len(pairs)

    extra = {"source": FEED, "repo": repo}
    affected = []
    for (name, aid), vers in fixes.items():
        fixed = vers[0] if len(vers) == 1 else _max_version(vers)
        doc_ = {"p": name, "r": [["ECOSYSTEM", [["introduced", "0"], ["fixed", fixed]]]], "x": extra}
        affected.append((aid, eco, names.normalize(eco, name), 0, dumps(doc_)))
    advisories = []
    for aid in sorted(aliases):
        adoc: dict[str, Any] = {"id": aid}
        if aliases[aid]:
            adoc["aliases"] = sorted(aliases[aid])
        adoc["source"] = FEED
        advisories.append((aid, FEED, "", 0, dumps(adoc)))
    return [Unit(FEED, f"{eco}/{repo}", FEED, advisories, affected, records, origin).seal()]
