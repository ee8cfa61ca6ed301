"""The sign, attest and verify services: what `containment sign|attest|verify`, the server and the
registry gate call. Each resolves the reference to a manifest digest first (a tag can move; a
signature is over a digest), then reads or writes cosign's `.sig` / `.att` manifests beside the
image through supplychain.oci.

- sign: a simple-signing payload for the repository and digest, signed with the private key.
- attest: an in-toto statement in a DSSE envelope; for the `vuln` predicate the image is scanned
  here (the one scan service) unless a report is given, and the statement carries the risk score
  (service.score.score_report: the one `containment score` prints).
- verify: at least one stored signature by the key over this very digest, every attestation type
  asked for present, signed by the key, bound to the digest, of that type; then an optional policy
  callable over the verified result. `verified` False is a refusal (exit 1), an error is bad input.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from containment.image.registry import DOCKER_HUB, Reference, RegistryClient, parse_reference
from containment.model import ContainmentError, ScanReport
from containment.supplychain import cosign, keys, oci


@dataclass(frozen=True)
class SignResult:
    image: str  # REGISTRY/REPO@sha256:... that was signed or attested
    digest: str
    tag: str  # the .sig / .att tag written
    manifest: str  # the digest of the .sig / .att manifest now at that tag
    added: bool  # False: an identical signature was there already
    key_id: str
    predicate_type: str = ""
    statement: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class VerifyResult:
    image: str
    digest: str
    verified: bool
    signatures: tuple[oci.Check, ...]
    attestations: tuple[oci.Check, ...]
    reasons: tuple[str, ...]  # why it was refused (empty when verified)
    key_id: str = ""
    decision: Any = None  # what the policy callable returned, when one was given


def identity(ref: Reference) -> str:
    """The docker-reference cosign writes into a payload: the repository, no tag or digest
    (Docker Hub as go-containerregistry names it, index.docker.io)."""
    host = "index.docker.io" if ref.registry == DOCKER_HUB else ref.registry
    return f"{host}/{ref.repository}"


def resolve(
    ref: str, plain_http: bool = False, tls_verify: bool = True
) -> tuple[RegistryClient, Reference, str]:
    """(client, parsed reference, manifest digest) for an image in a registry. The caller closes
    the client. A reference naming a tag is resolved to the digest the registry serves now."""
    r = parse_reference(ref)
    client = RegistryClient(r, plain_http=plain_http, verify_tls=tls_verify)
    try:
        _body, _mt, digest = client.get_manifest(r.reference)
    except BaseException:
        client.close()
        raise
    return client, r, digest


def outcome(decision: Any) -> tuple[bool, list[str]]:
    """(passed, reasons) of a gate or policy decision: an object with `passed` (or `allowed`)
    and `reasons`, a (bool, reasons) pair, or a bare bool."""
    if isinstance(decision, tuple) and len(decision) == 2 and isinstance(decision[0], bool):
        return decision[0], [str(x) for x in decision[1]]
    if isinstance(decision, bool):
        return decision, []
    for attr in ("passed", "allowed", "ok"):
        if hasattr(decision, attr):
            reasons = getattr(decision, "reasons", ()) or ()
            return bool(getattr(decision, attr)), [str(x) for x in reasons]
    raise ContainmentError(f"a gate returned {type(decision).__name__}; expected a decision with `passed`")


def _password(password: bytes | str | None) -> bytes:
    if password is None:
        return keys.password_from_env()
    return password.encode() if isinstance(password, str) else password


def sign(
    ref: str,
    key_path: str,
    password: bytes | str | None = None,
    plain_http: bool = False,
    tls_verify: bool = True,
    annotations: dict[str, str] | None = None,
) -> SignResult:
    """Sign the image `ref` resolves to and store the signature in its repository."""
    key = keys.load_private(key_path, _password(password))  # a wrong password fails before any push
    client, r, digest = resolve(ref, plain_http, tls_verify)
    try:
        payload = cosign.simple_signing_payload(identity(r), digest, annotations)
        sig = cosign.sign(key, payload)
        manifest, added = oci.attach(
            client,
            digest,
            "sig",
            payload,
            cosign.SIMPLESIGNING_MEDIA_TYPE,
            {cosign.SIGNATURE_ANNOTATION: sig},
        )
    finally:
        client.close()
    return SignResult(
        f"{r.registry}/{r.repository}@{digest}",
        digest,
        oci.tag_for(digest, "sig"),
        manifest,
        added,
        keys.key_id(key.public_key()),
    )


def attest(
    ref: str,
    key_path: str,
    password: bytes | str | None = None,
    predicate_type: str = "vuln",
    report: ScanReport | None = None,
    predicate: dict[str, Any] | None = None,
    plain_http: bool = False,
    tls_verify: bool = True,
    scan_options: Any = None,
    open_store: Any = None,
    key_pem: bytes | None = None,
) -> SignResult:
    """Attest the image `ref` resolves to: `predicate` as given, or for `vuln` the scan of
    that digest (`report`, else a scan run here with `scan_options`). The key: the cosign.key
    file at `key_path`, or `key_pem` (its bytes, e.g. from the server's database; `key_path`
    then only names it in errors)."""
    ptype = cosign.predicate_type_uri(predicate_type)
    if key_pem is not None:
        key = keys.parse_private(key_pem, _password(password), key_path)
    else:
        key = keys.load_private(key_path, _password(password))
    client, r, digest = resolve(ref, plain_http, tls_verify)
    try:
        if predicate is None:
            if ptype != cosign.VULN_PREDICATE_TYPE:
                raise ContainmentError(
                    f"predicate type {predicate_type}: give the predicate to attest (only vuln is made here)"
                )
            started = datetime.now(UTC)
            if report is None:
                from containment.service.scan import ScanOptions, scan

                opts = scan_options or ScanOptions(kind="image", plain_http=plain_http, tls_verify=tls_verify)
                report = scan(f"{r.registry}/{r.repository}@{digest}", opts, open_store=open_store)
            from containment.service.score import score_report

            # the same score `containment score` prints (KEV / EPSS counted when imported)
            db = getattr(scan_options, "db", None)
            risk = score_report(report, db).to_json()
            predicate = cosign.vuln_predicate(report, risk, started, datetime.now(UTC))
        st = cosign.statement(identity(r), digest, ptype, predicate)
        envelope = cosign.dsse_envelope(key, st)
        annotations = {cosign.SIGNATURE_ANNOTATION: "", cosign.PREDICATE_ANNOTATION: ptype}
        manifest, added = oci.attach(client, digest, "att", envelope, cosign.DSSE_MEDIA_TYPE, annotations)
    finally:
        client.close()
    return SignResult(
        f"{r.registry}/{r.repository}@{digest}",
        digest,
        oci.tag_for(digest, "att"),
        manifest,
        added,
        keys.key_id(key.public_key()),
        ptype,
        st,
    )


def verify(
    ref: str,
    pub_path: str,
    plain_http: bool = False,
    tls_verify: bool = True,
    attestations: Sequence[str] = (),
    policy: Callable[[VerifyResult], Any] | None = None,
    repository: bool = False,
) -> VerifyResult:
    """Check the image `ref` resolves to: a signature by the key over this digest, and each
    attestation type in `attestations` (short names or URIs) signed by the key for this digest.
    `repository`: the signature must also name this repository (podman's matchRepository).
    `policy`, given the verified result, may refuse it further (its `passed` and `reasons`)."""
    pub = keys.load_public(pub_path)
    wanted = [cosign.predicate_type_uri(t) for t in attestations]
    client, r, digest = resolve(ref, plain_http, tls_verify)
    try:
        sigs = oci.verify_signatures(oci.read(client, digest, "sig"), pub, digest)
        atts: list[oci.Check] = []
        if wanted:
            stored = oci.read(client, digest, "att")
            for t in wanted:
                atts += oci.verify_attestations(stored, pub, digest, t)
    finally:
        client.close()
    image = f"{r.registry}/{r.repository}@{digest}"
    reasons: list[str] = []
    good = [s for s in sigs if s.ok]
    if repository:
        good = [s for s in good if s.docker_reference == identity(r)]
    if not sigs:
        reasons.append(f"{image}: no signature stored ({oci.tag_for(digest, 'sig')} is absent)")
    elif not good:
        reasons += [f"{image}: signature {s.digest[:19]}: {s.reason}" for s in sigs if not s.ok]
        if repository and all(s.ok for s in sigs):
            reasons.append(f"{image}: no signature by this key names repository {identity(r)}")
    for t in wanted:
        mine = [a for a in atts if a.predicate_type == t or not a.ok]
        if not any(a.ok and a.predicate_type == t for a in atts):
            why = [a.reason for a in mine if not a.ok]
            reasons.append(f"{image}: no valid {t} attestation" + (f" ({'; '.join(why)})" if why else ""))
    result = VerifyResult(
        image, digest, not reasons, tuple(sigs), tuple(atts), tuple(reasons), keys.key_id(pub)
    )
    if policy is not None:
        decision = policy(result)
        passed, why = outcome(decision)
        result = dataclasses.replace(
            result, verified=result.verified and passed, reasons=(*result.reasons, *why), decision=decision
        )
    return result
