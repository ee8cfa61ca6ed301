"""ONE table of job kinds -> handlers, and the runner that runs them in-process or hands them to a broker.

Why one table: a job kind is the same code whether the embedded server's in-process `Worker`
runs it (the default: nothing but the data directory) or a `containment worker` process does,
fed by Dramatiq on Redis (`serve --broker`). Both build their handlers from here.

Registering a kind (one line at the bottom of this module):

    register("registry.push", "containment.server.registry_gate:push_handler")

The factory is `factory(store, data_dir) -> handler`, given as a callable or as
"package.module:function" (imported when a worker first needs it: this module stays light and
no import cycle forms). `handler(job: jobs.ClaimedJob)` does the work; to commit its result
with the ack it calls `job.finish(session)` in its last write transaction (jobs.py: ack late),
else the runner acks after it returns. Raising retries the job after the table's backoff
(dead after MAX_ATTEMPTS). Jobs are queued with `Runner.enqueue(kind, key, payload)` (dedup by
key) or, inside a caller's transaction, `jobs.enqueue(..., s=session)` then
`Runner.submitted(ids)` after the commit.

The jobs table is the truth in both modes: the broker only carries "job <id> is runnable".
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from containment.model import ContainmentError
from containment.server.jobs import ClaimedJob, Jobs, Worker

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from containment.server.broker import Broker
    from containment.server.store import Store

log = logging.getLogger("containment.server.tasks")

Handler = Callable[[ClaimedJob], None]
Factory = Callable[["Store", Path], Handler]

# the queue's settings, shared by the server and every worker process (same fencing and backoff)
LEASE = 30.0  # seconds; renewed every LEASE/3 while a handler runs, so a killed worker's job waits this long
MAX_ATTEMPTS = 5
BACKOFF_BASE = 5.0  # seconds before the 2nd attempt; doubles each time (jobs.Jobs.backoff)

_KINDS: dict[str, Factory | str] = {}


def register(kind: str, factory: Factory | str) -> None:
    """Add a job kind: `factory(store, data_dir) -> handler(job)`, or its "module:function" path."""
    if not isinstance(kind, str) or not kind or len(kind) > 64:
        raise ValueError("a job kind is 1 to 64 characters")
    if kind in _KINDS and _KINDS[kind] != factory:
        raise ValueError(f"job kind {kind!r} is registered twice")
    _KINDS[kind] = factory


def kinds() -> list[str]:
    return sorted(_KINDS)


def factory(kind: str) -> Factory:
    f = _KINDS.get(kind)
    if f is None:
        raise ContainmentError(f"no handler for job kind {kind!r} (tasks.register it)")
    if isinstance(f, str):
        module, _, name = f.partition(":")
        return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]
    return f


def handlers(store: Store, data_dir: str | Path, only: Iterable[str] | None = None) -> dict[str, Handler]:
    """The handler of every registered kind (or of `only`), for one store and data directory."""
    return {k: factory(k)(store, Path(data_dir)) for k in (kinds() if only is None else only)}


def make_jobs(store: Store) -> Jobs:
    """The queue with the settings every process shares."""
    return Jobs(store, lease=LEASE, max_attempts=MAX_ATTEMPTS, backoff_base=BACKOFF_BASE)


class Runner:
    """Runs the registered kinds for one server: in-process threads (`broker` None, the embedded
    default) or, with a broker URL, only queues and reconciles (workers are `containment worker`
    processes)."""

    def __init__(
        self,
        store: Store,
        data_dir: str | Path,
        broker: str | None = None,
        threads: int = 2,
        poll: float = 1.0,
        jobs: Jobs | None = None,
        reconcile: float | None = None,
    ) -> None:
        self.store = store
        self.data_dir = Path(data_dir)
        self.jobs = jobs or make_jobs(store)
        self.broker_url = broker
        self.threads = threads
        self.poll = poll
        self.reconcile_every = reconcile if reconcile is not None else self.jobs.lease
        self._broker: Broker | None = None
        self._worker: Worker | None = None
        self._reconciler: Any = None
        self._lock = threading.Lock()

    @property
    def broker(self) -> Broker | None:
        if self.broker_url and self._broker is None:
            from containment.server.broker import Broker

            self._broker = Broker(self.broker_url)
        return self._broker

    @property
    def started(self) -> bool:
        return self._worker is not None or self._reconciler is not None

    def enqueue(
        self, kind: str, key: str, payload: Mapping[str, Any] | None = None, once: bool = False
    ) -> tuple[int, bool]:
        """Queue a job (committed) and make it run: (id, added) as jobs.Jobs.enqueue."""
        jid, new = self.jobs.enqueue(kind, key, payload, once=once)
        if new:
            self.submitted([jid])
        return jid, new

    def enqueue_in(
        self, s: Session, kind: str, key: str, payload: Mapping[str, Any] | None = None, once: bool = False
    ) -> tuple[int, bool]:
        """Queue a job in the caller's transaction `s`; call `submitted` with the new ids after it commits."""
        return self.jobs.enqueue(kind, key, payload, once=once, s=s)

    def submitted(self, ids: Iterable[int]) -> None:
        """Jobs `ids` were committed: wake the in-process workers, or send one message each. A
        message that cannot be sent (broker away) is sent later by the reconciler."""
        ids = list(ids)
        if not ids:
            return
        broker = self.broker
        if broker is None:
            self.start()
            assert self._worker is not None
            self._worker.wake()
            return
        for jid in ids:
            try:
                broker.send(jid)
            except Exception as e:
                log.warning("job message not sent; the reconciler will", extra={"job": jid, "detail": str(e)})
        self.start()  # after the sends: the reconciler's first look finds them sent

    def start(self) -> None:
        with self._lock:
            if self.started:
                return
            if self.broker_url:
                from containment.server.broker import Reconciler

                broker = self.broker
                assert broker is not None
                self._reconciler = Reconciler(self.jobs, broker, every=self.reconcile_every)
                self._reconciler.start()
            else:
                self._worker = Worker(
                    self.jobs, handlers(self.store, self.data_dir), threads=self.threads, poll=self.poll
                )
                self._worker.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop claiming (or reconciling); handlers still running after `timeout` are cut short
        with the process (their jobs run again once their lease expires: ack late)."""
        with self._lock:
            if self._worker is not None:
                self._worker.stop(timeout)
                self._worker = None
            if self._reconciler is not None:
                self._reconciler.stop(timeout)
                self._reconciler = None
            if self._broker is not None:
                self._broker.close()
                self._broker = None

    def pending(self) -> bool:
        """Any job queued or running (left by a stopped or killed server)?"""
        c = self.jobs.counts()
        return bool(c["queued"] or c["running"])


# ---------------------------------------------------------------------- the kinds (one line each)

register("registry.push", "containment.server.registry_gate:push_handler")
register("reevaluate", "containment.server.currency:reevaluate_handler")
register("notify", "containment.server.currency:notify_handler")
register("registry-sync", "containment.server.registry_sync:handler")
