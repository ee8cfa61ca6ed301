"""The advisory database: ONE SQLite file, read-only for scans, shared by many processes.

Location: ``--db`` flag > ``$CONTAINMENT_DB`` > ``<cache dir>/db/advisories.db``.

Schema (``meta.schema_version`` = SCHEMA_VERSION; any other version is refused with a
FeedError telling the user to rebuild):

- ``meta(key, value)``: schema_version, built_at, updated_at (ISO 8601 UTC).
- ``sources(name, location, imported_at, records)``: one row per feed source
  (osv:PyPI, osv:Debian:12, alpine-secdb, debian-tracker, ...), records = its advisories.
- ``units(feed, unit, source, digest, records)``: the pieces replaced as a whole on
  re-import (an OSV record; an Alpine secdb file; a Debian tracker file) and their digest.
- ``advisories(id, feed, source, modified, withdrawn, doc)``: key (id, feed); ``doc`` is the
  compact JSON of an `Advisory` (see codec.py). feed is "osv", "alpine-secdb" or "debian-tracker".
- ``affected(feed, unit, advisory_id, ecosystem, package, withdrawn, doc)``: one row per
  (advisory, ecosystem, package); ``package`` is ``names.normalize(ecosystem, name)``;
  index (ecosystem, package) serves the matcher, (feed, unit) the re-import.
- ``ecosystems(ecosystem, advisories, affected)``: counts, refreshed by every import.
- ``cvss(feed, unit, cve, source, rater, type, version, vector)``: CVSS vectors per CVE id for the
  severity fallback (``match.severity_of``), from NVD's CVE JSON 2.0 feeds (source ``nvd``; rater
  = the metric's ``source``, nvd@nist.gov or a CNA; type ``Primary``/``Secondary``) and from
  osv.dev's CVE records (source ``osv-cve``); index (cve). Added within schema version 1: a file
  built before has no such table until its next import (scans then simply have no fallback).

Counts, named the same in ``db import``, ``db update``, ``db status`` and the README:
- records: entries as the feeds write them (an OSV record, an Alpine secdb (package, id) pair, a
  Debian tracker (package, CVE) pair, an NVD CVE), summed over the units held;
- advisories: the advisories table's rows (one per id and feed), withdrawn ones counted apart;
- affected entries: (advisory, ecosystem, package) rows of advisories not withdrawn;
- per ecosystem: the advisories affecting a package there and their affected entries (an advisory
  affecting several ecosystems counts in each).

Scans open the file with ``mode=ro`` (and ``immutable=1`` when neither the file nor its
directory is writable by this process, e.g. a DB baked into a read-only image or mount:
nobody here can change it under us). ``db update`` swaps a new file in with os.replace, so an
open reader keeps reading the old one; ``db import`` into an existing file writes one
transaction (rollback journal), which readers wait for (busy timeout).
"""

from __future__ import annotations

import os
import sqlite3
import stat
import urllib.parse
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from containment import fserrors
from containment.advisories import names
from containment.advisories.codec import advisory_from_doc, affected_from_doc, loads_json
from containment.advisories.types import Advisory, Affected, CveScore
from containment.escape import escape
from containment.model import FeedError

SCHEMA_VERSION = 1
FIX = "run `containment db update` (offline: add --source DIR|URL, a mirror) or `containment db import DIR`"
# which feed's copy of an id is the primary one when several feeds know it
FEED_ORDER = {"osv": 0, "debian-tracker": 1, "alpine-secdb": 2}

