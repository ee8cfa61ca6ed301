"""Which policy the registry gate decides with (registry_gate.gate_policy): the server's active
governed policy covering the registry's stage (uploaded by one person, activated by a second:
governance.py) when there is one, else the registry's own `--policy` file; the decision row, its
audit record and the attestation row name the one that decided. Real pushes to a real Debian
docker-registry, real scans against a real advisory DB."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text, update

from containment.server import governance, tasks
from containment.server import registry_gate as rg
from containment.server.jobs import Jobs
from containment.server.models import Decision, Policy
from containment.server.store import Store
from tests.e2e.registry import Registry, have_tools, start_registry
from tests.unit.server.test_registry_sync import VULN, build

ROOT = Path(__file__).resolve().parents[3]
LENIENT = "stages:\n  prod:\n    max_severity: {CRITICAL: 5}\n"  # the registry's file: lets 1 critical in
STRICT = "stages:\n  prod:\n    max_severity: {CRITICAL: 0}\n"
STAGING_ONLY = "stages:\n  staging:\n    max_severity: {LOW: 0}\n"  # active, but not prod's


@pytest.fixture(scope="module")
def tools() -> None:
    why = have_tools()
    if why:
        pytest.skip(why)


@pytest.fixture
def registry(tools: None, tmp_path: Path) -> Iterator[Registry]:
    r = start_registry(tmp_path / "registry")
    yield r
    r.stop()


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "containment", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env=os.environ.copy(),
    )


class Pushes:
    """Push image i (each with one critical finding) and gate it, as the registry's notification would."""

    def __init__(self, registry: Registry, tmp: Path, store: Store, data: Path, secret: str) -> None:
        self.registry, self.tmp, self.store, self.data, self.secret = registry, tmp, store, data, secret
        self.gate = rg.Gate(store, data, autostart=False)
        self.n = 0

    def push(self) -> dict[str, Any]:
        """The decision about the next image, with the policy its audit record names."""
        self.n += 1
        path = build(self.tmp / "images", self.n, vulnerable=True)
        repo = f"team/app{self.n}"
        self.registry.push(f"oci:{path}", f"{repo}:v1")
        head = httpx.head(
            f"http://{self.registry.host}/v2/{repo}/manifests/v1",
            headers={"Accept": ", ".join(rg.MANIFEST_TYPES)},
        )
        digest, mt = head.headers["Docker-Content-Digest"], head.headers["Content-Type"]
        body = {"events": [{"id": f"e{self.n}", "action": "push", "target": {
            "mediaType": mt, "digest": digest, "repository": repo, "tag": "v1"}}]}  # fmt: skip
        status, got = self.gate.accept(self.secret, json.dumps(body).encode())
        assert (status, got["queued"]) == (202, 1), got
        jobs = Jobs(self.store, lease=60, max_attempts=tasks.MAX_ATTEMPTS)
        handlers = tasks.handlers(self.store, self.data, only=[rg.KIND])
        while (job := jobs.run_one(handlers)) is not None:
            assert jobs.get(job.id)["state"] == "done", jobs.get(job.id)  # type: ignore[index]
        with self.store.read() as s:
            d = s.scalars(select(Decision).where(Decision.digest == digest)).one()
            row = {"allowed": d.allowed, "action": d.action, "policy": d.policy}
        with self.store.engine.connect() as c:
            (detail,) = c.execute(
                text(
                    "SELECT detail FROM audit_records WHERE action = 'registry.decision' AND subject LIKE :s"
                ),
                {"s": f"%/{repo}:v1@{digest}"},
            ).one()
        row["audited"] = (json.loads(detail) if isinstance(detail, str) else dict(detail))["policy"]
        return row


