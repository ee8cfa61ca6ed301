"""Signatures and attestations in the formats cosign 2.5 writes and reads (no registry here).

- Signature: the "simple signing" payload (sigstore's pkg/signature/payload/payload.go, after
  containers/image docs/containers-signature.5.md), signed with ECDSA over its SHA-256 (ASN.1
  DER signature, base64), stored by the registry side as a layer of media type
  SIMPLESIGNING_MEDIA_TYPE with the signature in the SIGNATURE_ANNOTATION annotation, under the
  tag `sha256-<hex>.sig` (cosign's pkg/oci/static and pkg/cosign/remote).
- Attestation: an in-toto Statement (in-toto/attestation spec/v1/statement.md) in a DSSE
  envelope (secure-systems-lab/dsse envelope.md, signed over protocol.md's PAE), stored as a
  layer of media type DSSE_MEDIA_TYPE with the PREDICATE_ANNOTATION annotation under the tag
  `sha256-<hex>.att`. Predicates: cosign's `vuln` shape (pkg/cosign/attestation/attestation.go)
  carrying our scan summary and score, and our own gate decision type.

Verification reads untrusted bytes: sizes are bounded, JSON with duplicate keys is refused (two
parsers must never disagree on what was signed), the signature is checked before the content is
believed, and every refusal is a SignatureError with one line saying what does not match.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from containment import __version__
from containment.model import SEVERITIES, ContainmentError, ScanReport

SIMPLESIGNING_MEDIA_TYPE = "application/vnd.dev.cosign.simplesigning.v1+json"
SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
DSSE_MEDIA_TYPE = "application/vnd.dsse.envelope.v1+json"
PREDICATE_ANNOTATION = "predicateType"
SIGNATURE_TYPE = "cosign container image signature"  # critical.type of every simple-signing payload

INTOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_V1 = "https://in-toto.io/Statement/v1"
STATEMENT_V01 = "https://in-toto.io/Statement/v0.1"  # what cosign 2.5's attest writes; read, never written

VULN_PREDICATE_TYPE = "https://cosign.sigstore.dev/attestation/vuln/v1"  # cosign's `--type vuln`
GATE_PREDICATE_TYPE = "https://containment.dev/attestation/gate/v1"  # ours: a gate decision (policy, stage)
# short names, as `cosign attest --type` takes them (the ones we write) -> predicate type URI
PREDICATE_TYPES: Mapping[str, str] = {"vuln": VULN_PREDICATE_TYPE, "gate": GATE_PREDICATE_TYPE}

MAX_PAYLOAD = 4 * 1024 * 1024  # a signature payload or attestation envelope larger than this is refused
MAX_SIGNATURE = 1024  # base64 of a DER ECDSA signature is under 200 characters
MAX_DSSE_SIGNATURES = 16

_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


class SignatureError(ContainmentError):
    """A signature or attestation that does not verify, or does not bind to the image asked about.
    The CLI's verify maps it to exit 1 (refused), not 2: catch it before ContainmentError."""


# ---------------------------------------------------------------------------- helpers


def _hex(digest: str) -> str:
    """The hex of a `sha256:<hex>` manifest digest (bare hex accepted); ContainmentError otherwise."""
    d = digest if digest.startswith("sha256:") else f"sha256:{digest}"
    if not _DIGEST.fullmatch(d):
        raise ContainmentError(f"{digest!r} is not a sha256 digest (sha256:<64 hex digits>)")
    return d[len("sha256:") :]


def sig_tag(digest: str) -> str:
    """The tag cosign stores an image's signatures under: sha256-<hex>.sig."""
    return f"sha256-{_hex(digest)}.sig"


def att_tag(digest: str) -> str:
    """The tag cosign stores an image's attestations under: sha256-<hex>.att."""
    return f"sha256-{_hex(digest)}.att"


def predicate_type_uri(name: str) -> str:
    """A predicate type URI from its short name (vuln, gate) or the URI itself."""
    if name in PREDICATE_TYPES:
        return PREDICATE_TYPES[name]
    if "://" in name:
        return name
    raise ContainmentError(
        f"unknown predicate type {name!r}; use one of {', '.join(PREDICATE_TYPES)} or a URI"
    )


