"""`db import`: OSV (JSON/YAML, files, directories, zips), Alpine secdb, Debian tracker JSON,
NVD CVE JSON 2.0 (``nvdcve-2.0-*.json``, ``.json.gz``, ``.json.zip``; CVSS vectors only).

The format of each file is told by its content. Parsing runs in a process pool (one worker
per usable CPU plus one, `containment.cpu.cpu_quota()`); the parent writes rows as results arrive, in
input order, in ONE transaction:
- into a NEW file: built as a temp file next to the target with journal and fsync off, then
  renamed into place (os.replace), so a failed import leaves no file behind;
- into an existing file: one IMMEDIATE transaction; a failure rolls everything back.
Re-import is idempotent and incremental: a unit (OSV record / secdb file / tracker file) whose
digest is unchanged writes nothing; a changed one replaces its rows. Records removed from a
feed are not removed by an import (`db update` rebuilds from the feeds).

Records, as counted here: OSV records + Alpine (package, id) pairs per secdb file + Debian
(package, CVE) pairs + NVD CVEs (the counts `db status` prints are defined in store.py).
"""

from __future__ import annotations

import contextlib
import gzip
import io
import os
import sqlite3
import stat
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from lzma import LZMAError
from pathlib import Path
from typing import Any

from containment import fserrors, interrupt
from containment.advisories import alpine, debian, nvd, osv
from containment.advisories.codec import DocumentError, load_document
from containment.advisories.feed import Sink, Unit
from containment.advisories.store import (
    CVSS_TABLE,
    INDEXES,
    SCHEMA,
    SCHEMA_VERSION,
    TABLES,
    check_schema,
    counts,
)
from containment.model import FeedError

DOC_SUFFIXES = (".json", ".yaml", ".yml")
GZ_SUFFIXES = (".json.gz",)  # NVD's feed files; read decompressed
MAX_FILE = 1 << 30  # a single feed file (the Debian tracker JSON is ~100 MB)
MAX_MEMBER = 256 << 20  # one zip member (OSV members are a few kB)
CHUNK = 128  # at most this many files per worker task
CHUNK_BYTES = 256 << 10  # and about this many bytes
POOL_MIN_ITEMS = 256  # below this, parsing in-process is faster than starting workers

# (path, zip member or None, origin = what the user named, size in bytes)
Item = tuple[str, str | None, str, int]
Progress = Callable[[int, int], None]


def now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# ------------------------------------------------------------------------------ inputs


def _is_zip(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) in (b"PK\x03\x04", b"PK\x05\x06")
    except OSError:
        return False


def zip_members(path: str, origin: str) -> list[Item]:
    try:
        with zipfile.ZipFile(path) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
        raise FeedError(f"{path}: damaged or truncated zip file ({e}); download it again") from None
    return [
        (path, i.filename, origin, i.file_size)
        for i in infos
        if not i.is_dir() and i.filename.lower().endswith(DOC_SUFFIXES)
    ]


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def collect(paths: Iterable[str | os.PathLike[str]]) -> list[Item]:
    """Every document to read, in a stable order. FeedError for a missing path or a bad zip."""
    items: list[Item] = []

    def unreadable(e: OSError) -> None:  # os.walk would skip a directory it may not list
        raise FeedError(fserrors.problem(e.filename or path, e))

    for p in paths:
        path = os.fspath(p)
        origin = os.path.abspath(path)
        st, err = fserrors.stat(path)
        if err is not None:
            raise FeedError(fserrors.problem(path, err))
        if st is not None and stat.S_ISDIR(st.st_mode):
            for dirpath, dirnames, files in os.walk(path, onerror=unreadable):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                for fn in sorted(files):
                    if fn.startswith("."):
                        continue
                    full = os.path.join(dirpath, fn)
                    low = fn.lower()
                    if low.endswith(".zip"):
                        items.extend(zip_members(full, origin))
                    elif low.endswith(DOC_SUFFIXES + GZ_SUFFIXES):
                        items.append((full, None, origin, _size(full)))
        elif st is not None and stat.S_ISREG(st.st_mode):
            if _is_zip(path):
                items.extend(zip_members(path, origin))
            else:
                items.append((path, None, origin, _size(path)))
        else:
            raise FeedError(
                f"{path}: no such file or directory; give OSV/secdb/tracker files, folders or zips"
            )
    return items


