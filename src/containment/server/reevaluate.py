"""Findings are computed, not frozen: stored inventories re-matched against the current advisory DB.

No image is rescanned and no registry is asked: the server holds every image's packages (one row
per package, `packages` table), so after `db update` only the packages the changed advisories
name are matched again (`containment.match`), and each touched image gets a new findings summary.

What changed: a *snapshot* of the advisory DB (a small SQLite file beside the store: its
``units`` (feed, unit, digest) and the (feed, unit, ecosystem, package) keys of ``affected``) is
kept after every evaluation. The next run snapshots the current DB, and the units whose digest
differs, or that appeared or disappeared, give the changed (ecosystem, package) keys, old and new
(an advisory removed or narrowed must drop its findings too). The DB's own ``units`` digests are
what `db import`/`db update` compare to skip unchanged records, so an unchanged record is never
counted as changed. Without a snapshot (first run) every stored image is evaluated in full.

Where the findings live: one ``scans`` row per evaluated image (actor ``reevaluate``, scanners
``["vuln"]``): its severity columns are the image's current counts (the images list shows the
newest scan, so the fleet view is current), and its ``computed`` column keeps the findings
themselves as ``[package row id, vulnerability id, severity, fixable]`` so the next run can
replace just the re-matched packages' findings (migration 0002 moved them out of ``counts``).

Alerts: an image is in a stage when its newest decision for that stage (``decisions`` table)
allowed it; it alerts when the re-evaluation gave it a new finding of a severity the stage limits
(`policyfile.Stage.max_severity`, honouring ``fixable_only``) and the image's count of that
severity is now over the limit (the gate's own rule). Images evaluated for the first time alert
nothing: they gained nothing. The alerts are computed before anything is written, and each
batch's alerts are handed to the caller's `outbox` inside the transaction that stores that
batch's findings: "the findings changed" and "their alerts are queued" commit together, so a
run killed anywhere loses no alert and queues none twice (a rerun finds the written images
unchanged, and gains again on the others). Each alert carries a stable `key` (`alert_key`).

Not covered yet: a change of the NVD CVSS table alone (the severity fallback) does not re-rate
stored findings; the next change of their advisories, or a full run (``full=True``), does.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import re
import sqlite3
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from containment import match as matcher
from containment.advisories import names
from containment.advisories.types import Advisory, Affected, CveScore
from containment.model import ContainmentError, Finding, Inventory, OSInfo, Package
from containment.server.governance import waived_ids

ACTOR = "reevaluate"
SNAPSHOT_NAME = "advisory-snapshot.db"
BATCH = 200  # images per write transaction
MAX_AUDITED_KEYS = 1000
_SEVERITY_COLUMNS = ("critical", "high", "medium", "low", "unknown")
_FOLD = re.compile(r"[-_.]+")


class StageLimits(Protocol):
    """What re-evaluation reads of a stage (containment.policy.policyfile.Stage has it)."""

    @property
    def max_severity(self) -> Mapping[str, int]: ...

    @property
    def fixable_only(self) -> bool: ...


@dataclass(frozen=True)
class Alert:
    """An image in a stage that gained findings over the stage's limit."""

    digest: str
    stage: str
    severity: str  # the limited severity now over its limit (lowercase, as policy files write it)
    count: int  # the image's findings of that severity now
    limit: int
    gained: tuple[tuple[str, str, str], ...]  # (vulnerability id, package name, installed version)
    repositories: tuple[str, ...] = ()
    # stable identity of this alert (`alert_key`): the same in every delivery of it, so a
    # receiver drops a redelivery (deliveries are at least once)
    key: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "digest": self.digest,
            "stage": self.stage,
            "severity": self.severity,
            "count": self.count,
            "limit": self.limit,
            "gained": [{"id": i, "package": p, "version": v} for i, p, v in self.gained],
            "repositories": list(self.repositories),
        }

    @property
    def text(self) -> str:
        ids = ", ".join(dict.fromkeys(i for i, _, _ in self.gained))
        where = self.repositories[0] if self.repositories else self.digest
        return (
            f"{where} ({self.digest[:19]}) in stage {self.stage}: {self.count} {self.severity} "
            f"vulnerabilities, over the limit {self.limit}; new: {ids}"
        )


