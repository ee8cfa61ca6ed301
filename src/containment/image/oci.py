"""OCI image layout directories: `oci:DIR[:TAG]`."""

from __future__ import annotations

import os
import stat
from contextlib import AbstractContextManager
from typing import Any, BinaryIO

from containment import fserrors
from containment.image.source import (
    INDEX_TYPES,
    MANIFEST_TYPES,
    MAX_JSON,
    Image,
    Platform,
    check_digest,
    check_size,
    config_and_layers,
    declared_size,
    parse_json,
    select_platform,
    verify_bytes,
)
from containment.model import ImageError, LayerInfo

REF_NAME = "org.opencontainers.image.ref.name"


class OCILayout(Image):
    def __init__(self, path: str, tag: str | None, platform: Platform, ref: str) -> None:
        self.ref = ref
        self.root = path
        what = ref
        st, err = fserrors.stat(path)
        if err is not None:
            raise ImageError(f"{ref}: {fserrors.problem(path, err)}")
        if st is None or not stat.S_ISDIR(st.st_mode):
            raise ImageError(
                f"{ref}: {path} is not a directory; give oci:DIR[:TAG] pointing at an OCI image layout"
            )
        layout = os.path.join(path, "oci-layout")
        st, err = fserrors.stat(layout)
        if err is not None:
            raise ImageError(f"{ref}: {fserrors.problem(layout, err)}")
        if st is None or not stat.S_ISREG(st.st_mode):
            raise ImageError(
                f"{ref}: {path} has no oci-layout file; it is not an OCI image layout (try dir: for a rootfs)"
            )
        index = parse_json(
            self._read_file(os.path.join(path, "index.json"), f"{what} index.json"), f"{what} index.json"
        )
        desc = self._pick(index, tag, platform)
        for _ in range(4):  # nested indexes, bounded
            mt = desc.get("mediaType", "")
            data = self._blob_bytes(desc)
            doc = parse_json(data, f"{what} {desc['digest']}")
            mt = mt or doc.get("mediaType", "")
            if mt in INDEX_TYPES or (not mt and "manifests" in doc):
                desc = select_platform(doc, platform, what)
                continue
            if mt and mt not in MANIFEST_TYPES:
                raise ImageError(
                    f"{what}: unsupported manifest media type {mt!r}; containment reads OCI and Docker v2 "
                    "manifests (convert the image with skopeo copy)"
                )
            self.manifest_digest = desc["digest"]
            self.manifest = doc
            break
        else:
            raise ImageError(
                f"{what}: image indexes nest more than 4 deep; refusing the layout as hostile or corrupt "
                "(re-export the image)"
            )
        self.config_digest, self.config, self.layers = config_and_layers(
            self.manifest, self._blob_bytes, what
        )

    def _pick(self, index: dict[str, Any], tag: str | None, platform: Platform) -> dict[str, Any]:
        manifests = index.get("manifests")
        if not isinstance(manifests, list) or not manifests:
            raise ImageError(
                f"{self.ref}: index.json lists no images; the layout is empty: re-export the image"
            )
        if tag:
            named = [
                d
                for d in manifests
                if isinstance(d, dict) and (d.get("annotations") or {}).get(REF_NAME) == tag
            ]
            if not named:
                tags = sorted(
                    {
                        str((d.get("annotations") or {}).get(REF_NAME))
                        for d in manifests
                        if isinstance(d, dict) and (d.get("annotations") or {}).get(REF_NAME)
                    }
                )
                raise ImageError(
                    f"{self.ref}: no image tagged {tag!r} in the layout; tags: {', '.join(tags) or 'none'}"
                )
            manifests = named
        if len(manifests) == 1:
            d = manifests[0]
        else:
            d = select_platform({"manifests": manifests}, platform, self.ref)
        if not isinstance(d, dict):
            raise ImageError(
                f"{self.ref}: index.json entry is not an object; the layout is corrupt: re-export the image"
            )
        check_digest(d.get("digest"), f"{self.ref} index entry")
        return d

    def _blob_path(self, digest: str) -> str:
        alg, hexd = digest.split(":", 1)
        return os.path.join(self.root, "blobs", alg, hexd)

    def _read_file(self, path: str, what: str) -> bytes:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            raise ImageError(
                f"{what}: missing ({path}); the image layout is incomplete: re-export the image"
            ) from None
        except OSError as e:
            raise ImageError(f"{what}: {fserrors.problem(path, e)}") from None
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # before fdopen, which refuses a directory
            os.close(fd)
            raise ImageError(
                f"{what}: {path} is not a regular file; the layout is corrupt or hostile: re-export the image"
            )
        with os.fdopen(fd, "rb") as f:
            data = f.read(MAX_JSON + 1)
        return data

    def _blob_bytes(self, desc: dict[str, Any]) -> bytes:
        """A manifest, index or config blob: digest and size checked against its descriptor."""
        digest = check_digest(desc.get("digest"), f"{self.ref} descriptor")
        what = f"{self.ref} blob {digest}"
        size = declared_size(desc, what)
        if size > MAX_JSON:
            raise ImageError(
                f"{what}: descriptor declares {size} bytes, too large for a manifest or config; refusing it"
            )
        data = self._read_file(self._blob_path(digest), what)
        verify_bytes(data, digest, what)
        check_size(len(data), size, what)
        return data

    def open_layer(self, layer: LayerInfo) -> AbstractContextManager[BinaryIO]:
        path = self._blob_path(layer.digest)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError as e:
            raise ImageError(
                f"{self.ref}: layer {layer.index} blob {layer.digest} cannot be read ({e.strerror}); "
                "the image layout is incomplete: re-export the image"
            ) from None
        except OSError as e:
            raise ImageError(f"{self.ref}: layer {layer.index}: {fserrors.problem(path, e)}") from None
        return os.fdopen(fd, "rb", buffering=1 << 20)
