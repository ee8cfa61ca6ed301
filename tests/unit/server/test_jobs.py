"""The durable job queue (server/jobs.py) on SQLite and PostgreSQL: dedup, leases, ack late,
backoff, dead jobs, concurrent workers, and a worker process killed mid-job."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text, update

from containment.model import ContainmentError
from containment.server.jobs import DONE, FAILED, QUEUED, RUNNING, ClaimedJob, Jobs, LeaseLost, Worker
from containment.server.models import Job, now
from containment.server.store import Store
from tests.unit.server.pg import pg_cluster, pg_url  # noqa: F401


@pytest.fixture(params=["sqlite", "postgresql"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Store]]:
    opened: list[Store] = []
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None

    def open_() -> Store:
        opened.append(Store.open(data_dir=tmp_path / "data", url=url))
        return opened[-1]

    yield open_
    for s in opened:
        s.close()


@pytest.fixture
def store(opener: Callable[[], Store]) -> Store:
    return opener()


def effects(store: Store, action: str = "job.effect") -> Counter[str]:
    """How many times each key's effect was committed (audit records written with the ack)."""
    with store.engine.connect() as c:
        rows = c.execute(text("SELECT subject FROM audit_records WHERE action = :a"), {"a": action}).all()
    return Counter(r[0] for r in rows)


def effect_handler(store: Store) -> Callable[[ClaimedJob], None]:
    def handle(job: ClaimedJob) -> None:
        with store.write() as s:
            store._audit(s, "worker", "job.effect", job.key, {"attempt": job.attempt})
            job.finish(s)

    return handle


def expire_lease(store: Store, job_id: int) -> None:
    with store.write() as s:
        s.execute(update(Job).where(Job.id == job_id).values(lease_until=now() - timedelta(seconds=1)))


def test_enqueue_dedups_by_key_while_queued_or_running(store: Store) -> None:
    q = Jobs(store)
    a, added = q.enqueue("scan", "sha256:" + "a" * 64, {"n": 1})
    assert added
    b, added2 = q.enqueue("scan", "sha256:" + "a" * 64, {"n": 2})
    assert (b, added2) == (a, False)
    job = q.claim()
    assert job is not None and job.id == a and job.payload == {"n": 1} and job.attempt == 1
    assert q.enqueue("scan", "sha256:" + "a" * 64) == (a, False)  # running: still one
    q.complete(job)
    assert q.get(a)["state"] == DONE  # type: ignore[index]
    c, added3 = q.enqueue("scan", "sha256:" + "a" * 64)  # done: a new scan may be queued
    assert added3 and c != a
    assert q.enqueue("scan", "sha256:" + "a" * 64, once=True) == (c, False)
    # once=True also refuses a key already done
    q2 = q.claim()
    assert q2 is not None
    q.complete(q2)
    assert q.enqueue("event", "k1", once=True)[1]
    j = q.claim(["event"])
    assert j is not None
    q.complete(j)
    assert q.enqueue("event", "k1", once=True) == (j.id, False)
    # another kind with the same key is another job
    assert q.enqueue("other", "k1")[1]


def test_concurrent_producers_add_one_job_per_key(opener: Callable[[], Store]) -> None:
    stores = [opener() for _ in range(4)]
    results: list[tuple[int, bool]] = []
    lock = threading.Lock()

    def produce(st_: Store) -> None:
        q = Jobs(st_)
        for i in range(10):
            r = q.enqueue("scan", f"key-{i}")
            with lock:
                results.append(r)

    ts = [threading.Thread(target=produce, args=(s,)) for s in stores]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert sum(1 for _, added in results if added) == 10
    assert Jobs(stores[0]).counts()[QUEUED] == 10