# called in a write transaction (a SQLAlchemy Session) with the alerts that commit with it
Outbox = Callable[[Any, list[Alert]], None]


@dataclass
class Result:
    """What one run did (the figures the bench prints)."""

    full: bool = False  # every image evaluated (no snapshot, or asked)
    changed_units: int = 0
    changed_keys: int = 0
    images_total: int = 0
    images_evaluated: int = 0  # images whose findings were computed (new summary stored)
    images_new: int = 0  # of which evaluated in full for the first time
    packages_total: int = 0  # package rows held
    packages_matched: int = 0  # package rows matched against the DB in this run
    packages_unique: int = 0  # of which distinct (OS release, package, version): each matched once
    findings: int = 0  # findings of the evaluated images
    alerts: list[Alert] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "full": self.full,
            "changed_units": self.changed_units,
            "changed_keys": self.changed_keys,
            "images_total": self.images_total,
            "images_evaluated": self.images_evaluated,
            "images_new": self.images_new,
            "packages_total": self.packages_total,
            "packages_matched": self.packages_matched,
            "packages_unique": self.packages_unique,
            "findings": self.findings,
            "alerts": [a.to_json() for a in self.alerts],
            "seconds": round(self.seconds, 3),
        }


# ---------------------------------------------------------------------- snapshots


def _ro(path: Path) -> str:
    return f"file:{urllib.parse.quote(str(path.resolve()))}?mode=ro"


def take_snapshot(db_path: str | os.PathLike[str], target: str | os.PathLike[str]) -> dict[str, str]:
    """Write the snapshot of the advisory DB at `db_path` to `target` (temp file + rename);
    returns the DB's meta (built_at, updated_at, ...)."""
    src, dst = Path(db_path), Path(target)
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dst.parent, prefix=f".{dst.name}.", suffix=".tmp")
    os.close(fd)
    ok = False
    try:
        conn = sqlite3.connect(tmp, isolation_level=None)
        try:
            conn.execute("PRAGMA journal_mode = OFF")
            conn.execute("PRAGMA synchronous = OFF")
            conn.execute("ATTACH DATABASE ? AS adv", (_ro(src),))
            conn.execute("BEGIN")
            conn.execute("CREATE TABLE meta AS SELECT key, value FROM adv.meta")
            conn.execute("CREATE TABLE units AS SELECT feed, unit, digest FROM adv.units")
            conn.execute(
                "CREATE TABLE keys AS SELECT DISTINCT feed, unit, ecosystem, package FROM adv.affected"
            )
            conn.execute("CREATE UNIQUE INDEX units_key ON units (feed, unit)")
            conn.execute("CREATE INDEX keys_unit ON keys (feed, unit)")
            conn.execute("COMMIT")
            meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            conn.execute("DETACH DATABASE adv")
        finally:
            conn.close()
        os.replace(tmp, dst)
        ok = True
        return meta
    except sqlite3.Error as e:
        raise ContainmentError(f"{src}: cannot snapshot the advisory database ({e})") from None
    finally:
        if not ok:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def diff_snapshots(
    old: str | os.PathLike[str], new: str | os.PathLike[str]
) -> tuple[int, set[tuple[str, str]]]:
    """(changed units, the (ecosystem, normalized package) keys they name, before or after)."""
    conn = sqlite3.connect(_ro(Path(new)), uri=True, isolation_level=None)
    try:
        conn.execute("ATTACH DATABASE ? AS old", (_ro(Path(old)),))
        conn.execute(
            """CREATE TEMP TABLE changed AS
               SELECT n.feed AS feed, n.unit AS unit FROM main.units n
                 LEFT JOIN old.units o ON o.feed = n.feed AND o.unit = n.unit
                WHERE o.digest IS NULL OR o.digest != n.digest
               UNION
               SELECT o.feed, o.unit FROM old.units o
                 LEFT JOIN main.units n ON n.feed = o.feed AND n.unit = o.unit
                WHERE n.unit IS NULL"""
        )
        units = int(conn.execute("SELECT COUNT(*) FROM temp.changed").fetchone()[0])
        keys: set[tuple[str, str]] = set()
        if units:
            for db in ("main", "old"):
                keys.update(
                    conn.execute(
                        f"SELECT DISTINCT k.ecosystem, k.package FROM {db}.keys k "
                        "JOIN temp.changed c ON c.feed = k.feed AND c.unit = k.unit"
                    ).fetchall()
                )
        return units, keys
    except sqlite3.Error as e:
        raise ContainmentError(f"cannot compare advisory snapshots {old} and {new} ({e})") from None
    finally:
        conn.close()


