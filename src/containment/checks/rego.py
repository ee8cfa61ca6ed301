"""Users' own policies in Rego, with Conftest's semantics, evaluated by rego-cpp (regopy).

Why: teams already keep Conftest / Trivy policies; `--policy DIR` runs them over the same
documents the built-in checks read (a Dockerfile's instruction list, each Kubernetes object,
a Compose file, the image config) and their results land in the same report as
`Misconfiguration`s (source "rego:<file>"). docs/policies.md describes the input documents.

Rules evaluated, in every package at or under a namespace (default "main"): `deny`, `violation`,
`warn` and their `_<suffix>` variants; results are strings or objects with `msg` (Conftest's
violation objects, Trivy's `result.new` objects with `startline`). Trivy's package metadata
`__rego_metadata__` (id, title, severity, ...) and `__rego_input__` selectors are honoured.

The engine: rego-cpp speaks Rego v1 (`import rego.v1` optional). A v0 partial set rule
(`deny[msg] { ... }`) is read by rego-cpp as an object rule `deny[msg] := true`; the bridge
module below returns an object rule's keys, so v0 policies give Conftest's results unchanged.
regopy's `Output` wrapper aborts the process (or raises a JSON error) on some failed
queries, so queries go through its thin ctypes layer (`regopy.rego_shared`), whose error
nodes we read for the message and the policy position.

Bounds: a policy file is at most 1 MiB, an input document at most 16 MiB of JSON and 256
levels deep (rego-cpp crashes on much deeper input). rego-cpp has no evaluation timeout and
regopy exposes no step limit, so a policy that loops for long blocks the scan (documented).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import regopy
import regopy.rego_shared as _rs

from containment.model import SEVERITIES, ConfigDoc, ConfigError, Location, Misconfiguration, Rule

MAX_POLICY_BYTES = 1024 * 1024
MAX_INPUT_BYTES = 16 * 1024 * 1024
MAX_INPUT_DEPTH = 256
MAX_RESULTS = 10_000  # per rule and input: more is a policy bug, not findings

KINDS = ("dockerfile", "kubernetes", "compose", "image")
# Trivy's selector types -> our input kinds ("yaml"/"json" are the file-based kinds).
SELECTOR_TYPES: Mapping[str, tuple[str, ...]] = {
    "dockerfile": ("dockerfile",),
    "kubernetes": ("kubernetes",),
    "compose": ("compose",),
    "docker-compose": ("compose",),
    "image": ("image",),
    "yaml": ("kubernetes", "compose"),
    "json": ("kubernetes", "compose"),
}
RULE_PREFIXES = ("deny", "violation", "warn")

_BRIDGE = "containment__bridge"
_BRIDGE_SRC = f"""package {_BRIDGE}
import rego.v1
results(v) := [k | some k; _ = v[k]] if is_object(v)
results(v) := [x | some x in v] if is_set(v)
results(v) := v if is_array(v)
results(v) := [v] if is_string(v)
results(v) := [""] if v == true
"""


def _fail(where: str, what: str, fix: str = "fix the policy") -> ConfigError:
    one_line = " ".join(what.split())
    return ConfigError(f"{where}: {one_line}; {fix}")


def rule_level(name: str) -> str:
    """'deny' or 'warn' for a Conftest rule name, '' for any other name."""
    for prefix in RULE_PREFIXES:
        if name == prefix or name.startswith(prefix + "_"):
            return "warn" if prefix == "warn" else "deny"
    return ""


# ---------------------------------------------------------------------------- engine errors


def _read_prefixed(text: str, start: int) -> str:
    """Read rego-cpp's length-prefixed atom `N:chars` at `start` (N counts UTF-8 bytes)."""
    colon = text.find(":", start)
    if colon < 0 or not text[start:colon].isdigit():
        return ""
    n = int(text[start:colon])
    raw = text[colon + 1 :].encode()[:n]
    return raw.decode(errors="replace")


def _first_message(sexpr: str) -> str:
    i = sexpr.find("(errormsg ")
    return _read_prefixed(sexpr, i + len("(errormsg ")) if i >= 0 else ""


