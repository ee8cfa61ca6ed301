"""The promote service: move an image from one repository or registry (a stage) to the next only
when the next stage's gate passes, with its signatures and attestations, and say what changed in
the image config since the image that stage held before.

The gate is any callable `gate(report) -> decision` (containment.policy's gate, or a test's):
the source image is scanned here by digest through the one scan service, the decision's
`passed`/`reasons` decide. No gate: the copy is unconditional. The copy keeps the digest (the
manifest bytes move unchanged), so signatures over the source verify in the target.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from containment.image.registry import RegistryClient, parse_reference
from containment.model import ContainmentError, ImageError, ScanReport
from containment.service.sign import outcome, resolve
from containment.supplychain import promote as copier


@dataclass(frozen=True)
class PromoteResult:
    source: str  # REGISTRY/REPO@digest promoted (or refused)
    destination: str  # REGISTRY/REPO:TAG written (when promoted)
    digest: str
    promoted: bool
    reasons: tuple[str, ...] = ()  # the gate's reasons (why refused, or notes)
    decision: Any = None
    copied: dict[str, int] = field(default_factory=dict)  # blobs: exists / mounted / uploaded
    attached: tuple[str, ...] = ()  # .sig / .att tags copied
    config_diff: dict[str, Any] = field(default_factory=dict)  # vs the image the destination held
    previous: str = ""  # the digest the destination tag had before ("" when new)


def promote(
    src_ref: str,
    dst_ref: str,
    gate: Callable[[ScanReport], Any] | None = None,
    *,
    plain_http: bool = False,
    tls_verify: bool = True,
    scan_options: Any = None,
    open_store: Any = None,
    report: ScanReport | None = None,
) -> PromoteResult:
    """Copy `src_ref` to `dst_ref` (REGISTRY/REPO[:TAG]; the source's tag when none is given)
    when `gate` passes on the source's scan (`report`, else one run here)."""
    dst = parse_reference(dst_ref)
    src_client, src, digest = resolve(src_ref, plain_http, tls_verify)
    named = ":" in dst_ref.split("@")[0].rsplit("/", 1)[-1]  # parse_reference makes "latest" up
    tag = (dst.tag if named else None) or src.tag or "latest"
    if dst.digest and dst.digest != digest:
        src_client.close()
        raise ContainmentError(f"{dst_ref}: names digest {dst.digest}, but {src_ref} is {digest}")
    source = f"{src.registry}/{src.repository}@{digest}"
    destination = f"{dst.registry}/{dst.repository}:{tag}"
    dst_client = RegistryClient(dst, plain_http=plain_http, verify_tls=tls_verify)
    try:
        decision: Any = None
        passed, reasons = True, list[str]()
        if gate is not None:
            if report is None:
                from containment.service.scan import ScanOptions, scan

                opts = scan_options or ScanOptions(kind="image", plain_http=plain_http, tls_verify=tls_verify)
                report = scan(source, opts, open_store=open_store)
            decision = gate(report)
            passed, reasons = outcome(decision)
        previous, before = "", None
        found = dst_client.find_manifest(tag)
        if found is not None:
            previous = found[2]
            try:
                before = copier.image_config(dst_client, tag)
            except ImageError:
                before = None  # what the stage held is unreadable: report everything as new
        diff = copier.config_diff(before, copier.image_config(src_client, digest))
        if not passed:
            return PromoteResult(
                source,
                destination,
                digest,
                False,
                tuple(reasons),
                decision,
                config_diff=diff,
                previous=previous,
            )
        result = copier.copy_image(src_client, dst_client, digest, tag)
        _body, _mt, got = dst_client.get_manifest(tag)
        if got != digest:
            raise ImageError(
                f"{destination}: the copy has digest {got}, not {digest}; the registry rewrote it"
            )
    finally:
        src_client.close()
        dst_client.close()
    return PromoteResult(
        source,
        destination,
        digest,
        True,
        tuple(reasons),
        decision,
        result.counts(),
        tuple(result.attached),
        diff,
        previous,
    )