# ---------------------------------------------------------------------- matching


class _Cached:
    """The advisory store behind per-run caches: a thousand images share most of their packages."""

    def __init__(self, store: matcher.Store) -> None:
        self.store = store
        self._affected: dict[tuple[str, str], list[Affected]] = {}
        self._like: dict[str, list[str]] = {}
        self._adv: dict[str, Advisory | None] = {}
        self._cvss: dict[str, list[CveScore]] = {}
        self.lookups = 0

    def affected(self, ecosystem: str, package: str) -> list[Affected]:
        key = (ecosystem, package)
        got = self._affected.get(key)
        if got is None:
            self.lookups += 1
            got = self._affected[key] = self.store.affected(ecosystem, package)
        return got

    def ecosystems_like(self, pattern: str) -> list[str]:
        got = self._like.get(pattern)
        if got is None:
            got = self._like[pattern] = self.store.ecosystems_like(pattern)
        return got

    def advisories(self, ids: Iterable[str]) -> dict[str, Advisory]:
        ids = list(ids)
        want = [i for i in ids if i not in self._adv]
        if want:
            got = self.store.advisories(want)
            for i in want:
                self._adv[i] = got.get(i)
        return {i: a for i in ids if (a := self._adv.get(i)) is not None}

    def cve_cvss(self, cves: Iterable[str]) -> dict[str, list[CveScore]]:
        cves = list(cves)
        want = [c for c in cves if c not in self._cvss]
        if want:
            got = self.store.cve_cvss(want)
            for c in want:
                self._cvss[c] = got.get(c, [])
        return {c: s for c in cves if (s := self._cvss.get(c))}


@dataclass
class _Row:
    id: int
    image_id: int
    package: Package


def _fold(name: str) -> str:
    """A form every ecosystem's normalized name of `name` folds to as well (names.normalize only
    strips, lowercases or PEP 503-folds), so a cheap set lookup keeps every package that may match."""
    return _FOLD.sub("-", name.strip()).lower()


def _keys(p: Package, os_info: OSInfo | None, store: _Cached) -> set[tuple[str, str]]:
    q = matcher.query_for(p, os_info)
    if q is None:
        return set()
    out = set()
    for eco in matcher._resolve(store, q, {}):
        for name, _ in ((q.name, q.version), *q.also):
            out.add((eco, names.normalize(eco, name)))
    return out


def _severity_column(sev: str) -> str:
    s = (sev or "unknown").lower()
    return s if s in _SEVERITY_COLUMNS else "unknown"


def _summary(findings: list[list[Any]], db_meta: Mapping[str, str]) -> dict[str, Any]:
    counts = dict.fromkeys(_SEVERITY_COLUMNS, 0)
    for f in findings:
        counts[_severity_column(f[2])] += 1
    return {
        "vulnerabilities": counts,
        "computed": {
            "db_built_at": db_meta.get("built_at", ""),
            "db_updated_at": db_meta.get("updated_at", ""),
            "findings": findings,
        },
    }  # "computed" goes to its own column (Scan.computed), the rest to Scan.counts


