"""A real podman serving the Docker Engine API (`podman system service`), started by the tests,
with its own storage in a tmp dir (the machine's images and containers are never touched), and
a proxy that records the API calls containment makes (to see a rescan ask only inspect)."""

from __future__ import annotations

import http.server
import os
import socketserver
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx


def have_podman() -> str | None:
    """A skip reason in the installer's words (.ci/system-deps.sh), or None."""
    from tests.tools import missing

    for tool, package in (("podman", "podman"), ("runc", "runc")):
        why = missing(tool, package)
        if why:
            return why
    return None


# crun fails on hybrid-cgroup kernels; nothing here runs a container, but podman checks the runtime
CONTAINERS_CONF = """\
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]

[engine]
runtime = "runc"
events_logger = "none"
tmp_dir = "{w}/tmp"
static_dir = "{w}/libpod"
volume_path = "{w}/volumes"
"""

STORAGE_CONF = """\
[storage]
driver = "vfs"
graphroot = "{w}/graph"
runroot = "{w}/run"
"""


@dataclass
class Podman:
    workdir: Path
    env: dict[str, str]
    socket: Path
    proc: subprocess.Popen  # type: ignore[type-arg]

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def run(self, *args: str) -> str:
        r = subprocess.run(["podman", *args], capture_output=True, text=True, env=self.env, timeout=300)
        if r.returncode:
            raise RuntimeError(f"podman {' '.join(args)} failed: {r.stderr}")
        return r.stdout

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def start_podman(workdir: Path) -> Podman:
    workdir.mkdir(parents=True, exist_ok=True)
    for d in ("tmp", "libpod", "volumes", "graph", "run"):
        (workdir / d).mkdir(exist_ok=True)
    (workdir / "containers.conf").write_text(CONTAINERS_CONF.format(w=workdir))
    (workdir / "storage.conf").write_text(STORAGE_CONF.format(w=workdir))
    (workdir / "registries.conf").write_text("unqualified-search-registries = []\n")
    env = {
        **os.environ,
        "CONTAINERS_CONF": str(workdir / "containers.conf"),
        "CONTAINERS_STORAGE_CONF": str(workdir / "storage.conf"),
        "CONTAINERS_REGISTRIES_CONF": str(workdir / "registries.conf"),
        "TMPDIR": str(workdir / "tmp"),
    }
    sock = workdir / "podman.sock"
    log = open(workdir / "service.log", "wb")
    proc = subprocess.Popen(
        ["podman", "system", "service", "--time=0", f"unix://{sock}"], stdout=log, stderr=log, env=env
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            break
        if sock.exists():
            try:
                with httpx.Client(transport=httpx.HTTPTransport(uds=str(sock)), timeout=5) as c:
                    if c.get("http://podman/_ping").text == "OK":
                        return Podman(workdir, env, sock, proc)
            except httpx.HTTPError:
                pass
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"podman system service did not start: {(workdir / 'service.log').read_text()}")


@dataclass
class RecordingProxy:
    """Forwards Engine API calls to podman's socket, streaming, and records each request path;
    listens on a unix socket (`where`) or on loopback TCP (tcp:// DOCKER_HOST)."""

    upstream: Path
    where: Path | None = None
    requests: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a: object) -> None:
                pass

            def address_string(self) -> str:
                return "client"

            def do_GET(self) -> None:  # noqa: N802
                proxy.requests.append(self.path)
                transport = httpx.HTTPTransport(uds=str(proxy.upstream))
                with (
                    httpx.Client(transport=transport, timeout=None) as c,
                    c.stream("GET", "http://podman" + self.path) as r,
                ):
                    self.send_response(r.status_code)
                    for k, v in r.headers.items():
                        if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                            self.send_header(k, v)
                    self.send_header("Connection", "close")
                    self.end_headers()
                    for chunk in r.iter_raw():
                        self.wfile.write(chunk)

        if self.where is not None:
            self.server: socketserver.BaseServer = socketserver.ThreadingUnixStreamServer(
                str(self.where), Handler
            )
            self.url = f"unix://{self.where}"
        else:
            srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
            self.server = srv
            self.url = f"tcp://127.0.0.1:{srv.server_address[1]}"
        self.server.daemon_threads = True  # type: ignore[attr-defined]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def exports(self) -> list[str]:
        return [r for r in self.requests if r.endswith("/get")]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
