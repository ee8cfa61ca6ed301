"""Scale-out jobs: Dramatiq on Redis carries "job <id> is runnable"; the jobs table stays the truth.

Why Dramatiq (not Celery): its RedisBroker acknowledges late by design (a fetched message sits in
the worker's ack set until its actor returned; a dead worker's unacked messages are requeued by
the broker's heartbeat maintenance), it is small, threads-based and startable from Python
(`dramatiq.Worker`), with no result backend, beat or pickle to configure away.

Delivery, end to end:

- enqueue: the job row commits first (dedup by key in jobs.Jobs.enqueue), then one message with
  the job id is sent (`Broker.send`). Killed between the two, or Redis restarted or flushed: the
  server's `Reconciler` re-sends, every `every` seconds, a message for each runnable job (queued
  past its backoff, or running with an expired lease) not sent in the last two periods.
- the actor claims THAT job (`Jobs.claim_id`: the same lease, fenced by attempts). A message for
  a job done, dead, waiting out its backoff or held by a live lease is dropped, so duplicates
  (re-sends, broker requeues) never run a job twice; the handler's result commits with the ack.
- a worker killed mid-job: its lease expires (tasks.LEASE), the reconciler re-sends, another
  worker runs it again; the old message, requeued by Redis later, finds the job done and is dropped.
- retries are the jobs table's (exponential backoff, dead after tasks.MAX_ATTEMPTS), not
  Dramatiq's Retries middleware: one retry policy for both modes. A failed attempt sends a
  message delayed by the backoff (Dramatiq's delay queue); the reconciler covers its loss.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from containment.model import ContainmentError
from containment.server.jobs import QUEUED, ClaimedJob, Jobs

if TYPE_CHECKING:
    import dramatiq

log = logging.getLogger("containment.server.broker")

QUEUE = "containment-jobs"
NAMESPACE = "containment"
ACTOR = "run_job"
SCHEMES = ("redis", "rediss", "unix")


class BrokerError(ContainmentError):
    """The broker URL is wrong or Redis cannot be reached."""


def check_url(url: str) -> str:
    """`url` if it names a Redis server (redis://HOST:PORT/N, rediss://, unix:///PATH), else BrokerError."""
    if not isinstance(url, str) or not url.strip():
        raise BrokerError("--broker: empty; expected redis://HOST:PORT/N")
    try:
        u = urlsplit(url.strip())
        _ = u.port  # ValueError when not a number
    except ValueError as e:
        raise BrokerError(f"--broker {url!r}: not a URL ({e}); expected redis://HOST:PORT/N") from None
    if u.scheme not in SCHEMES:
        raise BrokerError(f"--broker {url!r}: scheme must be redis://, rediss:// or unix:// (Redis)")
    if u.scheme != "unix" and not u.hostname:
        raise BrokerError(f"--broker {url!r}: no host; expected redis://HOST:PORT/N")
    if u.scheme == "unix" and not u.path:
        raise BrokerError(f"--broker {url!r}: no socket path; expected unix:///PATH/redis.sock")
    db = u.path.strip("/") if u.scheme != "unix" else ""
    if db and not db.isdigit():
        raise BrokerError(f"--broker {url!r}: the database is a number (redis://HOST:PORT/0)")
    return url.strip()


class Broker:
    """A Dramatiq RedisBroker with the one actor `run_job(job_id)`."""

    def __init__(self, url: str, heartbeat_timeout: int = 60_000, maintenance_chance: int = 1000) -> None:
        """`heartbeat_timeout` (ms): a worker silent this long is dead and its unacked messages
        are requeued, checked on `maintenance_chance` per million broker commands (Dramatiq's
        defaults; the reconciler is the faster path, tests shorten these)."""
        import dramatiq
        from dramatiq.brokers.redis import RedisBroker

        self.url = check_url(url)
        # no default middleware: no Retries (the table retries), no TimeLimit (a scan may be long;
        # the lease bounds a dead worker), no AgeLimit (a message waits as long as its job does)
        self.dramatiq = RedisBroker(
            url=self.url,
            namespace=NAMESPACE,
            middleware=[],
            heartbeat_timeout=heartbeat_timeout,
            maintenance_chance=maintenance_chance,
        )
        self.actor = dramatiq.actor(actor_name=ACTOR, queue_name=QUEUE, broker=self.dramatiq)(self._perform)
        self.jobs: Jobs | None = None
        self.handlers: dict[str, Callable[[ClaimedJob], None]] = {}
        self.sent: dict[int, float] = {}  # job id -> monotonic time of its last message
        self._sent_lock = threading.Lock()

    def ping(self) -> None:
        """BrokerError (one line) unless Redis answers."""
        try:
            self.dramatiq.client.ping()
        except Exception as e:
            raise BrokerError(
                f"--broker {redact(self.url)}: Redis does not answer ({type(e).__name__}: {e}); "
                "start redis-server or fix the URL"
            ) from None

    def send(self, job_id: int, delay: float | None = None) -> None:
        """One message "job `job_id` is runnable" (after `delay` seconds)."""
        self.actor.send_with_options(args=(int(job_id),), delay=int(delay * 1000) if delay else None)
        with self._sent_lock:
            self.sent[int(job_id)] = time.monotonic()

    def last_sent(self, job_id: int) -> float | None:
        with self._sent_lock:
            return self.sent.get(job_id)

    def forget(self, keep: set[int]) -> None:
        with self._sent_lock:
            self.sent = {k: v for k, v in self.sent.items() if k in keep}

    def worker(
        self, jobs: Jobs, handlers: Mapping[str, Callable[[ClaimedJob], None]], threads: int = 2
    ) -> dramatiq.Worker:
        """A Dramatiq worker (not started) running `handlers` for the jobs its messages name."""
        import dramatiq

        self.jobs = jobs
        self.handlers = dict(handlers)
        w = dramatiq.Worker(self.dramatiq, queues={QUEUE}, worker_threads=threads, worker_timeout=1000)
        w.queue_prefetch = threads  # hold no more messages than it runs: a killed worker strands few
        return w

    def _perform(self, job_id: int) -> None:
        jobs = self.jobs
        if jobs is None:
            raise RuntimeError("this broker has no worker (Broker.worker)")
        job = jobs.claim_id(int(job_id))
        if job is None:
            log.info("job message dropped: done, dead, waiting or running elsewhere", extra={"job": job_id})
            return
        handler = self.handlers.get(job.kind)
        if handler is None:
            state = jobs.fail(job, f"no handler for job kind {job.kind!r} in this worker")
        else:
            log.info("job started", extra={"job": job.id, "kind": job.kind, "attempt": job.attempt})
            state = jobs.run_leased(job, handler)
            log.info("job ended", extra={"job": job.id, "kind": job.kind, "state": state})
        if state == QUEUED:  # failed, retry after the backoff (+1 s: the row is runnable by then)
            self.send(job.id, delay=jobs.backoff(job.attempt) + 1.0)

    def close(self) -> None:
        try:
            self.dramatiq.close()
            self.dramatiq.client.close()
        except Exception as e:  # closing a client whose server went away
            log.debug("broker close", extra={"detail": str(e)})


class Reconciler:
    """Re-sends messages for runnable jobs whose message may be lost (the table is the truth)."""

    def __init__(self, jobs: Jobs, broker: Broker, every: float = 30.0) -> None:
        self.jobs = jobs
        self.broker = broker
        self.every = every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> list[int]:
        """Send a message for each runnable job not sent in the last two periods; the ids sent."""
        runnable = self.jobs.runnable_ids()
        t = time.monotonic()
        out = []
        for jid, _attempts in runnable:
            last = self.broker.last_sent(jid)
            if last is None or t - last >= 2 * self.every:
                self.broker.send(jid)
                out.append(jid)
        self.broker.forget({jid for jid, _ in runnable})
        if out:
            log.info("job messages re-sent", extra={"count": len(out), "jobs": out[:50]})
        return out

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="containment-reconciler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception as e:  # Redis or the database away: next period
                log.warning("job reconcile failed", extra={"detail": f"{type(e).__name__}: {e}"})
            self._stop.wait(self.every)


def redact(url: str) -> str:
    """The URL without its password (for messages and logs)."""
    u = urlsplit(url)
    if u.password:
        return url.replace(f":{u.password}@", ":***@", 1)
    return url


__all__ = ["QUEUE", "Broker", "BrokerError", "Reconciler", "check_url", "redact"]