_Signature = tuple[str, str, str, str, str, str, str, str]


def _signature(p: Package, os_info: OSInfo | None) -> _Signature:
    """What a package's findings depend on (besides the DB): the same in a thousand images, it
    is matched once per run."""
    o = (os_info.id, os_info.version_id) if os_info else ("", "")
    return (*o, p.type, p.name, p.version, p.purl, p.source_name, p.source_version)


def _match_unique(
    todo: Mapping[int, list[_Row]], os_of: Mapping[int, OSInfo | None], cached: _Cached
) -> dict[_Signature, list[tuple[str, str, bool]]]:
    """signature -> its findings (id, severity, fixable): each distinct package matched once,
    one matcher call per OS release."""
    groups: dict[tuple[str, str], dict[_Signature, Package]] = {}
    os_by: dict[tuple[str, str], OSInfo | None] = {}
    for image_id, rows in todo.items():
        o = os_of.get(image_id)
        for r in rows:
            sig = _signature(r.package, o)
            groups.setdefault(sig[:2], {}).setdefault(sig, r.package)
            os_by[sig[:2]] = o
    out: dict[_Signature, list[tuple[str, str, bool]]] = {}
    for key, reps in groups.items():
        sig_of = {id(p): sig for sig, p in reps.items()}
        for sig in reps:
            out[sig] = []
        inv = Inventory(target="", kind="image", os=os_by[key], packages=tuple(reps.values()))
        found: list[Finding]
        found, _notes = matcher.match(inv, cached)
        for f in found:
            out[sig_of[id(f.package)]].append((f.id, f.severity, bool(f.fixed_versions)))
    return out


# ---------------------------------------------------------------------- the run


def reevaluate(
    store: Any,
    db_path: str | os.PathLike[str] | None,
    snapshot: str | os.PathLike[str] | None,
    stages: Mapping[str, StageLimits] | None = None,
    *,
    full: bool = False,
    outbox: Outbox | None = None,
    rematch: bool = False,
) -> Result:
    """Bring every stored image's findings up to the advisory DB at `db_path` (None: the default,
    containment.advisories.store.default_path): images never evaluated in full, the others only
    for the packages the DB's changes since the `snapshot` file touch (all of them when there is
    no snapshot or `full`). Stores one scans row per evaluated image, rewrites the snapshot, and
    returns what it did with the stage alerts. `rematch`: every package is matched again, as with
    `full`, but images evaluated before keep their gains and alerts (the caller knows the snapshot
    is not the advisory version the stored findings came from: currency.py).

    `outbox(session, alerts)` is called inside each write transaction that stores findings, with
    the alerts of that batch's images (keyed, `alert_key`): what it writes there (notify jobs)
    commits with the findings or not at all. A run cut short anywhere thus leaves each image
    either unchanged (the next run gains, and alerts, again) or changed with its alerts queued.

    The snapshot is taken before the DB is opened for matching, so the findings are never older
    than the snapshot says: a `db update` or `db import` during the run is seen again next time."""
    from containment.advisories.store import AdvisoryStore, default_path

    src = default_path(db_path)
    with AdvisoryStore.open(str(src)):
        pass  # a missing, damaged or foreign file: the store's own FeedError, saying what to run
    snap = Path(snapshot) if snapshot is not None else None
    if snap is not None:
        new_snap = snap.with_name(snap.name + ".next")
        db_meta = take_snapshot(src, new_snap)
        try:
            with AdvisoryStore.open(str(src)) as advisories:
                res = _run(store, advisories, snap, new_snap, db_meta, stages, full, outbox, rematch)
        finally:
            with contextlib.suppress(OSError):
                new_snap.unlink()
        return res
    with AdvisoryStore.open(str(src)) as advisories:
        return _run(store, advisories, None, None, dict(advisories.meta), stages, True, outbox)


