"""One interface over every place an image can come from.

`open_image(ref)` returns an `Image`: its config, its layers (bottom first, with digest and
diff_id) and a way to read each layer blob as a stream. Manifests and configs are verified
against their digests before they are parsed; layer blobs are verified as they stream (the walk
hashes them and `verify_layer` compares).
"""

from __future__ import annotations

import hashlib
import json
import platform as _platform
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, BinaryIO

from containment.model import ImageError, LayerInfo

MAX_JSON = 8 << 20  # manifests, indexes and configs larger than this are refused

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_LIST})
MANIFEST_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
LAYER_TYPES = frozenset(
    {
        "application/vnd.oci.image.layer.v1.tar",
        "application/vnd.oci.image.layer.v1.tar+gzip",
        "application/vnd.oci.image.layer.v1.tar+zstd",
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
        "application/vnd.docker.image.rootfs.diff.tar",
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
    }
)
DIGEST_RE = re.compile(r"^sha256:[a-f0-9]{64}$|^sha512:[a-f0-9]{128}$")


@dataclass(frozen=True)
class Platform:
    os: str = "linux"
    architecture: str = "amd64"
    variant: str = ""

    @classmethod
    def parse(cls, text: str | None) -> Platform:
        if not text:
            return cls.host()
        parts = text.strip().split("/")
        if len(parts) < 2 or not all(parts):
            raise ImageError(
                f"--platform {text!r}: expected OS/ARCH[/VARIANT], e.g. linux/amd64 or linux/arm64/v8"
            )
        return cls(parts[0], parts[1], parts[2] if len(parts) > 2 else "")

    @classmethod
    def host(cls) -> Platform:
        m = _platform.machine().lower()
        arch = {
            "x86_64": "amd64",
            "aarch64": "arm64",
            "armv7l": "arm",
            "i686": "386",
            "ppc64le": "ppc64le",
        }.get(m, m)
        return cls("linux", arch, "v7" if m == "armv7l" else "")

    def __str__(self) -> str:
        return "/".join(p for p in (self.os, self.architecture, self.variant) if p)


def check_digest(digest: Any, what: str) -> str:
    if not isinstance(digest, str) or not DIGEST_RE.match(digest):
        raise ImageError(f"{what}: invalid digest {digest!r}; expected sha256:<64 hex>")
    return digest


def declared_size(desc: dict[str, Any], what: str) -> int:
    """A descriptor's `size`: the OCI image spec requires it, a non-negative integer."""
    size = desc.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise ImageError(
            f"{what}: descriptor size {size!r} is not a byte count (the OCI image spec requires one); "
            "the manifest is invalid: rebuild or re-push the image"
        )
    return size


def check_size(data_len: int, size: int, what: str) -> None:
    if data_len != size:
        raise ImageError(
            f"{what}: blob has {data_len} bytes but its descriptor declares {size}; "
            "the image is corrupt or tampered with: re-pull or re-export it"
        )


def digest_of(data: bytes, algorithm: str = "sha256") -> str:
    return f"{algorithm}:{hashlib.new(algorithm, data).hexdigest()}"


def verify_bytes(data: bytes, digest: str, what: str) -> None:
    alg = digest.split(":", 1)[0]
    got = digest_of(data, alg)
    if got != digest:
        raise ImageError(
            f"{what}: content digest {got} does not match {digest}; the image is corrupt or tampered with"
        )


def parse_json(data: bytes, what: str) -> dict[str, Any]:
    if len(data) > MAX_JSON:
        raise ImageError(
            f"{what}: {len(data)} bytes is too large for a manifest or config; refusing it "
            "(rebuild the image with a smaller config)"
        )
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as e:
        raise ImageError(
            f"{what}: not valid JSON ({e}); the image is corrupt: re-pull or re-export it"
        ) from None
    except RecursionError:
        raise ImageError(
            f"{what}: JSON nests too deeply to be read safely; refusing it as hostile or corrupt "
            "(re-pull or re-export the image from a trusted source)"
        ) from None
    if not isinstance(doc, dict):
        raise ImageError(f"{what}: expected a JSON object; the image is corrupt: re-pull or re-export it")
    return doc


def select_platform(index: dict[str, Any], want: Platform, what: str) -> dict[str, Any]:
    """The manifest descriptor of an index that matches `want` (variant optional)."""
    manifests = index.get("manifests")
    if not isinstance(manifests, list) or not manifests:
        raise ImageError(f"{what}: image index lists no manifests")
    cands = []
    for d in manifests:
        if not isinstance(d, dict):
            continue
        p = d.get("platform") or {}
        if not isinstance(p, dict):
            continue
        if p.get("os") == want.os and p.get("architecture") == want.architecture:
            if want.variant and p.get("variant") and p.get("variant") != want.variant:
                continue
            cands.append(d)
    if cands:
        return cands[0]
    real = [d for d in manifests if isinstance(d, dict) and (d.get("platform") or {}).get("os") != "unknown"]
    if len(real) == 1 and not real[0].get("platform"):
        return real[0]
    have = sorted(
        {
            "/".join(x for x in (p.get("os", "?"), p.get("architecture", "?"), p.get("variant", "")) if x)
            for d in manifests
            if isinstance(d, dict)
            and isinstance(p := d.get("platform") or {}, dict)
            and p.get("os") != "unknown"
        }
    )
    raise ImageError(
        f"{what}: no manifest for platform {want}; pass --platform with one of: {', '.join(have) or 'none'}"
    )


