"""`db update`: download OSV's per-ecosystem zips and build a NEW database, swapped in atomically.

Source layout (OSV's public bucket, or a mirror of it): ``<base>/<ecosystem>/all.zip``.
``base`` is ``--source`` > ``$CONTAINMENT_DB_SOURCE`` > DEFAULT_SOURCE; an http(s) URL, a
``file://`` URL or a local directory with the same layout.

Ecosystems: ``--ecosystem`` > the ecosystems already in the database (by base name: an
``Alpine:v3.11`` from the secdb means "Alpine") > DEFAULT_ECOSYSTEMS.

The new file is built next to the target (temp file) and renamed over it only when every
download and the import succeeded; any failure is one FeedError ending with what became of the
database: "the existing database was kept", or "no advisory database was created" when there
was none. A failure of the transfer itself (network unreachable, timeout, an HTTP error other
than 404, a download cut short or damaged) is a DownloadError (CLI exit code 3), and its message
names ``--source DIR|URL`` for an offline mirror; a 404 (no such ecosystem on the mirror) or a
missing mirror directory is the user's input (FeedError, exit 2). What the new file keeps from
the old one: everything except the OSV records of the ecosystems being updated (so
hand-imported Alpine secdb / Debian tracker data and other ecosystems survive; records removed
upstream disappear).

Downloads are cached in ``<cache dir>/db/downloads/<ecosystem>/all.zip`` with their ETag /
Last-Modified; a 304 answer reuses the cached zip. The cache entry is committed only after
the whole update succeeded.

NVD (the CVSS of CVEs, the severity fallback for findings nobody else rated): a mirror given with
``--source``/``$CONTAINMENT_DB_SOURCE`` may hold NVD's CVE JSON 2.0 feeds in ``<base>/nvd/``:
a directory, every ``nvdcve-2.0-*.json``, ``.json.gz`` or ``.json.zip`` in it (in name order, so
the modified feed comes after the year feeds); over HTTP(S), NVD's own file names,
``nvdcve-2.0-modified.json.gz`` first (a 404 there: the mirror has no NVD, nothing more is asked)
and then ``nvdcve-2.0-<year>.json.gz`` from 2002 to this year (a missing year is skipped).
osv.dev's bucket has no such folder and is not asked. What the update does not download (NVD,
when the mirror has none) is kept from the old file.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
import tempfile
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from containment import interrupt
from containment.advisories import importer
from containment.advisories.names import ecosystem_base
from containment.advisories.store import SCHEMA_VERSION, AdvisoryStore, default_path
from containment.ecosystems import LANGUAGES
from containment.model import DownloadError, FeedError

DEFAULT_SOURCE = "https://osv-vulnerabilities.storage.googleapis.com"
# Every language ecosystem a cataloger emits that osv.dev publishes (containment.ecosystems; a
# hand-kept list here had lost SwiftURL and CRAN), then the distributions' feeds.
DEFAULT_ECOSYSTEMS = (
    *(e.osv for e in LANGUAGES if e.osv and e.feed),
    "Debian",
    "Alpine",
    "Ubuntu",
)
KEPT = "the existing database was kept"
NONE_CREATED = "no advisory database was created"
OFFLINE = "offline? give --source DIR|URL a mirror with <ecosystem>/all.zip (or set CONTAINMENT_DB_SOURCE)"

DownloadProgress = Callable[[str, int, int | None], None]  # ecosystem, bytes done, total


NVD_DIR = "nvd"
NVD_FILE = re.compile(r"^nvdcve-2\.0-[^/]*\.json(?:\.gz|\.zip)?$", re.IGNORECASE)


def resolve_source(flag: str | None = None) -> str:
    return flag or os.environ.get("CONTAINMENT_DB_SOURCE") or DEFAULT_SOURCE


def ecosystems_in_use(db: Path) -> list[str]:
    if db.is_file():
        try:
            with AdvisoryStore.open(str(db)) as s:
                bases = list(dict.fromkeys(ecosystem_base(e) for e in s.ecosystems()))
            if bases:
                return bases
        except FeedError:
            pass
    return list(DEFAULT_ECOSYSTEMS)


def _downloads_dir() -> Path:
    from containment.cache import cache_dir

    return cache_dir() / "db" / "downloads"


def _safe(eco: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", eco) or "_"


@dataclass
class Fetched:
    ecosystem: str
    path: Path
    location: str
    cached: bool = False
    commit: Callable[[], None] | None = None  # moves a fresh download into the cache
    cleanup: Callable[[], None] | None = None


def _local(base: str) -> Path | None:
    if base.startswith("file://"):
        return Path(urllib.parse.unquote(urllib.parse.urlparse(base).path))
    if "://" not in base:
        return Path(base).expanduser()
    return None


def fetch(
    base: str,
    eco: str,
    client: Any = None,
    progress: DownloadProgress | None = None,
    use_cache: bool = True,
    rel: str = "",
) -> Fetched | None:
    """`<base>/<eco>/all.zip` (or `<base>/<rel>` when given: an NVD feed file, which may be
    missing: None on a 404)."""
    local = _local(base)
    if rel:
        url = f"{base.rstrip('/')}/{rel}"
        return _download(url, _safe(rel), rel.rsplit("/", 1)[-1], rel, client, progress, use_cache, True)
    if local is not None:
        p = local / eco / "all.zip"
        if not p.is_file():
            if not local.is_dir():
                raise FeedError(
                    f"{local}: no such mirror directory; give --source DIR|URL a mirror directory or URL"
                )
            raise FeedError(
                f"{p}: not found (no ecosystem {eco!r} in the mirror); pick ecosystems it has with -e, "
                "or another mirror with --source DIR|URL"
            )
        return Fetched(eco, p, str(p))
    url = f"{base.rstrip('/')}/{urllib.parse.quote(eco, safe=':')}/all.zip"
    return _download(url, _safe(eco), "all.zip", eco, client, progress, use_cache, False)


def _download(
    url: str,
    cache_key: str,
    fname: str,
    eco: str,
    client: Any,
    progress: DownloadProgress | None,
    use_cache: bool,
    missing_ok: bool,
) -> Fetched | None:
    """One file over HTTP into the download cache (kept under its own name, so the importer
    knows a .json.gz / NVD feed by it), conditional on the cached copy's ETag/Last-Modified."""
    import httpx

    cdir = _downloads_dir() / cache_key
    cached, meta_p = cdir / fname, cdir / "meta.json"
    headers: dict[str, str] = {}
    meta: dict[str, Any] = {}
    if use_cache and cached.is_file() and meta_p.is_file():
        with contextlib.suppress(OSError, ValueError):
            meta = json.loads(meta_p.read_text())
        if meta.get("url") == url:
            if meta.get("etag"):
                headers["If-None-Match"] = meta["etag"]
            if meta.get("last_modified"):
                headers["If-Modified-Since"] = meta["last_modified"]
    try:
        cdir.mkdir(parents=True, exist_ok=True)
        tmpdir = tempfile.mkdtemp(dir=cdir, prefix=".part-")
        interrupt.register_temp(tmpdir)  # until commit() or cleanup(); a forced exit removes it
        tmp = os.path.join(tmpdir, fname)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as e:
        raise FeedError(
            f"{cdir}: cannot write downloads ({e.strerror or e}); check the cache dir's space and permissions"
        ) from None
    keep = False
    try:
        with os.fdopen(fd, "wb") as out, client.stream("GET", url, headers=headers) as r:
            if r.status_code == 304 and headers:
                return Fetched(eco, cached, url, cached=True)
            if r.status_code == 404 and missing_ok:
                return None
            if r.status_code == 404:
                raise FeedError(
                    f"{url}: HTTP 404; no ecosystem {eco!r} on the mirror? pick others with -e, "
                    "or another mirror with --source DIR|URL"
                )
            if r.status_code != 200:
                raise DownloadError(f"{url}: HTTP {r.status_code}; retry later; {OFFLINE}")
            total = int(r.headers.get("content-length") or 0) or None
            done = 0
            for chunk in r.iter_bytes(1 << 20):
                out.write(chunk)
                done += len(chunk)
                if progress:
                    progress(eco, done, total)
            if total is not None and done != total:
                raise DownloadError(f"{url}: download cut short ({done} of {total} bytes); retry; {OFFLINE}")
        new_meta = {
            "url": url,
            "etag": r.headers.get("etag", ""),
            "last_modified": r.headers.get("last-modified", ""),
        }
        keep = True

        def commit() -> None:
            with contextlib.suppress(OSError):
                os.replace(tmp, cached)
                meta_p.write_text(json.dumps(new_meta))
            with contextlib.suppress(OSError):
                os.rmdir(tmpdir)
            interrupt.forget_temp(tmpdir)

        def cleanup() -> None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            with contextlib.suppress(OSError):
                os.rmdir(tmpdir)
            interrupt.forget_temp(tmpdir)

        return Fetched(eco, Path(tmp), url, commit=commit, cleanup=cleanup)
    except httpx.HTTPError as e:
        raise DownloadError(
            f"{url}: cannot download ({type(e).__name__}: {e or 'no detail'}); check the network or retry; {OFFLINE}"
        ) from None
    except OSError as e:
        raise FeedError(
            f"{url}: cannot save the download ({e.strerror or e}); check the cache dir's space and permissions"
        ) from None
    finally:
        if not keep:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            with contextlib.suppress(OSError):
                os.rmdir(tmpdir)
            interrupt.forget_temp(tmpdir)


