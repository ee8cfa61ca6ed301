"""A target reference -> an image source (oci:, docker-archive:, podman:/docker:, a registry
reference) or a root directory (dir:)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from containment.image.source import Image
from containment.model import ImageError

if TYPE_CHECKING:
    from containment.cache import LayerCache


def open_target(
    ref: str,
    platform: str | None = None,
    plain_http: bool = False,
    tls_verify: bool = True,
    cache: LayerCache | None = None,
) -> Image | str:
    """An Image for an image reference, or the root path (str) for `dir:` targets. `cache`: where
    a local engine's image configs are kept (image/engine.py); None or disabled: nowhere."""
    from containment.image.source import Platform

    plat = Platform.parse(platform)
    if ref.startswith("dir:"):
        return ref[4:] or "."
    if ref.startswith("oci:"):
        rest = ref[4:]
        path, tag = rest, None
        head, sep, tail = rest.rpartition(":")
        if sep and head and "/" not in tail:
            path, tag = head, tail
        from containment.image.oci import OCILayout

        return OCILayout(path, tag, plat, ref)
    if ref.startswith("docker-archive:"):
        rest = ref[len("docker-archive:") :]
        path, tag = rest, None
        head, sep, tail = rest.rpartition(":")
        import os

        if sep and head and not os.path.exists(rest) and os.path.exists(head):
            path, tag = head, tail
        from containment.image.docker_archive import DockerArchive

        return DockerArchive(path, tag, ref)
    import re

    from containment.image import engine

    cache_root = cache.root.parent if cache is not None and cache.enabled else None
    local = re.match(
        r"^(podman|docker|docker-daemon):(?!//)(?!\d+/)(.*)$", ref
    )  # not docker://, docker:5000/
    if local:
        kind = "docker" if local.group(1) == "docker-daemon" else local.group(1)
        return engine.open_engine(kind, local.group(2), ref, plat if platform else None, cache_root)
    from containment.image.registry import (
        ManifestUnknown,
        RegistryImage,
        RegistryUnreachable,
        parse_reference,
    )

    if ref.startswith(("docker://", "registry:")):
        return RegistryImage(
            ref.split(":", 1)[1].lstrip("/") if ref.startswith("registry:") else ref,
            plat,
            plain_http,
            tls_verify,
        )
    if ref.startswith(("/", "./", "../")) or ref in (".", ".."):
        raise ImageError(
            f"{ref}: looks like a path; say what it is: oci:{ref}, docker-archive:{ref} or dir:{ref}"
        )
    if ":" in ref.split("/")[0] and ref.split(":", 1)[0] in (
        "oci-archive",
        "containers-storage",
    ):
        raise ImageError(
            f"{ref}: transport {ref.split(':', 1)[0]!r} is not supported; use podman:, docker:, oci:, docker-archive:, dir: or a registry reference"
        )
    # a bare reference: a local engine's image first (as Trivy does), then the registry
    parse_reference(ref)
    found, tried = engine.find_local(ref, ref, plat if platform else None, cache_root)
    if found is not None:
        return found
    try:
        return RegistryImage(ref, plat, plain_http, tls_verify)
    except (RegistryUnreachable, ManifestUnknown) as e:
        raise ImageError(
            f"{e}; the image is not in a local engine either ({tried}): pull it, or use oci:DIR or docker-archive:FILE"
        ) from None
