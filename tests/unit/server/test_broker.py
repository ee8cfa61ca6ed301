"""Jobs on Dramatiq + a real redis-server (server/broker.py), on SQLite and PostgreSQL: enqueue
dedup, ack late (a worker process killed -9 mid-handler: the job runs again, its effect commits
once, via Redis' own requeue and via the reconciler), retries with the table's backoff, dead
jobs, duplicate messages dropped, lost messages re-sent; the worker command's bad input."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from containment.server import tasks
from containment.server.jobs import DONE, FAILED, QUEUED, RUNNING, ClaimedJob, Jobs
from containment.server.store import Store
from tests.unit.server.pg import pg_cluster, pg_url  # noqa: F401
from tests.unit.server.redisserver import redis_server, redis_url  # noqa: F401

KIND = "test.effect"
WAIT = 60.0  # seconds a condition may take before the test fails (never a timing assertion)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    s = Store.open(data_dir=tmp_path / "data", url=url)
    yield s
    s.close()


def store_url(store: Store) -> str:
    return "" if store.engine.dialect.name == "sqlite" else store.engine.url.render_as_string(False)


def effects(store: Store) -> Counter[str]:
    """How many times each key's effect was committed (audit records written with the ack)."""
    with store.engine.connect() as c:
        rows = c.execute(text("SELECT subject FROM audit_records WHERE action = 'job.effect'")).all()
    return Counter(r[0] for r in rows)


def effect_handler(store: Store, calls: list[tuple[int, int, float]] | None = None) -> Callable[..., None]:
    def handle(job: ClaimedJob) -> None:
        if calls is not None:
            calls.append((job.id, job.attempt, time.monotonic()))
        with store.write() as s:
            store._audit(s, "worker", "job.effect", job.key, {"attempt": job.attempt})
            job.finish(s)

    return handle


def wait_until(cond: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout:.0f} s: {what}")
        time.sleep(0.05)


def unacked(broker: Any) -> int:
    """Messages Redis still holds for the queue (queued, or fetched and not yet acked)."""
    from containment.server.broker import NAMESPACE, QUEUE

    return int(broker.dramatiq.client.hlen(f"{NAMESPACE}:{QUEUE}.msgs"))


@pytest.fixture
def brokers(redis_url: str) -> Iterator[Callable[..., Any]]:  # noqa: F811
    from containment.server.broker import Broker

    made: list[tuple[Any, Any]] = []

    def make(jobs: Jobs | None = None, handlers: dict[str, Any] | None = None, **kw: Any) -> Any:
        b = Broker(redis_url, **kw)
        w = None
        if jobs is not None:
            w = b.worker(jobs, handlers or {}, threads=2)
            w.start()
        made.append((b, w))
        return b

    yield make
    for b, w in made:
        if w is not None:
            w.stop(timeout=10_000)
        b.close()


def test_enqueue_dedups_by_key_and_sends_one_message_after_commit(
    store: Store,
    tmp_path: Path,
    redis_url: str,  # noqa: F811
    brokers: Callable[..., Any],
) -> None:
    q = Jobs(store, lease=5.0)
    runner = tasks.Runner(store, tmp_path, broker=redis_url, jobs=q, reconcile=3600)
    try:
        ids = {runner.enqueue(KIND, "k1", {"n": i})[0] for i in range(3)}
        assert len(ids) == 1 and q.counts()[QUEUED] == 1
        assert runner.broker is not None and unacked(runner.broker) == 1  # one job, one message
        assert runner.enqueue(KIND, "k2")[1] and unacked(runner.broker) == 2
        brokers(q, {KIND: effect_handler(store)})  # a worker starts later: the messages waited
        wait_until(lambda: q.counts()[DONE] == 2, "both jobs done")
        assert effects(store) == Counter({"k1": 1, "k2": 1})
        wait_until(lambda: unacked(runner.broker) == 0, "messages acked")
    finally:
        runner.stop()


def test_duplicate_messages_run_a_job_once(store: Store, brokers: Callable[..., Any]) -> None:
    q = Jobs(store, lease=5.0)
    producer = brokers()
    jid, _ = q.enqueue(KIND, "dup")
    for _ in range(5):  # re-sends, broker requeues: five messages for one job
        producer.send(jid)
    calls: list[tuple[int, int, float]] = []
    brokers(q, {KIND: effect_handler(store, calls)})
    wait_until(lambda: unacked(producer) == 0, "all five messages consumed")
    assert q.get(jid)["state"] == DONE  # type: ignore[index]
    assert [c[:2] for c in calls] == [(jid, 1)] and effects(store) == Counter({"dup": 1})