def fetch_nvd(base: str, client: Any = None, progress: DownloadProgress | None = None) -> list[Fetched]:
    """NVD's CVE JSON 2.0 feed files from the mirror's nvd/ folder (see the module docstring),
    the modified feed last."""
    local = _local(base)
    if local is not None:
        d = local / NVD_DIR
        if not d.is_dir():
            return []
        return [
            Fetched(NVD_DIR, p, str(p)) for p in sorted(d.iterdir()) if p.is_file() and NVD_FILE.match(p.name)
        ]
    if base.rstrip("/") == DEFAULT_SOURCE:
        return []
    modified = fetch(base, NVD_DIR, client, progress, rel=f"{NVD_DIR}/nvdcve-2.0-modified.json.gz")
    if modified is None:
        return []
    import datetime

    out = []
    for year in range(2002, datetime.datetime.now(datetime.UTC).year + 1):
        f = fetch(base, NVD_DIR, client, progress, rel=f"{NVD_DIR}/nvdcve-2.0-{year}.json.gz")
        if f is not None:
            out.append(f)
    return [*out, modified]


def _items_of(f: Fetched) -> list[importer.Item]:
    if f.path.name.lower().endswith(".zip"):
        return importer.zip_members(str(f.path), f.location)
    try:
        size = f.path.stat().st_size
    except OSError:
        size = 0
    return [(str(f.path), None, f.location, size)]


