"""Copy an image between repositories or registries, byte for byte, with what is attached to it.

`copy_image` copies an index (every platform's manifest) or a single manifest, every config and
layer blob, and the image's cosign `.sig` and `.att` manifests with their blobs. Manifests are
pushed as the very bytes read, so the copy has the source's digest and every signature over that
digest still holds. Within one registry blobs are mounted (no byte moves); across registries each
blob is spooled to a temporary file while its digest is checked, then uploaded from the file, so
no layer is ever held in memory and nothing unverified is pushed.

`config_diff` says what changed in the image config between two images (the one a stage held
before and the one promoted into it): env, user, entrypoint, cmd, exposed ports, labels, working
dir, and the layers added on top of the common base.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass, field
from typing import IO, Any, BinaryIO

import httpx

from containment.image.registry import RegistryClient
from containment.image.source import (
    INDEX_TYPES,
    MANIFEST_TYPES,
    MAX_JSON,
    Platform,
    check_digest,
    check_size,
    declared_size,
    parse_json,
    select_platform,
)
from containment.model import ImageError
from containment.supplychain import oci

MAX_DEPTH = 4  # indexes nested deeper than this are refused as hostile
MAX_CHILDREN = 256  # manifests in one index
MAX_BLOBS = 4096  # layers in one manifest


@dataclass
class CopyResult:
    """What a copy did: the digest (the same on both sides), and how each blob got there."""

    digest: str
    media_type: str
    manifests: list[str] = field(default_factory=list)  # digests pushed, children first
    blobs: dict[str, str] = field(default_factory=dict)  # digest -> exists | mounted | uploaded
    attached: list[str] = field(default_factory=list)  # the .sig / .att tags copied

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for how in self.blobs.values():
            out[how] = out.get(how, 0) + 1
        return out


def _media_type(body: bytes, header_type: str, what: str) -> tuple[dict[str, Any], str]:
    doc = parse_json(body, what)
    mt = header_type if header_type in INDEX_TYPES | MANIFEST_TYPES else str(doc.get("mediaType") or "")
    if not mt:
        mt = "application/vnd.oci.image.index.v1+json" if "manifests" in doc else ""
    if not mt:
        raise ImageError(f"{what}: the manifest names no media type; re-push it with a current tool")
    return doc, mt


def _spooled(src: RegistryClient, digest: str, size: int) -> BinaryIO:
    """The blob in a temporary file (deleted on close), its digest and size checked."""
    where = f"{src.ref.registry}/{src.ref.repository}@{digest}"
    alg, _, want = digest.partition(":")
    h = hashlib.new(alg)
    f: IO[bytes] = tempfile.TemporaryFile(prefix="containment-blob-")  # noqa: SIM115 - returned open
    try:
        n = 0
        with src.blob_stream(digest) as resp:
            try:
                for chunk in resp.iter_bytes(1 << 20):
                    n += len(chunk)
                    if n > size:
                        raise ImageError(
                            f"{where}: blob is longer than its declared {size} bytes; refusing it"
                        )
                    h.update(chunk)
                    f.write(chunk)
            except httpx.HTTPError as e:
                raise ImageError(f"{where}: download failed mid-blob ({e}); retry") from None
        check_size(n, size, where)
        if h.hexdigest() != want:
            raise ImageError(
                f"{where}: blob content does not match its digest; the source registry is corrupt or "
                "tampered with: refusing to copy it"
            )
        f.seek(0)
        return f  # type: ignore[return-value]
    except BaseException:
        f.close()
        raise


def copy_blob(src: RegistryClient, dst: RegistryClient, desc: dict[str, Any], what: str) -> str:
    digest = check_digest(desc.get("digest"), what)
    size = declared_size(desc, f"{what} {digest}")
    same = src.base == dst.base and src.ref.repository != dst.ref.repository
    return dst.push_blob(
        digest, size, lambda: _spooled(src, digest, size), mount_from=src.ref.repository if same else None
    )


def _copy_manifest(
    src: RegistryClient, dst: RegistryClient, reference: str, result: CopyResult, depth: int = 0
) -> tuple[bytes, str, str]:
    """Copy what a manifest or index references, then the manifest itself by digest."""
    what = f"{src.ref.registry}/{src.ref.repository}@{reference}"
    if depth > MAX_DEPTH:
        raise ImageError(f"{what}: image indexes nest more than {MAX_DEPTH} deep; refusing it as hostile")
    body, header_type, digest = src.get_manifest(reference)
    doc, mt = _media_type(body, header_type, what)
    if mt in INDEX_TYPES or "manifests" in doc:
        children = doc.get("manifests")
        if not isinstance(children, list) or len(children) > MAX_CHILDREN:
            raise ImageError(f"{what}: index manifests list missing or over {MAX_CHILDREN}; refusing it")
        for i, d in enumerate(children):
            if not isinstance(d, dict):
                raise ImageError(f"{what}: index entry {i} is not a descriptor; the index is corrupt")
            child = check_digest(d.get("digest"), f"{what} index entry {i}")
            cbody, _, _ = _copy_manifest(src, dst, child, result, depth + 1)
            check_size(len(cbody), declared_size(d, f"{what} index entry {i}"), f"{what} manifest {child}")
    else:
        blobs = [doc.get("config"), *(doc.get("layers") or [])]
        if len(blobs) > MAX_BLOBS or not all(isinstance(b, dict) for b in blobs):
            raise ImageError(
                f"{what}: config or layer descriptors missing or malformed; the manifest is corrupt"
            )
        for b in blobs:
            result.blobs[b["digest"]] = copy_blob(src, dst, b, what)  # type: ignore[index]
    dst.put_manifest(digest, body, mt)
    result.manifests.append(digest)
    return body, mt, digest


def copy_image(
    src: RegistryClient, dst: RegistryClient, reference: str, dst_tag: str | None, attached: bool = True
) -> CopyResult:
    """Copy the image at `reference` (a tag or digest of `src`) to `dst`, tagged `dst_tag` when
    given, with its .sig and .att manifests (`attached`). The copy's digest is the source's."""
    result = CopyResult("", "")
    body, mt, digest = _copy_manifest(src, dst, reference, result)
    result.digest, result.media_type = digest, mt
    if dst_tag:
        dst.put_manifest(dst_tag, body, mt)
    if attached:
        for kind in oci.KINDS:
            tag = oci.tag_for(digest, kind)
            found = src.find_manifest(tag)
            if found is None:
                continue
            abody, aheader, adigest = found
            _, amt = _media_type(abody, aheader, f"{src.ref.repository}:{tag}")
            _copy_manifest(src, dst, adigest, result)
            dst.put_manifest(tag, abody, amt)
            result.attached.append(tag)
    return result


def image_config(client: RegistryClient, reference: str, platform: Platform | None = None) -> dict[str, Any]:
    """The config of the image at `reference` (the platform's manifest of an index)."""
    ref = reference
    what = f"{client.ref.registry}/{client.ref.repository}:{reference}"
    for _ in range(MAX_DEPTH):
        body, header_type, _digest = client.get_manifest(ref)
        doc, mt = _media_type(body, header_type, what)
        if mt in INDEX_TYPES or "manifests" in doc:
            desc = select_platform(doc, platform or Platform.parse(None), what)
            ref = check_digest(desc.get("digest"), f"{what} index entry")
            continue
        cdesc = doc.get("config")
        if not isinstance(cdesc, dict):
            raise ImageError(f"{what}: manifest has no config descriptor; the image is corrupt")
        data = client.get_blob(check_digest(cdesc.get("digest"), f"{what} config"), limit=MAX_JSON)
        return parse_json(data, f"{what} config")
    raise ImageError(f"{what}: image indexes nest more than {MAX_DEPTH} deep; refusing it as hostile")


def _conf(config: dict[str, Any]) -> dict[str, Any]:
    c = config.get("config")
    return c if isinstance(c, dict) else {}


def _env(config: dict[str, Any]) -> dict[str, str]:
    out = {}
    for e in _conf(config).get("Env") or []:
        if isinstance(e, str):
            k, _, v = e.partition("=")
            out[k] = v
    return out


def _map_diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    d: dict[str, Any] = {}
    added = {k: new[k] for k in sorted(new.keys() - old.keys())}
    removed = sorted(old.keys() - new.keys())
    changed = {k: {"from": old[k], "to": new[k]} for k in sorted(old.keys() & new.keys()) if old[k] != new[k]}
    if added:
        d["added"] = added
    if removed:
        d["removed"] = removed
    if changed:
        d["changed"] = changed
    return d


def config_diff(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """What changed from `old` (None: the stage held no image before) to `new`, by field; only
    fields that changed appear. Layers: the diff_ids `new` adds after the longest common prefix
    (a rebuilt base shows as every layer replaced)."""
    old = old or {}
    out: dict[str, Any] = {}
    for key, name in (("Env", "env"), ("Labels", "labels")):
        a: dict[str, Any] = _env(old) if key == "Env" else dict(_conf(old).get("Labels") or {})
        b: dict[str, Any] = _env(new) if key == "Env" else dict(_conf(new).get("Labels") or {})
        d = _map_diff(a, b)
        if d:
            out[name] = d
    ports_a, ports_b = set(_conf(old).get("ExposedPorts") or {}), set(_conf(new).get("ExposedPorts") or {})
    if ports_a != ports_b:
        out["exposed_ports"] = {"added": sorted(ports_b - ports_a), "removed": sorted(ports_a - ports_b)}
    for key, name in (
        ("User", "user"),
        ("Entrypoint", "entrypoint"),
        ("Cmd", "cmd"),
        ("WorkingDir", "workdir"),
    ):
        was, now = _conf(old).get(key), _conf(new).get(key)
        if (was or None) != (now or None):
            out[name] = {"from": was, "to": now}
    la = [str(x) for x in ((old.get("rootfs") or {}).get("diff_ids") or [])]
    lb = [str(x) for x in ((new.get("rootfs") or {}).get("diff_ids") or [])]
    common = 0
    while common < min(len(la), len(lb)) and la[common] == lb[common]:
        common += 1
    if la[common:] or lb[common:]:
        history = [h for h in (new.get("history") or []) if isinstance(h, dict) and not h.get("empty_layer")]
        added = []
        for i in range(common, len(lb)):
            h = history[i] if i < len(history) else {}
            added.append({"diff_id": lb[i], "created_by": str(h.get("created_by", ""))})
        out["layers"] = {"common": common, "added": added, "removed": len(la) - common}
    return out
