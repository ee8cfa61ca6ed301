"""The gate service: scan a target and decide whether it may enter a stage of a policy.

`gate(target, policy_path, stage, options)` loads the policy, resolves the stage's approved
base images given by reference to their layers (only the image config is read), scans the
target (and the previous stage's image, for `no_debug`) through `service.scan`, and returns
the report with the `Decision` of `containment.policy.gate.evaluate`. The CLI (`containment
gate`), `promote`, the server and the registry gate all call this; none repeats it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import replace

from containment.model import SCANNERS, ContainmentError, ScanReport
from containment.policy.gate import Decision, Verified, evaluate
from containment.policy.policyfile import Policy, load_policy
from containment.progress import Progress
from containment.service.scan import ScanOptions, StoreOpener, scan


def base_layers(ref: str, options: ScanOptions) -> tuple[str, ...]:
    """The layer diff_ids of the image `ref` (its config only; no layer is read)."""
    from containment.image.target import open_target

    src = open_target(ref, options.platform, options.plain_http, options.tls_verify)
    if isinstance(src, str):
        raise ContainmentError(f"{ref}: a directory has no layers; give an image as an approved base")
    with src:
        layers = tuple(layer.diff_id for layer in src.layers)
    if not layers or not all(layers):
        raise ContainmentError(f"{ref}: the image has no layer diff_ids; it cannot be an approved base")
    return layers


def resolve(policy: Policy, stage: str, options: ScanOptions) -> Policy:
    """The policy with `stage`'s base images given by reference resolved to their layers."""
    return policy.resolve_bases(stage, lambda ref: base_layers(ref, options))


def verified_facts(
    target: str, key_paths: Iterable[str], attestation_types: Iterable[str], options: ScanOptions
) -> tuple[list[Verified], list[Verified]]:
    """The signatures and attestations of the registry image `target` that verify under each
    public key in `key_paths` (containment.service.sign.verify: signature over the digest the
    reference resolves to, attestation predicates), as facts for the gate."""
    from containment.service.sign import verify

    sigs: list[Verified] = []
    atts: list[Verified] = []
    types = tuple(attestation_types)
    for path in key_paths:
        res = verify(target, path, options.plain_http, options.tls_verify, attestations=types)
        if any(c.ok for c in res.signatures):
            sigs.append(Verified(res.key_id))
        atts += [Verified(res.key_id, c.predicate_type) for c in res.attestations if c.ok]
    return sigs, atts


def gate(
    target: str,
    policy_path: str,
    stage: str,
    options: ScanOptions | None = None,
    *,
    signatures: Iterable[Verified | str] = (),
    attestations: Iterable[Verified] = (),
    keys: Iterable[str] = (),
    previous: str | ScanReport | None = None,
    score: float | None = None,
    open_store: StoreOpener | None = None,
    progress: Progress | None = None,
    now: dt.datetime | None = None,
) -> tuple[ScanReport, Decision]:
    """Scan `target` (every scanner unless `options` says which) and evaluate `stage` of the
    policy at `policy_path`. `previous`: the previous stage's image (a reference, scanned with
    the same options) or its report. `keys`: public key files whose signatures and attestations
    on the registry image are verified here and added to `signatures`/`attestations`. Bad input (policy, stage, references): ContainmentError."""
    policy = load_policy(policy_path)
    policy.stage(stage)  # an unknown stage fails before any scan
    options = options or ScanOptions(scanners=SCANNERS)
    if options.kind != "image":
        options = replace(options, kind="image")
    policy = resolve(policy, stage, options)
    keys = tuple(keys)
    if keys:
        sigs, atts = verified_facts(target, keys, policy.stage(stage).required_attestations, options)
        signatures, attestations = [*signatures, *sigs], [*attestations, *atts]
    report = scan(target, options, open_store=open_store, progress=progress)
    prev: ScanReport | None = None
    if isinstance(previous, str):
        prev = scan(previous, options, open_store=open_store, progress=progress)
    elif previous is not None:
        prev = previous
    decision = evaluate(
        report,
        policy,
        stage,
        score=score,
        signatures=signatures,
        attestations=attestations,
        previous=prev,
        now=now,
    )
    return report, decision


def stage_gate(
    target: str,
    policy_path: str,
    stage: str,
    options: ScanOptions,
    *,
    keys: Iterable[str] = (),
    now: dt.datetime | None = None,
) -> Callable[[ScanReport], Decision]:
    """A gate for `promote`: the policy loaded, the stage checked and the signatures of
    `target` verified now (bad input fails before anything is copied); the returned callable
    evaluates the stage on the report promote makes of the image."""
    policy = load_policy(policy_path)
    policy.stage(stage)
    policy = resolve(policy, stage, options)
    sigs: list[Verified] = []
    atts: list[Verified] = []
    keys = tuple(keys)
    if keys:
        sigs, atts = verified_facts(target, keys, policy.stage(stage).required_attestations, options)

    def decide(report: ScanReport) -> Decision:
        return evaluate(report, policy, stage, signatures=sigs, attestations=atts, now=now)

    return decide


__all__ = ["base_layers", "gate", "resolve", "stage_gate", "verified_facts"]