def _hash_for(key: ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey) -> hashes.HashAlgorithm:
    """The digest sigstore pairs with the key's curve (P-256: SHA-256, the only curve we make)."""
    size = key.curve.key_size
    return hashes.SHA256() if size <= 256 else hashes.SHA384() if size <= 384 else hashes.SHA512()


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r}")
        out[k] = v
    return out


def _strict_json(data: bytes, what: str) -> Any:
    """JSON from untrusted bytes: bounded, UTF-8, no duplicate keys, no NaN; SignatureError otherwise."""
    if len(data) > MAX_PAYLOAD:
        raise SignatureError(
            f"{what} is {len(data)} bytes, over the {MAX_PAYLOAD // (1024 * 1024)} MiB limit"
        )
    try:
        return json.loads(
            data.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_reject_constant
        )
    except UnicodeDecodeError:
        raise SignatureError(f"{what} is not UTF-8 JSON") from None
    except RecursionError:
        raise SignatureError(f"{what} nests too deeply to be read") from None
    except ValueError as e:
        raise SignatureError(f"{what} is not valid JSON ({_first_line(e)})") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _first_line(e: BaseException) -> str:
    return str(e).splitlines()[0][:200] if str(e) else type(e).__name__


def _exact(obj: Any, fields: set[str], what: str) -> dict[str, Any]:
    """`obj` as an object with exactly `fields` (containers/image reads payloads this strictly)."""
    if not isinstance(obj, dict):
        raise SignatureError(f"{what} is not a JSON object")
    if set(obj) != fields:
        extra, missing = sorted(set(obj) - fields), sorted(fields - set(obj))
        detail = "; ".join(
            x for x in (f"unknown {extra}" if extra else "", f"missing {missing}" if missing else "") if x
        )
        raise SignatureError(f"{what} has unexpected fields ({detail})")
    return obj


def _b64decode(text: Any, what: str, limit: int) -> bytes:
    if not isinstance(text, str) or len(text) > limit:
        raise SignatureError(f"{what} is not a base64 string of at most {limit} characters")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError(f"{what} is not valid base64") from None


# ---------------------------------------------------------------------------- signatures


def simple_signing_payload(
    docker_reference: str, manifest_digest: str, annotations: Mapping[str, Any] | None = None
) -> bytes:
    """The simple-signing payload cosign signs for an image: `docker_reference` is the repository
    (cosign writes the reference's repository, e.g. `registry:5000/app`, without tag or digest),
    `manifest_digest` the `sha256:<hex>` signed, `annotations` cosign's `-a k=v` (null when none)."""
    _hex(manifest_digest)
    if not manifest_digest.startswith("sha256:"):
        manifest_digest = f"sha256:{manifest_digest}"
    if not docker_reference or any(c.isspace() for c in docker_reference):
        raise ContainmentError(f"{docker_reference!r} is not a docker reference to sign for")
    doc = {
        "critical": {
            "identity": {"docker-reference": docker_reference},
            "image": {"docker-manifest-digest": manifest_digest},
            "type": SIGNATURE_TYPE,
        },
        "optional": dict(annotations) if annotations else None,
    }
    try:
        return json.dumps(doc, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError) as e:
        raise ContainmentError(
            f"signature annotations must be plain JSON values ({_first_line(e)})"
        ) from None


def sign(key: ec.EllipticCurvePrivateKey, payload: bytes) -> str:
    """Base64 of the ASN.1 DER ECDSA signature over SHA-256(payload): cosign's `.sig` annotation value."""
    return base64.b64encode(key.sign(payload, ec.ECDSA(_hash_for(key)))).decode("ascii")


def verify_signature(pub: ec.EllipticCurvePublicKey, payload: bytes, b64sig: str) -> bool:
    """Whether `b64sig` (base64 DER ECDSA) is `pub`'s signature over `payload`. Never raises."""
    if not isinstance(b64sig, str) or len(b64sig) > MAX_SIGNATURE or len(payload) > MAX_PAYLOAD:
        return False
    try:
        raw = base64.b64decode(b64sig.strip(), validate=True)
        pub.verify(raw, payload, ec.ECDSA(_hash_for(pub)))
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def parse_simple_signing(payload: bytes) -> dict[str, str]:
    """The critical fields of a simple-signing payload (type, docker-manifest-digest,
    docker-reference), read as strictly as containers/image does. Unverified: call after the
    signature checked out (verify_simple_signing does)."""
    doc = _exact(_strict_json(payload, "signature payload"), {"critical", "optional"}, "signature payload")
    critical = _exact(doc["critical"], {"identity", "image", "type"}, "signature payload's critical")
    if doc["optional"] is not None and not isinstance(doc["optional"], dict):
        raise SignatureError("signature payload's optional is neither an object nor null")
    image = _exact(critical["image"], {"docker-manifest-digest"}, "signature payload's critical.image")
    identity = _exact(critical["identity"], {"docker-reference"}, "signature payload's critical.identity")
    out = {
        "type": critical["type"],
        "docker-manifest-digest": image["docker-manifest-digest"],
        "docker-reference": identity["docker-reference"],
    }
    for k, v in out.items():
        if not isinstance(v, str):
            raise SignatureError(f"signature payload's {k} is not a string")
    return out


