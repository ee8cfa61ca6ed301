"""A real Debian `docker-registry` on loopback, started by the tests, with optional auth.

auth=None: anonymous; "basic": htpasswd (bcrypt); "token": bearer tokens from a small token
server run here, signed with a key whose certificate the registry trusts (the same flow as
Docker Hub, GHCR or Harbor).
"""

from __future__ import annotations

import base64
import datetime
import http.server
import json
import os
import socket
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx

REGISTRY_BIN = "/usr/bin/docker-registry"
USER, PASSWORD = "ci-user", "s3cret-pw"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def have_tools() -> str | None:
    from tests.tools import missing

    for tool, package in (
        (REGISTRY_BIN, "docker-registry"),
        ("skopeo", "skopeo"),
        ("htpasswd", "apache2-utils"),
    ):
        why = missing(tool, package)
        if why:
            return why
    return None


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class TokenServer:
    """Issues RS256 JWTs the registry verifies against `cert.pem` (x5c header)."""

    def __init__(self, workdir: Path, service: str) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import rsa
        from cryptography.x509.oid import NameOID

        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "containment-test-token")])
        now = datetime.datetime.now(datetime.UTC)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        self.cert_path = workdir / "token-cert.pem"
        self.cert_path.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))
        self.der = self.cert.public_bytes(serialization.Encoding.DER)
        self.service = service
        self.issuer = "containment-test-issuer"
        self.port = free_port()
        self.requests: list[str] = []
        srv = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                from urllib.parse import parse_qs, urlparse

                q = parse_qs(urlparse(self.path).query)
                auth = self.headers.get("Authorization", "")
                ok = auth == "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
                srv.requests.append(auth.split(" ")[0] or "anonymous")
                if not ok:
                    self.send_response(401)
                    self.end_headers()
                    return
                scopes = q.get("scope", [])
                body = json.dumps({"token": srv.token(scopes)}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def realm(self) -> str:
        return f"http://127.0.0.1:{self.port}/token"

    def token(self, scopes: list[str]) -> str:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        access = []
        for s in scopes:
            parts = s.split(":")
            if len(parts) >= 3:
                access.append(
                    {"type": parts[0], "name": ":".join(parts[1:-1]), "actions": parts[-1].split(",")}
                )
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [base64.b64encode(self.der).decode()]}
        claims = {
            "iss": self.issuer,
            "sub": USER,
            "aud": self.service,
            "exp": now + 600,
            "nbf": now - 10,
            "iat": now,
            "jti": str(uuid.uuid4()),
            "access": access,
        }
        signing = f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        sig = self.key.sign(signing.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing}.{_b64url(sig)}"

    def close(self) -> None:
        self.httpd.shutdown()


@dataclass
class Registry:
    host: str
    proc: subprocess.Popen  # type: ignore[type-arg]
    auth: str | None
    workdir: Path
    token_server: TokenServer | None = None

    def push(self, src: str, repo: str) -> str:
        dest = f"docker://{self.host}/{repo}"
        cmd = ["skopeo", "--insecure-policy", "copy", "--quiet", "--dest-tls-verify=false"]
        if self.auth:
            cmd += ["--dest-creds", f"{USER}:{PASSWORD}"]
        env = {**os.environ, "TMPDIR": str(self.workdir)}
        r = subprocess.run([*cmd, src, dest], capture_output=True, text=True, timeout=300, env=env)
        if r.returncode:
            raise RuntimeError(f"skopeo copy failed: {r.stderr}")
        return f"{self.host}/{repo}"

    def auth_file(self) -> Path:
        p = self.workdir / "auth.json"
        tok = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        p.write_text(json.dumps({"auths": {self.host: {"auth": tok}}}))
        return p

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        if self.token_server:
            self.token_server.close()


def start_registry(workdir: Path, auth: str | None = None) -> Registry:
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    cfg: dict = {
        "version": 0.1,
        "log": {"level": "error", "accesslog": {"disabled": True}},
        "storage": {"filesystem": {"rootdirectory": str(workdir / "data")}, "delete": {"enabled": True}},
        "http": {"addr": f"127.0.0.1:{port}", "secret": "test-secret"},
    }
    token_server = None
    if auth == "basic":
        htp = workdir / "htpasswd"
        out = subprocess.run(["htpasswd", "-Bbn", USER, PASSWORD], capture_output=True, text=True, check=True)
        htp.write_text(out.stdout)
        cfg["auth"] = {"htpasswd": {"realm": "containment-test", "path": str(htp)}}
    elif auth == "token":
        token_server = TokenServer(workdir, "containment-test-registry")
        cfg["auth"] = {
            "token": {
                "realm": token_server.realm,
                "service": token_server.service,
                "issuer": token_server.issuer,
                "rootcertbundle": str(token_server.cert_path),
            }
        }
    import yaml

    (workdir / "config.yml").write_text(yaml.safe_dump(cfg))
    log = open(workdir / "registry.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([REGISTRY_BIN, "serve", str(workdir / "config.yml")], stdout=log, stderr=log)
    host = f"127.0.0.1:{port}"
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            r = httpx.get(f"http://{host}/v2/", timeout=1)
            if r.status_code in (200, 401):
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        proc.kill()
        raise RuntimeError(f"registry did not start: {(workdir / 'registry.log').read_text()}")
    return Registry(host, proc, auth, workdir, token_server)