def test_failure_retries_after_the_tables_backoff_then_dead(
    store: Store, brokers: Callable[..., Any]
) -> None:
    q = Jobs(store, lease=5.0, max_attempts=3, backoff_base=0.5)
    calls: list[tuple[int, int, float]] = []

    def flaky(job: ClaimedJob) -> None:
        calls.append((job.id, job.attempt, time.monotonic()))
        if job.key == "always" or job.attempt == 1:
            raise RuntimeError(f"registry away (attempt {job.attempt})")
        effect_handler(store)(job)

    producer = brokers()
    brokers(q, {KIND: flaky})
    once, _ = q.enqueue(KIND, "once")
    always, _ = q.enqueue(KIND, "always")
    producer.send(once)
    producer.send(always)
    # no reconciler here: the retries come from the delayed messages the failed attempts sent
    wait_until(lambda: q.get(once)["state"] == DONE, "the flaky job done")  # type: ignore[index]
    wait_until(lambda: q.get(always)["state"] == FAILED, "the failing job dead")  # type: ignore[index]
    by_job: dict[int, list[tuple[int, float]]] = {}
    for jid, attempt, t in calls:
        by_job.setdefault(jid, []).append((attempt, t))
    assert [a for a, _ in by_job[once]] == [1, 2]
    assert [a for a, _ in by_job[always]] == [1, 2, 3]
    # each retry waited at least its backoff (0.5 s, then 1 s): never earlier
    for attempts in by_job.values():
        for (a, t0), (_, t1) in zip(attempts, attempts[1:], strict=False):
            assert t1 - t0 >= q.backoff(a)
    dead = q.get(always)
    assert dead is not None and dead["attempts"] == 3 and "registry away (attempt 3)" in dead["error"]
    assert effects(store) == Counter({"once": 1})


CHILD = r"""
import sys, time
from containment.server.broker import Broker
from containment.server.jobs import Jobs
from containment.server.store import Store
store = Store.open(data_dir=sys.argv[1], url=sys.argv[2] or None)
b = Broker(sys.argv[3], heartbeat_timeout=int(sys.argv[4]))
def hold(job):
    with store.write() as s:
        store._audit(s, "worker", "job.effect", job.key, {"attempt": job.attempt})
        print("holding", job.id, flush=True)
        time.sleep(3600)  # killed -9 here, before the commit
w = b.worker(Jobs(store, lease=1.0), {"test.effect": hold}, threads=1)
w.start()
time.sleep(3600)
"""


def start_doomed_worker(
    store: Store, data: Path, broker_url: str, heartbeat_ms: int
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(data), store_url(store), broker_url, str(heartbeat_ms)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )


def read_line(proc: subprocess.Popen[str], timeout: float = WAIT) -> str:
    assert proc.stdout is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    if not sel.select(timeout):
        proc.kill()
        raise AssertionError(
            f"no output from the worker within {timeout:.0f} s: {proc.stderr.read()[-2000:]}"
        )  # type: ignore[union-attr]
    return proc.stdout.readline()


@pytest.mark.parametrize("recovery", ["redis requeue", "reconciler"])
def test_worker_killed_mid_handler_loses_nothing_and_runs_once(
    store: Store,
    tmp_path: Path,
    redis_url: str,  # noqa: F811
    brokers: Callable[..., Any],
    recovery: str,
) -> None:
    """Ack late, both nets: Redis keeps the killed worker's message unacked and requeues it once
    the worker's heartbeat is older than heartbeat_timeout (3 s here, the lease 1 s: the job is
    runnable by then); or, broker requeue out of reach (60 s), the server's reconciler re-sends
    when the job's lease has expired. Either way the effect commits once."""
    from containment.server.broker import Reconciler

    q = Jobs(store, lease=1.0)
    producer = brokers()
    jid, _ = q.enqueue(KIND, "held")
    heartbeat = 3000 if recovery == "redis requeue" else 60_000
    proc = start_doomed_worker(store, tmp_path / "data", redis_url, heartbeat)
    try:
        producer.send(jid)
        assert read_line(proc) == f"holding {jid}\n"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
    row = q.get(jid)
    assert row is not None and row["state"] == RUNNING and row["attempts"] == 1
    assert effects(store) == Counter()  # killed before its commit: no effect
    assert unacked(producer) == 1  # the message survived its worker (acked late)
    calls: list[tuple[int, int, float]] = []
    if recovery == "redis requeue":
        brokers(q, {KIND: effect_handler(store, calls)}, heartbeat_timeout=3000, maintenance_chance=1_000_000)
    else:
        brokers(q, {KIND: effect_handler(store, calls)})
        rec = Reconciler(q, producer, every=0.2)
        rec.start()
    try:
        wait_until(lambda: q.get(jid)["state"] == DONE, "the held job done again")  # type: ignore[index]
    finally:
        if recovery == "reconciler":
            rec.stop(10)
    assert [c[:2] for c in calls] == [(jid, 2)]
    assert effects(store) == Counter({"held": 1})
    if recovery == "reconciler":
        # the dead worker's own message is still unacked in Redis; when Redis requeues it some
        # day, it names a done job and is dropped: sending it now shows that
        producer.send(jid)
        wait_until(lambda: unacked(producer) <= 1, "the duplicate consumed")
        time.sleep(0.2)
        assert len(calls) == 1 and effects(store) == Counter({"held": 1})


