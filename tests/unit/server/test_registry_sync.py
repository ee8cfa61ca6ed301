"""Registry sync (server/registry_sync.py) against a real Debian docker-registry: images pushed
*before* `containment registry add` are listed (catalog + tags, paginated), gated once each by the
gate's own per-image job (scan, decision, quarantine), and neither a second sync nor a later push
notification of the same tag and digest handles them again. Auth failures fail the job with a
clear error kept on its row, retried with backoff."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from containment.image.build import ImageSpec, TarEntry, layer_tar, write_oci
from containment.server import registry_gate as rg
from containment.server import registry_sync, tasks
from containment.server.jobs import DONE, QUEUED, Jobs
from containment.server.models import Decision, Image, Tag
from containment.server.store import Store
from tests.conftest import dpkg_status
from tests.e2e.registry import Registry, have_tools, start_registry

ROOT = Path(__file__).resolve().parents[3]
POLICY = "stages:\n  prod:\n    max_severity: {CRITICAL: 0}\n"
VULN = {
    "id": "CVE-2099-0001",
    "modified": "2024-01-01T00:00:00Z",
    "summary": "containment-vulnerable: test advisory",
    "affected": [
        {
            "package": {"ecosystem": "Debian:12", "name": "containment-vulnerable"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0-1"}]}],
        }
    ],
    "database_specific": {"severity": "CRITICAL"},
}


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


def build(root: Path, i: int, vulnerable: bool) -> Path:
    pkgs = [("containment-hello", f"1.{i}-1")]
    if vulnerable:
        pkgs.append(("containment-vulnerable", "1.0-1"))
    files = [
        TarEntry("etc", kind="dir"),
        TarEntry("etc/os-release", b'ID=debian\nVERSION_ID="12"\n'),
        TarEntry("var/lib/dpkg/status", dpkg_status(*pkgs)),
    ]
    path = root / f"img{i}"
    write_oci(str(path), ImageSpec(layers=[layer_tar(files)], config={"User": "1000:1000"}))
    return path


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "containment", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env=os.environ.copy(),
    )


def run_jobs(store: Store, data: Path) -> Counter[str]:
    jobs = Jobs(store, lease=60, max_attempts=tasks.MAX_ATTEMPTS, backoff_base=tasks.BACKOFF_BASE)
    h = tasks.handlers(store, data, only=[registry_sync.KIND, rg.KIND])
    ran: Counter[str] = Counter()
    while (job := jobs.run_one(h)) is not None:
        ran[job.kind] += 1
    return ran


def audit(store: Store, action: str) -> list[dict[str, Any]]:
    with store.engine.connect() as c:
        rows = c.execute(
            text("SELECT detail FROM audit_records WHERE action = :a ORDER BY seq"), {"a": action}
        )
        return [json.loads(d) if isinstance(d, str) else dict(d) for (d,) in rows]


def test_images_pushed_before_registry_add_are_gated_once(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry_sync, "PAGE", 2)  # 5 repositories, 3 tags of one: every listing is paged
    feed = tmp_path / "feed"
    feed.mkdir()
    (feed / "CVE-2099-0001.json").write_text(json.dumps(VULN))
    db = tmp_path / "advisories.db"
    assert cli("db", "import", str(feed), "--db", str(db), "-q").returncode == 0
    pushed: dict[str, bool] = {}
    for i in range(5):
        vulnerable = i == 3
        path = build(tmp_path / "images", i, vulnerable)
        repo = f"team/app{i}"
        registry.push(f"oci:{path}", f"{repo}:v1")
        pushed[f"{repo}:v1"] = vulnerable
    registry.push(f"oci:{tmp_path / 'images' / 'img0'}", "team/app0:latest")  # a second tag, same digest
    registry.push(f"oci:{tmp_path / 'images' / 'img1'}", "team/app0:other")  # a third, another image
    (tmp_path / "policy.yaml").write_text(POLICY)
    data = tmp_path / "data"

    r = cli(
        "registry", "add", registry.host, "--policy", str(tmp_path / "policy.yaml"), "--stage", "prod",
        "--plain-http", "--db", str(db), "--data", str(data),
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "sync of" in r.stderr and "queued" in r.stderr
    secret = r.stdout.strip().splitlines()[-1]  # the secret stays the last line of stdout

    store = Store.open(data_dir=data)
    try:
        ran = run_jobs(store, data)
        assert ran == Counter({registry_sync.KIND: 1, rg.KIND: 7})  # 5 repositories, 7 tags
        (summary,) = audit(store, "registry.sync")
        assert (summary["tags"], summary["queued"], summary["known"]) == (7, 7, 0)
        with store.read() as s:
            decisions = s.query(Decision).all()
            tags = {f"{t.repository.name}:{t.name}" for t in s.query(Tag).all()}
            images = s.query(Image).count()
        assert len(decisions) == 7 and images == 5  # one decision per tag; img0 and img1 have two tags
        assert sorted(Counter(d.digest for d in decisions).values()) == [1, 1, 1, 2, 2]
        quarantined = [d for d in decisions if d.action == "quarantined"]
        assert len(quarantined) == 1 and not quarantined[0].allowed
        assert {f"{registry.host}/{t}" for t in (*pushed, "team/app0:latest", "team/app0:other")} <= tags

        # a second sync finds the same tags: nothing queued (the quarantined image is gone)
        r = cli("registry", "sync", registry.host, "--data", str(data))
        assert r.returncode == 0, r.stderr
        assert run_jobs(store, data) == Counter({registry_sync.KIND: 1})
        again = audit(store, "registry.sync")[-1]
        assert (again["tags"], again["queued"], again["known"]) == (6, 0, 6)
        # the registry's own notification of one of those pushes, redelivered late: a duplicate
        gate = rg.Gate(store, data, autostart=False)
        d0 = next(d.digest for d in decisions if d.action != "quarantined")
        repo_tag = next(
            ev for ev in (j["payload"] for j in gate.jobs.list(kind=rg.KIND)) if ev["digest"] == d0
        )
        assert repo_tag["event"].startswith("sync:")
        body = {
            "events": [
                {
                    "id": "late",
                    "action": "push",
                    "target": {
                        "mediaType": repo_tag["media_type"],
                        "digest": d0,
                        "repository": repo_tag["repository"],
                        "tag": repo_tag["tag"],
                    },
                }
            ]
        }
        status, got = gate.accept(secret, json.dumps(body).encode())
        assert (status, got) == (200, {"queued": 0, "duplicates": 1, "ignored": 0})
        with store.read() as s:
            assert s.query(Decision).count() == 7  # every image decided once, none twice
    finally:
        store.close()


def test_sync_errors_stay_on_the_job(registry: Registry, tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = Store.open(data_dir=data)
    rg.add_registry(store, registry.host, plain_http=True)
    try:
        registry.stop()  # the registry is down
        jid, new = registry_sync.request_sync(store, registry.host, "test")
        assert new and registry_sync.request_sync(store, registry.host, "test") == (jid, False)
        run_jobs(store, data)
        job = Jobs(store).get(jid)
        assert job is not None and job["state"] == QUEUED and job["attempts"] == 1 and job["not_before"]
        assert f"{registry.host}" in job["error"] and "cannot connect" in job["error"]
        missing = registry_sync.request_sync(store, "127.0.0.1:1", "test")[0]
        run_jobs(store, data)
        assert "not configured" in (Jobs(store).get(missing) or {})["error"]
        assert Jobs(store).get(jid)["state"] != DONE  # type: ignore[index]
    finally:
        store.close()
