"""The gate service: scan a target and decide whether it may enter a stage of a policy.

`gate(target, policy_path, stage, options)` loads the policy, resolves the stage's approved
base images given by reference to their layers (only the image config is read), scans the
target (and the previous stage's image, for `no_debug`) through `service.scan`, and returns
the report with the `Decision` of `containment.policy.gate.evaluate`. The CLI (`containment
gate`), `promote`, the server and the registry gate all call this; none repeats it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
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


def gate(
    target: str,
    policy_path: str,
    stage: str,
    options: ScanOptions | None = None,
    *,
    signatures: Iterable[Verified | str] = (),
    attestations: Iterable[Verified] = (),
    previous: str | ScanReport | None = None,
    score: float | None = None,
    open_store: StoreOpener | None = None,
    progress: Progress | None = None,
    now: dt.datetime | None = None,
) -> tuple[ScanReport, Decision]:
    """Scan `target` (every scanner unless `options` says which) and evaluate `stage` of the
    policy at `policy_path`. `previous`: the previous stage's image (a reference, scanned with
    the same options) or its report. Bad input (policy, stage, references): ContainmentError."""
    policy = load_policy(policy_path)
    policy.stage(stage)  # an unknown stage fails before any scan
    options = options or ScanOptions(scanners=SCANNERS)
    if options.kind != "image":
        options = replace(options, kind="image")
    policy = resolve(policy, stage, options)
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


__all__ = ["base_layers", "gate", "resolve"]
