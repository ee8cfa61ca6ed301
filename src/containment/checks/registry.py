"""Every rule, and the one place the checks run after squashing.

Rules are data (`model.Rule`) declared next to the code that checks them, in one module per
kind; `all_rules()` gathers them for `containment checks list` and the report formats.
"""

from __future__ import annotations

import importlib
from typing import Any

from containment.model import (
    UNREADABLE,
    ConfigError,
    Gap,
    Inventory,
    Location,
    Misconfiguration,
    Rule,
    SecretFinding,
    Workload,
)

RULE_MODULES = ("dockerfile", "image", "kubernetes", "compose", "secret_rules")
DOC_CHECKS = {"dockerfile": "dockerfile", "kubernetes": "kubernetes", "compose": "compose"}


def _module(name: str) -> Any:
    return importlib.import_module(f"containment.checks.{name}")


def all_rules() -> list[Rule]:
    rules: dict[str, Rule] = {}
    for m in RULE_MODULES:
        for r in _module(m).RULES:
            if r.id in rules:
                raise AssertionError(f"rule id {r.id} declared twice")
            rules[r.id] = r
    return sorted(rules.values(), key=lambda r: r.id)


def run_checks(inv: Inventory, policies: Any = None) -> tuple[list[Misconfiguration], list[str], list[Gap]]:
    """Built-in checks on every config document and (for images) the image config and file
    facts, then the user's Rego policies. Returns (misconfigurations, warnings, gaps): a config
    file that could not be read is a warning and a gap (the result is incomplete)."""
    found: list[Misconfiguration] = []
    warnings: list[str] = []
    gaps: list[Gap] = []
    readable = []
    for doc in inv.configs:
        if doc.error:
            message = f"{inv.target}: /{doc.path}: {doc.error}; its checks did not run"
            warnings.append(message)
            gaps.append(Gap(UNREADABLE, doc.path, message))
            continue
        readable.append(doc)
        mod = DOC_CHECKS.get(doc.kind)
        if mod is not None:
            found.extend(_module(mod).check(doc))
    if inv.kind == "image":
        from containment.checks import image

        found.extend(image.check(inv.config, inv.files, [layer.diff_id for layer in inv.layers]))
    if policies is not None:
        found.extend(
            policies.evaluate(
                readable, image_config=inv.config if inv.kind == "image" else None, image_ref=inv.target
            )
        )
    found.sort(key=lambda m: (m.location.path, m.location.start_line, m.rule.id, m.resource, m.message))
    return found, warnings, gaps


def workloads(inv: Inventory) -> list[Workload]:
    """Every Kubernetes workload read, with the strictest Pod Security Standards level it meets."""
    from containment.checks.kubernetes import pss_level

    out = []
    for doc in inv.configs:
        if doc.kind != "kubernetes" or doc.error:
            continue
        starts = doc.meta.get("start") or []
        ends = doc.meta.get("end") or []
        for i, obj in enumerate(doc.inputs):
            level = pss_level(obj) if isinstance(obj, dict) else ""
            if not level:
                continue
            meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
            name = f"{obj.get('kind', '')}/{meta.get('name', '')}"
            if meta.get("namespace"):
                name = f"{meta['namespace']}/{name}"
            line = starts[i] if i < len(starts) and isinstance(starts[i], int) else 0
            end = ends[i] if i < len(ends) and isinstance(ends[i], int) else 0
            out.append(Workload(name, Location(doc.path, line, end, doc.layer), level))
    return out


def history_layers(config: Any, diff_ids: list[str]) -> list[str]:
    """The diff_id each history entry made ("" for empty_layer entries: ENV, LABEL, ...)."""
    out: list[str] = []
    i = 0
    history = config.get("history") if isinstance(config, dict) else None
    for h in history if isinstance(history, list) else []:
        if isinstance(h, dict) and h.get("empty_layer"):
            out.append("")
        else:
            out.append(diff_ids[i] if i < len(diff_ids) else "")
            i += 1
    return out


def config_secrets(inv: Inventory) -> list[SecretFinding]:
    """Secrets in an image's config: ENV entries, labels and history commands."""
    if inv.kind != "image" or not isinstance(inv.config, dict):
        return []
    from containment.checks.secrets import scan_text

    found: list[SecretFinding] = []
    cfg = inv.config.get("config") or {}
    if isinstance(cfg, dict):
        for i, env in enumerate(cfg.get("Env") or []):
            if isinstance(env, str):
                found.extend(scan_text(env, Location(field=f"config.Env[{i}]")))
        labels = cfg.get("Labels") or {}
        if isinstance(labels, dict):
            for k, v in sorted(labels.items()):
                found.extend(scan_text(f"{k}={v}", Location(field=f"config.Labels[{k!r}]")))
    layers = history_layers(inv.config, [layer.diff_id for layer in inv.layers])
    for i, h in enumerate(inv.config.get("history") or []):
        if isinstance(h, dict) and isinstance(h.get("created_by"), str):
            found.extend(scan_text(h["created_by"], Location(field=f"history[{i}]", layer=layers[i])))
    # an ENV line shows in history too (ENV DB_PASSWORD=...): say it once, at the config entry
    seen: set[tuple[str, str]] = set()
    out = []
    for s in found:
        key = (s.rule.id, s.match)
        if key not in seen:
            seen.add(key)
            out.append(s)
    return out


__all__ = ["ConfigError", "all_rules", "config_secrets", "history_layers", "run_checks", "workloads"]
