"""The embedded server's durable job queue, on the store's `jobs` table (SQLite or PostgreSQL).

Why not Celery/Dramatiq here: the embedded default must run with nothing but the data
directory; the queue's guarantees are the database's (a job is a row, committed before the
producer is answered), so a restart loses nothing. A broker-backed engine can run the same
handlers later (`Worker` only needs `kind -> handler`).

Life of a job (`state`):

- `enqueue(kind, key, payload)`: a `queued` row, unless a job with the same `key` is already
  queued or running (or, with `once=True`, done): then the existing id is returned and nothing
  is added (dedup by key, e.g. the image digest). SQLite serialises writers (BEGIN IMMEDIATE);
  PostgreSQL takes a transaction advisory lock on the key, so two producers never both insert.
- `claim()`: the oldest runnable job (queued and past its backoff, or running with an expired
  lease: its worker died) becomes `running` with a lease, `attempts + 1`. PostgreSQL: `SELECT
  ... FOR UPDATE SKIP LOCKED`, so workers never wait on each other; SQLite: inside BEGIN
  IMMEDIATE. A job whose lease expired after its last allowed attempt is marked `failed` (dead)
  instead of being run again.
- ack late: the job becomes `done` only after its handler returned, in the handler's own final
  transaction when the handler calls `job.finish(session)` (so its result and the ack commit
  together or not at all: a worker killed at any point leaves the job runnable and its effect
  absent or complete, never half). The ack is fenced by `attempts`: a worker whose lease was
  taken over cannot ack (LeaseLost rolls its transaction back).
- a handler that raises: `queued` again after `backoff(attempts)` (exponential, capped), or
  `failed` (dead) after `max_attempts`; the error text is kept on the row.

`Worker` runs `threads` threads that claim and run jobs, renewing the lease of a running job
while its handler works; `stop()` lets running handlers finish.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, func, or_, select, text, update

from containment.model import ContainmentError
from containment.server.models import Job, aware, now

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from containment.server.store import Store

log = logging.getLogger("containment.server.jobs")

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
STATES = (QUEUED, RUNNING, DONE, FAILED)
MAX_KEY = 512
MAX_KIND = 64
MAX_ERROR = 4000


class LeaseLost(ContainmentError):
    """The job's lease went to another worker (ours expired): this worker may not ack it."""


@dataclass
class ClaimedJob:
    """A job held by this worker for `attempt` (the fencing token of its lease)."""

    id: int
    kind: str
    key: str
    payload: dict[str, Any]
    attempt: int
    queue: Jobs = field(repr=False)
    finished: bool = False

    def finish(self, s: Session) -> None:
        """Ack the job in the caller's transaction `s` (the handler's last write): it commits
        with the handler's result. LeaseLost when another worker holds it now."""
        res = s.execute(
            update(Job)
            .where(Job.id == self.id, Job.state == RUNNING, Job.attempts == self.attempt)
            .values(state=DONE, lease_until=None, error="", updated=now())
            .execution_options(synchronize_session=False)
        )
        if res.rowcount != 1:  # type: ignore[attr-defined]
            raise LeaseLost(f"job {self.id}: lease lost (another worker runs attempt > {self.attempt})")
        self.finished = True