def _position(sexpr: str, sources: Mapping[str, str]) -> tuple[str, int]:
    """The first `<len>:<module>|<offset>|<len>` naming one of our modules -> (module, line)."""
    best: tuple[int, str, int] | None = None
    for name, src in sources.items():
        token = f"{len(name.encode())}:{name}|"
        i = sexpr.find(token)
        if i < 0 or (best is not None and i >= best[0]):
            continue
        j = i + len(token)
        k = j
        while k < len(sexpr) and sexpr[k].isdigit():
            k += 1
        if k == j:
            continue
        offset = int(sexpr[j:k])
        line = src.encode()[:offset].count(b"\n") + 1
        best = (i, name, line)
    return (best[1], best[2]) if best else ("", 0)


@dataclass(frozen=True)
class _EngineError:
    message: str
    code: str
    sexpr: str


def _node_errors(node: int) -> list[_EngineError]:
    """Errors of an ErrorSeq (or one Error) node."""
    kind = _rs.rego_node_type(node)
    if kind == _rs.NodeKind.Error:
        errs = [node]
    else:
        errs = [_rs.rego_node_get(node, i) for i in range(_rs.rego_node_size(node))]
    out: list[_EngineError] = []
    for e in errs:
        msg = code = ""
        for i in range(_rs.rego_node_size(e)):
            c = _rs.rego_node_get(e, i)
            ck = _rs.rego_node_type(c)
            if ck == _rs.NodeKind.ErrorMessage:
                msg = _rs.rego_node_value(c)
            elif ck == _rs.NodeKind.ErrorCode:
                code = _rs.rego_node_value(c)
        try:
            sexpr = _rs.rego_node_json(e)
        except _rs.RegoError:
            sexpr = ""
        out.append(_EngineError(msg or "error", code, sexpr))
    return out


class _QueryError(Exception):
    def __init__(self, errors: list[_EngineError]) -> None:
        super().__init__(errors[0].message if errors else "error")
        self.errors = errors


def _query(interp: regopy.Interpreter, query: str) -> Any:
    """Run a query binding `x`; its value (None when undefined). Engine errors -> _QueryError."""
    try:
        out = _rs.rego_query(interp._impl, query)
    except _rs.RegoError as e:
        raise _QueryError([_EngineError(_first_message(str(e)) or str(e), "", str(e))]) from None
    try:
        if not _rs.rego_output_ok(out):
            raise _QueryError(_node_errors(_rs.rego_output_node(out)))
        text = _rs.rego_output_string(out)
        if text == "undefined":
            return None
        if text.startswith("("):  # an error term returned as the result (e.g. function not found)
            raise _QueryError([_EngineError(_first_message(text) or "error", "", text)])
        doc = json.loads(text)
        if isinstance(doc, list):
            doc = doc[0] if doc else {}
        return doc.get("bindings", {}).get("x")
    finally:
        _rs.rego_free_output(out)


def _ref(path: Sequence[str]) -> str:
    return "data" + "".join(f"[{json.dumps(p)}]" for p in path)


# ---------------------------------------------------------------------------- loading


def _package_of(src: str) -> tuple[str, ...]:
    """The package path a module declares (its first statement, after comments)."""
    for raw in src.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not line.startswith("package") or len(line) == 7 or not line[7].isspace():
            return ()
        ref = line[7:].split("#", 1)[0].strip()
        parts: list[str] = []
        i = 0
        while i < len(ref):
            if ref[i] == "[":
                end = ref.find("]", i)
                if end < 0:
                    return ()
                try:
                    parts.append(str(json.loads(ref[i + 1 : end])))
                except ValueError:
                    return ()
                i = end + 1
            elif ref[i] == ".":
                i += 1
            else:
                j = i
                while j < len(ref) and ref[j] not in ".[":
                    j += 1
                parts.append(ref[i:j].strip())
                i = j
        return tuple(parts)
    return ()


def _defines(src: str, rule: str) -> int:
    """1-based line of the first head of `rule` in a module (0: not defined there)."""
    for n, line in enumerate(src.splitlines(), 1):
        if line.startswith(rule):
            rest = line[len(rule) : len(rule) + 1]
            if not rest or not (rest.isalnum() or rest == "_"):
                return n
    return 0