def _run(
    store: Any,
    advisories: Any,
    snap: Path | None,
    new_snap: Path | None,
    db_meta: dict[str, str],
    stages: Mapping[str, StageLimits] | None,
    full: bool,
    outbox: Outbox | None = None,
    rematch: bool = False,
) -> Result:
    from sqlalchemy import func, select

    from containment.server.models import Decision, Image, InventoryRow, PackageRow, Repository, Scan

    t0 = time.perf_counter()
    res = Result()
    changed: set[tuple[str, str]] | None = None  # None: everything
    if snap is not None and new_snap is not None and snap.exists() and not (full or rematch):
        res.changed_units, changed = diff_snapshots(snap, new_snap)
        res.changed_keys = len(changed)
    res.full = changed is None
    cached = _Cached(advisories)

    with store.read() as s:
        latest = (
            select(Scan.image_id, func.max(Scan.id).label("sid"))
            .where(Scan.actor == ACTOR)
            .group_by(Scan.image_id)
            .subquery()
        )
        state_of = {int(i): int(sid) for i, sid in s.execute(select(latest.c.image_id, latest.c.sid)).all()}
        invs = {
            int(i): (img, OSInfo(id=o, version_id=v) if o else None)
            for i, img, o, v in s.execute(
                select(InventoryRow.id, InventoryRow.image_id, InventoryRow.os_id, InventoryRow.os_version)
            ).all()
        }
        res.images_total = len(invs)
        # `rematch`: every package matched again, but an image evaluated before still compares
        # with its stored findings (gains, alerts): the snapshot is not the one they came from
        fresh_images = {
            img for img, _ in invs.values() if img not in state_of or (changed is None and not rematch)
        }
        todo: dict[int, list[_Row]] = {}  # image id -> its package rows to match now
        fold_names = {_fold(k[1]) for k in changed} if changed else set()
        for row in s.execute(
            select(
                PackageRow.id,
                PackageRow.inventory_id,
                PackageRow.name,
                PackageRow.version,
                PackageRow.type,
                PackageRow.purl,
                PackageRow.source_name,
                PackageRow.source_version,
            )
        ).all():
            res.packages_total += 1
            rid, inv_id, name, version, ptype, purl, sname, sversion = row
            image_id, os_info = invs[inv_id]
            pkg = Package(
                name=name,
                version=version,
                type=ptype,
                purl=purl,
                path="",
                cataloger="",
                source_name=sname,
                source_version=sversion,
            )
            if image_id not in fresh_images and changed is not None:
                if ptype != "maven" and _fold(name) not in fold_names and _fold(sname) not in fold_names:
                    continue  # cannot name any changed key (see _fold)
                if not (changed and _keys(pkg, os_info, cached) & changed):
                    continue
            todo.setdefault(image_id, []).append(_Row(rid, image_id, pkg))
        for img, _ in invs.values():  # an image with no packages still gets its (empty) summary
            if img in fresh_images:
                todo.setdefault(img, [])
        previous: dict[int, list[list[Any]]] = {}
        again = [state_of[i] for i in todo if i in state_of and i not in fresh_images]
        for chunk in _chunks(again, 500):
            for image_id, comp in s.execute(select(Scan.image_id, Scan.computed).where(Scan.id.in_(chunk))):
                computed = comp if isinstance(comp, dict) else {}
                previous[int(image_id)] = [list(f) for f in computed.get("findings") or []]
        os_of = {img: o for img, o in invs.values()}
        in_stage = _stage_members(s, select, Decision, Image, list(stages or {}))
        digest_of = dict(
            s.execute(select(Image.id, Image.digest).where(Image.id.in_(list(todo) or [-1]))).all()
        )

    results: dict[int, list[list[Any]]] = {}
    gained_of: dict[int, list[list[Any]]] = {}
    pkg_of: dict[int, Package] = {}
    verdicts = _match_unique(todo, os_of, cached)
    res.packages_unique = len(verdicts)
    for image_id, rows in todo.items():
        res.packages_matched += len(rows)
        pkg_of.update((r.id, r.package) for r in rows)
        now_rows = []
        seen: set[tuple[int, str]] = set()
        for r in rows:
            for vid, sev, fixable in verdicts[_signature(r.package, os_of.get(image_id))]:
                if (r.id, vid) not in seen:
                    seen.add((r.id, vid))
                    now_rows.append([r.id, vid, sev, fixable])
        if image_id in fresh_images:
            results[image_id] = now_rows
            res.images_new += 1
            continue
        redone = {r.id for r in rows}
        before = previous.get(image_id, [])
        kept = [f for f in before if f[0] not in redone]
        old_keys = {(f[0], f[1]) for f in before}
        gained_of[image_id] = [f for f in now_rows if (f[0], f[1]) not in old_keys]
        merged = kept + now_rows
        if sorted(map(tuple, merged)) != sorted(map(tuple, before)):
            results[image_id] = merged
    res.images_evaluated = len(results)
    res.findings = sum(len(v) for v in results.values())

    alerts: list[Alert] = []
    if stages:  # before the writes: each batch's alerts commit with its findings (_write)
        alerts = _alerts(store, stages, in_stage, results, gained_of, pkg_of, digest_of, Repository)
    res.alerts = _write(store, results, db_meta, res, digest_of, alerts, outbox)
    if snap is not None and new_snap is not None:
        os.replace(new_snap, snap)
    res.seconds = time.perf_counter() - t0
    return res