# with its indexes from the start: a unit given twice in one import (a CVE in a year feed and
# in the modified feed) deletes its rows by (feed, unit) while the file is being built
CVSS_TABLE = """
CREATE TABLE IF NOT EXISTS cvss (
  feed TEXT NOT NULL, unit TEXT NOT NULL, cve TEXT NOT NULL, source TEXT NOT NULL, rater TEXT NOT NULL,
  type TEXT NOT NULL, version TEXT NOT NULL, vector TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS cvss_cve ON cvss (cve);
CREATE INDEX IF NOT EXISTS cvss_unit ON cvss (feed, unit);
"""
TABLES = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE sources (
  name TEXT PRIMARY KEY, location TEXT NOT NULL, imported_at TEXT NOT NULL,
  records INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE units (
  feed TEXT NOT NULL, unit TEXT NOT NULL, source TEXT NOT NULL, digest BLOB NOT NULL,
  records INTEGER NOT NULL, PRIMARY KEY (feed, unit)
) WITHOUT ROWID;
CREATE TABLE advisories (
  id TEXT NOT NULL, feed TEXT NOT NULL, source TEXT NOT NULL, modified TEXT NOT NULL,
  withdrawn INTEGER NOT NULL, doc BLOB NOT NULL, PRIMARY KEY (id, feed)
) WITHOUT ROWID;
CREATE TABLE affected (
  feed TEXT NOT NULL, unit TEXT NOT NULL, advisory_id TEXT NOT NULL, ecosystem TEXT NOT NULL,
  package TEXT NOT NULL, withdrawn INTEGER NOT NULL, doc BLOB NOT NULL
);
CREATE TABLE ecosystems (
  ecosystem TEXT PRIMARY KEY, advisories INTEGER NOT NULL, affected INTEGER NOT NULL
) WITHOUT ROWID;
"""
TABLES += CVSS_TABLE
# Secondary indexes, kept apart so a bulk build into a new file creates them once at the end
# (cheaper than maintaining them row by row).
INDEXES = """
CREATE INDEX IF NOT EXISTS affected_lookup ON affected (ecosystem, package);
CREATE INDEX IF NOT EXISTS affected_unit ON affected (feed, unit);
"""
SCHEMA = TABLES + INDEXES


def default_path(flag: str | os.PathLike[str] | None = None) -> Path:
    """flag > $CONTAINMENT_DB > <cache dir>/db/advisories.db"""
    if flag:
        return Path(flag).expanduser()
    env = os.environ.get("CONTAINMENT_DB")
    if env:
        return Path(env).expanduser()
    from containment.cache import cache_dir

    return cache_dir() / "db" / "advisories.db"


def _ro_uri(path: Path) -> str:
    q = urllib.parse.quote(str(path.resolve()))
    immutable = not os.access(path, os.W_OK) and not os.access(path.parent, os.W_OK)
    return f"file:{q}?mode=ro" + ("&immutable=1" if immutable else "")


def check_schema(conn: sqlite3.Connection, path: Path) -> dict[str, str]:
    """The meta table; FeedError when the file is not a database of this schema version."""
    try:
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    except sqlite3.DatabaseError as e:
        raise FeedError(f"{path}: not a containment advisory database ({e}); {FIX}") from None
    ver = meta.get("schema_version")
    if ver != str(SCHEMA_VERSION):
        raise FeedError(
            f"{path}: advisory database schema version {ver or 'unknown'}, this containment reads "
            f"version {SCHEMA_VERSION}; rebuild it: run `containment db update` (or re-import into a new "
            f"file with `containment db import DIR --db NEW`)"
        )
    return meta


def counts(q: Callable[[str], list[Any]], has_cvss: bool = True) -> dict[str, Any]:
    """What the database holds, as `db status` and `db import` print it (the module docstring
    defines each count). `q(sql)` runs a query on the file (an open store or an importer's
    connection), so both commands count with this one function."""
    adv_by_source = dict(q("SELECT source, COUNT(*) FROM advisories GROUP BY source"))
    cvss_by_source: dict[str, int] = (
        dict(q("SELECT source, COUNT(DISTINCT cve) FROM cvss GROUP BY source")) if has_cvss else {}
    )
    sources = [
        {
            "name": n,
            "location": loc,
            "imported_at": at,
            "records": rec,
            "advisories": adv_by_source.get(n, 0),
            "cvss_cves": cvss_by_source.get(n, 0),
        }
        for n, loc, at, rec in q("SELECT name, location, imported_at, records FROM sources ORDER BY name")
    ]
    ecos = {
        e: {"advisories": a, "affected": n}
        for e, a, n in q("SELECT ecosystem, advisories, affected FROM ecosystems ORDER BY ecosystem")
    }
    total, withdrawn = q("SELECT COUNT(*), COALESCE(SUM(withdrawn), 0) FROM advisories")[0]
    cves = q("SELECT COUNT(DISTINCT cve) FROM cvss")[0][0] if has_cvss else 0
    return {
        "records": sum(s["records"] for s in sources),
        "advisories": total,
        "withdrawn": withdrawn,
        "affected": sum(e["affected"] for e in ecos.values()),
        "cvss_cves": cves,
        "sources": sources,
        "ecosystems": ecos,
    }


class AdvisoryStore:
    """Read-only access for the matcher. Thread-confined: one store per thread or process."""

    def __init__(self, conn: sqlite3.Connection, path: Path, meta: dict[str, str]) -> None:
        self._conn = conn
        self.path = path
        self.meta = meta
        self._like: dict[str, list[str]] = {}
        self._has_cvss: bool | None = None

    @classmethod
    def open(cls, path: str | None = None) -> AdvisoryStore:
        p = default_path(path)
        st, err = fserrors.stat(p)
        if err is None and st is not None and stat.S_ISREG(st.st_mode):
            try:  # SQLite would only say "unable to open database file"
                with open(p, "rb"):
                    pass
            except OSError as e:
                err = e
        if err is not None:
            raise FeedError(fserrors.problem(p, err))
        if st is None or not stat.S_ISREG(st.st_mode):
            raise FeedError(f"{p}: no advisory database; {FIX}")
        try:
            conn = sqlite3.connect(_ro_uri(p), uri=True, timeout=30, check_same_thread=False)
        except sqlite3.Error as e:
            raise FeedError(f"{p}: cannot open the advisory database ({e}); {FIX}") from None
        try:
            conn.execute("PRAGMA query_only = ON")
            meta = check_schema(conn, p)
        except (FeedError, sqlite3.Error) as e:
            conn.close()
            if isinstance(e, FeedError):
                raise
            raise FeedError(f"{p}: damaged advisory database ({e}); {FIX}") from None
        return cls(conn, p, meta)

    def __enter__(self) -> AdvisoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _q(self, sql: str, args: Iterable[Any] = ()) -> list[Any]:
        # sqlite binds UTF-8 only: a name holding an undecodable byte from an image (a lone
        # surrogate, containment.escape) is asked for in its escaped form, which no record has
        args = tuple(escape(a) if isinstance(a, str) else a for a in args)
        try:
            return self._conn.execute(sql, args).fetchall()
        except sqlite3.Error as e:
            raise FeedError(f"{self.path}: damaged advisory database ({e}); {FIX}") from None

    def affected(self, ecosystem: str, package: str) -> list[Affected]:
        """Every non-withdrawn Affected for a package in exactly this ecosystem."""
        key = names.normalize(ecosystem, package)
        rows = self._q(
            "SELECT advisory_id, doc FROM affected WHERE ecosystem = ? AND package = ? AND withdrawn = 0",
            (ecosystem, key),
        )
        out = []
        for aid, doc in rows:
            try:
                out.append(affected_from_doc(aid, ecosystem, loads_json(doc)))
            except (ValueError, KeyError, TypeError, IndexError) as e:
                raise FeedError(f"{self.path}: damaged record {aid} ({e}); {FIX}") from None
        return out

    def ecosystems_like(self, pattern: str) -> list[str]:
        """The ecosystem names held here that a glob pattern (``*`` = any run of characters, all
        else literal) matches, sorted: ``Red Hat:enterprise_linux:9::*`` -> its appstream, baseos,
        crb, ... streams. Served from the small ``ecosystems`` table (one row per name, rebuilt by
        every import; its primary key serves the literal prefix), once per pattern and store."""
        got = self._like.get(pattern)
        if got is None:
            glob = "".join("[" + c + "]" if c in "?[" else c for c in pattern)
            got = [r[0] for r in self._q("SELECT ecosystem FROM ecosystems WHERE ecosystem GLOB ?", (glob,))]
            got.sort()
            self._like[pattern] = got
        return list(got)

    def advisories(self, ids: Iterable[str]) -> dict[str, Advisory]:
        """id -> Advisory. When several feeds know an id (an OSV record and the Alpine or
        Debian feed), the OSV one is primary (then debian-tracker, then alpine-secdb) and the
        others' aliases and references are merged into it; withdrawn copies come last."""
        want = list(dict.fromkeys(ids))
        found: dict[str, list[tuple[int, int, Advisory]]] = {}
        for i in range(0, len(want), 500):
            chunk = want[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for aid, feed, wd, doc in self._q(
                f"SELECT id, feed, withdrawn, doc FROM advisories WHERE id IN ({marks})", chunk
            ):
                try:
                    adv = advisory_from_doc(loads_json(doc))
                except (ValueError, KeyError, TypeError, IndexError) as e:
                    raise FeedError(f"{self.path}: damaged record {aid} ({e}); {FIX}") from None
                found.setdefault(aid, []).append((wd, FEED_ORDER.get(feed, 9), adv))
        out: dict[str, Advisory] = {}
        for aid, copies in found.items():
            copies.sort(key=lambda c: (c[0], c[1]))
            first = copies[0][2]
            if len(copies) > 1:
                from dataclasses import replace

                aliases = list(first.aliases)
                refs = list(first.references)
                for _, _, other in copies[1:]:
                    aliases += [a for a in other.aliases if a not in aliases and a != aid]
                    refs += [r for r in other.references if r not in refs]
                    if not first.details and other.details:
                        first = replace(first, details=other.details, summary=first.summary or other.summary)
                first = replace(first, aliases=tuple(aliases), references=tuple(refs))
            out[aid] = first
        return out

    def has_cvss(self) -> bool:
        """Does this file have the cvss table (files built before it was added do not)?"""
        if self._has_cvss is None:
            self._has_cvss = bool(
                self._q("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'cvss'")
            )
        return self._has_cvss

    def cve_cvss(self, cves: Iterable[str]) -> dict[str, list[CveScore]]:
        """CVE id -> its CVSS vectors from NVD / osv.dev CVE records (empty lists left out), in
        one batched query (500 ids per statement)."""
        want = sorted({c for c in cves if c.startswith("CVE-")})
        out: dict[str, list[CveScore]] = {}
        if not want or not self.has_cvss():
            return out
        for i in range(0, len(want), 500):
            chunk = want[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for cve, source, rater, typ, version, vector in self._q(
                f"SELECT cve, source, rater, type, version, vector FROM cvss WHERE cve IN ({marks}) "
                "ORDER BY cve, source, type, version, vector",
                chunk,
            ):
                out.setdefault(cve, []).append(CveScore(source, rater, typ, version, vector))
        return out

    def ecosystems(self) -> list[str]:
        return [
            r[0] for r in self._q("SELECT ecosystem FROM ecosystems WHERE affected > 0 ORDER BY ecosystem")
        ]

    def status(self) -> dict[str, Any]:
        try:
            size = self.path.stat().st_size
        except OSError:
            size = 0
        return {
            "path": str(self.path),
            "schema_version": int(self.meta.get("schema_version", "0")),
            "built_at": self.meta.get("built_at", ""),
            "updated_at": self.meta.get("updated_at", ""),
            **counts(self._q, self.has_cvss()),
            "size_bytes": size,
        }

    def summary(self) -> dict[str, Any]:
        """What a report says of the database it was matched against (the `db` block of every
        format): where it is, its schema, when it was built and last updated, and its sources."""
        sources = [  # not status(): its counts read whole tables, and every scan asks for this
            {"name": n, "location": loc, "imported_at": at, "records": rec}
            for n, loc, at, rec in self._q(
                "SELECT name, location, imported_at, records FROM sources ORDER BY name"
            )
        ]
        return {
            "path": str(self.path),
            "schema_version": int(self.meta.get("schema_version", "0")),
            "built_at": self.meta.get("built_at", ""),
            "updated_at": self.meta.get("updated_at", ""),
            "sources": sources,
        }

    def close(self) -> None:
        self._conn.close()
