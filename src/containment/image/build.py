"""Write small images: layer tars, OCI image layouts and docker-archives.

Used by `containment demo` (an image assembled from this machine's own files) and by tests
that need exact, hostile or broken images. Output follows the OCI image-spec layout and the
`docker save` format, so skopeo, umoci and syft read it too.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
from dataclasses import dataclass, field
from typing import Any

from containment.image.source import OCI_INDEX, OCI_MANIFEST


@dataclass(frozen=True)
class TarEntry:
    path: str
    data: bytes = b""
    kind: str = "file"  # file, dir, symlink, hardlink
    mode: int = 0o644
    link: str = ""
    uid: int = 0
    gid: int = 0


def layer_tar(entries: list[TarEntry], fmt: int = tarfile.PAX_FORMAT) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        for e in entries:
            ti = tarfile.TarInfo(e.path)
            ti.mode = e.mode
            ti.uid, ti.gid = e.uid, e.gid
            ti.mtime = 0
            if e.kind == "dir":
                ti.type = tarfile.DIRTYPE
                ti.mode = e.mode if e.mode != 0o644 else 0o755
                tf.addfile(ti)
            elif e.kind == "symlink":
                ti.type = tarfile.SYMTYPE
                ti.linkname = e.link
                tf.addfile(ti)
            elif e.kind == "hardlink":
                ti.type = tarfile.LNKTYPE
                ti.linkname = e.link
                tf.addfile(ti)
            else:
                ti.size = len(e.data)
                tf.addfile(ti, io.BytesIO(e.data))
    return buf.getvalue()


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def compress(data: bytes, how: str) -> tuple[bytes, str]:
    if how == "gzip":
        return gzip.compress(data, compresslevel=6, mtime=0), "application/vnd.oci.image.layer.v1.tar+gzip"
    if how == "zstd":
        import zstandard

        return zstandard.ZstdCompressor().compress(data), "application/vnd.oci.image.layer.v1.tar+zstd"
    return data, "application/vnd.oci.image.layer.v1.tar"


@dataclass
class ImageSpec:
    layers: list[bytes]  # uncompressed layer tars, bottom first
    config: dict[str, Any] = field(default_factory=dict)  # merged into the image config
    history: list[str] = field(default_factory=list)
    architecture: str = "amd64"
    os: str = "linux"

    def config_doc(self) -> dict[str, Any]:
        hist = self.history or [f"layer {i}" for i in range(len(self.layers))]
        return {
            "created": "2026-01-01T00:00:00Z",
            "architecture": self.architecture,
            "os": self.os,
            "config": self.config,
            "rootfs": {"type": "layers", "diff_ids": [sha256(x) for x in self.layers]},
            "history": [{"created": "2026-01-01T00:00:00Z", "created_by": h} for h in hist],
        }


def _write_blob(root: str, data: bytes) -> str:
    d = sha256(data)
    p = os.path.join(root, "blobs", "sha256", d.split(":")[1])
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb") as f:
        f.write(data)
    return d


def write_oci(
    root: str,
    images: list[ImageSpec] | ImageSpec,
    tag: str = "latest",
    compression: str = "gzip",
    as_index: bool = False,
) -> str:
    """An OCI image layout; several specs become one multi-platform index under `tag`."""
    specs = images if isinstance(images, list) else [images]
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    descs = []
    for spec in specs:
        layer_descs = []
        for raw in spec.layers:
            blob, mt = compress(raw, compression)
            layer_descs.append({"mediaType": mt, "digest": _write_blob(root, blob), "size": len(blob)})
        cfg = json.dumps(spec.config_doc()).encode()
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": _write_blob(root, cfg),
                "size": len(cfg),
            },
            "layers": layer_descs,
        }
        mb = json.dumps(manifest).encode()
        descs.append(
            {
                "mediaType": OCI_MANIFEST,
                "digest": _write_blob(root, mb),
                "size": len(mb),
                "platform": {"architecture": spec.architecture, "os": spec.os},
            }
        )
    if len(descs) > 1 or as_index:
        idx = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": descs}).encode()
        top = {"mediaType": OCI_INDEX, "digest": _write_blob(root, idx), "size": len(idx)}
    else:
        top = {k: v for k, v in descs[0].items() if k != "platform"}
    top["annotations"] = {"org.opencontainers.image.ref.name": tag}
    with open(os.path.join(root, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [top]}, f)
    return str(top["digest"])


def write_docker_archive(
    path: str, spec: ImageSpec, tag: str = "demo:latest", gzip_outer: bool = False
) -> None:
    """A `docker save` archive (legacy layout: <id>/layer.tar, <config>.json, manifest.json)."""
    buf = io.BytesIO()
    cfg = json.dumps(spec.config_doc()).encode()
    cfg_name = sha256(cfg).split(":")[1] + ".json"
    with tarfile.open(fileobj=buf, mode="w") as tf:

        def add(name: str, data: bytes) -> None:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))

        names = []
        for raw in spec.layers:
            lid = sha256(raw).split(":")[1]
            add(f"{lid}/layer.tar", raw)
            names.append(f"{lid}/layer.tar")
        add(cfg_name, cfg)
        add("manifest.json", json.dumps([{"Config": cfg_name, "RepoTags": [tag], "Layers": names}]).encode())
    data = buf.getvalue()
    with open(path, "wb") as f:
        f.write(gzip.compress(data, mtime=0) if gzip_outer else data)
