"""`containment key generate`, `sign`, `attest`, `verify`, `promote`: thin faces over
service.sign and service.promote (parse flags, call, print one line per result).

Register in cli/main.py:
    app.add_typer(sign.key_app, name="key")
    for f in (sign.sign, sign.attest, sign.verify, sign.promote):
        app.command()(f)
Exit codes: 0 done / verified / promoted, 1 refused (verify, promote), 2 bad input.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from containment.cli.build import Insecure, PlainHttp, Quiet
from containment.cli.common import EXIT_FINDINGS, user_errors

key_app = typer.Typer(rich_markup_mode=None, help="Signing keys (cosign-compatible).", no_args_is_help=True)

Ref = Annotated[
    str, typer.Argument(help="image in a registry: REGISTRY/REPO[:TAG|@DIGEST]", show_default=False)
]
Key = Annotated[
    str,
    typer.Option(
        "--key",
        "-k",
        help="cosign private key file (password from CONTAINMENT_KEY_PASSWORD or COSIGN_PASSWORD)",
    ),
]
PubKey = Annotated[str, typer.Option("--key", "-k", help="cosign public key file (PEM)")]
Json = Annotated[bool, typer.Option("--json", help="print the result as JSON")]
PolicyFile = Annotated[
    str | None, typer.Option("--policy", help="policy YAML (containment gate's); needs --stage")
]
Stage = Annotated[str | None, typer.Option("--stage", help="the policy stage the image must meet")]


def _print(doc: dict[str, Any], as_json: bool, line: str) -> None:
    print(json.dumps(doc, indent=2, sort_keys=True, default=str) if as_json else line)


@key_app.command("generate")
def key_generate(
    out: Annotated[str, typer.Option("--out", "-o", help="write PREFIX.key and PREFIX.pub")] = "cosign",
    force: Annotated[bool, typer.Option("--force", help="overwrite existing files")] = False,
) -> None:
    """Make an ECDSA P-256 key pair in cosign's formats (the private key encrypted with the
    password from CONTAINMENT_KEY_PASSWORD, else COSIGN_PASSWORD)."""
    from containment.supplychain import keys

    with user_errors(out):
        priv, pub = keys.write_keypair(out, keys.password_from_env(), force=force)
    print(f"private key written to {priv}\npublic key written to {pub}")


def sign(
    ref: Ref, key: Key, plain_http: PlainHttp = False, insecure: Insecure = False, as_json: Json = False
) -> None:
    """Sign an image (by digest: a tag is resolved first) and store the signature beside it."""
    from containment.service import sign as svc

    with user_errors(ref):
        r = svc.sign(ref, key, plain_http=plain_http, tls_verify=not insecure)
    what = "signed" if r.added else "already signed"
    _print(_signed(r), as_json, f"{what} {r.image} (key {r.key_id[:16]}, {r.tag})")


def _signed(r: Any) -> dict[str, Any]:
    return {
        "image": r.image,
        "digest": r.digest,
        "tag": r.tag,
        "manifest": r.manifest,
        "added": r.added,
        "key_id": r.key_id,
        "predicate_type": r.predicate_type,
    }


def attest(
    ref: Ref,
    key: Key,
    predicate_type: Annotated[
        str,
        typer.Option(
            "--predicate-type",
            "--type",
            help="vuln: the scan and its risk score (cosign's vuln predicate); gate: the decision of "
            "--policy/--stage",
        ),
    ] = "vuln",
    policy: PolicyFile = None,
    stage: Stage = None,
    db: Annotated[str | None, typer.Option("--db", help="advisory database for the scan")] = None,
    plain_http: PlainHttp = False,
    insecure: Insecure = False,
    quiet: Quiet = False,
    as_json: Json = False,
) -> None:
    """Scan an image and attach the result as a signed in-toto attestation: the scan with its
    score (vuln), or the gate's decision for a stage of a policy (gate)."""
    from containment.cli import firstrun
    from containment.cli.common import fail
    from containment.model import SCANNERS
    from containment.service import ScanOptions
    from containment.service import sign as svc

    kind = predicate_type.strip().lower()
    if kind == "gate" and not (policy and stage):
        fail("--predicate-type gate attests a gate decision: give --policy FILE and --stage NAME")
    if kind != "gate" and (policy or stage):
        fail("--policy/--stage are for --predicate-type gate")
    with user_errors(ref):
        opts = ScanOptions(
            kind="image", scanners=SCANNERS, plain_http=plain_http, tls_verify=not insecure, db=db
        )
        store = lambda inv: firstrun.open_store(db, inv, quiet)  # noqa: E731
        predicate = None
        if kind == "gate" and policy and stage:
            from containment.service.gate import gate

            client, r, digest = svc.resolve(ref, plain_http, not insecure)
            client.close()
            _report, decision = gate(
                f"{r.registry}/{r.repository}@{digest}", policy, stage, opts, open_store=store
            )
            predicate = decision.to_json()
            ref = f"{r.registry}/{r.repository}@{digest}"  # attest exactly what was judged
        r2 = svc.attest(
            ref,
            key,
            predicate_type=predicate_type,
            predicate=predicate,
            plain_http=plain_http,
            tls_verify=not insecure,
            scan_options=opts,
            open_store=store,
        )
    _print(_signed(r2), as_json, f"attested {r2.image} ({r2.predicate_type}, {r2.tag})")