# ------------------------------------------------------------------------------ parsing

_zips: dict[tuple[str, int, int, int], zipfile.ZipFile] = {}  # open zips, per process


def _read(item: Item) -> bytes:
    path, member = item[0], item[1]
    if member is None and path.lower().endswith(".gz"):
        try:
            with gzip.open(path, "rb") as g:
                data = g.read(MAX_FILE + 1)
        except (OSError, EOFError, zlib.error) as e:
            raise FeedError(f"{path}: damaged or truncated gzip file ({e}); download it again") from None
        if len(data) > MAX_FILE:
            raise FeedError(f"{path}: larger than {MAX_FILE >> 20} MiB decompressed; refusing it")
        return data
    if member is None:
        try:
            if os.path.getsize(path) > MAX_FILE:
                raise FeedError(
                    f"{path}: larger than {MAX_FILE >> 20} MiB; refusing it (is it the right file?)"
                )
            with open(path, "rb") as f:
                return f.read()
        except OSError as e:
            raise FeedError(
                f"{path}: cannot read ({e.strerror or e}); check the path and its permissions"
            ) from None
    try:
        st = os.stat(path)
        zkey = (path, st.st_ino, st.st_mtime_ns, st.st_size)  # a replaced file is another zip
        z = _zips.get(zkey)
        if z is None:
            if len(_zips) > 8:
                for old in _zips.values():
                    old.close()
                _zips.clear()
            z = _zips[zkey] = zipfile.ZipFile(path)
        info = z.getinfo(member)
        if info.file_size > MAX_MEMBER:
            raise FeedError(
                f"{path}: member {member} is larger than {MAX_MEMBER >> 20} MiB; refusing the zip"
            )
        with z.open(info) as f:
            data = f.read(MAX_MEMBER + 1)
        if len(data) > MAX_MEMBER:
            raise FeedError(
                f"{path}: member {member} is larger than {MAX_MEMBER >> 20} MiB; refusing the zip"
            )
        return data
    except (
        zipfile.BadZipFile,
        OSError,
        EOFError,
        KeyError,
        ValueError,
        NotImplementedError,
        zlib.error,
        LZMAError,
    ) as e:
        raise FeedError(f"{path}: damaged zip file (member {member}: {e}); download it again") from None


def where_of(item: Item) -> str:
    path, member = item[0], item[1]
    return f"{path} [{member}]" if member else path


def parse_document(doc: Any, where: str, sink: Sink, origin: str = "") -> list[Unit]:
    """Units from one parsed document, whatever feed it is."""
    try:
        if nvd.is_nvd(doc):  # before OSV: an NVD CVE object may carry an `affected` key
            return nvd.parse(doc, where, sink, origin)
        if osv.is_osv(doc):
            return osv.parse(doc, where, sink, origin)
        if alpine.is_secdb(doc):
            return alpine.parse(doc, where, sink, origin)
        if debian.is_tracker(doc):
            return debian.parse(doc, where, sink, origin)
    except (TypeError, ValueError, KeyError, AttributeError, RecursionError) as e:
        sink.skip(where, "(file)", f"malformed ({type(e).__name__}: {e})")
        return []
    sink.skip(where, "(file)", "not an OSV record, Alpine secdb, Debian tracker or NVD CVE JSON document")
    return []


def parse_bytes(data: bytes, where: str, sink: Sink, origin: str = "") -> list[Unit]:
    try:
        doc = load_document(data)
    except DocumentError as e:
        sink.skip(where, "(file)", str(e))
        return []
    except RecursionError:
        sink.skip(where, "(file)", "nests too deeply")
        return []
    return parse_document(doc, where, sink, origin)


