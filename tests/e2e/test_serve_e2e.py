"""`containment serve` as a real process on loopback: ready within 60 s, users and tokens added
while it runs, uploads over HTTP (the CI client included), JSON logs, graceful SIGTERM; bad flags
exit 2 with one line."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.e2e.registry import free_port
from tests.unit.server.pg import pg_cluster, pg_url  # noqa: F401

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
READY_WITHIN = 60


def serve_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "containment", "serve", *args]


@dataclass
class Served:
    url: str
    data: Path
    proc: subprocess.Popen[bytes]
    stderr: Path


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    port = free_port()
    data = tmp_path / "data"
    err = tmp_path / "serve.stderr"
    env = {**os.environ, "CONTAINMENT_DATA": str(data)}  # the default --data
    with err.open("wb") as f:
        proc = subprocess.Popen(
            serve_cmd("--listen", f"127.0.0.1:{port}"), stderr=f, stdout=f, env=env, cwd=ROOT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, err)
        yield Served(url, data, proc, err)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)


def wait_healthy(url: str, proc: subprocess.Popen[bytes], err: Path) -> None:
    deadline = time.monotonic() + READY_WITHIN
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"serve exited {proc.returncode}: {err.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    pytest.fail(f"/healthz did not answer 200 within {READY_WITHIN} s: {err.read_text()[-2000:]}")


def test_serve_end_to_end(served: Served) -> None:
    from containment.server.client import ServerError, upload_report
    from containment.server.store import Store
    from tests.unit.server.test_api import sbom, scan_report

    url = served.url
    # users and tokens added while the server runs, from another process's store
    with Store.open(data_dir=served.data) as store:
        for role in ("developer", "auditor", "operations"):
            store.add_user(f"{role}1", role)
        tokens = {role: store.create_token(f"{role}1") for role in ("developer", "auditor", "operations")}

    def h(role: str) -> dict[str, str]:
        return {"authorization": f"Bearer {tokens[role]}"}

    doc = httpx.get(f"{url}/api/v1/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    assert all(op["x-roles"] for item in doc["paths"].values() for op in item.values())
    assert httpx.get(f"{url}/readyz").status_code == 200
    assert httpx.get(f"{url}/api/v1/images").status_code == 401

    r = httpx.post(f"{url}/api/v1/sboms", json=sbom(), headers=h("developer"))
    assert r.status_code == 201, r.text
    assert httpx.post(f"{url}/api/v1/sboms", json=sbom(), headers=h("auditor")).status_code == 403

    # the CI client: scan report upload, then its errors as one clear message
    report = scan_report()
    assert upload_report(url, tokens["developer"], report) == report["image_digest"]
    with pytest.raises(ServerError, match="HTTP 403.*may not upload"):
        upload_report(url, tokens["auditor"], report)
    with pytest.raises(ServerError, match="HTTP 401"):
        upload_report(url, "ctm_0000000000000000_" + "A" * 43, report)
    with pytest.raises(ServerError, match="cannot reach"):
        upload_report(f"http://127.0.0.1:{free_port()}", tokens["developer"], report, timeout=5)

    images = httpx.get(f"{url}/api/v1/images", headers=h("auditor")).json()["images"]
    assert len(images) == 2
    metrics = httpx.get(f"{url}/metrics", headers=h("operations")).text
    assert 'route="/api/v1/sboms",status="201"' in metrics

    # graceful shutdown on SIGTERM: exits by itself, the store closed, logs are JSON lines
    served.proc.send_signal(signal.SIGTERM)
    code = served.proc.wait(60)
    assert code in (0, 143, -signal.SIGTERM), code  # 143: containment's own SIGTERM exit
    text = [line for line in served.stderr.read_text().splitlines() if line.strip()]
    # every log line is JSON; the one plain line is containment's own exit note after shutdown
    assert [line for line in text if not line.startswith("{")] in ([], ["containment: terminated (SIGTERM)"])
    lines = [json.loads(line) for line in text if line.startswith("{")]
    msgs = [rec["msg"] for rec in lines]
    assert "server ready" in msgs and "server stopping" in msgs
    assert any(rec.get("route") == "/api/v1/sboms" and rec.get("principal") == "developer1" for rec in lines)


def test_bad_flags_exit_2_with_one_line(tmp_path: Path) -> None:
    for args in (["--listen", "nonsense"], ["--listen", "127.0.0.1:99999"], ["--log-level", "loud"]):
        p = subprocess.run(
            serve_cmd("--data", str(tmp_path / "d"), *args),
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
        )
        assert p.returncode == 2, (args, p.stderr)
        assert "Traceback" not in p.stderr


@pytest.mark.parametrize("workers", ["1", "2"])
def test_port_in_use_exit_2(tmp_path: Path, served: Served, workers: str) -> None:
    port = served.url.rsplit(":", 1)[1]
    p = subprocess.run(
        serve_cmd("--data", str(tmp_path / "d2"), "--listen", f"127.0.0.1:{port}", "--workers", workers),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert p.returncode == 2, p.stderr
    assert "could not listen" in p.stderr and "Traceback" not in p.stderr


def test_serve_on_postgresql(tmp_path: Path, pg_url: str) -> None:  # noqa: F811
    """--database postgresql://... instead of the embedded SQLite."""
    from containment.server.store import Store
    from tests.unit.server.test_api import sbom

    port = free_port()
    err = tmp_path / "serve.stderr"
    with err.open("wb") as f:
        proc = subprocess.Popen(
            serve_cmd("--data", str(tmp_path / "d"), "--database", pg_url, "--listen", f"127.0.0.1:{port}"),
            stderr=f,
            stdout=f,
            cwd=ROOT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, err)
        with Store.open(url=pg_url) as store:
            store.add_user("ci", "developer")
            token = store.create_token("ci")
        headers = {"authorization": f"Bearer {token}"}
        assert httpx.get(f"{url}/readyz").status_code == 200
        assert httpx.post(f"{url}/api/v1/sboms", json=sbom(), headers=headers).status_code == 201
        assert len(httpx.get(f"{url}/api/v1/images", headers=headers).json()["images"]) == 1
    finally:
        proc.terminate()
        proc.wait(60)