def _chunks(items: list[int], n: int) -> Iterator[list[int]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


def _stage_members(s: Any, select: Any, Decision: Any, Image: Any, stages: list[str]) -> dict[int, set[str]]:
    """image id -> the stages whose newest decision about it allowed it."""
    if not stages:
        return {}
    newest: dict[tuple[str, str], tuple[int, bool]] = {}
    for did, digest, stage, allowed in s.execute(
        select(Decision.id, Decision.digest, Decision.stage, Decision.allowed).where(
            Decision.stage.in_(stages)
        )
    ).all():
        k = (digest, stage)
        if k not in newest or did > newest[k][0]:
            newest[k] = (did, bool(allowed))
    ids = dict(
        s.execute(select(Image.digest, Image.id).where(Image.digest.in_({d for d, _ in newest}))).all()
    )
    out: dict[int, set[str]] = {}
    for (digest, stage), (_, allowed) in newest.items():
        if allowed and digest in ids:
            out.setdefault(int(ids[digest]), set()).add(stage)
    return out


def _write(
    store: Any,
    results: Mapping[int, list[list[Any]]],
    db_meta: Mapping[str, str],
    res: Result,
    digest_of: Mapping[int, str],
    alerts: Iterable[Alert] = (),
    outbox: Outbox | None = None,
) -> list[Alert]:
    """Store the findings, BATCH images per transaction, each with its images' alerts (keyed by
    their new scans row) handed to `outbox` in that transaction; the alerts, keyed."""
    from containment.server.models import Scan

    alerts_of: dict[str, list[Alert]] = {}
    for a in alerts:
        alerts_of.setdefault(a.digest, []).append(a)
    out: list[Alert] = []
    items = sorted(results.items())
    for i in range(0, len(items), BATCH):
        batch = items[i : i + BATCH]
        with store.write() as s:
            rows: dict[int, Any] = {}
            for image_id, findings in batch:
                counts = _summary(findings, db_meta)
                computed = counts.pop("computed")
                s.add(
                    row := Scan(
                        image_id=image_id,
                        actor=ACTOR,
                        scanners=["vuln"],
                        counts=counts,
                        computed=computed,
                        db_built_at=str(db_meta.get("built_at", ""))[:64],
                        complete=True,
                        **counts["vulnerabilities"],
                    )
                )
                rows[image_id] = row
            s.flush()
            keyed = [
                dataclasses.replace(a, key=alert_key(int(row.id), a.digest, a.stage, a.severity))
                for image_id, row in rows.items()
                for a in alerts_of.get(digest_of.get(image_id, ""), ())
            ]
            if keyed and outbox is not None:
                outbox(s, keyed)
            out += keyed
            store._audit(
                s,
                ACTOR,
                "findings.reevaluate",
                f"{len(batch)} images",
                {
                    "images": [digest_of.get(k, str(k)) for k, _ in batch],
                    "db_updated_at": db_meta.get("updated_at", ""),
                    "full": res.full,
                    "changed_keys": res.changed_keys,
                    "alerts": [a.key for a in keyed][:MAX_AUDITED_KEYS],
                },
            )
    return out


def _alerts(
    store: Any,
    stages: Mapping[str, StageLimits],
    in_stage: Mapping[int, set[str]],
    results: Mapping[int, list[list[Any]]],
    gained_of: Mapping[int, list[list[Any]]],
    pkg_of: Mapping[int, Package],
    digest_of: Mapping[int, str],
    Repository: Any,
) -> list[Alert]:
    out: list[Alert] = []
    hit = [i for i in gained_of if gained_of[i] and i in in_stage and i in results]
    if not hit:
        return out
    repos = _repositories(store, hit)
    for image_id in hit:
        findings, gained = results[image_id], gained_of[image_id]
        for stage in sorted(in_stage[image_id]):
            st = stages[stage]
            # the server's approved exceptions waive their findings here as in the gate (by the
            # finding's primary id: the stored findings keep no aliases)
            waived = waived_ids(store, stage, digest_of.get(image_id, ""), repos.get(image_id, ()))
            for sev, limit in st.max_severity.items():
                col = _severity_column(sev)

                def counted(
                    f: list[Any], col: str = col, fixable: bool = st.fixable_only, waived: Any = waived
                ) -> bool:
                    return (
                        _severity_column(f[2]) == col
                        and (not fixable or bool(f[3]))
                        and str(f[1]).casefold() not in waived
                    )

                new = [f for f in gained if counted(f)]
                total = sum(1 for f in findings if counted(f))
                if new and total > int(limit):
                    out.append(
                        Alert(
                            digest=digest_of.get(image_id, ""),
                            stage=stage,
                            severity=col,
                            count=total,
                            limit=int(limit),
                            gained=tuple(
                                (f[1], pkg_of[f[0]].name, pkg_of[f[0]].version) for f in new if f[0] in pkg_of
                            ),
                            repositories=tuple(repos.get(image_id, ())),
                        )
                    )
    return out


def _repositories(store: Any, image_ids: list[int]) -> dict[int, list[str]]:
    from sqlalchemy import select

    from containment.server.models import ImageRepository, Repository

    out: dict[int, list[str]] = {}
    with store.read() as s:
        for chunk in _chunks(image_ids, 500):
            for image_id, name in s.execute(
                select(ImageRepository.image_id, Repository.name)
                .join(Repository, Repository.id == ImageRepository.repository_id)
                .where(ImageRepository.image_id.in_(chunk))
                .order_by(Repository.name)
            ).all():
                out.setdefault(int(image_id), []).append(name)
    return out


def thresholds(policy: Any) -> dict[str, StageLimits]:
    """The stages of a containment.policy.policyfile.Policy that limit vulnerability severities."""
    return {name: st for name, st in policy.stages.items() if st.max_severity}


def alert_key(scan_id: int, digest: str, stage: str, severity: str) -> str:
    """An alert's identity: the scans row that gained the findings (one per evaluation of an
    image, written in the alert's own transaction), the stage and the severity over its limit."""
    raw = f"{scan_id}\x00{digest}\x00{stage}\x00{severity}".encode("utf-8", "surrogatepass")
    return "sha256:" + hashlib.sha256(raw).hexdigest()[:32]