@contextlib.contextmanager
def _open_text(item: Item) -> Iterator[io.TextIOWrapper]:
    """A text stream over one document, decompressed (a .gz file, a zip member)."""
    path, member = item[0], item[1]
    with contextlib.ExitStack() as stack:
        try:
            if member is not None:
                raw: Any = stack.enter_context(stack.enter_context(zipfile.ZipFile(path)).open(member))
            elif path.lower().endswith(".gz"):
                raw = stack.enter_context(gzip.open(path, "rb"))
            else:
                raw = stack.enter_context(open(path, "rb"))
        except (zipfile.BadZipFile, OSError, KeyError, ValueError) as e:
            raise FeedError(
                f"{where_of(item)}: cannot read ({e}); check the file or download it again"
            ) from None
        yield stack.enter_context(io.TextIOWrapper(raw, encoding="utf-8"))


def _parse_chunk(chunk: list[Item]) -> tuple[list[Unit], list[str], int, int]:
    sink = Sink()
    units: list[Unit] = []
    for item in chunk:
        if nvd.is_feed_name(item[1] or item[0]):  # hundreds of MB of JSON: parsed as a stream
            with _open_text(item) as text:
                units.extend(nvd.parse_stream(text, where_of(item), sink, item[2]))
            continue
        units.extend(parse_bytes(_read(item), where_of(item), sink, item[2]))
    return units, sink.warnings, sink.dropped, sink.skipped


def _chunks(items: list[Item], max_items: int, max_bytes: int) -> list[list[Item]]:
    """Consecutive runs of items, at most max_items and (unless one item is bigger) max_bytes."""
    out: list[list[Item]] = []
    cur: list[Item] = []
    size = 0
    for it in items:
        if cur and (len(cur) >= max_items or size + it[3] > max_bytes):
            out.append(cur)
            cur, size = [], 0
        cur.append(it)
        size += it[3]
    if cur:
        out.append(cur)
    return out


def parse_items(
    items: list[Item], workers: int | None = None
) -> Generator[tuple[int, tuple[list[Unit], list[str], int, int]], None, None]:
    """(items done, chunk result) in input order."""
    from containment.cpu import cpu_quota

    chunks = _chunks(items, CHUNK, CHUNK_BYTES)
    # the parent mostly waits for results (it only writes rows): one worker more than the
    # CPUs keeps them all busy while it does
    n = workers if workers is not None else cpu_quota() + 1
    n = min(n, len(chunks))
    if n <= 1 or len(items) < POOL_MIN_ITEMS or len(chunks) < 2:
        for c in chunks:
            yield len(c), _parse_chunk(c)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    methods = multiprocessing.get_all_start_methods()
    ctx = multiprocessing.get_context("fork" if "fork" in methods else None)
    # Workers ignore the stop signals and die with this process (interrupt.worker_init); they
    # are forked with the signals blocked, so none runs this process's handlers meanwhile.
    # Stopping them is this process's job, on every way out: killed and reaped, never waited for.
    ex = ProcessPoolExecutor(max_workers=n, mp_context=ctx, initializer=interrupt.worker_init)
    procs: list[Any] = []
    try:
        with interrupt.blocked():
            results = ex.map(_parse_chunk, chunks)  # submits every chunk: the workers start here
            procs = list(getattr(ex, "_processes", {}).values())
        with interrupt.children(procs):
            for c, r in zip(chunks, results, strict=True):
                yield len(c), r
    except BrokenProcessPool:
        interrupt.check()
        raise FeedError(
            "an advisory parser process died (out of memory, or killed); retry with fewer files at "
            "once, or free memory"
        ) from None
    except BaseException:
        _stop_pool(ex, procs)
        raise
    else:
        ex.shutdown(wait=True)


def _stop_pool(ex: Any, procs: list[Any]) -> None:
    """Cancel what has not started, kill the workers, reap them: nothing waits for a chunk."""
    ex.shutdown(wait=False, cancel_futures=True)
    procs = procs or list(getattr(ex, "_processes", {}).values())
    for p in procs:
        with contextlib.suppress(Exception):
            p.kill()
    for p in procs:
        with contextlib.suppress(Exception):
            p.join(2)


# ------------------------------------------------------------------------------ writing