def _collect(paths: Sequence[str]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            found = sorted(
                f for f in path.rglob("*.rego") if f.is_file() and not f.name.endswith("_test.rego")
            )
            if not found:
                raise _fail(
                    p, "no .rego policy files in this directory", "add policies or fix the --policy path"
                )
            files.extend(found)
        elif path.is_file():
            if path.suffix != ".rego":
                raise _fail(p, "not a .rego file", "give a .rego file or a directory of them")
            files.append(path)
        else:
            raise _fail(p, "no such policy file or directory", "fix the --policy path")
    unique: dict[str, Path] = {}
    for f in files:
        unique.setdefault(str(f), f)
    return list(unique.values())


def _read(path: Path) -> str:
    where = str(path)
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_POLICY_BYTES + 1)
    except OSError as e:
        raise _fail(
            where, f"cannot read the policy ({e.strerror or e})", "check the file and its permissions"
        ) from None
    if len(data) > MAX_POLICY_BYTES:
        raise _fail(
            where, f"policy larger than {MAX_POLICY_BYTES // 1024} KiB", "split it into smaller modules"
        )
    if b"\0" in data:
        raise _fail(where, "not a text file (NUL bytes)", "give Rego source")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise _fail(where, f"not UTF-8 text (byte {e.start})", "save the policy as UTF-8") from None


@dataclass(frozen=True)
class _Package:
    path: tuple[str, ...]
    rules: tuple[tuple[str, str], ...]  # (rule name, policy file defining it)
    metadata: Mapping[str, Any]
    kinds: frozenset[str] | None  # None: every kind (no selector)

    @property
    def name(self) -> str:
        return ".".join(self.path)


def _in_namespace(path: tuple[str, ...], namespaces: Sequence[str]) -> bool:
    dotted = ".".join(path)
    return any(dotted == ns or dotted.startswith(ns + ".") for ns in namespaces)


class PolicySet:
    """Compiled policies; `evaluate` runs them over config documents and an image config."""

    def __init__(self, interp: regopy.Interpreter, sources: Mapping[str, str], packages: Sequence[_Package]):
        self._interp = interp
        self._sources = dict(sources)
        self.packages: tuple[_Package, ...] = tuple(packages)
        self._lock = threading.Lock()

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(self._sources)

    def rules(self) -> list[Rule]:
        """Every rule the set can report (for `checks list`)."""
        out: list[Rule] = []
        for pkg in self.packages:
            for rule, _file in pkg.rules:
                out.append(_rule(pkg, rule))
        return out

    def evaluate(
        self,
        docs: Sequence[ConfigDoc],
        image_config: Mapping[str, Any] | None = None,
        image_ref: str = "",
    ) -> list[Misconfiguration]:
        found: list[Misconfiguration] = []
        with self._lock:
            for doc in docs:
                if doc.error or doc.kind not in KINDS:
                    continue
                for value in doc.inputs:
                    found.extend(self._evaluate_one(doc.kind, value, doc.path, doc.layer, image_ref))
            if image_config is not None:
                found.extend(self._evaluate_one("image", dict(image_config), "", "", image_ref))
        return found

    def _evaluate_one(
        self, kind: str, value: Any, path: str, layer: str, image_ref: str
    ) -> Iterator[Misconfiguration]:
        where = path or (f"image config of {image_ref}" if image_ref else "image config")
        selected = [p for p in self.packages if p.rules and (p.kinds is None or kind in p.kinds)]
        if not selected:
            return
        self._set_input(value, where)
        for pkg in selected:
            names = json.dumps([r for r, _ in pkg.rules])
            q = f"x := {{n: r | some n in {names}; r := data.{_BRIDGE}.results({_ref(pkg.path)}[n])}}"
            try:
                got = _query(self._interp, q)
            except _QueryError as e:
                first = e.errors[0]
                file, line = _position(first.sexpr, self._sources)
                file = file or pkg.rules[0][1]
                at = f"{file}:{line}" if line else file
                code = f" ({first.code})" if first.code else ""
                raise _fail(f"{at}", f"{first.message}{code} while evaluating {where}") from None
            if not isinstance(got, dict):
                continue
            files = dict(pkg.rules)
            for rule_name, results in got.items():
                if not isinstance(results, list):
                    continue
                for res in results[:MAX_RESULTS]:
                    yield _misconfiguration(
                        pkg, rule_name, files.get(rule_name, ""), res, kind, value, path, layer, image_ref
                    )

    def _set_input(self, value: Any, where: str) -> None:
        _check_shape(value, where)
        try:
            text = json.dumps(value, allow_nan=False, ensure_ascii=False)
        except (TypeError, ValueError) as e:
            raise _fail(where, f"input is not plain JSON ({e})", "report this input as a bug") from None
        if len(text) > MAX_INPUT_BYTES:
            raise _fail(
                where, f"input document larger than {MAX_INPUT_BYTES // (1024 * 1024)} MiB", "split the file"
            )
        try:
            self._interp.set_input_term(text)
        except _rs.RegoError as e:
            msg = _first_message(str(e)) or "rejected by the Rego engine"
            raise _fail(where, f"input document: {msg}", "report this input as a bug") from None


