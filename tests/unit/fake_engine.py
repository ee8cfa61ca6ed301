"""A stand-in for the Docker Engine API (the two calls containment makes), on a unix socket or
loopback TCP, serving `docker save` streams as podman, classic Docker and Docker 25+ write them.
For the hostile and broken cases a real engine will not produce; tests/e2e/test_engine_e2e.py
runs the real podman."""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import socketserver
import tarfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from containment.image.build import ImageSpec


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _tar(members: list[tuple[str, bytes | None, str]]) -> bytes:
    """(name, data, symlink target) -> tar bytes."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, data, link in members:
            ti = tarfile.TarInfo(name)
            if link:
                ti.type = tarfile.SYMTYPE
                ti.linkname = link
                tf.addfile(ti)
            else:
                ti.size = len(data or b"")
                tf.addfile(ti, io.BytesIO(data or b""))
    return buf.getvalue()


@dataclass
class Saved:
    """One image as an engine holds it: what inspect says and what /get streams."""

    inspect: dict[str, Any]
    archive: bytes
    config: bytes


def save(spec: ImageSpec, style: str = "podman", tag: str = "localhost/demo:1") -> Saved:
    """`docker save` of `spec` as `style` writes it: podman (<diff_id>.tar), legacy (Docker's
    classic <id>/layer.tar), docker25 (an OCI layout inside; Id = the config digest) or
    containerd (the same archive, Id = the manifest digest, as Docker's containerd store says)."""
    config = json.dumps(spec.config_doc()).encode()
    diff_ids = [sha(x) for x in spec.layers]
    members: list[tuple[str, bytes | None, str]] = []
    image_id = sha(config)
    if style == "podman":
        names = [f"{d[7:]}.tar" for d in diff_ids]
        members += [(n, x, "") for n, x in zip(names, spec.layers, strict=True)]
        cfg_name = f"{image_id[7:]}.json"
        members.append((cfg_name, config, ""))
        members += [(f"{hashlib.sha256(n.encode()).hexdigest()}/layer.tar", None, f"../{n}") for n in names]
    elif style == "legacy":
        names = [f"{hashlib.sha256(b'v1' + x).hexdigest()}/layer.tar" for x in spec.layers]
        for n, x in zip(names, spec.layers, strict=True):
            members += [
                (n, x, ""),
                (n.replace("layer.tar", "json"), b"{}", ""),
                (n.replace("layer.tar", "VERSION"), b"1.0", ""),
            ]
        cfg_name = f"{image_id[7:]}.json"
        members.append((cfg_name, config, ""))
    else:  # docker25, containerd
        names = [f"blobs/sha256/{d[7:]}" for d in diff_ids]
        man = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {
                    "mediaType": "application/vnd.oci.image.config.v1+json",
                    "digest": image_id,
                    "size": len(config),
                },
                "layers": [
                    {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": d, "size": len(x)}
                    for d, x in zip(diff_ids, spec.layers, strict=True)
                ],
            }
        ).encode()
        members += [(n, x, "") for n, x in zip(names, spec.layers, strict=True)]
        members += [(f"blobs/sha256/{image_id[7:]}", config, ""), (f"blobs/sha256/{sha(man)[7:]}", man, "")]
        idx = {
            "schemaVersion": 2,
            "manifests": [
                {
                    "mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": sha(man),
                    "size": len(man),
                }
            ],
        }
        members += [
            ("index.json", json.dumps(idx).encode(), ""),
            ("oci-layout", b'{"imageLayoutVersion":"1.0.0"}', ""),
        ]
        cfg_name = f"blobs/sha256/{image_id[7:]}"
        if style == "containerd":
            image_id = sha(man)
    manifest = [{"Config": cfg_name, "RepoTags": [tag], "Layers": names}]
    members.append(("manifest.json", json.dumps(manifest).encode(), ""))
    repo = tag.rsplit(":", 1)[0]
    inspect = {
        "Id": image_id,
        "RepoTags": [tag],
        "RepoDigests": [f"{repo}@{sha(b'manifest of ' + config)}"],
        "Os": spec.os,
        "Architecture": spec.architecture,
        "RootFS": {"Type": "layers", "Layers": diff_ids},
    }
    return Saved(inspect, _tar(members), config)


@dataclass
class FakeEngine:
    images: dict[str, Saved] = field(default_factory=dict)  # name or id -> image
    requests: list[str] = field(default_factory=list)
    server: socketserver.BaseServer | None = None
    url: str = ""

    def add(self, saved: Saved, *names: str) -> Saved:
        for n in (*names, saved.inspect["Id"]):
            self.images[n] = saved
        return saved

    def start(self, where: Path | None = None) -> FakeEngine:
        """On a unix socket at `where`, else on loopback TCP."""
        engine = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a: object) -> None:
                pass

            def address_string(self) -> str:
                return "engine-client"

            def do_GET(self) -> None:  # noqa: N802
                engine.requests.append(self.path)
                path = unquote(self.path.split("?", 1)[0])
                name, _, call = path.removeprefix("/").removeprefix("images/").rpartition("/")
                img = engine.images.get(name)
                if not path.startswith("/images/") or img is None:
                    body = json.dumps({"message": f"{name}: No such image", "response": 404}).encode()
                    self.send_response(404)
                elif call == "json":
                    body = json.dumps(img.inspect).encode()
                    self.send_response(200)
                else:
                    body = img.archive
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        if where is not None:
            self.server = socketserver.ThreadingUnixStreamServer(str(where), Handler)
            self.url = f"unix://{where}"
        else:
            self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
            self.url = f"tcp://127.0.0.1:{self.server.server_address[1]}"
        self.server.daemon_threads = True  # type: ignore[attr-defined]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def exports(self) -> int:
        return sum(1 for r in self.requests if r.endswith("/get"))