@dataclass
class ImportStats:
    files: int = 0
    records: int = 0
    affected: int = 0
    skipped: int = 0
    added: int = 0  # units new to the DB
    replaced: int = 0  # units whose content changed
    unchanged: int = 0  # units already there, identical
    duplicates: int = 0  # units given twice in this import
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    warnings_dropped: int = 0
    ecosystems: dict[str, list[int]] = field(default_factory=dict)  # eco -> [advisories, affected]
    feeds: dict[str, int] = field(default_factory=dict)  # feed -> records
    path: str = ""
    database: dict[str, Any] = field(default_factory=dict)  # what the file holds after it: store.counts

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "files": self.files,
            "records": self.records,
            "affected": self.affected,
            "skipped": self.skipped,
            "added": self.added,
            "replaced": self.replaced,
            "unchanged": self.unchanged,
            "duplicates": self.duplicates,
            "seconds": round(self.seconds, 3),
            "feeds": self.feeds,
            "ecosystems": {
                e: {"advisories": a, "affected": n} for e, (a, n) in sorted(self.ecosystems.items())
            },
            "warnings": self.warnings,
            "warnings_dropped": self.warnings_dropped,
            "database": self.database,
        }


class Writer:
    """Applies units to an open connection inside the caller's transaction."""

    def __init__(self, conn: sqlite3.Connection, stats: ImportStats, empty: bool) -> None:
        self.conn = conn
        self.stats = stats
        self.existing: dict[tuple[str, str], bytes] = (
            {} if empty else {(f, u): d for f, u, d in conn.execute("SELECT feed, unit, digest FROM units")}
        )
        self.seen: dict[tuple[str, str], bytes] = {}
        self.adv: list[tuple[Any, ...]] = []
        self.aff: list[tuple[Any, ...]] = []
        self.units: list[tuple[Any, ...]] = []
        self.cvss: list[tuple[Any, ...]] = []
        self.dels: list[tuple[str, str]] = []
        self.gc: set[tuple[str, str]] = set()
        self.sources: dict[str, set[str]] = {}
        self._eco_ids: dict[str, set[str]] = {}

    def add(self, u: Unit) -> None:
        st = self.stats
        st.records += u.records
        st.feeds[u.feed] = st.feeds.get(u.feed, 0) + u.records
        st.affected += len(u.affected)
        self.sources.setdefault(u.source, set()).add(u.origin)
        ecos = st.ecosystems
        for row in u.affected:
            e = row[1]
            c = ecos.get(e)
            if c is None:
                c = ecos[e] = [0, 0]
                self._eco_ids[e] = set()
            c[1] += 1
            ids = self._eco_ids[e]
            if row[0] not in ids:
                ids.add(row[0])
                c[0] += 1
        k = (u.feed, u.key)
        prev = self.seen.get(k)
        if prev is not None:
            st.duplicates += 1
            if prev == u.digest:
                return
            self.flush()
            self.dels.append(k)
        else:
            old = self.existing.get(k)
            if old == u.digest:
                st.unchanged += 1
                self.seen[k] = u.digest
                return
            if old is not None:
                self.dels.append(k)
                st.replaced += 1
            else:
                st.added += 1
        self.seen[k] = u.digest
        self.adv.extend(u.advisories)
        f, key = u.feed, u.key
        self.aff.extend((f, key, *r) for r in u.affected)
        self.cvss.extend((f, key, *r) for r in u.cvss)
        self.units.append((f, key, u.source, u.digest, u.records))

    def flush(self) -> None:
        c = self.conn
        if self.dels:
            for f, key in self.dels:
                if f != osv.FEED:
                    self.gc.update(
                        (f, r[0])
                        for r in c.execute(
                            "SELECT advisory_id FROM affected WHERE feed = ? AND unit = ?", (f, key)
                        )
                    )
            c.executemany("DELETE FROM affected WHERE feed = ? AND unit = ?", self.dels)
            c.executemany("DELETE FROM cvss WHERE feed = ? AND unit = ?", self.dels)
            self.dels = []
        if self.adv:
            c.executemany(
                "INSERT OR REPLACE INTO advisories (id, feed, source, modified, withdrawn, doc) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [(a[0], _feed_of(a[1]), a[1], a[2], a[3], a[4]) for a in self.adv],
            )
            self.adv = []
        if self.aff:
            c.executemany(
                "INSERT INTO affected (feed, unit, advisory_id, ecosystem, package, withdrawn, doc) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                self.aff,
            )
            self.aff = []
        if self.cvss:
            c.executemany(
                "INSERT INTO cvss (feed, unit, cve, source, rater, type, version, vector) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                self.cvss,
            )
            self.cvss = []
        if self.units:
            c.executemany(
                "INSERT OR REPLACE INTO units (feed, unit, source, digest, records) VALUES (?, ?, ?, ?, ?)",
                self.units,
            )
            self.units = []

    def finish(self, new: bool) -> None:
        self.flush()
        c = self.conn
        if self.gc:
            c.execute("CREATE TEMP TABLE IF NOT EXISTS gc (feed TEXT, id TEXT)")
            c.execute("DELETE FROM temp.gc")
            c.executemany("INSERT INTO temp.gc VALUES (?, ?)", sorted(self.gc))
            c.execute(
                "DELETE FROM advisories WHERE (id, feed) IN (SELECT id, feed FROM temp.gc) AND NOT EXISTS "
                "(SELECT 1 FROM affected a WHERE a.feed = advisories.feed AND a.advisory_id = advisories.id)"
            )
        stamp = now()
        for name, origins in self.sources.items():
            loc = ", ".join(sorted(o for o in origins if o)[:3]) + (" ..." if len(origins) > 3 else "")
            c.execute(
                "INSERT INTO sources (name, location, imported_at) VALUES (?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET location = excluded.location, imported_at = excluded.imported_at",
                (name, loc, stamp),
            )
        # a source's records: the feed entries its units hold (store.py defines the counts)
        records = dict(c.execute("SELECT source, SUM(records) FROM units GROUP BY source").fetchall())
        for (name,) in c.execute("SELECT name FROM sources").fetchall():
            if records.get(name):
                c.execute("UPDATE sources SET records = ? WHERE name = ?", (records[name], name))
            else:
                c.execute("DELETE FROM sources WHERE name = ?", (name,))
        c.execute("DELETE FROM ecosystems")
        c.execute(
            "INSERT INTO ecosystems (ecosystem, advisories, affected) SELECT ecosystem, "
            "COUNT(DISTINCT advisory_id), COUNT(*) FROM affected WHERE withdrawn = 0 GROUP BY ecosystem"
        )
        meta = {"schema_version": str(SCHEMA_VERSION), "updated_at": stamp}
        if new:
            meta["built_at"] = stamp
        c.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", list(meta.items()))