def test_reconciler_resends_lost_messages(store: Store, brokers: Callable[..., Any]) -> None:
    """Killed between commit and send (a job row, no message) and Redis flushed (messages gone):
    the reconciler sends a message for each runnable job not sent within two periods; the
    duplicates that makes (no worker ran yet) run nothing twice."""
    from containment.server.broker import Reconciler

    q = Jobs(store, lease=5.0)
    producer = brokers()
    silent = [q.enqueue(KIND, f"silent{i}")[0] for i in range(3)]  # committed, never sent
    flushed, _ = q.enqueue(KIND, "flushed")
    producer.send(flushed)
    producer.dramatiq.client.flushall()  # a broker restarted without persistence
    assert unacked(producer) == 0
    rec = Reconciler(q, producer, every=0.5)
    assert sorted(rec.run_once()) == silent  # "flushed" was sent within two periods: in flight
    assert unacked(producer) == 3
    assert rec.run_once() == []  # sent within the last two periods: not again
    time.sleep(2 * rec.every)
    assert sorted(rec.run_once()) == sorted([*silent, flushed])  # still runnable: all re-sent
    assert unacked(producer) == 7
    brokers(q, {KIND: effect_handler(store)})
    wait_until(lambda: q.counts()[DONE] == 4, "every job done")
    assert effects(store) == Counter({"silent0": 1, "silent1": 1, "silent2": 1, "flushed": 1})
    assert rec.run_once() == []  # nothing runnable is left


def test_every_registered_kind_builds_its_handler(tmp_path: Path) -> None:
    store = Store.open(data_dir=tmp_path)
    try:
        hs = tasks.handlers(store, tmp_path)
    finally:
        store.close()
    assert "registry.push" in hs and all(callable(h) for h in hs.values())
    with pytest.raises(ValueError, match="twice"):
        tasks.register("registry.push", "elsewhere:handler")


def test_embedded_runner_runs_a_registered_kind_in_process(tmp_path: Path) -> None:
    seen: list[int] = []
    tasks.register("test.embedded", lambda store, data_dir: lambda job: seen.append(job.id))
    store = Store.open(data_dir=tmp_path)
    runner = tasks.Runner(store, tmp_path, poll=0.1)
    try:
        jid, added = runner.enqueue("test.embedded", "k")
        assert added and runner.broker is None
        wait_until(lambda: runner.jobs.get(jid)["state"] == DONE, "done in-process")  # type: ignore[index]
        assert seen == [jid]
    finally:
        runner.stop()
        store.close()


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "containment", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--broker", "http://127.0.0.1:6379"], "scheme must be redis://"),
        (["--broker", "redis://127.0.0.1:notaport/0"], "not a URL"),
        (["--broker", "redis://127.0.0.1:6379/zero"], "database is a number"),
        (["--broker", "redis://127.0.0.1:1/0"], "Redis does not answer"),
        ([], "--broker: required"),
    ],
)
def test_worker_refuses_bad_broker_in_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    pytest.importorskip("dramatiq")
    p = run_cli("worker", "--data", str(tmp_path), *args)
    assert p.returncode == 2, p.stderr
    assert message in p.stderr and len(p.stderr.strip().splitlines()) == 1 and "Traceback" not in p.stderr


def test_worker_command_stops_gracefully_on_sigterm(tmp_path: Path, redis_url: str) -> None:  # noqa: F811
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "containment",
            "worker",
            "--broker",
            redis_url,
            "--data",
            str(tmp_path),
            "--threads",
            "3",
        ],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    lines: list[str] = []

    def pump() -> None:
        assert proc.stderr is not None
        lines.extend(iter(proc.stderr.readline, ""))

    t = threading.Thread(target=pump, daemon=True)
    t.start()
    try:
        wait_until(lambda: any('"worker ready"' in ln for ln in lines), "worker ready logged")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    t.join(10)
    ready = next(ln for ln in lines if '"worker ready"' in ln)
    assert '"threads": 3' in ready and "registry.push" in ready
    assert any('"worker stopped"' in ln for ln in lines)


def test_readyz_reports_the_broker_and_stays_ready_without_it(
    tmp_path: Path,
    redis_server: Any,  # noqa: F811
) -> None:
    import httpx

    from containment.server.app import create_app
    from tests.unit.server.test_api import LiveServer

    store = Store.open(data_dir=tmp_path / "data")
    try:
        app = create_app(store, data_dir=tmp_path / "data", broker=redis_server.url)
        with LiveServer(app) as live:
            r = httpx.get(live.url + "/readyz", timeout=30)
            assert (r.status_code, r.json()) == (200, {"status": "ready", "broker": "ok"})
            redis_server.kill()
            r = httpx.get(live.url + "/readyz", timeout=30)
            assert (r.status_code, r.json()) == (200, {"status": "ready", "broker": "unavailable"})
    finally:
        store.close()
