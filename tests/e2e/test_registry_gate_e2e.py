"""The registry gate end to end: a real Debian docker-registry whose `notifications.endpoints`
point at a live `containment serve` (shared-secret header), images pushed with skopeo, the
server killed -9 mid-run and restarted.

Every push is scanned once, every failing image is quarantined (copied under quarantine/ with
its digest, then deleted from its repository), every passing one carries a vuln attestation
verifiable with the server's key; after the kill no event is lost and none handled twice
(one decision and one `registry.decision` audit record per pushed tag)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from containment.image.build import ImageSpec, TarEntry, layer_tar, write_oci
from tests.conftest import dpkg_status
from tests.e2e.registry import REGISTRY_BIN, free_port, have_tools
from tests.unit.server.pg import pg_cluster, pg_url  # noqa: F401

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
SECRET = "registry-gate-e2e-shared-secret"
N_IMAGES = int(os.environ.get("CONTAINMENT_GATE_E2E_IMAGES", "20"))
SETTLE = 600  # seconds for every push to be decided (scans run on 2 cores)
POLICY = """
stages:
  prod:
    max_severity: {CRITICAL: 0}
    secrets: deny
"""
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
AWS_KEY = b"aws_access_key_id = AKIAZ5QHT4MLWPN7XQ2B\naws_secret_access_key = 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\n"


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env=env or os.environ.copy(),
    )


@dataclass
class Img:
    repo: str
    path: Path
    failing: str  # "" | "secret" | "vuln"
    digest: str = ""


def build(root: Path, i: int, failing: str) -> Img:
    osrel = b'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12"\n'
    pkgs = [("containment-hello", f"1.{i}-1")]
    if failing == "vuln":
        pkgs.append(("containment-vulnerable", "1.0-1"))
    files = [
        TarEntry("etc", kind="dir"),
        TarEntry("etc/os-release", osrel),
        TarEntry("var/lib/dpkg/status", dpkg_status(*pkgs)),
        TarEntry("app", kind="dir"),
        TarEntry("app/id.txt", f"image {i}\n".encode()),
    ]
    if failing == "secret":
        files.append(TarEntry("app/credentials", AWS_KEY))
    path = root / f"img{i}"
    cfg = {"User": "1000:1000", "Cmd": ["/app/hello"]}
    write_oci(str(path), ImageSpec(layers=[layer_tar(files)], config=cfg))
    return Img(f"team/app{i}", path, failing)


@dataclass
class Env:
    tmp: Path
    host: str
    data: Path
    url: str
    port: int
    registry: subprocess.Popen[bytes]
    database: str | None = None  # None: the embedded SQLite in data
    server: subprocess.Popen[bytes] | None = None

    def store(self) -> Any:
        from containment.server.store import Store

        return Store.open(data_dir=self.data, url=self.database)

    def start_server(self) -> None:
        err = (self.tmp / "serve.log").open("ab")
        db = ["--database", self.database] if self.database else []
        self.server = subprocess.Popen(
            [sys.executable, "-m", "containment", "serve", "--data", str(self.data), *db,
             "--listen", f"127.0.0.1:{self.port}"],
            stdout=err,
            stderr=err,
            cwd=ROOT,
            env={**os.environ, "CONTAINMENT_KEY_PASSWORD": "", "CONTAINMENT_DATA": str(self.data)},
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.server.poll() is None, (self.tmp / "serve.log").read_text()[-3000:]
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        pytest.fail("serve not ready in 60 s")

    def kill_server(self) -> None:
        assert self.server is not None
        self.server.send_signal(signal.SIGKILL)
        self.server.wait(30)

    def push(self, img: Img) -> str:
        r = subprocess.run(
            [
                "skopeo", "--insecure-policy", "copy", "--quiet", "--dest-tls-verify=false",
                "--digestfile", str(img.path) + ".digest",
                f"oci:{img.path}", f"docker://{self.host}/{img.repo}:v1",
            ],
            capture_output=True, text=True, timeout=300, env={**os.environ, "TMPDIR": str(self.tmp)},
        )  # fmt: skip
        assert r.returncode == 0, r.stderr
        img.digest = Path(str(img.path) + ".digest").read_text().strip()
        return img.digest


@pytest.fixture(params=["sqlite", "postgresql"])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Env]:
    why = have_tools()
    if why:
        pytest.skip(why)
    import yaml

    from containment.advisories.importer import import_paths
    from containment.supplychain import keys

    port, rport = free_port(), free_port()
    url = f"http://127.0.0.1:{port}"
    data = tmp_path / "data"
    (tmp_path / "keys").mkdir()
    keys.write_keypair(str(tmp_path / "keys" / "cosign"), b"")  # stored in the database below
    feed = tmp_path / "feed"
    feed.mkdir()
    (feed / "CVE-2099-0001.json").write_text(json.dumps(VULN))
    db = tmp_path / "advisories.db"
    import_paths([feed], db)
    (tmp_path / "policy.yaml").write_text(POLICY)
    host = f"127.0.0.1:{rport}"
    database = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    where = ["--data", str(data), *(["--database", database] if database else [])]
    r = cli(
        "-m", "containment.cli.registry", "add", host, "--plain-http", "--policy", str(tmp_path / "policy.yaml"),
        "--stage", "prod", "--secret", SECRET, "--db", str(db), *where, "--server-url", url,
        "--no-sync",  # pushes only: every job below is a push's (registry sync: test_registry_sync.py)
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == SECRET
    r = cli("-m", "containment", "registry", "key", "set", str(tmp_path / "keys" / "cosign.key"), *where,
            env={**os.environ, "CONTAINMENT_KEY_PASSWORD": ""})  # fmt: skip
    assert r.returncode == 0, r.stderr
    reg = tmp_path / "registry"
    reg.mkdir()
    cfg = {
        "version": 0.1,
        "log": {"level": "info", "accesslog": {"disabled": True}},
        "storage": {"filesystem": {"rootdirectory": str(reg / "data")}, "delete": {"enabled": True}},
        "http": {"addr": host, "secret": "test-secret"},
        "notifications": {
            "endpoints": [
                {
                    "name": "containment",
                    "url": f"{url}/api/v1/registry/events",
                    "headers": {"X-Containment-Secret": [SECRET]},
                    "timeout": "5s",
                    "threshold": 3,
                    "backoff": "1s",
                }
            ]
        },
    }
    (reg / "config.yml").write_text(yaml.safe_dump(cfg))
    log = (reg / "registry.log").open("wb")
    proc = subprocess.Popen([REGISTRY_BIN, "serve", str(reg / "config.yml")], stdout=log, stderr=log)
    e = Env(tmp_path, host, data, url, port, proc, database)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://{host}/v2/", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            pytest.fail(f"registry did not start: {(reg / 'registry.log').read_text()[-2000:]}")
        yield e
    finally:
        if e.server is not None and e.server.poll() is None:
            e.server.kill()
            e.server.wait(30)
        proc.kill()
        proc.wait(30)
        log.close()


def decisions(env: Env) -> list[tuple[str, str, bool]]:
    from sqlalchemy import select

    from containment.server.models import Decision

    with env.store() as store, store.read() as s:
        return [(d.digest, d.action, d.allowed) for d in s.scalars(select(Decision).order_by(Decision.id))]


def wait_for(env: Env, n: int, tmp: Path) -> list[tuple[str, str, bool]]:
    deadline = time.monotonic() + SETTLE
    got: list[tuple[str, str, bool]] = []
    while time.monotonic() < deadline:
        got = decisions(env)
        if len(got) >= n:
            return got
        time.sleep(1)
    pytest.fail(f"{len(got)} of {n} pushes decided in {SETTLE} s: {(tmp / 'serve.log').read_text()[-4000:]}")


def manifest_status(host: str, repo: str, ref: str) -> int:
    accept = ",".join(
        [
            "application/vnd.oci.image.manifest.v1+json",
            "application/vnd.docker.distribution.manifest.v2+json",
            "application/vnd.oci.image.index.v1+json",
        ]
    )
    return httpx.head(f"http://{host}/v2/{repo}/manifests/{ref}", headers={"accept": accept}).status_code


def test_every_push_gated_once_through_a_kill_9(env: Env, tmp_path: Path) -> None:
    kinds = ["", "secret", "", "vuln"]
    images = [build(tmp_path / "images", i, kinds[i % len(kinds)]) for i in range(N_IMAGES)]
    env.start_server()
    # forged notifications: refused, nothing stored
    forged = {"events": [{"action": "push", "target": {"mediaType": "application/vnd.oci.image.manifest.v1+json",
              "digest": "sha256:" + "0" * 64, "repository": "team/x", "tag": "v1"}}]}  # fmt: skip
    for headers in ({}, {"X-Containment-Secret": "not-the-secret-at-all"}):
        r = httpx.post(f"{env.url}/api/v1/registry/events", json=forged, headers=headers)
        assert 400 <= r.status_code < 500 and r.json()["error"], r.text
    half = N_IMAGES // 2
    for img in images[:half]:
        env.push(img)
    # kill -9 while the first half is being scanned, push the rest while the server is down
    # (the registry holds and re-sends its notifications), then restart
    deadline = time.monotonic() + SETTLE
    while not decisions(env) and time.monotonic() < deadline:
        time.sleep(0.2)
    env.kill_server()
    done_at_kill = len(decisions(env))
    for img in images[half:]:
        env.push(img)
    env.start_server()
    got = wait_for(env, N_IMAGES, tmp_path)
    time.sleep(3)  # a late duplicate would show up as an extra decision
    got = decisions(env)
    by_digest = Counter(d for d, _, _ in got)
    assert len(got) == N_IMAGES and all(by_digest[i.digest] == 1 for i in images), (done_at_kill, got)
    actions = {d: (a, ok) for d, a, ok in got}
    from containment.service import sign as svc

    pub = str(env.tmp / "keys" / "cosign.pub")  # what `registry key set` stored
    for img in images:
        action, allowed = actions[img.digest]
        if img.failing:
            assert (action, allowed) == ("quarantined", False), (img, action)
            assert manifest_status(env.host, img.repo, img.digest) == 404  # gone from its repository
            assert manifest_status(env.host, f"quarantine/{img.repo}", img.digest) == 200  # kept, same digest
            assert manifest_status(env.host, f"quarantine/{img.repo}", "v1") == 200
        else:
            assert (action, allowed) == ("attested", True), (img, action)
            res = svc.verify(
                f"{env.host}/{img.repo}@{img.digest}", pub, plain_http=True, attestations=("vuln",)
            )
            assert res.attestations and all(c.ok for c in res.attestations), res
    # audit: one receipt and one decision per pushed tag
    from sqlalchemy import text

    with env.store() as store, store.engine.connect() as c:
        rows = c.execute(text("SELECT action, subject FROM audit_records")).all()
        states = Counter(r[0] for r in c.execute(text("SELECT state FROM jobs")).all())
        retried = c.execute(text("SELECT count(*) FROM jobs WHERE attempts > 1")).scalar()
    pushes = Counter(s for a, s in rows if a == "registry.push")
    decided = Counter(s for a, s in rows if a == "registry.decision")
    keys = {f"{env.host}/{i.repo}:v1@{i.digest}" for i in images}
    assert set(pushes) == keys and set(pushes.values()) == {1}
    assert set(decided) == keys and set(decided.values()) == {1}
    assert states == Counter({"done": N_IMAGES}), states
    quarantined = sum(1 for i in images if i.failing)
    print(
        f"\nregistry gate e2e ({store.engine.dialect.name}): {N_IMAGES} pushes ({quarantined} failing), kill -9 after {done_at_kill} decided: "
        f"{len(got)} decisions, {quarantined} quarantined, {N_IMAGES - quarantined} attested, 0 duplicates; "
        f"{retried} job(s) run again after the kill"
    )