@dataclass
class UpdateResult:
    stats: importer.ImportStats
    ecosystems: list[str]
    source: str
    downloads: list[dict[str, Any]] = field(default_factory=list)


def _carry_over(
    old: Path, ecos: set[str], warn: Callable[[str], None]
) -> Callable[[sqlite3.Connection], None]:
    def base_in(source: str | None) -> int:
        if not source or not source.startswith("osv:"):
            return 0
        return 1 if ecosystem_base(source[4:]) in ecos else 0

    def prepare(conn: sqlite3.Connection) -> None:
        conn.execute("ATTACH DATABASE ? AS old", (str(old),))
        try:
            try:
                ver = conn.execute("SELECT value FROM old.meta WHERE key = 'schema_version'").fetchone()
            except sqlite3.DatabaseError:
                ver = None
            if not ver or ver[0] != str(SCHEMA_VERSION):
                warn(f"{old}: other schema version; rebuilt from the downloads only (re-import native feeds)")
                return
            conn.create_function("updated_osv", 1, base_in, deterministic=True)
            conn.execute("BEGIN")
            conn.execute(
                "INSERT INTO main.units SELECT * FROM old.units WHERE NOT (feed = 'osv' AND updated_osv(source))"
            )
            conn.execute(
                "INSERT INTO main.advisories SELECT * FROM old.advisories "
                "WHERE NOT (feed = 'osv' AND updated_osv(source))"
            )
            conn.execute(
                "INSERT INTO main.affected SELECT * FROM old.affected a WHERE a.feed != 'osv' OR EXISTS "
                "(SELECT 1 FROM main.units u WHERE u.feed = 'osv' AND u.unit = a.unit)"
            )
            if conn.execute(
                "SELECT 1 FROM old.sqlite_master WHERE type = 'table' AND name = 'cvss'"
            ).fetchone():
                conn.execute(
                    "INSERT INTO main.cvss SELECT * FROM old.cvss c WHERE c.feed != 'osv' OR EXISTS "
                    "(SELECT 1 FROM main.units u WHERE u.feed = 'osv' AND u.unit = c.unit)"
                )
            conn.execute("INSERT INTO main.sources SELECT * FROM old.sources WHERE NOT updated_osv(name)")
            from containment.advisories import exploits

            exploits.carry_over(conn)  # KEV / EPSS: kept until the mirror brings newer ones
            conn.execute("COMMIT")
        finally:
            conn.execute("DETACH DATABASE old")

    return prepare