def verify_simple_signing(
    pub: ec.EllipticCurvePublicKey,
    payload: bytes,
    b64sig: str,
    manifest_digest: str,
    docker_reference: str | None = None,
) -> None:
    """Accept a cosign image signature or raise SignatureError saying why not: the signature is
    not `pub`'s over these bytes (another key, altered payload or annotation); the payload is
    malformed or not a cosign container image signature; it names another digest than
    `manifest_digest` (a `.sig` copied from another image); or, when `docker_reference` is
    given, another repository (compared exactly, as podman's matchRepository does)."""
    want = f"sha256:{_hex(manifest_digest)}"
    if not verify_signature(pub, payload, b64sig):
        raise SignatureError(
            "signature does not verify with this key (signed by another key, or its payload or signature altered)"
        )
    claims = parse_simple_signing(payload)
    if claims["type"] != SIGNATURE_TYPE:
        raise SignatureError(f"signature payload type is {claims['type']!r}, not {SIGNATURE_TYPE!r}")
    got = claims["docker-manifest-digest"]
    if got != want:
        raise SignatureError(
            f"signature is for {got[:80]}, not {want}: a signature copied from another image (refused)"
        )
    if docker_reference is not None and claims["docker-reference"] != docker_reference:
        raise SignatureError(
            f"signature is for repository {claims['docker-reference'][:200]!r}, not {docker_reference!r}"
        )


# ---------------------------------------------------------------------------- attestations