def config_and_layers(
    manifest: dict[str, Any], fetch: Callable[[dict[str, Any]], bytes], what: str
) -> tuple[str, dict[str, Any], list[LayerInfo]]:
    """(config digest, config, layers) of a manifest; `fetch` returns a descriptor's verified bytes."""
    cdesc = manifest.get("config")
    if not isinstance(cdesc, dict):
        raise ImageError(f"{what}: manifest has no config descriptor; the image is corrupt")
    digest = check_digest(cdesc.get("digest"), f"{what} config")
    size = declared_size(cdesc, f"{what} config {digest}")
    data = fetch(cdesc)
    check_size(len(data), size, f"{what} config {digest}")
    config = parse_json(data, f"{what} config {digest}")
    return digest, config, layers_from(manifest, config, what)


def created_by(config: dict[str, Any]) -> list[str]:
    """The `created_by` of each history entry that made a layer (empty_layer entries skipped)."""
    return [
        str(h.get("created_by", ""))
        for h in (config.get("history") or [])
        if isinstance(h, dict) and not h.get("empty_layer")
    ]


def layers_from(manifest: dict[str, Any], config: dict[str, Any], what: str) -> list[LayerInfo]:
    """Pair manifest layer descriptors with config diff_ids and history, checking both."""
    descs = manifest.get("layers")
    if not isinstance(descs, list):
        raise ImageError(f"{what}: manifest has no layers list; the image is corrupt")
    rootfs = config.get("rootfs") or {}
    diff_ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
    if not isinstance(diff_ids, list) or len(diff_ids) != len(descs):
        raise ImageError(
            f"{what}: config lists {len(diff_ids) if isinstance(diff_ids, list) else 'no'} diff_ids for "
            f"{len(descs)} layers; the image is corrupt"
        )
    history = created_by(config)
    out = []
    for i, (d, diff_id) in enumerate(zip(descs, diff_ids, strict=True)):
        if not isinstance(d, dict):
            raise ImageError(f"{what}: layer {i} descriptor is not an object; the image is corrupt")
        mt = d.get("mediaType", "")
        if mt and mt not in LAYER_TYPES:
            raise ImageError(
                f"{what}: layer {i} has unsupported media type {mt!r}; containment reads tar, tar+gzip and tar+zstd layers"
            )
        digest = check_digest(d.get("digest"), f"{what} layer {i}")
        size = declared_size(d, f"{what} layer {i} ({digest})")
        out.append(
            LayerInfo(
                index=i,
                diff_id=check_digest(diff_id, f"{what} diff_id {i}"),
                digest=digest,
                media_type=mt,
                size=size,
                created_by=history[i] if i < len(history) else "",
            )
        )
    return out


class Image(ABC):
    """An opened image. Layers are read one blob at a time, as streams."""

    ref: str
    manifest_digest: str = ""
    config_digest: str = ""
    config: dict[str, Any]
    layers: list[LayerInfo]
    # True when blobs can be opened in any order, in parallel (OCI dir, registry, plain tar).
    random_access: bool = True

    @abstractmethod
    def open_layer(self, layer: LayerInfo) -> AbstractContextManager[BinaryIO]:
        """The layer blob, compressed as stored. The caller verifies its digest after reading."""

    def layer_proof(self, layer: LayerInfo) -> str:
        """What binds this blob to its content without reading it: the blob digest, which a
        digest-verified manifest names and which was checked when the blob was last read.
        Sources without one (docker-archive) override this."""
        return layer.digest or layer.diff_id

    def iter_layers(self, wanted: list[LayerInfo]) -> Iterator[tuple[LayerInfo, BinaryIO]]:
        """Blobs in the order cheapest for the source (sequential sources override this)."""
        for layer in wanted:
            with self.open_layer(layer) as f:
                yield layer, f

    def close(self) -> None:  # noqa: B027 - optional hook
        pass

    def __enter__(self) -> Image:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def verify_layer(layer: LayerInfo, digest: str, diff_id: str, what: str) -> None:
    if layer.digest and digest != layer.digest and diff_id != layer.digest:
        raise ImageError(
            f"{what}: layer {layer.index} blob digest {digest} does not match the manifest's {layer.digest}; "
            "the image is corrupt or the registry returned a wrong blob: re-pull or re-export it"
        )
    if layer.diff_id and diff_id != layer.diff_id:
        raise ImageError(
            f"{what}: layer {layer.index} content digest {diff_id} does not match the config's diff_id "
            f"{layer.diff_id}; the image is corrupt or tampered with: re-pull or re-export it"
        )
