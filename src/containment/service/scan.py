"""The scan service: `scan(target, options) -> ScanReport`, the one entry every face calls.

The CLI (`scan image|fs|config`), and later the server, the registry gate and the admission
webhook, parse their own input into `ScanOptions` and render the report; none of them repeats
this sequence: inventory (one walk for every scanner) -> vulnerabilities (match, VEX, ignore
file, filters) -> misconfigurations (built-in checks, users' Rego policies) -> secrets
(layers, image config, allowlist) -> one report with the kinds kept apart.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from containment.analyzers import groups_for
from containment.image.skip import SkipRules
from containment.model import (
    SCANNERS,
    SEVERITIES,
    ContainmentError,
    Finding,
    Gap,
    Inventory,
    Misconfiguration,
    ScanReport,
    SecretFinding,
    Workload,
)
from containment.progress import Progress

DEFAULT_IGNOREFILES = (".containmentignore", ".trivyignore.yaml", ".trivyignore")
TARGET_KINDS = ("image", "fs", "config")


@dataclass(frozen=True)
class ScanOptions:
    kind: str = "image"  # image (any image reference or dir:ROOT), fs (a source tree), config
    scanners: tuple[str, ...] = ("vuln",)
    # reaching the target
    platform: str | None = None
    plain_http: bool = False
    tls_verify: bool = True
    cache: bool = True
    skip: SkipRules | None = None
    # vulnerabilities
    db: str | None = None
    include_dev: bool = False
    severities: frozenset[str] | None = None  # only these (all kinds); None: all
    ignore_unfixed: bool = False
    ignorefile: str | None = None  # None: the first of DEFAULT_IGNOREFILES in the working dir
    default_ignorefiles: bool = True  # False: only `ignorefile` (the demo, the server)
    vex: tuple[str, ...] = ()
    # checks
    policies: tuple[str, ...] = ()  # Rego files or directories
    policy_namespaces: tuple[str, ...] = ("main",)
    secret_allowlist: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        if self.kind not in TARGET_KINDS:
            raise ValueError(f"unknown target kind {self.kind!r}")
        bad = [s for s in self.scanners if s not in SCANNERS]
        if bad:
            raise ContainmentError(
                f"--scanners {','.join(self.scanners)}: unknown {', '.join(bad)}; use some of {','.join(SCANNERS)}"
            )
        if self.severities is not None and not self.severities <= set(SEVERITIES):
            raise ContainmentError(
                f"unknown severity in {sorted(self.severities)}; use {','.join(SEVERITIES)}"
            )


# What opens the advisory DB for an inventory (the CLI's downloads it on first use and reports
# progress; the server passes its own). Returns an AdvisoryStore-like object with close().
StoreOpener = Callable[[Inventory], Any]


def inventory(target: str, options: ScanOptions, progress: Progress | None = None) -> Inventory:
    """What the target holds, from one walk for every scanner asked for."""
    from containment.cache import LayerCache
    from containment.layers import Analyzer, scan_target

    groups = groups_for(options.scanners)
    if options.kind == "image":
        analyzer = Analyzer(
            cache=LayerCache(enabled=options.cache), progress=progress, skip=options.skip, groups=groups
        )
        return scan_target(
            target,
            analyzer,
            platform=options.platform,
            plain_http=options.plain_http,
            tls_verify=options.tls_verify,
        )
    # a source tree: lockfiles win over installed copies (as in Trivy); no file-hygiene facts
    groups = tuple(g for g in groups if g != "files")
    analyzer = Analyzer(
        cache=LayerCache(enabled=False),
        progress=progress,
        prefer_installed=False,
        skip=options.skip,
        groups=groups,
    )
    if options.kind == "config" and os.path.isfile(target):
        return _one_config_file(target, analyzer)
    if not os.path.isdir(target):
        raise ContainmentError(
            f"{target}: not a directory; give the root of a source tree"
            + (" or a configuration file" if options.kind == "config" else " (or use scan image for images)")
        )
    inv = analyzer.inventory_dir(target, target)
    if options.kind == "config":
        from dataclasses import replace

        inv = replace(inv, kind="config")
    return inv


def _one_config_file(path: str, analyzer: Any) -> Inventory:
    """`scan config FILE`: the file is the target; one that cannot be read is bad input (exit 2)."""
    from containment.checks.configfiles import parse_config_file

    try:
        with open(path, "rb") as f:
            data = f.read(8 * 1024 * 1024 + 1)
    except OSError as e:
        from containment import fserrors

        raise ContainmentError(fserrors.problem(path, e, "read")) from None
    doc = parse_config_file(os.path.basename(path), data, explicit=True)
    if doc is None or doc.error:
        raise ContainmentError(f"{path}: {doc.error if doc else 'not a config file'}")
    from dataclasses import replace

    return Inventory(
        target=path,
        kind="config",
        os=None,
        packages=(),
        configs=(replace(doc, path=path),),
        groups=("config",),
    )


def scan(
    target: str,
    options: ScanOptions,
    *,
    open_store: StoreOpener | None = None,
    progress: Progress | None = None,
    inv: Inventory | None = None,
) -> ScanReport:
    """Scan one target for every scanner in `options.scanners`; `inv`: an inventory already made."""
    if inv is None:
        inv = inventory(target, options, progress)
    warnings: list[str] = []
    gaps: list[Gap] = []
    findings: list[Finding] = []
    db_summary: dict[str, Any] = {}
    if "vuln" in options.scanners:
        findings, db_summary = _vulnerabilities(inv, options, open_store, warnings, gaps)
    misconfigs: list[Misconfiguration] = []
    workloads: tuple[Workload, ...] = ()
    if "config" in options.scanners:
        from containment.checks.registry import workloads as pss_workloads

        misconfigs = _misconfigurations(inv, options, warnings, gaps)
        workloads = tuple(pss_workloads(inv))
    secrets: list[SecretFinding] = []
    if "secret" in options.scanners:
        secrets = _secrets(inv, options)
    path = options.ignorefile
    if path is None and options.default_ignorefiles:
        path = next((f for f in DEFAULT_IGNOREFILES if os.path.isfile(f)), None)
    if path:  # one ignore file for every kind, as Trivy's .trivyignore.yaml
        from containment.policy.ignorefile import load_ignorefile

        applied, notes = load_ignorefile(path).apply(
            [*findings, *misconfigs, *secrets], datetime.date.today()
        )
        findings = [f for f in applied if isinstance(f, Finding)]
        misconfigs = [f for f in applied if isinstance(f, Misconfiguration)]
        secrets = [f for f in applied if isinstance(f, SecretFinding)]
        warnings.extend(notes)
    if options.severities is not None:
        findings = [f for f in findings if f.severity in options.severities]
        misconfigs = [m for m in misconfigs if m.severity in options.severities]
        secrets = [s for s in secrets if s.severity in options.severities]
    return ScanReport(
        inv,
        tuple(findings),
        db=db_summary,
        warnings=tuple([*inv.warnings, *warnings]),
        gaps=tuple(gaps),
        misconfigurations=tuple(misconfigs),
        secrets=tuple(secrets),
        scanners=tuple(s for s in SCANNERS if s in options.scanners),
        workloads=workloads,
    )


# ---------------------------------------------------------------------------- vulnerabilities


def _vulnerabilities(
    inv: Inventory,
    options: ScanOptions,
    open_store: StoreOpener | None,
    warnings: list[str],
    gaps: list[Gap],
) -> tuple[list[Finding], dict[str, Any]]:
    import shlex

    from containment.match import coverage, match

    if open_store is None:
        from containment.advisories.store import AdvisoryStore

        def open_store(_: Inventory) -> Any:
            return AdvisoryStore.open(options.db)

    store = open_store(inv)
    try:
        findings, w = match(inv, store, include_dev=options.include_dev)
        update = "containment db update" + (f" --db {shlex.quote(options.db)}" if options.db else "")
        found_gaps = coverage(inv, store, include_dev=options.include_dev, update=update)
        db_summary = store.summary()
    finally:
        store.close()
    warnings.extend(w)
    warnings.extend(g.message for g in found_gaps)
    gaps.extend(found_gaps)
    for doc in options.vex:
        from containment.policy.vex import load_vex

        applied, w = load_vex(doc).apply(findings, inventory=inv)
        findings = list(applied)
        warnings.extend(w)
    out = []
    for f in findings:
        if options.ignore_unfixed and f.status != "fixed":
            continue
        out.append(f)
    return out, dict(db_summary)


# ---------------------------------------------------------------------------- checks


def _misconfigurations(
    inv: Inventory, options: ScanOptions, warnings: list[str], gaps: list[Gap]
) -> list[Misconfiguration]:
    from containment.checks.registry import run_checks

    policies = None
    if options.policies:
        from containment.checks.rego import load_policies

        policies = load_policies(list(options.policies), namespaces=list(options.policy_namespaces))
    found, w, g = run_checks(inv, policies)
    warnings.extend(w)
    gaps.extend(g)
    return found


def _secrets(inv: Inventory, options: ScanOptions) -> list[SecretFinding]:
    from containment.checks.registry import config_secrets

    found = list(inv.secrets) + config_secrets(inv)
    if options.secret_allowlist:
        from containment.checks.secrets import load_allowlist

        found = list(load_allowlist(options.secret_allowlist).apply(found))
    return found


__all__ = ["ScanOptions", "scan", "inventory", "DEFAULT_IGNOREFILES"]
