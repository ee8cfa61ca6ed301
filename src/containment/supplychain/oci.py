"""Signatures and attestations stored in a registry, in cosign's layout, so cosign, skopeo and
podman find what we write and we find what they write.

cosign keeps everything attached to an image `REPO@sha256:<hex>` in the same repository, as an
OCI image manifest tagged `sha256-<hex>.sig` (signatures) or `sha256-<hex>.att` (attestations):

- config: `application/vnd.oci.image.config.v1+json`, the small document go-containerregistry
  makes for an image built from nothing (empty architecture and os, the zero time, one history
  entry and one rootfs diff_id per layer, the diff_id being the layer's own digest);
- one layer per signature: the simple-signing payload (`application/vnd.dev.cosign.simplesigning.v1+json`)
  with its base64 signature in the `dev.cosignproject.cosign/signature` annotation; or, for an
  attestation, a DSSE envelope (`application/vnd.dsse.envelope.v1+json`) with an empty signature
  annotation and a `predicateType` one.

Attaching appends to what is there (cosign keeps every signature; an identical layer is not added
twice). Reading checks every blob's digest and size; verifying checks each signature against a
key and the payload's manifest digest against the image's, so a `.sig` copied from another image
proves nothing.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any

from containment.image.registry import RegistryClient, RegistryUnreachable
from containment.image.source import (
    OCI_MANIFEST,
    check_digest,
    check_size,
    declared_size,
    digest_of,
    parse_json,
)
from containment.model import ImageError
from containment.supplychain import cosign

OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
KINDS = ("sig", "att")
MAX_LAYERS = 512  # signatures or attestations on one image before the manifest is refused as hostile
MAX_PAYLOAD = 4 << 20  # one signature payload or DSSE envelope (a scan attestation is ~100 KB)
ZERO_TIME = "0001-01-01T00:00:00Z"


@dataclass(frozen=True)
class Attached:
    """One signature or attestation as stored: its layer descriptor and its verified bytes."""

    media_type: str
    digest: str
    annotations: dict[str, str]
    data: bytes
    error: str = ""  # the blob could not be read or did not match its digest: refused, not fatal


@dataclass(frozen=True)
class Check:
    """The verdict on one stored signature or attestation."""

    digest: str  # the layer's blob digest
    ok: bool
    reason: str = ""  # why it was refused
    docker_reference: str = ""  # the identity a signature payload names
    predicate_type: str = ""
    statement: dict[str, Any] = field(default_factory=dict)  # a verified attestation's in-toto statement


def tag_for(image_digest: str, kind: str) -> str:
    """`sha256-<hex>.sig` or `.att`: where cosign keeps what is attached to `image_digest`."""
    check_digest(image_digest, "image")
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r}: use one of {KINDS}")
    return cosign.sig_tag(image_digest) if kind == "sig" else cosign.att_tag(image_digest)


def config_for(layer_digests: list[str]) -> bytes:
    """The config cosign 2.5 writes for a signature image, byte for byte (Go's field order)."""
    doc = {
        "architecture": "",
        "created": ZERO_TIME,
        "history": [{"created": ZERO_TIME} for _ in layer_digests],
        "os": "",
        "rootfs": {"type": "layers", "diff_ids": list(layer_digests)},
        "config": {},
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def manifest_for(layers: list[dict[str, Any]], config: bytes) -> bytes:
    doc = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "size": len(config), "digest": digest_of(config)},
        "layers": layers,
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def _descriptors(client: RegistryClient, tag: str) -> list[dict[str, Any]]:
    """The layer descriptors of the manifest at `tag`, checked for shape; [] when there is none."""
    where = f"{client.ref.registry}/{client.ref.repository}:{tag}"
    found = client.find_manifest(tag)
    if found is None:
        return []
    body, _mt, _digest = found
    doc = parse_json(body, where)
    layers = doc.get("layers")
    if not isinstance(layers, list):
        raise ImageError(f"{where}: not an image manifest (no layers list); delete the tag and sign again")
    if len(layers) > MAX_LAYERS:
        raise ImageError(f"{where}: {len(layers)} layers, more than {MAX_LAYERS}; refusing it as hostile")
    out = []
    for i, d in enumerate(layers):
        if not isinstance(d, dict):
            raise ImageError(f"{where}: layer {i} is not a descriptor; delete the tag and sign again")
        check_digest(d.get("digest"), f"{where} layer {i}")
        declared_size(d, f"{where} layer {i}")
        ann = d.get("annotations", {})
        if not isinstance(ann, dict) or not all(isinstance(v, str) for v in ann.values()):
            raise ImageError(f"{where}: layer {i} annotations are not strings; delete the tag and sign again")
        out.append(d)
    return out


def read(client: RegistryClient, image_digest: str, kind: str) -> list[Attached]:
    """Every signature (kind "sig") or attestation ("att") attached to `image_digest`, each
    blob's digest and size checked. [] when the image has none."""
    tag = tag_for(image_digest, kind)
    out = []
    for d in _descriptors(client, tag):
        error, data = "", b""
        try:
            data = client.get_blob(d["digest"], limit=MAX_PAYLOAD)
            check_size(len(data), d["size"], f"{client.ref.repository}:{tag} layer {d['digest']}")
        except RegistryUnreachable:
            raise
        except ImageError as e:  # a missing or altered blob: this entry is refused, the others stand
            error, data = str(e), b""
        out.append(
            Attached(str(d.get("mediaType", "")), d["digest"], dict(d.get("annotations", {})), data, error)
        )
    return out


def attach(
    client: RegistryClient,
    image_digest: str,
    kind: str,
    data: bytes,
    media_type: str,
    annotations: dict[str, str],
) -> tuple[str, bool]:
    """Append one layer (a payload and its annotations) to the image's `.sig` or `.att`
    manifest, creating it when absent. (digest of the manifest now at the tag, whether a layer
    was added: an identical layer already there is kept once, as cosign does)."""
    tag = tag_for(image_digest, kind)
    if len(data) > MAX_PAYLOAD:
        raise ImageError(f"{kind} payload of {len(data)} bytes is over {MAX_PAYLOAD}; refusing to push it")
    layers = _descriptors(client, tag)
    blob = client.push_bytes(data)
    new = {"mediaType": media_type, "size": len(data), "digest": blob, "annotations": dict(annotations)}
    added = not any(
        d["digest"] == blob
        and d.get("annotations", {}) == new["annotations"]
        and d.get("mediaType") == media_type
        for d in layers
    )
    if added:
        layers.append(new)
        if len(layers) > MAX_LAYERS:
            raise ImageError(f"{tag}: already {MAX_LAYERS} layers; refusing to add more")
    config = config_for([d["digest"] for d in layers])
    client.push_blob(digest_of(config), len(config), lambda: io.BytesIO(config))
    body = manifest_for(layers, config)
    return client.put_manifest(tag, body, OCI_MANIFEST), added


def verify_signatures(items: list[Attached], public: Any, image_digest: str) -> list[Check]:
    """One Check per stored signature: the key's signature over the payload, and the payload's
    `docker-manifest-digest` equal to `image_digest`."""
    out = []
    for a in items:
        if a.error:
            out.append(Check(a.digest, False, a.error))
            continue
        if a.media_type != cosign.SIMPLESIGNING_MEDIA_TYPE:
            out.append(
                Check(a.digest, False, f"layer media type {a.media_type!r} is not a simple-signing payload")
            )
            continue
        sig = a.annotations.get(cosign.SIGNATURE_ANNOTATION, "")
        if not sig:
            out.append(Check(a.digest, False, f"no {cosign.SIGNATURE_ANNOTATION} annotation"))
            continue
        try:
            cosign.verify_simple_signing(public, a.data, sig, image_digest)
        except cosign.SignatureError as e:
            out.append(Check(a.digest, False, str(e)))
            continue
        out.append(Check(a.digest, True, docker_reference=_identity(a.data)))
    return out


def verify_attestations(
    items: list[Attached], public: Any, image_digest: str, predicate_type: str | None = None
) -> list[Check]:
    """One Check per stored attestation (of `predicate_type` when given): the DSSE signature,
    the statement's subject digest equal to `image_digest`, the predicate type."""
    predicate_type = cosign.predicate_type_uri(predicate_type) if predicate_type else None
    out = []
    for a in items:
        ptype = a.annotations.get(cosign.PREDICATE_ANNOTATION, "")
        if predicate_type and ptype and ptype != predicate_type:
            continue  # another kind of attestation: neither good nor bad for this question
        if a.error:
            out.append(Check(a.digest, False, a.error, predicate_type=ptype))
            continue
        if a.media_type != cosign.DSSE_MEDIA_TYPE:
            out.append(Check(a.digest, False, f"layer media type {a.media_type!r} is not a DSSE envelope"))
            continue
        try:
            statement = cosign.verify_dsse(public, a.data, image_digest, predicate_type)
        except cosign.SignatureError as e:
            out.append(Check(a.digest, False, str(e), predicate_type=ptype))
            continue
        real = str(statement.get("predicateType", ""))
        if ptype and ptype != real:
            out.append(
                Check(
                    a.digest, False, f"annotation says predicate {ptype} but the signed statement says {real}"
                )
            )
            continue
        out.append(Check(a.digest, True, predicate_type=real, statement=statement))
    return out


def _identity(payload: bytes) -> str:
    try:
        doc = json.loads(payload)
        ref = doc["critical"]["identity"]["docker-reference"]
    except (ValueError, KeyError, TypeError):
        return ""
    return ref if isinstance(ref, str) else ""