class Jobs:
    """The queue on `store`'s database. Thread-safe; any number of processes may share it."""

    def __init__(
        self,
        store: Store,
        lease: float = 300.0,
        max_attempts: int = 5,
        backoff_base: float = 2.0,
        backoff_max: float = 600.0,
    ) -> None:
        if max_attempts < 1 or lease <= 0 or backoff_base < 0 or backoff_max < 0:
            raise ValueError("max_attempts >= 1, lease > 0, backoff >= 0")
        self.store = store
        self.lease = lease
        self.max_attempts = max_attempts
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max

    @property
    def _pg(self) -> bool:
        return bool(self.store.engine.dialect.name == "postgresql")

    def backoff(self, attempts: int) -> float:
        """Seconds before attempt `attempts + 1`: base * 2**(attempts-1), capped at backoff_max."""
        return float(min(self.backoff_max, self.backoff_base * (2 ** max(0, attempts - 1))))

    # ------------------------------------------------------------------ producer

    def enqueue(
        self,
        kind: str,
        key: str,
        payload: Mapping[str, Any] | None = None,
        once: bool = False,
        s: Session | None = None,
    ) -> tuple[int, bool]:
        """Queue a job; (id, True) when added, (id of the existing job, False) when a job with
        this key is queued or running (with `once`: or done). `s`: enqueue in the caller's
        write transaction (the job commits with whatever else the caller writes)."""
        if not isinstance(kind, str) or not kind or len(kind) > MAX_KIND:
            raise ContainmentError(f"job kind must be 1 to {MAX_KIND} characters")
        if not isinstance(key, str) or not key or len(key) > MAX_KEY or "\x00" in key:
            raise ContainmentError(f"job key must be 1 to {MAX_KEY} characters, no NUL")
        if s is None:
            with self.store.write() as s2:
                return self._enqueue(s2, kind, key, dict(payload or {}), once)
        return self._enqueue(s, kind, key, dict(payload or {}), once)

    def _enqueue(
        self, s: Session, kind: str, key: str, payload: dict[str, Any], once: bool
    ) -> tuple[int, bool]:
        if self._pg:  # serialise producers of one key (SQLite: BEGIN IMMEDIATE does it)
            s.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": f"job:{key}"})
        live = (QUEUED, RUNNING, DONE) if once else (QUEUED, RUNNING)
        existing = s.scalar(
            select(Job.id)
            .where(Job.key == key, Job.kind == kind, Job.state.in_(live))
            .order_by(Job.id.desc())
            .limit(1)
        )
        if existing is not None:
            return int(existing), False
        job = Job(kind=kind, key=key, payload=payload, state=QUEUED, attempts=0)
        s.add(job)
        s.flush()
        return int(job.id), True

    # ------------------------------------------------------------------ consumer

    @staticmethod
    def _runnable(t: datetime) -> Any:
        return or_(
            and_(Job.state == QUEUED, or_(Job.not_before.is_(None), Job.not_before <= t)),
            and_(Job.state == RUNNING, Job.lease_until < t),
        )

    def claim(self, kinds: Iterable[str] | None = None, job_id: int | None = None) -> ClaimedJob | None:
        """The next runnable job (or job `job_id` if it is runnable), leased to the caller; None
        when there is none."""
        t = now()
        q = select(Job).where(self._runnable(t)).order_by(Job.id).limit(1)
        if kinds is not None:
            q = q.where(Job.kind.in_(list(kinds)))
        if job_id is not None:
            q = q.where(Job.id == job_id)
        if self._pg:
            q = q.with_for_update(skip_locked=True)
        while True:
            with self.store.write() as s:
                job = s.scalar(q)
                if job is None:
                    return None
                if job.state == RUNNING and job.attempts >= self.max_attempts:
                    job.state = FAILED  # its last worker died holding it: dead, not run again
                    job.lease_until = None
                    job.error = (job.error + "\n" if job.error else "") + "lease expired on the last attempt"
                    job.updated = t
                    log.warning("job dead", extra={"job": job.id, "kind": job.kind, "key": job.key})
                    continue
                job.state = RUNNING
                job.attempts += 1
                job.lease_until = t + timedelta(seconds=self.lease)
                job.not_before = None
                job.updated = t
                return ClaimedJob(job.id, job.kind, job.key, dict(job.payload or {}), job.attempts, self)

    def claim_id(self, job_id: int) -> ClaimedJob | None:
        """Job `job_id` leased to the caller when it is runnable (a broker message named it);
        None when it is done, dead, waiting out its backoff, or held by a live lease (the
        message is a duplicate: drop it), or held by another claimer right now (PostgreSQL)."""
        return self.claim(job_id=job_id)

    def runnable_ids(self, limit: int = 1000) -> list[tuple[int, int]]:
        """(id, attempts) of the jobs runnable now, oldest first (the broker reconciler's list)."""
        with self.store.read() as s:
            rows = s.execute(
                select(Job.id, Job.attempts).where(self._runnable(now())).order_by(Job.id).limit(limit)
            ).all()
        return [(int(i), int(a)) for i, a in rows]

    def renew(self, job: ClaimedJob) -> bool:
        """Extend the lease of a job still held; False when it was taken over."""
        with self.store.write() as s:
            res = s.execute(
                update(Job)
                .where(Job.id == job.id, Job.state == RUNNING, Job.attempts == job.attempt)
                .values(lease_until=now() + timedelta(seconds=self.lease))
                .execution_options(synchronize_session=False)
            )
            return bool(res.rowcount == 1)  # type: ignore[attr-defined]

    def complete(self, job: ClaimedJob) -> None:
        """Ack a job whose handler did not ack it itself (job.finish)."""
        if job.finished:
            return
        with self.store.write() as s:
            job.finish(s)

    def fail(self, job: ClaimedJob, error: str) -> str:
        """The handler failed: retry after the backoff, or dead after max_attempts. The new state."""
        state = FAILED if job.attempt >= self.max_attempts else QUEUED
        t = now()
        with self.store.write() as s:
            s.execute(
                update(Job)
                .where(Job.id == job.id, Job.state == RUNNING, Job.attempts == job.attempt)
                .values(
                    state=state,
                    lease_until=None,
                    not_before=t + timedelta(seconds=self.backoff(job.attempt)) if state == QUEUED else None,
                    error=error[-MAX_ERROR:],
                    updated=t,
                )
                .execution_options(synchronize_session=False)
            )
        return state

    def run_one(self, handlers: Mapping[str, Callable[[ClaimedJob], None]]) -> ClaimedJob | None:
        """Claim one job of a handled kind and run it to an ack or a failure (no lease renewal)."""
        job = self.claim(handlers.keys())
        if job is None:
            return None
        self._run(job, handlers[job.kind])
        return job

    def _run(self, job: ClaimedJob, handler: Callable[[ClaimedJob], None]) -> str:
        """Run `handler` to an ack or a failure; the job's state after it ("lost": lease lost)."""
        try:
            handler(job)
            self.complete(job)
            return DONE
        except LeaseLost as e:
            log.warning("job lease lost", extra={"job": job.id, "detail": str(e)})
            return "lost"
        except Exception as e:
            detail = f"{type(e).__name__}: {e}"
            state = self.fail(job, detail + "\n" + traceback.format_exc(limit=5))
            log.warning(
                "job failed",
                extra={
                    "job": job.id,
                    "kind": job.kind,
                    "attempt": job.attempt,
                    "state": state,
                    "detail": detail,
                },
            )
            return state

    def run_leased(self, job: ClaimedJob, handler: Callable[[ClaimedJob], None]) -> str:
        """`_run` while a keeper thread renews the job's lease every lease/3 (a long handler
        keeps its job; a killed one loses it within one lease)."""
        done = threading.Event()
        keeper = threading.Thread(target=self._keep_lease, args=(job, done), daemon=True)
        keeper.start()
        try:
            return self._run(job, handler)
        finally:
            done.set()
            keeper.join()

    def _keep_lease(self, job: ClaimedJob, done: threading.Event) -> None:
        every = max(0.05, self.lease / 3)
        while not done.wait(every):
            try:
                if not self.renew(job):
                    return
            except Exception as e:
                log.warning("job lease renewal failed", extra={"job": job.id, "detail": str(e)})

    # ------------------------------------------------------------------ inspection

    def counts(self) -> dict[str, int]:
        with self.store.read() as s:
            rows = s.execute(select(Job.state, func.count(Job.id)).group_by(Job.state)).all()
        out = dict.fromkeys(STATES, 0)
        out.update({str(k): int(v) for k, v in rows})
        return out

    def get(self, job_id: int) -> dict[str, Any] | None:
        with self.store.read() as s:
            j = s.get(Job, job_id)
            if j is None:
                return None
            return {
                "id": j.id,
                "kind": j.kind,
                "key": j.key,
                "payload": dict(j.payload or {}),
                "state": j.state,
                "attempts": j.attempts,
                "error": j.error,
                "not_before": _iso(j.not_before),
                "lease_until": _iso(j.lease_until),
            }

    def list(self, state: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
        with self.store.read() as s:
            q = select(Job.id).order_by(Job.id)
            if state is not None:
                q = q.where(Job.state == state)
            if kind is not None:
                q = q.where(Job.kind == kind)
            ids = list(s.scalars(q))
        return [j for j in (self.get(i) for i in ids) if j is not None]


def _iso(t: datetime | None) -> str:
    t = aware(t)
    return t.isoformat() if t else ""


class Worker:
    """In-process workers: `threads` threads claiming jobs of the kinds in `handlers`."""

    def __init__(
        self,
        queue: Jobs,
        handlers: Mapping[str, Callable[[ClaimedJob], None]],
        threads: int = 2,
        poll: float = 0.5,
    ) -> None:
        if threads < 1 or poll <= 0:
            raise ValueError("threads >= 1, poll > 0")
        self.queue = queue
        self.handlers = dict(handlers)
        self.threads = threads
        self.poll = poll
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        self._stop.clear()
        for i in range(self.threads):
            t = threading.Thread(target=self._loop, name=f"containment-worker-{i}", daemon=True)
            t.start()
            self._threads.append(t)

    def wake(self) -> None:
        """A job was queued: look now rather than at the next poll."""
        self._wake.set()

    def stop(self, timeout: float | None = None) -> None:
        """Stop claiming; running handlers finish (a job cut short is run again: ack late)."""
        self._stop.set()
        self._wake.set()
        for t in self._threads:
            t.join(timeout)
        self._threads.clear()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                job = self.queue.claim(self.handlers.keys())
            except Exception as e:  # the database is away (restarting): wait and try again
                log.warning("job claim failed", extra={"detail": f"{type(e).__name__}: {e}"})
                job = None
            if job is None:
                self._wake.wait(self.poll)
                self._wake.clear()
                continue
            self.queue.run_leased(job, self.handlers[job.kind])