def _children(pid: int) -> set[int]:
    """The server processes under `pid` (multiprocessing's resource tracker left out)."""
    out = set()
    for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        try:
            cmd = Path(f"/proc/{x}/cmdline").read_bytes()
        except OSError:
            continue  # gone meanwhile
        if b"spawn_main" in cmd:
            out.add(int(x))
    return out


def test_workers_share_the_address_and_one_that_dies_is_replaced(tmp_path: Path) -> None:
    """`serve --workers 2`: two server processes on one address, each with its own store
    connections (what one writes, the other reads); a killed one is started again while the
    other answers; SIGTERM stops them all and the command exits 0."""
    from containment.server.store import Store
    from tests.unit.server.test_api import sbom

    port = free_port()
    data = tmp_path / "d"
    err = tmp_path / "serve.stderr"
    with err.open("wb") as f:
        proc = subprocess.Popen(
            serve_cmd("--data", str(data), "--listen", f"127.0.0.1:{port}", "--workers", "2"),
            stderr=f,
            stdout=f,
            cwd=ROOT,
            start_new_session=True,  # its own process group: a failed test kills the workers too
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, err)
        deadline = time.monotonic() + READY_WITHIN
        while len(_children(proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        first = _children(proc.pid)
        assert len(first) == 2, err.read_text()[-2000:]
        with Store.open(data_dir=data) as store:
            store.add_user("ci", "developer")
            token = store.create_token("ci")
        headers = {"authorization": f"Bearer {token}"}
        assert httpx.post(f"{url}/api/v1/sboms", json=sbom(), headers=headers).status_code == 201
        # fresh connections land on either process: every one sees the upload
        for _ in range(10):
            with httpx.Client() as c:
                assert len(c.get(f"{url}/api/v1/images", headers=headers).json()["images"]) == 1
        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        while time.monotonic() < deadline:
            now = _children(proc.pid)
            if len(now) == 2 and victim not in now:
                break
            assert httpx.get(f"{url}/healthz", timeout=5).status_code == 200  # the other answers
            time.sleep(0.2)
        assert len(_children(proc.pid)) == 2 and victim not in _children(proc.pid), err.read_text()[-2000:]
        wait_healthy(url, proc, err)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0, err.read_text()[-2000:]
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)


def test_schemathesis_finds_no_server_error(served: Served) -> None:
    """schemathesis generates requests from the OpenAPI document, for several roles: no 5xx."""
    cli = Path(sys.executable).parent / "schemathesis"
    if not cli.exists():
        pytest.skip("schemathesis not installed in the venv (pip install schemathesis)")
    from containment.server.store import Store

    with Store.open(data_dir=served.data) as store:
        store.add_user("st-admin", "admin")
        store.add_user("st-dev", "developer")
        tokens = [store.create_token("st-admin"), store.create_token("st-dev"), None]
    for token in tokens:
        auth = ["-H", f"Authorization: Bearer {token}"] if token else []
        p = subprocess.run(
            [
                str(cli),
                "run",
                f"{served.url}/api/v1/openapi.json",
                *auth,
                "--checks",
                "not_a_server_error",
                "--max-examples",
                "15",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=ROOT,
        )
        summary = "\n".join(p.stdout.splitlines()[-30:])
        with_role = "admin" if token == tokens[0] else "developer" if token else "no token"
        print(
            f"\nschemathesis ({with_role}): {next((ln for ln in p.stdout.splitlines() if 'generated,' in ln), '').strip()}"
        )
        assert p.returncode == 0, summary
        assert "generated" in p.stdout and " 0 passed" not in p.stdout


def test_contract_through_the_one_command(served: Served, tmp_path: Path, make_oci) -> None:  # noqa: ANN001
    """The issue's contract 1, 2, 6 with `containment` itself: users and tokens made while the
    server runs, a CI scan uploaded with --server/--token, the image listed by the API."""
    from tests.conftest import base_layer

    def run(*args: str, **kw: object) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "containment", *args],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=ROOT,
            **kw,  # type: ignore[call-overload]
        )

    data = str(served.data)
    assert run("user", "add", "ci", "--role", "developer", "--data", data).returncode == 0
    made = run("token", "create", "ci", "--data", data)
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip().splitlines()[-1]
    img = "oci:" + make_oci([base_layer(("bash", "5.2.15-2+b2"))])
    up = run(
        "scan",
        "image",
        img,
        "--server",
        served.url,
        "--token",
        token,
        "--skip-db-update",
        "-f",
        "json",
        "--scanners",
        "secret,config",
    )
    assert up.returncode == 0, up.stderr
    listed = httpx.get(
        f"{served.url}/api/v1/images", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    assert listed.status_code == 200
    body = listed.json()
    items = body if isinstance(body, list) else next(v for v in body.values() if isinstance(v, list))
    assert len(items) == 1
    bad = run(
        "scan", "image", img, "--server", served.url, "--token", "ctm_forged", "--scanners", "secret", "-q"
    )
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "401" in bad.stderr