def _feed_of(source: str) -> str:
    return osv.FEED if source == osv.FEED or source.startswith("osv:") else source


def _pump(writer: Writer, items: list[Item], workers: int | None, progress: Progress | None) -> None:
    st = writer.stats
    done = 0
    total = len(items)
    # closing(): on any way out the pool is stopped now, not when the generator is collected
    with contextlib.closing(parse_items(items, workers)) as results:
        for n, (units, warnings, dropped, skipped) in results:
            interrupt.check()
            for u in units:
                writer.add(u)
            writer.flush()
            room = 1000 - len(st.warnings)
            st.warnings.extend(warnings[:room])
            st.warnings_dropped += dropped + max(0, len(warnings) - room)
            st.skipped += skipped
            done += n
            if progress:
                progress(done, total)


def build_new(
    target: Path,
    items: list[Item],
    *,
    workers: int | None = None,
    progress: Progress | None = None,
    prepare: Callable[[sqlite3.Connection], None] | None = None,
    stats: ImportStats | None = None,
) -> ImportStats:
    """Build a new database at `target` (temp file + os.replace; nothing left behind on failure).
    `prepare(conn)` runs after the schema exists and before the import (db update copies the
    rows it keeps from the old file there)."""
    st = stats or ImportStats()
    t0 = time.perf_counter()
    if (target.exists() or target.is_symlink()) and not target.is_file():
        # renaming over a device or FIFO (--db /dev/null) would replace it with the database
        raise FeedError(f"{target}: not a regular file; give --db the path of a database file")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise FeedError(fserrors.problem(e.filename or target.parent, e, "write")) from None
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as e:  # named by the directory: the temp file's name means nothing to the user
        raise FeedError(fserrors.problem(target.parent, e, "write")) from None
    os.close(fd)
    ok = False
    conn: sqlite3.Connection | None = None
    try:
        interrupt.register_temp(tmp)
        conn = sqlite3.connect(tmp, isolation_level=None)
        interrupt.sqlite_guard(conn)
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA cache_size = -65536")
        conn.executescript(TABLES if prepare is None else SCHEMA)
        empty = True
        if prepare is not None:
            prepare(conn)  # outside a transaction: it may ATTACH the old file
            empty = conn.execute("SELECT COUNT(*) FROM units").fetchone()[0] == 0
        conn.execute("PRAGMA locking_mode = EXCLUSIVE")
        conn.execute("BEGIN")
        w = Writer(conn, st, empty=empty)
        _pump(w, items, workers, progress)
        w.finish(new=True)
        st.database = counts(lambda sql: conn.execute(sql).fetchall())
        for stmt in INDEXES.strip().split(";"):  # idempotent: a prepared file already has them
            if stmt.strip():
                conn.execute(stmt)
        conn.execute("COMMIT")
        conn.execute("PRAGMA journal_mode = DELETE")
        conn.close()
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
        ok = True
    except sqlite3.Error as e:
        interrupt.check()  # a statement a stop signal cut short
        raise FeedError(
            f"{target}: cannot write the advisory database ({e}); check free space and permissions"
        ) from None
    finally:
        if not ok:
            with contextlib.suppress(sqlite3.Error, AttributeError):
                conn.close()  # type: ignore[union-attr]
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        interrupt.forget_temp(tmp)
    st.path = str(target)
    st.files = len(items)
    st.seconds = time.perf_counter() - t0
    return st