def test_the_active_governed_policy_decides_else_the_registry_s_own(
    registry: Registry, tmp_path: Path
) -> None:
    feed = tmp_path / "feed"
    feed.mkdir()
    (feed / "CVE-2099-0001.json").write_text(json.dumps(VULN))
    db = tmp_path / "advisories.db"
    assert cli("db", "import", str(feed), "--db", str(db), "-q").returncode == 0
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(LENIENT)
    data = tmp_path / "data"
    r = cli(
        "registry", "add", registry.host, "--policy", str(policy_file), "--stage", "prod",
        "--plain-http", "--db", str(db), "--no-sync", "--data", str(data),
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    store = Store.open(data_dir=data)
    try:
        pushes = Pushes(registry, tmp_path, store, data, r.stdout.strip().splitlines()[-1])
        by_file = {"source": "registry", "policy": str(policy_file.resolve())}

        # nothing governed: the registry's file decides (1 critical <= 5: allowed)
        got = pushes.push()
        assert (got["allowed"], got["policy"], got["audited"]) == (True, str(policy_file.resolve()), by_file)

        # uploaded, not yet activated by a second person: still the file
        v1 = governance.upload_policy(store, "fleet", STRICT, "alice")["id"]
        staging = governance.upload_policy(store, "staging-rules", STAGING_ONLY, "alice")["id"]
        governance.activate_policy(store, staging, "bob")  # active, but it does not cover prod
        assert pushes.push()["audited"] == by_file

        # activated by bob: from the next push on, fleet v1 decides (0 critical allowed: quarantined)
        governance.activate_policy(store, v1, "bob")
        got = pushes.push()
        assert (got["allowed"], got["action"], got["policy"]) == (False, "quarantined", "fleet v1")
        assert got["audited"] == {
            "source": "governed", "policy": "fleet v1", "name": "fleet", "version": 1, "id": v1,
            "approved_by": "bob",
        }  # fmt: skip

        # a new version activated (by carol): the next push uses it, no restart
        v2 = governance.upload_policy(store, "fleet", LENIENT.replace("5", "1"), "alice")["id"]
        governance.activate_policy(store, v2, "carol")
        got = pushes.push()
        assert (got["allowed"], got["policy"]) == (True, "fleet v2")
        assert (got["audited"]["version"], got["audited"]["approved_by"]) == (2, "carol")

        # no active version covers prod any more (governance has no deactivate operation yet: the
        # row as an operator would leave it): the registry's own file decides again
        with store.write() as s:
            s.execute(update(Policy).where(Policy.name == "fleet").values(active=False))
        got = pushes.push()
        assert (got["allowed"], got["policy"], got["audited"]) == (True, str(policy_file.resolve()), by_file)
    finally:
        store.close()


def test_gate_policy_choice(tmp_path: Path) -> None:
    """Without a registry: governed over the file, and no stage (a registry added without
    --policy) means scan and record only, whatever is governed."""
    store = Store.open(data_dir=tmp_path / "data")
    try:
        (tmp_path / "p.yaml").write_text(LENIENT)
        file_cfg = rg.RegistryConfig(
            host="127.0.0.1:9", secret_sha256="0" * 64, policy=LENIENT,
            policy_source=str(tmp_path / "p.yaml"), stage="prod",
        )  # fmt: skip
        bare = rg.RegistryConfig(host="127.0.0.1:9", secret_sha256="0" * 64)
        assert rg.gate_policy(store, bare) is None
        chosen = rg.gate_policy(store, file_cfg)
        assert chosen is not None and chosen[1] == {"source": "registry", "policy": str(tmp_path / "p.yaml")}
        pid = governance.upload_policy(store, "fleet", STRICT, "alice")["id"]
        governance.activate_policy(store, pid, "bob")
        # two active names declare prod: the name that sorts first decides it (and its thresholds)
        other = governance.upload_policy(store, "zz-later", LENIENT, "alice")["id"]
        governance.activate_policy(store, other, "bob")
        assert rg.gate_policy(store, bare) is None
        chosen = rg.gate_policy(store, file_cfg)
        assert chosen is not None and chosen[1]["policy"] == "fleet v1"
        assert chosen[0].stage("prod").max_severity == {"CRITICAL": 0}
    finally:
        store.close()