def test_claims_are_exclusive_across_threads(opener: Callable[[], Store]) -> None:
    store = opener()
    q = Jobs(store)
    for i in range(40):
        q.enqueue("scan", f"k{i}")
    claimed: list[int] = []
    lock = threading.Lock()

    def consume() -> None:
        mine = Jobs(opener())
        while (job := mine.claim()) is not None:
            with lock:
                claimed.append(job.id)
            mine.complete(job)

    ts = [threading.Thread(target=consume) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert len(claimed) == 40 and len(set(claimed)) == 40
    assert q.counts() == {QUEUED: 0, RUNNING: 0, DONE: 40, FAILED: 0}


def test_failure_retries_with_exponential_backoff_then_dead(store: Store) -> None:
    q = Jobs(store, max_attempts=3, backoff_base=10, backoff_max=25)
    assert [q.backoff(n) for n in (1, 2, 3, 4)] == [10, 20, 25, 25]
    jid, _ = q.enqueue("scan", "k")

    def boom(job: ClaimedJob) -> None:
        raise RuntimeError(f"scanner exploded on attempt {job.attempt}")

    assert q.run_one({"scan": boom}) is not None
    row = q.get(jid)
    assert row is not None and row["state"] == QUEUED and row["attempts"] == 1
    assert "exploded on attempt 1" in row["error"]
    assert q.claim() is None  # backing off: not runnable yet
    for attempt in (2, 3):
        with store.write() as s:  # the backoff elapsed
            s.execute(update(Job).where(Job.id == jid).values(not_before=now() - timedelta(seconds=1)))
        assert q.run_one({"scan": boom}) is not None
        assert q.get(jid)["attempts"] == attempt  # type: ignore[index]
    row = q.get(jid)
    assert row is not None and row["state"] == FAILED and "attempt 3" in row["error"]
    assert q.claim() is None
    # a dead job does not block a new one with its key
    assert q.enqueue("scan", "k")[1]


def test_ack_late_handler_crash_before_commit_leaves_no_effect(store: Store) -> None:
    q = Jobs(store)
    jid, _ = q.enqueue("scan", "k")

    def half(job: ClaimedJob) -> None:
        with store.write() as s:
            store._audit(s, "worker", "job.effect", job.key, {})
            job.finish(s)
            raise RuntimeError("died before the commit")

    q.run_one({"scan": half})
    assert effects(store) == Counter()  # effect and ack rolled back together
    row = q.get(jid)
    assert row is not None and row["state"] == QUEUED
    with store.write() as s:
        s.execute(update(Job).where(Job.id == jid).values(not_before=None))
    q.run_one({"scan": effect_handler(store)})
    assert effects(store) == Counter({"k": 1})
    assert q.get(jid)["state"] == DONE  # type: ignore[index]


def test_expired_lease_is_taken_over_and_the_old_worker_cannot_ack(store: Store) -> None:
    q = Jobs(store)
    jid, _ = q.enqueue("scan", "k")
    first = q.claim()
    assert first is not None and q.claim() is None  # leased: nobody else gets it
    expire_lease(store, jid)
    second = q.claim()
    assert second is not None and second.id == jid and second.attempt == 2
    with pytest.raises(LeaseLost), store.write() as s:
        store._audit(s, "worker", "job.effect", "k", {"who": "first"})
        first.finish(s)
    assert not q.renew(first) and q.renew(second)
    effect_handler(store)(second)
    assert effects(store) == Counter({"k": 1})
    assert q.get(jid)["state"] == DONE  # type: ignore[index]


def test_lease_expiring_on_the_last_attempt_makes_the_job_dead(store: Store) -> None:
    q = Jobs(store, max_attempts=1)
    jid, _ = q.enqueue("scan", "k")
    assert q.claim() is not None
    expire_lease(store, jid)
    assert q.claim() is None
    row = q.get(jid)
    assert row is not None and row["state"] == FAILED and "lease expired" in row["error"]


def test_worker_pool_runs_every_job_once(opener: Callable[[], Store]) -> None:
    store = opener()
    q = Jobs(store, lease=0.3)  # renewed while handlers run
    for i in range(30):
        q.enqueue("scan", f"k{i}")
    slow = threading.Event()

    def handle(job: ClaimedJob) -> None:
        if job.key == "k0":
            slow.wait(1.0)  # longer than the lease: renewal keeps it ours
        effect_handler(store)(job)

    workers = [Worker(Jobs(opener(), lease=0.3), {"scan": handle}, threads=2, poll=0.05) for _ in range(2)]
    for w in workers:
        w.start()
    try:
        deadline = threading.Event()
        for _ in range(600):
            if q.counts()[DONE] == 30:
                break
            deadline.wait(0.05)
    finally:
        for w in workers:
            w.stop()
    assert q.counts()[DONE] == 30
    assert effects(store) == Counter({f"k{i}": 1 for i in range(30)})


CHILD = r"""
import os, signal, sys
from containment.server.store import Store
from containment.server.jobs import Jobs
store = Store.open(data_dir=sys.argv[1], url=sys.argv[2] or None)
q = Jobs(store)
def die(job):
    with store.write() as s:
        store._audit(s, "worker", "job.effect", job.key, {})
        print("holding", job.id, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # kill -9 mid-transaction
q.run_one({"scan": die})
"""


def test_worker_process_killed_mid_job_loses_nothing(store: Store, tmp_path: Path) -> None:
    url = "" if store.engine.dialect.name == "sqlite" else store.engine.url.render_as_string(False)
    q = Jobs(store)
    jid, _ = q.enqueue("scan", "k")
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path / "data"), url],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert f"holding {jid}" in proc.stdout
    row = q.get(jid)
    assert row is not None and row["state"] == RUNNING and effects(store) == Counter()
    expire_lease(store, jid)  # the dead worker's lease runs out
    q.run_one({"scan": effect_handler(store)})
    assert q.get(jid)["state"] == DONE  # type: ignore[index]
    assert effects(store) == Counter({"k": 1})


@pytest.mark.parametrize(
    ("kind", "key"),
    [
        ("", "k"),
        ("x" * 65, "k"),
        ("scan", ""),
        ("scan", "k" * 513),
        ("scan", "a\x00b"),
        (None, "k"),
        ("scan", 3),
    ],
)
def test_bad_kind_or_key_is_refused(store: Store, kind: object, key: object) -> None:
    with pytest.raises(ContainmentError):
        Jobs(store).enqueue(kind, key)  # type: ignore[arg-type]
    assert Jobs(store).counts()[QUEUED] == 0


_FUZZ: list[Store] = []


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    key=st.text(max_size=600),
    payload=st.dictionaries(st.text(max_size=20), st.integers() | st.text(max_size=50)),
)
def test_any_key_either_refused_or_round_trips(
    tmp_path_factory: pytest.TempPathFactory, key: str, payload: dict[str, object]
) -> None:
    if not _FUZZ:
        _FUZZ.append(Store.open(data_dir=tmp_path_factory.mktemp("jobsfuzz")))
    q = Jobs(_FUZZ[0])
    try:
        jid, added = q.enqueue("fuzz", key, payload)
    except ContainmentError:
        assert not key or len(key) > 512 or "\x00" in key
        return
    row = q.get(jid)
    assert row is not None and row["key"] == key
    if added:
        assert row["payload"] == payload
    job = q.claim(["fuzz"])
    assert job is not None and job.key == key
    q.complete(job)
