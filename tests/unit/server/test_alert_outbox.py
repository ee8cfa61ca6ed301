"""Alerts survive a killed worker (server/currency.py, server/reevaluate.py): each batch's alerts
are queued as notify jobs in the transaction that stores its findings, so a worker process
killed (os._exit: no cleanup, no rollback sent, the open transaction lost) at any point of a
re-evaluation leaves every image either unchanged (the rerun gains and alerts again) or changed
with its alerts queued. A restarted worker then delivers every (image, finding) to a real HTTP
receiver exactly once; a kill between a POST and its ack delivers that POST twice, with the same
alert keys (at least once, deduplicable by the receiver)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from containment.model import OSInfo
from containment.server import currency, governance, webhooks
from containment.server.jobs import DONE, FAILED
from containment.server.store import Store
from tests.unit.server.pg import pg_cluster, pg_url  # noqa: F401
from tests.unit.server.test_currency import Receiver, feed
from tests.unit.server.test_reevaluate import decide, findings_of, inventory, osv, pkg

ROOT = Path(__file__).resolve().parents[3]
DEBIAN = OSInfo(id="debian", version_id="12")
A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64
C = "sha256:" + "c" * 64
POLICY = "stages:\n  prod:\n    max_severity: {CRITICAL: 0}\n"
KILLED = 86
LEASE = "1.5"  # seconds: how long the killed worker's job waits for the restarted one

# The worker process: runs every job to its end, unless KILL_AT names the point where it dies.
WORKER = r"""
import os, sys, time
from pathlib import Path

KILLED = 86
point = os.environ["KILL_AT"]
data, db = Path(os.environ["DATA"]), os.environ["ADV_DB"]

from containment.server import currency, notify, reevaluate
from containment.server import jobs as jobs_mod
from containment.server.store import Store

reevaluate.BATCH = 1  # one image per transaction: a kill can fall between two

if point.startswith("batch:"):  # right after the n-th transaction storing findings committed
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from containment.server.models import Scan

    n, seen = int(point.split(":")[1]), [0]

    @event.listens_for(Session, "before_flush")
    def _mark(s, ctx, instances):
        if any(isinstance(o, Scan) and o.actor == reevaluate.ACTOR for o in s.new):
            s.info["findings"] = True

    @event.listens_for(Session, "after_commit")
    def _kill(s):
        if s.info.pop("findings", False):
            seen[0] += 1
            if seen[0] == n:
                os._exit(KILLED)

elif point == "snapshot":  # right after the snapshot file was replaced
    real_replace = os.replace

    class _Os:
        def __getattr__(self, name):
            return getattr(os, name)

        @staticmethod
        def replace(src, dst):
            real_replace(src, dst)
            if Path(dst).name == reevaluate.SNAPSHOT_NAME:
                os._exit(KILLED)

    reevaluate.os = _Os()

elif point == "ack":  # inside the job's last transaction, before its ack commits
    real_finish = jobs_mod.ClaimedJob.finish

    def finish(self, s):
        if self.kind == currency.REEVALUATE:
            os._exit(KILLED)
        real_finish(self, s)

    jobs_mod.ClaimedJob.finish = finish

elif point == "delivery":  # the first POST answered, before the notify job's ack
    real_send = notify.Webhook.send

    def send(self, *a, **k):
        real_send(self, *a, **k)
        os._exit(KILLED)

    notify.Webhook.send = send

store = Store.open(data_dir=data, url=os.environ.get("STORE_URL") or None)
queue = jobs_mod.Jobs(store, lease=float(os.environ["LEASE"]))
handlers = currency.handlers(store, data, db)
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    if queue.run_one(handlers) is None:
        c = queue.counts()
        if not c["queued"] and not c["running"]:
            break
        time.sleep(0.1)  # a killed worker's job: runnable once its lease expired