def verify(
    ref: Ref,
    key: PubKey,
    attestation: Annotated[
        list[str] | None,
        typer.Option(
            "--attestation",
            "--type",
            help="also require an attestation of this predicate type (vuln, gate or a URI); repeatable",
        ),
    ] = None,
    policy: PolicyFile = None,
    stage: Stage = None,
    db: Annotated[str | None, typer.Option("--db", help="advisory database for --policy's scan")] = None,
    plain_http: PlainHttp = False,
    insecure: Insecure = False,
    quiet: Quiet = False,
    as_json: Json = False,
) -> None:
    """Check an image's signature (and attestations) against a public key, and with --policy
    --stage also that the image meets the stage (the key's signature counts for the policy's
    required_signatures): exit 0 verified, 1 refused, 2 bad input."""
    from containment.cli import firstrun
    from containment.cli.common import fail
    from containment.service import sign as svc

    if bool(policy) != bool(stage):
        fail("--policy and --stage go together: name the policy file and the stage the image must meet")
    with user_errors(ref):
        decision = None
        if policy and stage:
            from containment.model import SCANNERS
            from containment.service.gate import stage_gate
            from containment.service.scan import ScanOptions

            opts = ScanOptions(
                kind="image", scanners=SCANNERS, plain_http=plain_http, tls_verify=not insecure, db=db
            )
            gate = stage_gate(ref, policy, stage, opts, keys=(key,))

            def decide(res: Any) -> Any:
                from containment.service.scan import scan

                # the digest just verified, not the tag again (it may have moved since)
                report = scan(res.image, opts, open_store=lambda inv: firstrun.open_store(db, inv, quiet))
                return gate(report)

            decision = decide
        r = svc.verify(
            ref,
            key,
            plain_http=plain_http,
            tls_verify=not insecure,
            attestations=tuple(attestation or ()),
            policy=decision,
        )
    doc = {
        "image": r.image,
        "digest": r.digest,
        "verified": r.verified,
        "reasons": list(r.reasons),
        "key_id": r.key_id,
        "signatures": sum(s.ok for s in r.signatures),
        "attestations": sorted({a.predicate_type for a in r.attestations if a.ok}),
    }
    if r.verified:
        _print(doc, as_json, f"verified {r.image}: {doc['signatures']} signature(s) by key {r.key_id[:16]}")
        return
    if as_json:
        _print(doc, True, "")
    for why in r.reasons:
        print(f"containment: refused: {why}", file=sys.stderr)
    raise typer.Exit(EXIT_FINDINGS)


def promote(
    src: Annotated[str, typer.Argument(help="the image to promote: REGISTRY/REPO:TAG", show_default=False)],
    dst: Annotated[str, typer.Argument(help="where to: REGISTRY/REPO[:TAG]", show_default=False)],
    policy: PolicyFile = None,
    stage: Stage = None,
    key: Annotated[
        list[str] | None,
        typer.Option("--key", "-k", help="public key whose signatures the policy may require (repeatable)"),
    ] = None,
    db: Annotated[str | None, typer.Option("--db", help="advisory database for the scan")] = None,
    plain_http: PlainHttp = False,
    insecure: Insecure = False,
    quiet: Quiet = False,
    as_json: Json = False,
) -> None:
    """Copy an image with its signatures and attestations to another repository or registry
    (same digest) when it meets the target stage of the policy (--policy, --stage), and say
    what changed in its config since the image the target held. Exit 0 promoted, 1 refused."""
    from containment.cli import firstrun
    from containment.cli.common import fail
    from containment.model import SCANNERS
    from containment.service import promote as svc
    from containment.service.scan import ScanOptions

    if bool(policy) != bool(stage):
        fail("--policy and --stage go together: name the policy file and the stage the image must meet")
    with user_errors(src):
        opts = ScanOptions(
            kind="image", scanners=SCANNERS, plain_http=plain_http, tls_verify=not insecure, db=db
        )
        gate = None
        if policy and stage:
            from containment.service.gate import stage_gate

            gate = stage_gate(src, policy, stage, opts, keys=tuple(key or ()))
        r = svc.promote(
            src,
            dst,
            gate,
            plain_http=plain_http,
            tls_verify=not insecure,
            scan_options=opts,
            open_store=lambda inv: firstrun.open_store(db, inv, quiet),
        )
    doc = {
        "source": r.source,
        "destination": r.destination,
        "digest": r.digest,
        "promoted": r.promoted,
        "reasons": list(r.reasons),
        "blobs": r.copied,
        "attached": list(r.attached),
        "previous": r.previous,
        "config_diff": r.config_diff,
        "decision": r.decision.to_json() if hasattr(r.decision, "to_json") else None,
    }
    if not r.promoted:
        if as_json:
            _print(doc, True, "")
        print(f"containment: refused: {r.source} does not meet stage {stage}:", file=sys.stderr)
        for why in r.reasons:
            print(f"  x {why}", file=sys.stderr)
        raise typer.Exit(EXIT_FINDINGS)
    lines = [
        f"promoted {r.source} to {r.destination} (blobs {r.copied}, with {', '.join(r.attached) or 'no signatures'})"
    ]
    lines += [f"  changed {k}: {json.dumps(v, sort_keys=True)}" for k, v in r.config_diff.items()]
    _print(doc, as_json, "\n".join(lines))


def main_app() -> typer.Typer:
    """These commands on their own (until cli/main.py registers them): `python -m containment.cli.sign`."""
    app = typer.Typer(rich_markup_mode=None, no_args_is_help=True)
    app.add_typer(key_app, name="key")
    for f in (sign, attest, verify, promote):
        app.command()(f)
    return app


if __name__ == "__main__":
    main_app()()
