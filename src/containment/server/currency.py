"""Findings that stay current: re-evaluation after the advisory DB changes, and the alerts it sends.

Nothing is rescanned (server/reevaluate.py matches the stored inventories). This module decides
*when* that runs and *where its alerts go*:

- the advisory DB's version is the SHA-256 of its ``units`` table (feed, unit, digest: what
  `db import` and `db update` compare to skip unchanged records), so an import that changes
  nothing is the same version, and two imports in one second are two versions;
- the watcher (`Watcher`, a thread started by the app's lifespan) stats the DB file every
  `interval` seconds (cheap: one stat); only when its mtime, size or inode moved does it hash the
  units and compare with the snapshot the last evaluation left (`DATA/advisory-snapshot.db`).
  A different version enqueues one job of kind "reevaluate" keyed by the version: `containment db
  update` (or `db import`) on the server's machine is enough, and an unchanged DB queues nothing.
  A job with that key already queued or running is not doubled (two servers on one database);
  once it ran, the snapshot *is* that version, so nothing is queued again, and a DB rolled back
  to an older version (X -> Y -> X) is evaluated again because the snapshot says Y;
- `POST /api/v1/reevaluate` (security, operations; body `{}` or `{"full": true}`) queues the same
  job by hand and answers 202 with its id;
- the job runs `reevaluate()` with the stages the gate decides with (`stages_for`: for each
  stage, the active governed policy that covers it, else the registry's own policy; thresholds =
  `max_severity`), under a file lock (one evaluation of a data directory at a time, whatever
  process runs it). Its alerts are an outbox: inside each transaction that stores a batch of
  findings, one "notify" job per configured webhook that wants some of that batch's alerts
  (server/webhooks.py) is queued. The job then records `findings.reevaluated` (the figures and
  the alerts) in the transaction that acks it;
- a "notify" job POSTs the alerts (JSON or Slack text, server/notify.py, its own quick retries)
  and records `notify.delivery` with the outcome of every attempt; a receiver that is down or
  answers 5xx/429 fails the job, which the queue retries with backoff (dead after 5 attempts,
  the error on the job row); one that refuses (another 4xx) is not retried.

Killed workers: wherever a worker dies (between two batches, after the last batch, after the
snapshot was rewritten, before the ack), each image's findings are either unchanged (the rerun
of the job, once its lease expires, gains and alerts again) or changed *with* their notify jobs
committed; no alert is lost and none is queued twice (tests/unit/server/test_alert_outbox.py
kills a real worker process at each point). Deliveries are at least once: a worker killed
between a POST and its ack sends that POST again; every alert carries a stable `key`
(reevaluate.alert_key) by which a receiver drops the repeat. The webhooks are read before the
run, so a broken webhooks file fails the job before any finding changes.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from containment.model import ContainmentError
from containment.server import config, webhooks
from containment.server.authz import API
from containment.server.jobs import ClaimedJob, Jobs

if TYPE_CHECKING:
    from containment.server.reevaluate import Alert, StageLimits
    from containment.server.store import Store

log = logging.getLogger("containment.server.currency")

REEVALUATE = "reevaluate"
NOTIFY = "notify"
ACTOR = "reevaluate"
DEFAULT_INTERVAL = 10.0
LOCK_NAME = "reevaluate"  # config.exclusive: one evaluation at a time, on any machine
MAX_AUDITED_ALERTS = 200

router = APIRouter(prefix=API)


# ---------------------------------------------------------------------- versions


def _ro(path: Path) -> str:
    return f"file:{urllib.parse.quote(str(path.resolve()))}?mode=ro"


def units_version(path: str | os.PathLike[str]) -> str | None:
    """SHA-256 of the (feed, unit, digest) rows of an advisory DB or a snapshot; None when the
    file is missing or not one (yet: a DB being replaced is read again at the next tick)."""
    p = Path(path)
    if not p.is_file():
        return None
    h = hashlib.sha256()
    try:
        conn = sqlite3.connect(_ro(p), uri=True, isolation_level=None)
        try:
            for feed, unit, digest in conn.execute(
                "SELECT feed, unit, digest FROM units ORDER BY feed, unit"
            ):
                h.update(f"{feed}\x00{unit}\x00{digest}\n".encode("utf-8", "surrogatepass"))
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return "sha256:" + h.hexdigest()


def advisory_db(path: str | os.PathLike[str] | None = None) -> Path:
    """The DB the server evaluates against: `path`, else the CLI's own default
    ($CONTAINMENT_DB, else the cache dir), so `containment db update` there is seen."""
    from containment.advisories.store import default_path

    return default_path(path)


def snapshot_path(data_dir: str | os.PathLike[str]) -> Path:
    from containment.server.reevaluate import SNAPSHOT_NAME

    return Path(data_dir) / SNAPSHOT_NAME


# ---------------------------------------------------------------------- stages


def stages_for(data_dir: str | os.PathLike[str], store: Any = None) -> dict[str, StageLimits]:
    """Stage -> thresholds, from the policy the registry gate decides that stage with: the
    server's active governed policy covering it (governance.active_policies: uploaded, then
    activated by a second person) when there is one, else the policy of the configured registry
    gating it (registries in host order; the first one's limits). The stages of the active
    policies that no registry gates count too (images decided there by other means)."""
    from containment.policy.policyfile import parse_policy
    from containment.server.reevaluate import thresholds
    from containment.server.registry_gate import load_registries

    governed = _active_policies(store)
    out: dict[str, StageLimits] = {}
    for stage, active in governed.items():
        limits = thresholds(active.policy)
        if stage in limits:
            out[stage] = limits[stage]
    for host, cfg in sorted((load_registries(store) if store is not None else {}).items()):
        if not cfg.policy or not cfg.stage or cfg.stage in governed:
            continue  # the governed policy decides that stage at the gate: its limits, or none
        try:
            pol = parse_policy(cfg.policy, cfg.policy_source, str(Path(cfg.policy_source).parent))
        except ContainmentError as e:
            log.warning("registry policy unreadable", extra={"registry": host, "detail": str(e)})
            continue
        limits = thresholds(pol)
        if cfg.stage in limits:
            out.setdefault(cfg.stage, limits[cfg.stage])
    return out


def _active_policies(store: Any) -> dict[str, Any]:
    if store is None or not hasattr(store, "read"):
        return {}
    from containment.server.governance import active_policies

    return active_policies(store)


# ---------------------------------------------------------------------- queueing


def enqueue(
    jobs: Jobs,
    db_path: Path,
    full: bool = False,
    actor: str = "watcher",
    version: str | None = None,
    only_if: Callable[[Any], bool] | None = None,
) -> tuple[int, bool, str]:
    """Queue a re-evaluation of the DB at `db_path`: (job id, added, DB version).
    ContainmentError when there is no DB there."""
    version = version or units_version(db_path)
    if version is None:
        raise ContainmentError(
            f"no advisory database at {db_path}; run `containment db update` (or db import) on the server"
        )
    key = version + ("+full" if full else "")
    payload = {"version": version, "full": bool(full), "db": str(db_path)}
    with jobs.store.write() as s:
        if only_if is not None and not only_if(s):  # checked under the write lock: no race with a run
            return 0, False, version
        jid, new = jobs.enqueue(REEVALUATE, key, payload, s=s)
        if new:
            jobs.store._audit(s, actor, "findings.reevaluate.queued", key, {"job": jid, "full": bool(full)})
    return jid, new, version


class Watcher:
    """Stats the advisory DB every `interval` seconds; queues a job when its version moved."""

    def __init__(
        self,
        jobs: Jobs,
        data_dir: Path,
        db_path: Path,
        interval: float = DEFAULT_INTERVAL,
        on_enqueue: Callable[[int], None] | None = None,
    ) -> None:
        self.jobs = jobs
        self.data_dir = data_dir
        self.db_path = db_path
        self.interval = interval
        self.on_enqueue = on_enqueue
        self._seen: tuple[int, int, int] | None = None
        self._version: str | None = None  # the DB's version when it was last looked at
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def check(self) -> int | None:
        """One look: the id of the job queued now, or None (nothing moved, or already queued).
        A job is queued when the DB's version moved, and also when an image is stored that no
        run has evaluated yet (an SBOM or scan uploaded while the DB stayed the same): such a run
        matches only those images, and the packages of changed advisories if any."""
        try:
            st = os.stat(self.db_path)
        except OSError:
            self._seen = None
            return None
        seen = (st.st_mtime_ns, st.st_size, st.st_ino)
        if seen != self._seen:
            version = units_version(self.db_path)
            if version is None:
                return None  # not readable yet (being written): look again next tick
            self._seen, self._version = seen, version
            if version != evaluated_version(self.jobs.store, snapshot_path(self.data_dir)):
                return self._enqueue(version, "advisory database changed")
        if self._version and self._unevaluated():
            # asked again inside the enqueue's write transaction: a run that finished between
            # this look and the enqueue has evaluated them, and must not be followed by another
            with_lock = self._unevaluated_in
            return self._enqueue(self._version, "images not evaluated yet", with_lock)
        return None

    def _enqueue(self, version: str, why: str, only_if: Callable[[Any], bool] | None = None) -> int | None:
        jid, new, _ = enqueue(self.jobs, self.db_path, version=version, only_if=only_if)
        if new:
            log.info(why, extra={"job": jid, "version": version})
            if self.on_enqueue:
                self.on_enqueue(jid)
        return jid if new else None

    def _unevaluated(self) -> bool:
        """Whether some stored inventory's image has no re-evaluation yet (one indexed probe)."""
        with self.jobs.store.read() as s:
            return self._unevaluated_in(s)

    @staticmethod
    def _unevaluated_in(s: Any) -> bool:
        from sqlalchemy import exists, select

        from containment.server.models import InventoryRow, Scan
        from containment.server.reevaluate import ACTOR

        evaluated = exists().where(Scan.image_id == InventoryRow.image_id, Scan.actor == ACTOR)
        return s.execute(select(InventoryRow.id).where(~evaluated).limit(1)).first() is not None

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="containment-db-watcher", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.check()
            except Exception as e:  # the store away for a moment: look again next tick
                log.warning("advisory watch failed", extra={"detail": f"{type(e).__name__}: {e}"})
            self._stop.wait(self.interval)


# ---------------------------------------------------------------------- handlers


def evaluated_version(store: Any, snapshot: Path) -> str | None:
    """The advisory version the stored findings were last evaluated against: the database's
    record (config.EVALUATED: every process on every machine agrees), else (no run since
    migration 0004) this machine's snapshot's; "" : a run was cut short, its version unknown."""
    recorded = config.get_state(store, config.EVALUATED) if hasattr(store, "read") else None
    return recorded if recorded is not None else units_version(snapshot)


def _hook_id(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def reevaluate_handler(
    store: Store, data_dir: str | os.PathLike[str], db_path: str | os.PathLike[str] | None = None
) -> Callable[[ClaimedJob], None]:
    """The "reevaluate" job: evaluate (each batch's notifications queued with its findings),
    then record and ack (one transaction)."""
    d = Path(data_dir)

    def handle(job: ClaimedJob) -> None:
        from containment.server.reevaluate import reevaluate

        db = Path(job.payload.get("db") or advisory_db(db_path))
        if not db.is_file():  # the server's path, not on this worker's machine: the worker's own DB
            db = advisory_db(db_path)
        hooks = webhooks.load(store)  # before the run: a broken file fails the job with nothing changed
        queue = Jobs(store)

        def outbox(s: Any, batch: list[Alert]) -> None:
            """In the transaction storing these alerts' findings (reevaluate._write): their
            deliveries commit with them. Keyed by the batch's first alert (its scans row is new
            in this transaction), so the job is this batch's and this hook's alone."""
            alerts = [a.to_json() for a in batch]
            for hook in hooks:
                mine = [a for a in alerts if hook.wants(a["stage"])]
                if mine:
                    hid = _hook_id(hook.url)
                    queue.enqueue(
                        NOTIFY,
                        f"alerts:{mine[0]['key']}:hook:{hid}",
                        {"hook": hid, "kind": hook.kind, "where": hook.redacted, "alerts": mine},
                        once=True,
                        s=s,
                    )

        snap = snapshot_path(d)  # this machine's: the advisory units the last run HERE saw
        with config.exclusive(store, LOCK_NAME):
            # another machine evaluated since (or a run was cut short): this snapshot is not what
            # the stored findings came from, so every package is matched again (gains still alert)
            evaluated = evaluated_version(store, snap)
            rematch = evaluated is not None and evaluated != units_version(snap)
            with store.write() as s:  # a run cut short leaves "": the next one rematches
                config.set_state(s, config.EVALUATED, "")
            stages = stages_for(d, store)
            res = reevaluate(
                store, db, snap, stages, full=bool(job.payload.get("full")), outbox=outbox, rematch=rematch
            )
            with store.write() as s:
                config.set_state(s, config.EVALUATED, units_version(snap) or "")
        alerts = [a.to_json() for a in res.alerts]
        figures = {k: v for k, v in res.to_json().items() if k != "alerts"}
        with store.write() as s:
            store._audit(
                s,
                ACTOR,
                "findings.reevaluated",
                job.key,
                {
                    "job": job.id,
                    **figures,
                    "stages": sorted(stages),
                    "alert_count": len(alerts),
                    "alerts": alerts[:MAX_AUDITED_ALERTS],
                },
            )
            job.finish(s)

    return handle


def alert_from_json(a: Mapping[str, Any]) -> Alert:
    from containment.server.reevaluate import Alert

    return Alert(
        digest=str(a["digest"]),
        stage=str(a["stage"]),
        severity=str(a["severity"]),
        count=int(a["count"]),
        limit=int(a["limit"]),
        gained=tuple((str(g["id"]), str(g["package"]), str(g["version"])) for g in a.get("gained", [])),
        repositories=tuple(str(r) for r in a.get("repositories", [])),
        key=str(a.get("key", "")),
    )


def notify_handler(store: Store, data_dir: str | os.PathLike[str]) -> Callable[[ClaimedJob], None]:
    """The "notify" job: one webhook's delivery, audited; retried by the queue while it may pass."""
    from containment.server.notify import RETRY_STATUS

    def handle(job: ClaimedJob) -> None:
        p = job.payload
        hook = next((h for h in webhooks.load(store) if _hook_id(h.url) == p.get("hook")), None)
        alerts = [alert_from_json(a) for a in p.get("alerts", [])]
        if hook is None:
            with store.write() as s:
                store._audit(
                    s,
                    ACTOR,
                    "notify.dropped",
                    str(p.get("where", "")),
                    {"job": job.id, "alerts": len(alerts), "reason": "the webhook is no longer configured"},
                )
                job.finish(s)
            return
        got = hook.webhook().notify(alerts)
        if got is None:
            with store.write() as s:
                job.finish(s)
            return
        final = got.ok or (got.status != 0 and got.status not in RETRY_STATUS)
        with store.write() as s:
            store._audit(
                s,
                ACTOR,
                "notify.delivery",
                hook.redacted,
                {
                    "job": job.id,
                    "attempt": job.attempt,
                    "kind": hook.kind,
                    "alerts": len(alerts),
                    "ok": got.ok,
                    "status": got.status,
                    "tries": got.attempts,
                    "error": got.error,
                },
            )
            if final:
                job.finish(s)
        if not final:
            raise ContainmentError(
                f"webhook {hook.redacted}: not delivered after {got.attempts} tries ({got.error}); "
                "the job is retried with backoff"
            )

    return handle


def handlers(
    store: Store, data_dir: str | os.PathLike[str], db_path: str | os.PathLike[str] | None = None
) -> dict[str, Callable[[ClaimedJob], None]]:
    return {REEVALUATE: reevaluate_handler(store, data_dir, db_path), NOTIFY: notify_handler(store, data_dir)}


# ---------------------------------------------------------------------- the service


class Currency:
    """What the app runs for this module: the watcher, on the server's tasks.Runner (the one the
    registry gate uses: the kinds "reevaluate", "notify" and "registry-sync" are registered in
    server/tasks.py, so in-process workers or `containment worker` processes run them)."""

    def __init__(
        self,
        store: Store,
        data_dir: str | os.PathLike[str],
        db_path: str | os.PathLike[str] | None = None,
        interval: float | None = None,  # None: no watcher (POST /api/v1/reevaluate only)
        runner: Any = None,
    ) -> None:
        from containment.server import tasks

        self.store = store
        self.data_dir = Path(data_dir)
        self.db_path = advisory_db(db_path)
        self.own_runner = runner is None
        self.runner = runner if runner is not None else tasks.Runner(store, self.data_dir)
        self.jobs: Jobs = self.runner.jobs
        self.watcher = (
            Watcher(self.jobs, self.data_dir, self.db_path, interval, on_enqueue=self.submitted)
            if interval
            else None
        )

    def submitted(self, jid: int) -> None:
        self.runner.submitted([jid])

    def resume(self) -> None:
        """Start the workers (jobs queued by the CLI, e.g. `registry add`'s sync, or left by a
        stopped or killed server run: their leases expire) and the watcher."""
        self.runner.start()
        if self.watcher is not None:
            self.watcher.start()

    def stop(self, timeout: float = 10.0) -> None:
        if self.watcher is not None:
            self.watcher.stop()
        if self.own_runner:
            self.runner.stop(timeout)


def currency_for(
    store: Any,
    data_dir: str | os.PathLike[str] | None = None,
    db_path: str | os.PathLike[str] | None = None,
    interval: float | None = None,
    gate: Any = None,
) -> Currency | None:
    """The service of a real Store (None for a test double), on the gate's runner when there is one."""
    from containment.server.registry_gate import data_dir_of
    from containment.server.store import Store

    if not isinstance(store, Store):
        return None
    d = data_dir if data_dir is not None else data_dir_of(store)
    return Currency(store, d, db_path, interval, runner=getattr(gate, "runner", None))


# ---------------------------------------------------------------------- the route


@router.post(
    "/reevaluate",
    summary="Re-evaluate stored images against the current advisory database (no image rescanned)",
    status_code=202,
    responses={
        202: {"description": "queued (or already queued: the same job id)"},
        409: {"description": "no advisory database on the server"},
        422: {"description": 'the body is not {} or {"full": true|false}'},
    },
    openapi_extra={
        "requestBody": {
            "required": False,
            "content": {
                "application/json": {
                    "schema": {"type": "object", "properties": {"full": {"type": "boolean"}}}
                }
            },
        }
    },
)
async def request_reevaluation(request: Request) -> JSONResponse:
    import json

    from anyio import to_thread

    raw = await request.body()
    full = False
    if raw.strip():
        try:
            doc = json.loads(raw)
        except (ValueError, RecursionError):
            return JSONResponse({"error": "invalid", "detail": 'the body must be {} or {"full": true}'}, 422)
        if not isinstance(doc, dict) or set(doc) - {"full"} or not isinstance(doc.get("full", False), bool):
            return JSONResponse({"error": "invalid", "detail": 'the body must be {} or {"full": true}'}, 422)
        full = bool(doc.get("full", False))
    svc: Currency | None = getattr(request.app.state, "currency", None)
    if svc is None:
        return JSONResponse({"error": "conflict", "detail": "this server runs no job queue"}, 409)
    who = getattr(getattr(request.state, "principal", None), "name", "api")
    try:
        jid, new, version = await to_thread.run_sync(lambda: enqueue(svc.jobs, svc.db_path, full, who))
    except ContainmentError as e:
        return JSONResponse({"error": "conflict", "detail": str(e)}, 409)
    if new:
        svc.submitted(jid)
    return JSONResponse({"job": jid, "queued": new, "version": version, "full": full}, 202)