store.close()
"""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def worker(point: str, data: Path, db: Path, url: str, hook: str) -> int:
    env = {
        **os.environ,
        "KILL_AT": point,
        "DATA": str(data),
        "ADV_DB": str(db),
        "STORE_URL": url,
        "LEASE": LEASE,
        webhooks.ENV_JSON: hook,  # the webhook, however the server keeps its configured ones
    }
    r = subprocess.run(
        [sys.executable, "-c", WORKER], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert r.returncode in (0, KILLED), r.stderr[-3000:]
    return r.returncode


def delivered(receiver: Receiver) -> list[dict[str, Any]]:
    return [a for path, _, body in receiver.got if path == "POST /hook" for a in body["alerts"]]


def first_run(store: Store, data: Path, db: Path) -> None:
    """The first evaluation, in this process (it gains nothing, so alerts nothing)."""
    jobs = currency.Jobs(store)
    currency.enqueue(jobs, db)
    handlers = currency.handlers(store, data, db)
    while jobs.run_one(handlers) is not None:
        pass


@pytest.mark.parametrize(
    ("backend", "point"),
    [
        ("sqlite", "batch:1"),  # the first image's findings and alerts committed, the second's not
        ("sqlite", "batch:2"),  # every image's findings committed, the snapshot still the old one
        ("sqlite", "snapshot"),  # the snapshot rewritten: the rerun finds nothing changed
        ("sqlite", "ack"),  # inside the job's last transaction (its audit record and ack lost)
        ("sqlite", "none"),
        ("postgresql", "batch:1"),  # the server rolls back what the dropped connection left open
        ("postgresql", "ack"),
    ],
)
def test_a_worker_killed_anywhere_in_a_run_loses_no_alert(
    backend: str, point: str, request: pytest.FixtureRequest, tmp_path: Path, receiver: Receiver
) -> None:
    store_url = "" if backend == "sqlite" else str(request.getfixturevalue("pg_url"))
    data = tmp_path / "data"
    store = Store.open(data_dir=data, url=store_url or None)
    try:
        db = tmp_path / "advisories.db"
        store.put_inventory(inventory(A, DEBIAN, pkg("requests", "2.30.0")), "scan", "ci")
        store.put_inventory(inventory(B, DEBIAN, pkg("requests", "2.30.0")), "scan", "ci")
        store.put_inventory(inventory(C, DEBIAN, pkg("requests", "2.30.0")), "scan", "ci")
        decide(store, A, "prod", True)
        decide(store, B, "prod", True)  # C is in no stage: it gains the finding, alerts nobody
        pid = governance.upload_policy(store, "fleet", POLICY, "alice")["id"]
        governance.activate_policy(store, pid, "bob")  # prod's thresholds: no registry needed
        feed(tmp_path, db, osv("GHSA-low", "PyPI", "requests", "2.31.0", "LOW"))
        first_run(store, data, db)
        jobs = currency.Jobs(store)

        feed(tmp_path, db, osv("GHSA-crit", "PyPI", "requests", "2.31.0", "CRITICAL"))
        currency.enqueue(jobs, db)
        rc = worker(point, data, db, store_url, receiver.url + "/hook")
        assert rc == (0 if point == "none" else KILLED)  # it did die at that point
        assert worker("none", data, db, store_url, receiver.url + "/hook") == 0  # the restart

        got = delivered(receiver)
        pairs = Counter((a["digest"], g["id"]) for a in got for g in a["gained"])
        assert pairs == Counter({(A, "GHSA-crit"): 1, (B, "GHSA-crit"): 1}), got
        assert len({a["key"] for a in got}) == 2 and all(a["key"].startswith("sha256:") for a in got)
        for d in (A, B, C):
            assert findings_of(store, d) == {"GHSA-low", "GHSA-crit"}
        states = Counter(j["state"] for j in jobs.list())
        assert states[FAILED] == 0 and states[DONE] == len(jobs.list())
    finally:
        store.close()


def test_a_worker_killed_between_post_and_ack_sends_again_with_the_same_keys(
    tmp_path: Path, receiver: Receiver
) -> None:
    """At least once: the one delivery cut short is repeated, the other is not; the receiver
    sees the same alert key twice and can drop the repeat."""
    data = tmp_path / "data"
    store = Store.open(data_dir=data)
    try:
        db = tmp_path / "advisories.db"
        for d in (A, B):
            store.put_inventory(inventory(d, DEBIAN, pkg("requests", "2.30.0")), "scan", "ci")
            decide(store, d, "prod", True)
        pid = governance.upload_policy(store, "fleet", POLICY, "alice")["id"]
        governance.activate_policy(store, pid, "bob")
        feed(tmp_path, db, osv("GHSA-low", "PyPI", "requests", "2.31.0", "LOW"))
        first_run(store, data, db)
        jobs = currency.Jobs(store)
        feed(tmp_path, db, osv("GHSA-crit", "PyPI", "requests", "2.31.0", "CRITICAL"))
        currency.enqueue(jobs, db)
        assert worker("delivery", data, db, "", receiver.url + "/hook") == KILLED
        assert worker("none", data, db, "", receiver.url + "/hook") == 0

        got = delivered(receiver)
        by_key = Counter(a["key"] for a in got)
        by_digest = {a["digest"]: a["key"] for a in got}
        assert sorted(by_key.values()) == [1, 2]  # 3 POSTed alerts for 2: one repeat, same key
        assert len(by_digest) == 2 and by_key[by_digest[A]] == 2  # the first batch's was cut short
        assert all(j["state"] == DONE for j in jobs.list())
    finally:
        store.close()