def statement(
    subject_name: str, digest: str, predicate_type: str, predicate: Mapping[str, Any]
) -> dict[str, Any]:
    """An in-toto Statement v1 about one subject (the image repository, its manifest digest)."""
    return {
        "_type": STATEMENT_V1,
        "subject": [{"name": subject_name, "digest": {"sha256": _hex(digest)}}],
        "predicateType": predicate_type,
        "predicate": dict(predicate),
    }


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding: what the envelope's signatures sign."""
    t = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def dsse_envelope(key: ec.EllipticCurvePrivateKey, statement: Mapping[str, Any]) -> bytes:
    """`statement` in a DSSE envelope signed by `key` (keyid empty, as cosign writes it)."""
    body = json.dumps(statement, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")
    envelope = {
        "payloadType": INTOTO_PAYLOAD_TYPE,
        "payload": base64.b64encode(body).decode("ascii"),
        "signatures": [{"keyid": "", "sig": sign(key, pae(INTOTO_PAYLOAD_TYPE, body))}],
    }
    return json.dumps(envelope, separators=(",", ":")).encode("ascii")


def verify_dsse(
    pub: ec.EllipticCurvePublicKey, envelope: bytes, manifest_digest: str, predicate_type: str | None = None
) -> dict[str, Any]:
    """The in-toto statement in `envelope` once one of its signatures is `pub`'s over the PAE and it
    binds to `manifest_digest` (a subject with that sha256); `predicate_type` (a URI or short
    name), when given, must be the statement's. SignatureError for a bad signature (another key,
    tampered payload or predicate), a subject digest mismatch, a wrong type, malformed JSON."""
    want = _hex(manifest_digest)
    expected_type = predicate_type_uri(predicate_type) if predicate_type is not None else None
    env = _strict_json(envelope, "attestation envelope")
    if not isinstance(env, dict):
        raise SignatureError("attestation envelope is not a JSON object")
    for k in ("payloadType", "payload", "signatures"):
        if k not in env:
            raise SignatureError(f"attestation envelope has no {k!r}; not a DSSE envelope")
    if env["payloadType"] != INTOTO_PAYLOAD_TYPE:
        raise SignatureError(
            f"attestation payloadType is {str(env['payloadType'])[:100]!r}, not {INTOTO_PAYLOAD_TYPE}"
        )
    body = _b64decode(env["payload"], "attestation payload", MAX_PAYLOAD * 2)
    sigs = env["signatures"]
    if not isinstance(sigs, list) or not sigs or len(sigs) > MAX_DSSE_SIGNATURES:
        raise SignatureError(f"attestation envelope needs 1 to {MAX_DSSE_SIGNATURES} signatures")
    signed = pae(INTOTO_PAYLOAD_TYPE, body)
    if not any(
        isinstance(s, dict) and isinstance(s.get("sig"), str) and verify_signature(pub, signed, s["sig"])
        for s in sigs
    ):
        raise SignatureError(
            "attestation signature does not verify with this key (signed by another key, or its statement altered)"
        )
    st = _strict_json(body, "attestation statement")
    if not isinstance(st, dict):
        raise SignatureError("attestation statement is not a JSON object")
    if st.get("_type") not in (STATEMENT_V1, STATEMENT_V01):
        raise SignatureError(
            f"attestation statement _type is {str(st.get('_type'))[:100]!r}, not an in-toto Statement"
        )
    if "predicate" not in st:
        raise SignatureError("attestation statement has no predicate")
    subjects = st.get("subject")
    if not isinstance(subjects, list) or not subjects:
        raise SignatureError("attestation statement has no subject")
    found = [
        s["digest"].get("sha256")
        for s in subjects
        if isinstance(s, dict) and isinstance(s.get("digest"), dict)
    ]
    if want not in found:
        named = ", ".join(f"sha256:{d}"[:80] for d in found if isinstance(d, str)) or "no sha256 digest"
        raise SignatureError(
            f"attestation is for {named}, not sha256:{want}: an attestation copied from another image (refused)"
        )
    got_type = st.get("predicateType")
    if expected_type is not None and got_type != expected_type:
        raise SignatureError(f"attestation predicate type is {str(got_type)[:200]!r}, not {expected_type!r}")
    return st


# ---------------------------------------------------------------------------- predicates


def _rfc3339(t: datetime) -> str:
    t = t if t.tzinfo else t.replace(tzinfo=UTC)
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _counts(items: Any) -> dict[str, int]:
    counts = dict.fromkeys(SEVERITIES, 0)
    for x in items:
        counts[x.severity if x.severity in counts else "UNKNOWN"] += 1
    return counts


def vuln_predicate(
    report: ScanReport,
    score: Mapping[str, Any] | None,
    started: datetime | None = None,
    finished: datetime | None = None,
) -> dict[str, Any]:
    """cosign's `vuln` predicate (invocation, scanner {uri, version, db, result}, metadata) for a scan.

    `scanner.result` holds what a later gate needs without the full report: the score (its
    breakdown as the score module gives it), counts of active findings per severity for each
    kind that was scanned, the active vulnerability ids with package and fix, and whether the
    inventory is complete. `started`/`finished` default to now (the scan report has no clock)."""
    now = datetime.now(UTC)
    vulns = [
        {
            "id": f.id,
            "package": f.package.purl or f.package.name,
            "installed": f.installed_version,
            "severity": f.severity,
            "fixed": list(f.fixed_versions[:1]),
        }
        for f in report.active
    ]
    result: dict[str, Any] = {
        "target": report.inventory.target,
        "image_digest": report.inventory.image_digest,
        "scanners": list(report.scanners),
        "complete": report.complete,
        "score": dict(score) if score is not None else None,
        "summary": {"vulnerabilities": _counts(report.active)},
        "vulnerabilities": vulns,
    }
    if "secret" in report.scanners:
        result["summary"]["secrets"] = _counts(report.active_secrets)
    if "config" in report.scanners:
        result["summary"]["misconfigurations"] = _counts(report.active_misconfigurations)
    db = report.db or {}
    return {
        "invocation": {"parameters": None, "uri": "", "event_id": "", "builder.id": ""},
        "scanner": {
            "uri": f"pkg:pypi/containment@{__version__}",
            "version": __version__,
            "db": {
                "uri": str(db.get("path", db.get("uri", ""))),
                "version": str(db.get("updated_at", db.get("built_at", ""))),
            },
            "result": result,
        },
        "metadata": {"scanStartedOn": _rfc3339(started or now), "scanFinishedOn": _rfc3339(finished or now)},
    }
