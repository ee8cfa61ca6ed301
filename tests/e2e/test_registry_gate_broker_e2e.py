"""The registry gate scaled out: `containment serve --broker` + 2 `containment worker` processes on
a real redis-server, a real Debian docker-registry notifying the server, 20 images pushed with
skopeo (clean and failing); the server AND one worker killed -9 mid-run, both restarted.

Every push is decided exactly once (one decision, one `registry.decision` audit record per
tag), every failing image quarantined, every passing one attested; every job `done`. The
figures (kills, jobs run again, duplicate messages dropped) are printed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_registry_gate_e2e import (
    N_IMAGES,
    ROOT,
    SETTLE,
    Env,
    build,
    decisions,
    env,  # noqa: F401 - the fixture: registry, data dir, advisory DB, policy (SQLite and PostgreSQL)
    manifest_status,
)
from tests.unit.server.pg import pg_cluster, pg_url  # noqa: F401
from tests.unit.server.redisserver import RedisServer, redis_server  # noqa: F401

pytestmark = pytest.mark.e2e


def start(e: Env, name: str, *args: str) -> subprocess.Popen[bytes]:
    log = (e.tmp / f"{name}.log").open("ab")
    db = ["--database", e.database] if e.database else []
    return subprocess.Popen(
        [sys.executable, "-m", "containment", *args, "--data", str(e.data), *db],
        stdout=log,
        stderr=log,
        cwd=ROOT,
        env={**os.environ, "CONTAINMENT_KEY_PASSWORD": "", "CONTAINMENT_DATA": str(e.data)},
    )


def start_server(e: Env, broker: str) -> None:
    e.server = start(e, "serve", "serve", "--listen", f"127.0.0.1:{e.port}", "--broker", broker)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert e.server.poll() is None, (e.tmp / "serve.log").read_text()[-3000:]
        try:
            if httpx.get(f"{e.url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    pytest.fail("serve not ready in 60 s")


def start_worker(e: Env, broker: str, name: str) -> subprocess.Popen[bytes]:
    p = start(e, name, "worker", "--broker", broker, "--threads", "2")
    deadline = time.monotonic() + 60
    while '"worker ready"' not in (e.tmp / f"{name}.log").read_text(errors="replace"):
        assert p.poll() is None, (e.tmp / f"{name}.log").read_text()[-3000:]
        assert time.monotonic() < deadline, "worker not ready in 60 s"
        time.sleep(0.1)
    return p


def kill9(p: subprocess.Popen[bytes]) -> None:
    p.send_signal(signal.SIGKILL)
    p.wait(30)


def running_jobs(e: Env) -> int:
    from sqlalchemy import text

    with e.store() as store, store.engine.connect() as c:
        return int(c.execute(text("SELECT count(*) FROM jobs WHERE state = 'running'")).scalar() or 0)


def done_jobs(e: Env) -> set[int]:
    from sqlalchemy import text

    with e.store() as store, store.engine.connect() as c:
        return {int(r[0]) for r in c.execute(text("SELECT id FROM jobs WHERE state = 'done'"))}


def held(log: Path) -> set[int]:
    """Jobs a worker started and did not end (by its JSON log lines)."""
    started: set[int] = set()
    for line in log.read_text(errors="replace").splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if rec.get("msg") == "job started":
            started.add(rec["job"])
        elif rec.get("msg") == "job ended":
            started.discard(rec["job"])
    return started


def logs(e: Env) -> str:
    return "\n".join(
        f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in sorted(e.tmp.glob("*.log"))
    )


def test_every_push_gated_once_with_workers_through_kill_9s(
    env: Env,  # noqa: F811
    redis_server: RedisServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    broker = redis_server.url
    kinds = ["", "secret", "", "vuln"]
    images = [build(tmp_path / "images", i, kinds[i % len(kinds)]) for i in range(N_IMAGES)]
    start_server(env, broker)
    workers = {i: start_worker(env, broker, f"worker{i}") for i in (1, 2)}
    try:
        half = N_IMAGES // 2
        for img in images[:half]:
            env.push(img)
        # kill -9 the server and worker 1 while worker 1 holds a job (and a decision was made)
        deadline = time.monotonic() + SETTLE
        while not (decisions(env) and held(tmp_path / "worker1.log")) and time.monotonic() < deadline:
            time.sleep(0.05)
        running_at_kill = running_jobs(env)
        assert env.server is not None
        kill9(env.server)
        kill9(workers[1])
        # started and not logged as ended, and not committed either: a job can commit and its
        # worker die before the "job ended" line, and a committed job is rightly not run again
        cut_short = held(tmp_path / "worker1.log") - done_jobs(env)
        done_at_kill = len(decisions(env))
        for img in images[half:]:  # pushed while the server is down: the registry re-sends
            env.push(img)
        start_server(env, broker)
        workers[1] = start_worker(env, broker, "worker1-restarted")
        deadline = time.monotonic() + SETTLE
        while len(decisions(env)) < N_IMAGES and time.monotonic() < deadline:
            time.sleep(1)
        time.sleep(3)  # a late duplicate would show up as an extra decision
        got = decisions(env)
        assert len(got) >= N_IMAGES, f"{len(got)} of {N_IMAGES} decided in {SETTLE} s\n{logs(env)}"
    finally:
        for p in workers.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(60)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(30)
    by_digest = Counter(d for d, _, _ in got)
    assert len(got) == N_IMAGES and all(by_digest[i.digest] == 1 for i in images), (done_at_kill, got)
    actions = {d: (a, ok) for d, a, ok in got}
    from containment.service import sign as svc

    pub = str(env.tmp / "keys" / "cosign.pub")
    for img in images:
        action, allowed = actions[img.digest]
        if img.failing:
            assert (action, allowed) == ("quarantined", False), (img, action)
            assert manifest_status(env.host, img.repo, img.digest) == 404
            assert manifest_status(env.host, f"quarantine/{img.repo}", img.digest) == 200
        else:
            assert (action, allowed) == ("attested", True), (img, action)
            res = svc.verify(
                f"{env.host}/{img.repo}@{img.digest}", pub, plain_http=True, attestations=("vuln",)
            )
            assert res.attestations and all(c.ok for c in res.attestations), res
    from sqlalchemy import text

    with env.store() as store, store.engine.connect() as c:
        rows = c.execute(text("SELECT action, subject FROM audit_records")).all()
        kinds_states = Counter(tuple(r) for r in c.execute(text("SELECT kind, state FROM jobs")).all())
        rerun = c.execute(text("SELECT count(*) FROM jobs WHERE attempts > 1")).scalar()
        dialect = store.engine.dialect.name
    pushes = Counter(s for a, s in rows if a == "registry.push")
    decided = Counter(s for a, s in rows if a == "registry.decision")
    keys = {f"{env.host}/{i.repo}:v1@{i.digest}" for i in images}
    assert set(pushes) == keys and set(pushes.values()) == {1}
    assert set(decided) == keys and set(decided.values()) == {1}
    # one job per push (registry add also queues a catalog sync of the then empty registry)
    assert kinds_states[("registry.push", "done")] == N_IMAGES, kinds_states
    assert {st for _, st in kinds_states} == {"done"}, kinds_states
    assert rerun >= len(cut_short)  # the killed worker's unfinished jobs ran again
    worker_logs = "".join(p.read_text(errors="replace") for p in env.tmp.glob("worker*.log"))
    ran: Counter[str] = Counter()
    for line in worker_logs.splitlines():
        if '"job started"' in line:
            ran["started"] += 1
        elif '"job message dropped' in line:
            ran["dropped"] += 1
    quarantined = sum(1 for i in images if i.failing)
    print(
        f"\nregistry gate broker e2e ({dialect}, 2 workers x 2 threads): {N_IMAGES} pushes "
        f"({quarantined} failing); kill -9 of the server and worker 1 with {running_at_kill} job(s) "
        f"running ({len(cut_short)} in worker 1), {done_at_kill} decided: {len(got)} decisions, {quarantined} quarantined, "
        f"{N_IMAGES - quarantined} attested, 0 duplicates; {rerun} job(s) run again; "
        f"{ran['started']} handler runs started, "
        f"{ran['dropped']} duplicate message(s) dropped"
    )


def test_a_worker_with_only_database_and_broker_gates_a_push(
    env: Env,  # noqa: F811
    redis_server: RedisServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    """`containment worker` as on another machine: only --broker and --database, started in an
    empty directory with HOME and the XDG directories empty and no CONTAINMENT_* variable but the
    key password. The registry's configuration and the gate's signing key come from the
    database: it scans, quarantines the failing push, attests the passing one."""
    broker = redis_server.url
    images = [build(tmp_path / "images", i, kind) for i, kind in enumerate(["", "secret"])]
    start_server(env, broker)  # queues only (--broker): every job below is the lone worker's
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "cwd").mkdir(parents=True)
    database = env.database or f"sqlite:///{env.data / 'containment.db'}"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CONTAINMENT_", "XDG_"))}
    lone_env = {
        **clean,
        "HOME": str(elsewhere),
        "XDG_CACHE_HOME": str(elsewhere / "cache"),
        "XDG_DATA_HOME": str(elsewhere / "share"),
        "XDG_CONFIG_HOME": str(elsewhere / "config"),
        "CONTAINMENT_KEY_PASSWORD": "",
    }
    log_path = tmp_path / "lone-worker.log"
    with log_path.open("ab") as log:
        p = subprocess.Popen(
            [sys.executable, "-m", "containment", "worker", "--broker", broker, "--database", database],
            stdout=log, stderr=log, cwd=elsewhere / "cwd", env=lone_env,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while '"worker ready"' not in log_path.read_text(errors="replace"):
            assert p.poll() is None, log_path.read_text()[-3000:]
            assert time.monotonic() < deadline, "worker not ready in 60 s"
            time.sleep(0.1)
        for img in images:
            env.push(img)
        deadline = time.monotonic() + SETTLE
        while len(decisions(env)) < len(images) and time.monotonic() < deadline:
            time.sleep(0.5)
        got = {d: (a, ok) for d, a, ok in decisions(env)}
    finally:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(30)
    assert len(got) == len(images), logs(env)
    passing, failing = images
    assert got[failing.digest] == ("quarantined", False)
    assert manifest_status(env.host, f"quarantine/{failing.repo}", failing.digest) == 200
    assert got[passing.digest] == ("attested", True)
    from containment.service import sign as svc

    res = svc.verify(
        f"{env.host}/{passing.repo}@{passing.digest}",
        str(env.tmp / "keys" / "cosign.pub"),
        plain_http=True,
        attestations=("vuln",),
    )
    assert res.attestations and all(c.ok for c in res.attestations), res
    ran = [json.loads(x) for x in log_path.read_text().splitlines() if '"job ended"' in x]
    assert sorted(r["state"] for r in ran) == ["done", "done"]  # this worker ran both
    assert list((elsewhere / "cwd").iterdir()) == []  # nothing written where it was started
    ready = next(json.loads(x) for x in log_path.read_text().splitlines() if '"worker ready"' in x)
    assert ready["state"].startswith(str(elsewhere / "cache"))  # its own state: the cache dir
    print(
        f"\nlone worker ({env.database and 'postgresql' or 'sqlite'}): 2 pushes gated with --broker and --database only"
    )