def _check_shape(value: Any, where: str) -> None:
    """Bound nesting (rego-cpp crashes on very deep documents) without recursion."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        v, depth = stack.pop()
        if depth > MAX_INPUT_DEPTH:
            raise _fail(where, f"input nested deeper than {MAX_INPUT_DEPTH} levels", "flatten the document")
        if isinstance(v, Mapping):
            stack.extend((c, depth + 1) for c in v.values())
        elif isinstance(v, (list, tuple)):
            stack.extend((c, depth + 1) for c in v)


def _rule(pkg: _Package, rule_name: str) -> Rule:
    meta = pkg.metadata
    level = rule_level(rule_name)
    sev = str(meta.get("severity", "")).upper() or ("LOW" if level == "warn" else "MEDIUM")
    actions = meta.get("recommended_actions", meta.get("recommended_action", ""))
    refs = meta.get("url", meta.get("references", ()))
    return Rule(
        id=str(meta.get("id") or f"{pkg.name}/{rule_name}"),
        title=str(meta.get("title") or f"Rego policy {pkg.name}/{rule_name}"),
        severity=sev,
        kind="policy",
        rationale=str(meta.get("description", "")),
        remediation=str(actions),
        references=tuple(str(r) for r in refs) if isinstance(refs, list) else ((str(refs),) if refs else ()),
    )


def _int(v: Any) -> int:
    return v if isinstance(v, int) and not isinstance(v, bool) and v > 0 else 0


def _dockerfile_line(msg: str, value: Any) -> tuple[int, int]:
    """The instruction a message quotes (its Original text), when exactly one matches."""
    if not isinstance(value, list) or not msg:
        return 0, 0
    hits = [i for i in value if isinstance(i, dict) and i.get("Original") and str(i["Original"]) in msg]
    if len(hits) != 1:
        return 0, 0
    return _int(hits[0].get("StartLine")), _int(hits[0].get("EndLine"))


def _stage(value: Any, line: int) -> str:
    if not isinstance(value, list) or not line:
        return ""
    stage = -1
    names: dict[int, str] = {}
    for ins in value:
        if not isinstance(ins, dict):
            continue
        v = ins.get("Value") or []
        if str(ins.get("Cmd", "")).lower() == "from" and isinstance(v, list) and len(v) == 3:
            names[_int(ins.get("Stage"))] = str(v[2])
        if _int(ins.get("StartLine")) == line:
            stage = _int(ins.get("Stage"))
    if stage < 0:
        return ""
    return f"stage {names.get(stage, stage)}"


def _resource(kind: str, value: Any, line: int, image_ref: str) -> str:
    if kind == "kubernetes" and isinstance(value, dict):
        meta = value.get("metadata")
        name = meta.get("name", "") if isinstance(meta, dict) else ""
        return f"{value.get('kind', '')}/{name}"
    if kind == "compose":
        return "compose file"
    if kind == "image":
        return f"image config {image_ref}".strip()
    return _stage(value, line)


def _misconfiguration(
    pkg: _Package,
    rule_name: str,
    file: str,
    res: Any,
    kind: str,
    value: Any,
    path: str,
    layer: str,
    image_ref: str,
) -> Misconfiguration:
    start = end = 0
    if isinstance(res, dict):
        if "msg" not in res:
            raise _fail(
                file or pkg.name,
                f'rule {rule_name} returned an object without "msg"',
                'return a string or an object {"msg": ...}',
            )
        msg = res["msg"]
        start = _int(res.get("StartLine", res.get("startline", res.get("start_line"))))
        end = _int(res.get("EndLine", res.get("endline", res.get("end_line"))))
    else:
        msg = res
    message = msg if isinstance(msg, str) else json.dumps(msg)
    if not start and kind == "dockerfile":
        start, end = _dockerfile_line(message, value)
    return Misconfiguration(
        rule=_rule(pkg, rule_name),
        message=message,
        location=Location(
            path=path,
            start_line=start,
            end_line=end or start,
            layer=layer,
            field="" if kind != "image" else "image config",
        ),
        resource=_resource(kind, value, start, image_ref),
        source=f"rego:{file}",
        level=rule_level(rule_name),
    )


def _load_error(e: _QueryError, sources: Mapping[str, str], fallback: str) -> ConfigError:
    first = e.errors[0]
    file, line = _position(first.sexpr, sources)
    if not file:
        # No position (e.g. "Function not found: data.lib.f"): name the module that mentions it.
        name = first.message.rsplit(" ", 1)[-1].rsplit(".", 1)[-1]
        file = next((f for f, s in sources.items() if name and name in s), fallback)
    at = f"{file}:{line}" if line else file
    return _fail(at, first.message)


def _metadata(
    interp: regopy.Interpreter, pkg: tuple[str, ...], file: str, sources: Mapping[str, str]
) -> tuple[dict[str, Any], frozenset[str] | None]:
    try:
        meta = _query(interp, f"x := {_ref(pkg)}.__rego_metadata__")
        sel = _query(interp, f"x := {_ref(pkg)}.__rego_input__")
    except _QueryError as e:
        raise _load_error(e, sources, file) from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise _fail(
            file, "__rego_metadata__ must be an object", 'write __rego_metadata__ := {"id": ..., ...}'
        )
    sev = str(meta.get("severity", "")).upper()
    if sev and sev not in SEVERITIES:
        raise _fail(file, f"__rego_metadata__ severity {sev!r} is not one of {', '.join(SEVERITIES)}")
    kinds: frozenset[str] | None = None
    if sel is not None:
        items = sel.get("selector") if isinstance(sel, dict) else None
        if items is not None:
            if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
                raise _fail(file, '__rego_input__.selector must be a list of {"type": ...} objects')
            acc: set[str] = set()
            for item in items:
                acc.update(SELECTOR_TYPES.get(str(item.get("type", "")).lower(), ()))
            kinds = frozenset(acc)
    return meta, kinds


def load_policies(paths: Sequence[str], namespaces: Sequence[str] = ("main",)) -> PolicySet:
    """Read, parse and compile every policy; ConfigError (file:line) when one does not compile."""
    files = _collect(paths)
    sources = {str(f): _read(f) for f in files}
    interp = regopy.Interpreter()
    interp.log_level = regopy.LogLevel.NONE  # rego-cpp prints errors on stdout otherwise
    interp.add_module(_BRIDGE, _BRIDGE_SRC)
    for name, src in sources.items():
        try:
            interp.add_module(name, src)
        except _rs.RegoError as e:
            text = str(e)
            file, line = _position(text, {name: src})
            msg = _first_message(text) or "does not parse"
            raise _fail(f"{file or name}:{line}" if line else name, msg) from None
    interp.set_input_term("{}")
    try:
        _query(interp, "x := data")  # compiles every module (unsafe heads, conflicts, bad imports)
    except _QueryError as e:
        raise _load_error(e, sources, next(iter(sources))) from None
    by_package: dict[tuple[str, ...], list[str]] = {}
    for name, src in sources.items():
        by_package.setdefault(_package_of(src), []).append(name)
    packages: list[_Package] = []
    for pkg_path, pkg_files in sorted(by_package.items()):
        if not pkg_path or not _in_namespace(pkg_path, namespaces):
            continue
        try:
            keys = _query(interp, f"x := [k | some k; _ = {_ref(pkg_path)}[k]]") or []
        except _QueryError as e:
            raise _load_error(e, sources, pkg_files[0]) from None
        rules = []
        for k in keys:
            if isinstance(k, str) and rule_level(k):
                owner = next((f for f in pkg_files if _defines(sources[f], k)), pkg_files[0])
                rules.append((k, owner))
        meta, kinds = _metadata(interp, pkg_path, pkg_files[0], sources)
        packages.append(_Package(pkg_path, tuple(sorted(rules)), meta, kinds))
    interp.strict_built_in_errors = True  # at evaluation a builtin error is an error, not "undefined"
    return PolicySet(interp, sources, packages)


__all__ = ["KINDS", "MAX_INPUT_DEPTH", "PolicySet", "load_policies", "rule_level"]
