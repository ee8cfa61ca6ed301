"""Findings stay current, end to end with the real commands: a live `containment serve` watching
an advisory DB, `containment db import` of a new advisory, and alerts arriving at a webhook
receiver (JSON) added with `containment notify add`; the registry the stage's gate names is a
socket that must see no request (nothing rescanned)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from containment.server import registry_gate
from containment.server.store import Store
from tests.e2e.registry import free_port
from tests.unit.server.test_currency import DEBIAN, POLICY, Receiver, audit
from tests.unit.server.test_reevaluate import decide, inventory, osv, pkg

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
A = "sha256:" + "e" * 64


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "containment", *args], capture_output=True, text=True, timeout=300, cwd=ROOT
    )


def test_db_import_on_the_server_machine_alerts(tmp_path: Path) -> None:
    data, db, feeds = tmp_path / "data", tmp_path / "advisories.db", tmp_path / "feeds"
    receiver, fake_registry = Receiver(), Receiver()
    server = None
    try:
        (tmp_path / "policy.yaml").write_text(POLICY)
        store = Store.open(data_dir=data)
        registry_gate.add_registry(
            store,
            fake_registry.host,
            policy_file=str(tmp_path / "policy.yaml"),
            stage="prod",
            plain_http=True,
        )
        store.put_inventory(
            inventory(A, DEBIAN, pkg("Flask", "2.0.0"), pkg("requests", "2.30.0")), "scan", "ci"
        )
        decide(store, A, "prod", True)
        store.close()
        for n, rec in enumerate((osv("GHSA-req", "PyPI", "requests", "2.31.0"),
                                 osv("GHSA-flask", "PyPI", "Flask", "2.2.5", "CRITICAL"))):  # fmt: skip
            d = feeds / str(n)
            d.mkdir(parents=True)
            (d / f"{rec['id']}.json").write_text(json.dumps(rec))
        assert cli("db", "import", str(feeds / "0"), "--db", str(db), "-q").returncode == 0
        r = cli("notify", "add", receiver.url + "/alerts", "--kind", "json", "--data", str(data))
        assert r.returncode == 0 and "/alerts" not in r.stdout, r.stderr  # the URL's path is not shown

        port = free_port()
        log = (tmp_path / "serve.log").open("wb")
        server = subprocess.Popen(
            [sys.executable, "-m", "containment", "serve", "--data", str(data), "--listen", f"127.0.0.1:{port}",
             "--advisory-db", str(db), "--watch-interval", "0.3"],
            stdout=log, stderr=log, cwd=ROOT,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        store = Store.open(data_dir=data)
        try:
            while not audit(store, "findings.reevaluated") and time.monotonic() < deadline:
                time.sleep(0.2)  # the first evaluation (no snapshot yet)
            assert len(audit(store, "findings.reevaluated")) == 1, (tmp_path / "serve.log").read_text()
            t0 = time.monotonic()
            assert cli("db", "import", str(feeds / "1"), "--db", str(db), "-q").returncode == 0
            while not receiver.got and time.monotonic() < deadline:
                time.sleep(0.1)
            took = time.monotonic() - t0
            time.sleep(1.5)  # several more looks of the watcher: no second job for the same DB
            runs = audit(store, "findings.reevaluated")
            deliveries = audit(store, "notify.delivery")
        finally:
            store.close()
        assert len(runs) == 2 and runs[1]["packages_matched"] == 1 and runs[1]["alert_count"] == 1
        (got,) = receiver.got
        assert got[0] == "POST /alerts" and got[2]["alerts"][0]["digest"] == A
        assert got[2]["alerts"][0]["gained"][0]["id"] == "GHSA-flask"
        assert [d["ok"] for d in deliveries] == [True]
        assert fake_registry.got == []
        print(f"\ndb import -> alert delivered in {took:.1f} s; packages matched again: 1 of 2")
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                server.kill()
        receiver.close()
        fake_registry.close()
