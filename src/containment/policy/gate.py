"""The gate: may this image move on to a stage? One pure function over a scan report.

`evaluate(report, policy, stage, ...)` applies the policy's exceptions for that stage and
image, then checks every requirement the stage sets, and returns a frozen `Decision`: passed
or not, one reason per failed rule (with the findings behind it), the exceptions applied and
the expired ones (which no longer apply, and say so). Nothing here opens an image, a registry
or a key: the caller passes verified facts (the key ids that signed the image digest, the
predicate types of verified attestations, the previous stage's report), so the server, the
registry gate, `promote` and the CLI all decide the same way from the same inputs.

A gate fails closed: a rule whose input is missing (a scanner that did not run, a base image
given by a reference nobody resolved, no score) is a failed rule, naming what is missing.

"No debug config" (`no_debug: true`): debug ports (JDWP 5005, Node inspector 9229, Delve 2345,
debugpy 5678, ...), debug environment (NODE_OPTIONS=--inspect, JAVA_TOOL_OPTIONS with
-agentlib:jdwp, FLASK_DEBUG=1, DJANGO_DEBUG=true, ...), debug entrypoints (dlv, debugpy,
--inspect) and debuggers (gdb, strace, ...). With the previous stage's report, only what was
added since it fails, and shells (sh, bash, busybox, ...) and remote-access tools added count
too; without one, what is present fails (shells are not: most base images have one).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from containment.model import (
    SEVERITIES,
    Finding,
    Misconfiguration,
    ScanReport,
    SecretFinding,
)
from containment.policy import exceptions as _exc
from containment.policy.policyfile import Policy, Stage

DEBUG_PORTS: Mapping[int, str] = {
    5005: "JDWP (Java debugger)",
    8000: "JDWP (Java debugger, common alternative)",
    9229: "Node.js inspector",
    9222: "Chrome DevTools protocol",
    5858: "Node.js legacy debugger",
    2345: "Delve (Go debugger)",
    5678: "debugpy (Python debugger)",
    4000: "Erlang/Elixir observer",
}
SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "tcsh", "csh", "fish", "busybox"})
DEBUGGERS = frozenset(
    {"gdb", "gdbserver", "strace", "ltrace", "valgrind", "perf", "dlv", "delve", "lldb", "bpftrace"}
)
REMOTE = frozenset({"sshd", "dropbear", "telnetd", "in.telnetd", "openssh-server", "dropbear-bin"})
_TRUE = frozenset({"1", "true", "yes", "on", "y", "t"})
_JAVA_OPTS = ("JAVA_TOOL_OPTIONS", "JAVA_OPTS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS", "CATALINA_OPTS")
_CMD_MARKERS = ("--inspect", "agentlib:jdwp", "-Xrunjdwp", "debugpy", "dlv ", "dlv\0", "pydevd")


@dataclass(frozen=True)
class Verified:
    """A signature or attestation the caller verified (containment.service.sign.verify): the key
    that signed it, the predicate type for an attestation ("" for a signature), and the image
    digest it was verified against ("" when the caller did not say)."""

    key_id: str
    predicate_type: str = ""
    digest: str = ""


@dataclass(frozen=True)
class Reason:
    rule: str  # max_score, max_severity, banned_packages, ..., no_debug
    message: str
    findings: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "message": self.message, "findings": list(self.findings)}

    def __str__(self) -> str:
        return f"{self.rule}: {self.message}"


@dataclass(frozen=True)
class Decision:
    passed: bool
    stage: str
    target: str
    policy: str
    reasons: tuple[Reason, ...] = ()
    exceptions_applied: tuple[_exc.Applied, ...] = ()
    expired_exceptions: tuple[_exc.Applied, ...] = ()
    image_digest: str = ""
    score: float | None = None
    checked: tuple[str, ...] = ()  # the rules the stage sets, in the order checked
    notes: tuple[str, ...] = ()
    evaluated_at: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "stage": self.stage,
            "target": self.target,
            "image_digest": self.image_digest,
            "policy": self.policy,
            "score": self.score,
            "checked": list(self.checked),
            "reasons": [r.to_json() for r in self.reasons],
            "exceptions_applied": [a.to_json() for a in self.exceptions_applied],
            "expired_exceptions": [a.to_json() for a in self.expired_exceptions],
            "notes": list(self.notes),
            "evaluated_at": self.evaluated_at,
        }


def _ids(items: Iterable[Finding | Misconfiguration | SecretFinding], limit: int = 50) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_exc.finding_key(i) for i in items))[:limit]


def _list(keys: Iterable[str], n: int = 5) -> str:
    keys = list(keys)
    return ", ".join(keys[:n]) + (f" and {len(keys) - n} more" if len(keys) > n else "")


def _apply_exceptions(
    report: ScanReport, policy: Policy, stage: str, today: dt.date
) -> tuple[ScanReport, list[_exc.Applied], list[_exc.Applied]]:
    items: list[Finding | Misconfiguration | SecretFinding] = [
        *report.findings,
        *report.misconfigurations,
        *report.secrets,
    ]
    out, applied, expired = _exc.apply(
        policy.exceptions, items, stage=stage, inventory=report.inventory, today=today, source=policy.source
    )
    return (
        replace(
            report,
            findings=tuple(f for f in out if isinstance(f, Finding)),
            misconfigurations=tuple(f for f in out if isinstance(f, Misconfiguration)),
            secrets=tuple(f for f in out if isinstance(f, SecretFinding)),
        ),
        applied,
        expired,
    )


def _risk_score(report: ScanReport) -> float | None:
    try:
        from containment.policy import score as _score
    except ImportError:  # not installed with this build: the stage's max_score fails, saying why
        return None
    return float(_score.score(report).value)


def evaluate(
    report: ScanReport,
    policy: Policy,
    stage: str,
    *,
    score: float | None = None,
    signatures: Iterable[Verified | str] = (),
    attestations: Iterable[Verified] = (),
    previous: ScanReport | None = None,
    now: dt.datetime | None = None,
) -> Decision:
    """Decide whether `report`'s image meets `stage` of `policy` (exceptions applied first).

    `score`: the risk score when the caller has it (else computed with
    containment.policy.score on the report with exceptions applied); `signatures`: verified
    signatures (Verified, or bare key ids); `attestations`: verified attestations (Verified
    with predicate_type); `previous`: the previous stage's report (for no_debug); `now`: the
    evaluation time (exception expiry), default the current UTC time."""
    st = policy.stage(stage)
    when = now or dt.datetime.now(dt.UTC)
    today = when.date()
    report, applied, expired = _apply_exceptions(report, policy, stage, today)
    reasons: list[Reason] = []
    notes: list[str] = [a.message for a in expired]
    checked: list[str] = []
    digest = report.inventory.image_digest

    def need(scanner: str, rule: str) -> bool:
        if scanner in report.scanners:
            return True
        reasons.append(
            Reason(rule, f"the {scanner} scanner did not run; {rule} cannot be checked (scan with it)")
        )
        return False

    if st.max_score is not None:
        checked.append("max_score")
        if score is None:
            score = _risk_score(report)
        if score is None:
            reasons.append(
                Reason("max_score", "no risk score available (containment.policy.score); pass one")
            )
        elif score > st.max_score:
            reasons.append(
                Reason("max_score", f"risk score {score:g} is over {stage}'s max_score {st.max_score:g}")
            )
    if st.max_severity:
        checked.append("max_severity")
        if need("vuln", "max_severity"):
            reasons += _severity_limits(report, st)
    if st.banned_packages:
        checked.append("banned_packages")
        reasons += _banned_packages(report, st)
    if st.banned_licenses:
        checked.append("banned_licenses")
        reasons += _banned_licenses(report, st)
    if st.allowed_base_images:
        checked.append("allowed_base_images")
        reasons += _lineage(report, st)
    if st.secrets == "deny":
        checked.append("secrets")
        if need("secret", "secrets"):
            found = report.active_secrets
            if found:
                reasons.append(
                    Reason(
                        "secrets",
                        f"{len(found)} secret(s) in the image: {_list(_exc.finding_key(s) for s in found)}",
                        _ids(found),
                    )
                )
    if st.misconfig_max_severity or st.misconfig_deny:
        checked.append("misconfigurations")
        if need("config", "misconfigurations"):
            reasons += _misconfigs(report, st)
    if st.required_signatures:
        checked.append("required_signatures")
        reasons += _signatures(st, signatures, digest, notes)
    if st.required_attestations:
        checked.append("required_attestations")
        reasons += _attestations(st, attestations, digest, notes)
    if st.no_debug:
        checked.append("no_debug")
        reasons += _no_debug(report, previous)
    if report.all_gaps:
        notes.append(f"the scan is incomplete ({len(report.all_gaps)} gap(s)): {report.all_gaps[0].message}")
    return Decision(
        passed=not reasons,
        stage=stage,
        target=report.inventory.target,
        policy=policy.source,
        reasons=tuple(reasons),
        exceptions_applied=tuple(applied),
        expired_exceptions=tuple(expired),
        image_digest=digest,
        score=score,
        checked=tuple(checked),
        notes=tuple(notes),
        evaluated_at=when.isoformat(timespec="seconds"),
    )


# ---------------------------------------------------------------------------- rules


def _severity_limits(report: ScanReport, st: Stage) -> list[Reason]:
    out = []
    for sev in SEVERITIES:
        if sev not in st.max_severity:
            continue
        found = [f for f in report.active if f.severity == sev and (not st.fixable_only or f.fixed_versions)]
        limit = st.max_severity[sev]
        if len(found) > limit:
            kind = " fixable" if st.fixable_only else ""
            out.append(
                Reason(
                    "max_severity",
                    f"{len(found)} {sev}{kind} vulnerabilities, over the limit {limit}: "
                    + _list(dict.fromkeys(f.id for f in found)),
                    _ids(found),
                )
            )
    return out


def _banned_packages(report: ScanReport, st: Stage) -> list[Reason]:
    out = []
    for ban in st.banned_packages:
        hits = [p for p in report.inventory.packages if ban.matches(p)]
        if hits:
            why = f" ({ban.reason})" if ban.reason else ""
            out.append(
                Reason(
                    "banned_packages",
                    f"banned package {ban.text}{why}: {_list(f'{p.name} {p.version} ({p.path})' for p in hits)}",
                    tuple(dict.fromkeys(p.purl for p in hits)),
                )
            )
    return out


def _license_ids(text: str) -> list[list[str]]:
    """The alternatives of a license expression, each the ids it needs (OR of ANDs); a string
    that is not an SPDX expression is one alternative of itself."""
    from containment.report.licenses import _licensing

    try:
        expr = _licensing().parse(text, simple=False)
    except Exception:  # license_expression raises several types for bad text  # noqa: BLE001
        expr = None
    if expr is None:
        return [[text.strip()]]

    def walk(e: Any) -> list[list[str]]:
        name = type(e).__name__
        args = getattr(e, "args", ())
        if name == "OR":
            return [alt for a in args for alt in walk(a)]
        if name == "AND":
            alts: list[list[str]] = [[]]
            for a in args:
                alts = [x + y for x in alts for y in walk(a)][:64]
            return alts
        sym = getattr(e, "license_symbol", e)  # "X WITH exception" needs X
        return [[str(getattr(sym, "key", sym))]]

    return walk(expr)


def _banned_licenses(report: ScanReport, st: Stage) -> list[Reason]:
    banned = {b.casefold() for b in st.banned_licenses}
    hits: dict[str, list[str]] = {}
    for p in report.inventory.packages:
        for lic in p.licenses:
            alts = _license_ids(lic)
            # banned when every way to comply with the expression needs a banned license
            if alts and all(any(i.casefold() in banned for i in alt) for alt in alts):
                hits.setdefault(lic, []).append(p.purl)
    return [
        Reason("banned_licenses", f"banned license {lic}: {_list(purls)}", tuple(dict.fromkeys(purls)))
        for lic, purls in hits.items()
    ]


def _lineage(report: ScanReport, st: Stage) -> list[Reason]:
    layers = [layer.diff_id for layer in report.inventory.layers]
    if not layers or not all(layers):
        return [Reason("allowed_base_images", "the target has no image layers to compare with a base image")]
    unresolved = [b for b in st.allowed_base_images if not b.diff_ids]
    for b in st.allowed_base_images:
        n = len(b.diff_ids)
        if n and len(layers) >= n and tuple(layers[:n]) == b.diff_ids:
            return []
    names = ", ".join(f"{b.label} ({len(b.diff_ids)} layers)" for b in st.allowed_base_images if b.diff_ids)
    msg = f"the image's first layers ({layers[0][:19]}...) match no approved base image"
    msg += f": {names}" if names else ""
    if unresolved:
        msg += f"; not resolved to layers: {', '.join(b.ref for b in unresolved)}"
    return [Reason("allowed_base_images", msg, (layers[0],))]


def _misconfigs(report: ScanReport, st: Stage) -> list[Reason]:
    active = [m for m in report.active_misconfigurations if m.level != "warn"]
    out = []
    for sev in SEVERITIES:
        if sev in st.misconfig_max_severity:
            found = [m for m in active if m.severity == sev]
            if len(found) > st.misconfig_max_severity[sev]:
                out.append(
                    Reason(
                        "misconfigurations",
                        f"{len(found)} {sev} misconfigurations, over the limit "
                        f"{st.misconfig_max_severity[sev]}: {_list(dict.fromkeys(m.rule.id for m in found))}",
                        _ids(found),
                    )
                )
    for rule in st.misconfig_deny:
        want = rule.casefold()
        found = [m for m in active if any(want == i.casefold() for i in (m.rule.id, *m.rule.aliases))]
        if found:
            out.append(
                Reason(
                    "misconfigurations",
                    f"denied rule {rule} fails: {found[0].message}"
                    + (f" (and {len(found) - 1} more)" if len(found) > 1 else ""),
                    _ids(found),
                )
            )
    return out


def _facts(items: Iterable[Verified | str], digest: str, notes: list[str]) -> list[Verified]:
    out = []
    for v in items:
        v = Verified(v) if isinstance(v, str) else v
        if v.digest and digest and v.digest != digest:
            notes.append(
                f"a verified {'attestation' if v.predicate_type else 'signature'} is for {v.digest}, not this image"
            )
            continue
        out.append(replace(v, key_id=v.key_id.lower().removeprefix("sha256:")))
    return out


def _signatures(st: Stage, given: Iterable[Verified | str], digest: str, notes: list[str]) -> list[Reason]:
    have = {v.key_id for v in _facts(given, digest, notes) if not v.predicate_type}
    missing = [k for k in st.required_signatures if k not in have]
    if not missing:
        return []
    names = [st.signature_names.get(k, k) for k in missing]
    return [Reason("required_signatures", f"no verified signature by {_list(names)}", tuple(missing))]


def _attestations(st: Stage, given: Iterable[Verified], digest: str, notes: list[str]) -> list[Reason]:
    facts = [v for v in _facts(given, digest, notes) if v.predicate_type]
    keys = set(st.required_signatures)
    have = {v.predicate_type for v in facts if not keys or v.key_id in keys}
    missing = [t for t in st.required_attestations if t not in have]
    if not missing:
        return []
    by = " by a required key" if keys else ""
    return [
        Reason(
            "required_attestations", f"no verified attestation{by} of type {_list(missing)}", tuple(missing)
        )
    ]


# ---------------------------------------------------------------------------- no debug


@dataclass(frozen=True)
class DebugConfig:
    """What in an image is debug configuration, each as a short label."""

    ports: frozenset[str] = field(default_factory=frozenset)
    env: frozenset[str] = field(default_factory=frozenset)
    command: frozenset[str] = field(default_factory=frozenset)
    debuggers: frozenset[str] = field(default_factory=frozenset)
    shells: frozenset[str] = field(default_factory=frozenset)
    remote: frozenset[str] = field(default_factory=frozenset)


def _truthy(v: str) -> bool:
    return v.strip().strip("'\"").lower() in _TRUE


def _debug_env(name: str, value: str) -> bool:
    n = name.upper()
    if n == "NODE_OPTIONS":
        return "--inspect" in value or "--debug" in value
    if n in _JAVA_OPTS:
        return "agentlib:jdwp" in value or "Xrunjdwp" in value or "-Xdebug" in value
    if n in ("FLASK_DEBUG", "DJANGO_DEBUG", "DEBUG", "APP_DEBUG"):
        return _truthy(value)
    if n == "FLASK_ENV":
        return value.strip().lower() == "development"
    if n in ("PYTHONBREAKPOINT",):
        return value.strip() not in ("", "0")
    return n == "GODEBUG" and "gctrace" in value


def debug_config(report: ScanReport) -> DebugConfig:
    """The debug configuration of the image a report is about (config, packages, file facts)."""
    raw = report.inventory.config if isinstance(report.inventory.config, Mapping) else {}
    cfg = raw.get("config") if isinstance(raw.get("config"), Mapping) else {}
    assert isinstance(cfg, Mapping)
    ports = set()
    exposed = cfg.get("ExposedPorts")
    for key in exposed if isinstance(exposed, Mapping) else ():
        num = str(key).split("/", 1)[0]
        if num.isdigit() and int(num) in DEBUG_PORTS:
            ports.add(f"{key} ({DEBUG_PORTS[int(num)]})")
    env = set()
    for item in cfg.get("Env") or ():
        if isinstance(item, str):
            name, _, value = item.partition("=")
            if _debug_env(name, value):
                env.add(f"{name}={value[:60]}")
    command = set()
    for part in ("Entrypoint", "Cmd"):
        argv = cfg.get(part)
        if isinstance(argv, list):
            text = "\0".join(str(a) for a in argv) + "\0"
            for m in _CMD_MARKERS:
                if m in text:
                    command.add(f"{part} {m.strip().rstrip(chr(0))}")
    names = {p.name.lower() for p in report.inventory.packages}
    tools = {os.path.basename(f.path) for f in report.inventory.files if f.what == "tool"}
    return DebugConfig(
        frozenset(ports),
        frozenset(env),
        frozenset(command),
        frozenset((names | tools) & DEBUGGERS),
        frozenset(names & SHELLS),
        frozenset((names | tools) & REMOTE),
    )


def _no_debug(report: ScanReport, previous: ScanReport | None) -> list[Reason]:
    now = debug_config(report)
    before = debug_config(previous) if previous is not None else DebugConfig()
    since = " added since the previous stage" if previous is not None else ""
    what = [
        ("debug port", now.ports - before.ports),
        ("debug environment", now.env - before.env),
        ("debug entrypoint", now.command - before.command),
        ("debugger", now.debuggers - before.debuggers),
    ]
    if previous is not None:
        what += [("shell", now.shells - before.shells), ("remote-access tool", now.remote - before.remote)]
    return [
        Reason("no_debug", f"{label}{since}: {_list(sorted(found))}", tuple(sorted(found)))
        for label, found in what
        if found
    ]


__all__ = ["DEBUG_PORTS", "Decision", "DebugConfig", "Reason", "Verified", "debug_config", "evaluate"]