def update(
    db: str | os.PathLike[str] | None = None,
    source: str | None = None,
    ecosystems: list[str] | None = None,
    *,
    download_progress: DownloadProgress | None = None,
    import_progress: importer.Progress | None = None,
    warn: Callable[[str], None] | None = None,
    workers: int | None = None,
) -> UpdateResult:
    import httpx

    from containment import __version__

    target = default_path(db)
    base = resolve_source(source)
    ecos = list(dict.fromkeys(e.strip() for e in (ecosystems or ecosystems_in_use(target)) if e.strip()))
    fetched: list[Fetched] = []
    notes: list[str] = []
    ok = False
    warn_ = warn or notes.append
    outcome = KEPT if target.is_file() else NONE_CREATED
    try:
        with httpx.Client(
            timeout=httpx.Timeout(60.0, connect=15.0),
            follow_redirects=True,
            headers={"User-Agent": f"containment/{__version__}"},
        ) as client:
            for eco in ecos:
                got = fetch(base, eco, client, download_progress)
                assert got is not None  # only an NVD file may be missing
                fetched.append(got)
            fetched.extend(fetch_nvd(base, client, download_progress))
        items: list[importer.Item] = []
        for f in fetched:
            try:
                items.extend(_items_of(f))
            except FeedError:
                if f.location == str(f.path):  # a mirror directory's zip: the input is bad
                    raise
                if f.cached:  # a damaged cache entry: forget it, so the next run downloads again
                    with contextlib.suppress(OSError):
                        (f.path.parent / "meta.json").unlink()
                raise DownloadError(
                    f"{f.location}: damaged or truncated zip download; retry; {OFFLINE}"
                ) from None
        prepare = _carry_over(target, set(ecos), warn_) if target.is_file() else None
        stats = importer.build_new(target, items, workers=workers, progress=import_progress, prepare=prepare)
        ok = True
    except FeedError as e:
        msg = str(e)
        kind = type(e)
        for f in fetched:  # a member of a downloaded zip that cannot be read: the transfer's fault
            if f.location != str(f.path) and str(f.path) in msg:
                msg, kind = f"{msg.replace(str(f.path), f.location)}; {OFFLINE}", DownloadError
        if KEPT not in msg and NONE_CREATED not in msg:
            msg = f"{msg}; {outcome}"
        raise kind(msg) from None
    finally:
        for f in fetched:
            if ok and f.commit:
                f.commit()
            elif f.cleanup:
                f.cleanup()
    from containment.advisories import exploits

    try:  # KEV and EPSS, when the mirror holds them (osv.dev's bucket does not: nothing asked)
        exploits.update_from_mirror(target, base)
    except FeedError as e:
        notes.append(f"known-exploited (KEV) / EPSS feeds not updated, the previous ones kept: {e}")
    stats.warnings.extend(notes)
    return UpdateResult(
        stats,
        ecos,
        base,
        [{"ecosystem": f.ecosystem, "location": f.location, "cached": f.cached} for f in fetched],
    )