def update_existing(
    target: Path, items: list[Item], *, workers: int | None = None, progress: Progress | None = None
) -> ImportStats:
    st = ImportStats()
    t0 = time.perf_counter()
    try:
        conn = sqlite3.connect(target, isolation_level=None, timeout=60)
    except sqlite3.Error as e:
        raise FeedError(
            f"{target}: cannot open the advisory database ({e}); check the path and permissions"
        ) from None
    try:
        check_schema(conn, target)
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("BEGIN IMMEDIATE")
        try:
            interrupt.sqlite_guard(conn)
            for stmt in CVSS_TABLE.split(";"):  # a file from before the cvss table gets it now
                if stmt.strip():
                    conn.execute(stmt)
            w = Writer(conn, st, empty=False)
            _pump(w, items, workers, progress)
            w.finish(new=False)
            st.database = counts(lambda sql: conn.execute(sql).fetchall())
            conn.execute("COMMIT")
        except BaseException:
            conn.set_progress_handler(None, 0)  # the rollback itself must run to its end
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise
    except sqlite3.Error as e:
        interrupt.check()  # a statement a stop signal cut short (rolled back above)
        raise FeedError(
            f"{target}: cannot write the advisory database ({e}); check free space and permissions; it was "
            "left as it was"
        ) from None
    finally:
        conn.close()
    st.path = str(target)
    st.files = len(items)
    st.seconds = time.perf_counter() - t0
    return st


def import_paths(
    paths: Iterable[str | os.PathLike[str]],
    db: str | os.PathLike[str] | None = None,
    *,
    workers: int | None = None,
    progress: Progress | None = None,
) -> ImportStats:
    """Import files/directories/zips into the database (created when missing)."""
    from containment.advisories.store import default_path

    target = default_path(db)
    try:
        items = collect(paths)
        if target.exists():
            return update_existing(target, items, workers=workers, progress=progress)
        return build_new(target, items, workers=workers, progress=progress)
    except FeedError as e:
        msg = str(e)
        if "left as it was" not in msg:
            msg += "; the database was not changed"
        raise FeedError(msg) from None
