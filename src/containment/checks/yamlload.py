"""Safe, bounded YAML loading with the line of every field, for Kubernetes manifests and Compose files.

Why not `yaml.safe_load`: the checks need the line of each field (findings point at it), the
documents must be plain JSON-able data (they are Rego `input` documents and are cached as JSON),
and hostile files must fail fast with one line instead of eating memory or the stack.

How: two passes over libyaml (CSafeLoader when built, else the pure-Python SafeLoader).
1. The event stream (iterative, no recursion) measures nesting depth and the size the documents
   would have once every alias is expanded - without expanding anything - so a billion-laughs
   document is refused in microseconds: "<path>: YAML alias expansion over N nodes; refusing it".
2. The composition tree (nodes carry marks) is turned into plain data, aliases copied, with a map
   from field path (`spec.template.spec.containers[0].securityContext.privileged`) to its 1-based
   line. Keys that are not plain names are quoted: `metadata.annotations["a.b/c"]`.

Rules: scalars are resolved as PyYAML's SafeLoader does (YAML 1.1 booleans, as Kubernetes'
sigs.k8s.io/yaml does); timestamps stay strings, non-string keys become strings as in JSON
(true, 1, null); merge keys (`<<`) are applied; duplicate keys are an error, as YAML 1.2
requires unique keys (kubectl and docker compose, both go-yaml v3, refuse them too).
Binary or non-UTF-8 data, files over MAX_BYTES, nesting over MAX_DEPTH and more than
MAX_NODES nodes are ConfigError, each one line naming the file and what to do.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from containment.model import ConfigError

MAX_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 100
MAX_NODES = 2_000_000  # nodes in all documents of a file once aliases are expanded
MAX_ALIAS_NODES = 100_000  # nodes created by expanding aliases

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_\-$/]+")
_MERGE_TAG = "tag:yaml.org,2002:merge"
_STR_TAG = "tag:yaml.org,2002:str"
_constructor = yaml.constructor.SafeConstructor()


class _Loader12(_Loader):  # type: ignore[misc,valid-type]
    """YAML 1.2 core schema (what go-yaml v3, hence docker compose, reads): `yes`/`on` and `22:22`
    stay strings, `010` is ten."""

    yaml_implicit_resolvers: dict[Any, list[tuple[str, re.Pattern[str]]]] = {}


for _tag, _regexp, _first in (
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", list("-+0123456789")),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        list("-+.0123456789"),
    ),
    ("tag:yaml.org,2002:merge", r"^(?:<<)$", ["<"]),
):
    _Loader12.add_implicit_resolver(_tag, re.compile(_regexp), _first)


@dataclass
class YamlDoc:
    """One YAML document: plain data, field path -> line of the field (1-based), and for each
    mapping or sequence the line it ends on."""

    data: Any
    lines: dict[str, int] = field(default_factory=dict)
    ends: dict[str, int] = field(default_factory=dict)


def join(prefix: str, key: str) -> str:
    """The path of mapping key `key` under `prefix` (`a.b`, or `a["x.y/z"]` for keys that are not plain)."""
    if _PLAIN_KEY.fullmatch(key):
        return f"{prefix}.{key}" if prefix else key
    quoted = key.replace("\\", "\\\\").replace('"', '\\"')
    return f'{prefix}["{quoted}"]'


def index(prefix: str, i: int) -> str:
    return f"{prefix}[{i}]"


def sub_map(lines: dict[str, int], prefix: str) -> dict[str, int]:
    """The entries of `lines` under `prefix`, re-rooted (prefix "items[2]" -> "items[2].kind" is "kind")."""
    if not prefix:
        return dict(lines)
    out: dict[str, int] = {}
    n = len(prefix)
    for k, v in lines.items():
        if k == prefix:
            out[""] = v
        elif k.startswith(prefix) and k[n] in ".[":
            rest = k[n:]
            out[rest[1:] if rest[0] == "." else rest] = v
    return out


def _parent(at: str) -> str:
    if at.endswith("]"):
        return at[: at.rfind("[")]
    dot = at.rfind(".")
    return at[:dot] if dot >= 0 else ""


def line_of(lines: Mapping[str, int], at: str) -> int:
    """The line of field `at`, or of its nearest ancestor present in the file (an absent field is
    reported where it belongs); 0 when nothing is known."""
    while True:
        if at in lines:
            return int(lines[at])
        if not at:
            return 0
        at = _parent(at)


def _fail(path: str, msg: str) -> ConfigError:
    return ConfigError(f"{path}: {msg}")


def _text(path: str, data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise _fail(path, f"YAML file of {len(data)} bytes is over the {MAX_BYTES}-byte limit; split it")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\x00" in data:
        raise _fail(path, "binary data (NUL bytes), not YAML text; remove the file or give it another name")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise _fail(
            path, f"not UTF-8 text (byte 0x{data[e.start]:02x} at offset {e.start}); save it as UTF-8"
        ) from None


def _yaml_error(path: str, e: yaml.YAMLError) -> ConfigError:
    mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
    problem = getattr(e, "problem", None) or getattr(e, "context", None) or str(e)
    problem = " ".join(str(problem).split())
    where = f"{path}:{mark.line + 1}" if mark is not None else path
    return ConfigError(f"{where}: invalid YAML ({problem}); fix the syntax")


def _measure(path: str, text: str) -> None:
    """Pass 1: depth and expanded size from events alone (iterative: no recursion, no expansion)."""
    depth = 0
    total = 0
    aliased = 0
    sizes: dict[str, int] = {}  # anchor -> expanded size of its node
    open_: list[list[Any]] = []  # [anchor, size so far] of each open collection
    try:
        for ev in yaml.parse(text, Loader=_Loader):
            if isinstance(ev, yaml.AliasEvent):
                anchor = ev.anchor or ""
                if anchor not in sizes:
                    if any(o[0] == anchor for o in open_):
                        raise ConfigError(
                            f"{path}:{ev.start_mark.line + 1}: recursive YAML alias *{anchor}; remove the cycle"
                        )
                    continue  # undefined: the composer reports it with its line
                n = sizes[anchor]
                aliased += n
                total += n
                if aliased > MAX_ALIAS_NODES:
                    raise _fail(path, f"YAML alias expansion over {MAX_ALIAS_NODES} nodes; refusing it")
                if open_:
                    open_[-1][1] += n
            elif isinstance(ev, yaml.ScalarEvent):
                total += 1
                if ev.anchor:
                    sizes[ev.anchor] = 1
                if open_:
                    open_[-1][1] += 1
            elif isinstance(ev, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise _fail(
                        path,
                        f"YAML nested over {MAX_DEPTH} levels (line {ev.start_mark.line + 1}); flatten it",
                    )
                total += 1
                open_.append([ev.anchor, 1])
            elif isinstance(ev, yaml.CollectionEndEvent):
                depth -= 1
                anchor, n = open_.pop()
                if anchor:
                    sizes[anchor] = n
                if open_:
                    open_[-1][1] += n
            if total > MAX_NODES:
                raise _fail(path, f"YAML over {MAX_NODES} nodes; split the file")
    except yaml.YAMLError as e:
        raise _yaml_error(path, e) from None


def _key_text(path: str, node: Node, yaml12: bool = False) -> str:
    if not isinstance(node, ScalarNode):
        raise ConfigError(
            f"{path}:{node.start_mark.line + 1}: a mapping key that is a list or mapping; use a plain key"
        )
    value = _scalar(path, node, yaml12)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _int12(value: str) -> int:
    v = value.replace("_", "x")  # no underscores in YAML 1.2 ints: make int() refuse them
    if v.startswith("0o"):
        return int(v[2:], 8)
    if v.startswith("0x"):
        return int(v[2:], 16)
    return int(v, 10)


def _scalar(path: str, node: ScalarNode, yaml12: bool = False) -> Any:
    if yaml12 and node.tag == "tag:yaml.org,2002:int":
        try:
            return _int12(node.value)
        except ValueError:
            return node.value
    if node.tag in (_STR_TAG, _MERGE_TAG, "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:binary"):
        return node.value  # timestamps stay text (as sigs.k8s.io/yaml gives them); binary stays base64
    if node.tag.startswith("tag:yaml.org,2002:"):
        try:
            value = _constructor.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, OverflowError) as e:
            why = " ".join(str(getattr(e, "problem", None) or e).split())
            raise ConfigError(
                f"{path}:{node.start_mark.line + 1}: bad {node.tag.rsplit(':', 1)[-1]} value ({why}); fix it"
            ) from None
        if isinstance(value, (_dt.date, _dt.datetime, bytes)):
            return node.value
        return value
    return node.value  # an application tag (!Ref, !secret): keep the text


def _end_line(node: Node) -> int:
    """The last line of a node's text: a block collection ends with its last child (its own end
    mark is the next token, maybe lines later); a scalar or flow collection at its end mark."""
    while isinstance(node, (MappingNode, SequenceNode)) and not node.flow_style and node.value:
        last = node.value[-1]
        node = last[1] if isinstance(node, MappingNode) else last
    m = node.end_mark
    return m.line if m.column == 0 and m.line > node.start_mark.line else m.line + 1


class _Builder:
    def __init__(self, path: str, yaml12: bool = False) -> None:
        self.path = path
        self.yaml12 = yaml12
        self.lines: dict[str, int] = {}
        self.ends: dict[str, int] = {}
        self.stack: set[int] = set()

    def build(self, node: Node, at: str, line: int) -> Any:
        if at not in self.lines:
            self.lines[at] = line
        if isinstance(node, ScalarNode):
            return _scalar(self.path, node, self.yaml12)
        if id(node) in self.stack:  # composer lets `&a [*a]` through; pass 1 refuses it first
            raise ConfigError(f"{self.path}:{line}: recursive YAML alias; remove the cycle")
        self.stack.add(id(node))
        try:
            self.ends[at] = _end_line(node)
            if isinstance(node, SequenceNode):
                return [
                    self.build(item, index(at, i), item.start_mark.line + 1)
                    for i, item in enumerate(node.value)
                ]
            assert isinstance(node, MappingNode)
            return self._mapping(node, at)
        finally:
            self.stack.discard(id(node))

    def _mapping(self, node: MappingNode, at: str, out: dict[str, Any] | None = None) -> dict[str, Any]:
        """Build `node` into `out`; a merged mapping (out given) adds only keys `out` lacks."""
        merging = out is not None
        out = {} if out is None else out
        seen: dict[str, int] = {}
        merges: list[Node] = []
        for knode, vnode in node.value:
            if knode.tag == _MERGE_TAG:
                merges.extend(vnode.value if isinstance(vnode, SequenceNode) else [vnode])
                continue
            key = _key_text(self.path, knode, self.yaml12)
            line = knode.start_mark.line + 1
            if key in seen:
                raise ConfigError(
                    f"{self.path}:{line}: duplicate key {key!r} (first at line {seen[key]}); "
                    "YAML requires unique keys: remove one"
                )
            seen[key] = line
            if merging and key in out:
                continue
            out[key] = self.build(vnode, join(at, key), line)
        for m in merges:  # explicit keys win, then earlier merged mappings win over later ones
            if not isinstance(m, MappingNode):
                raise ConfigError(
                    f"{self.path}:{m.start_mark.line + 1}: '<<' merges a non-mapping; merge a mapping"
                )
            if id(m) in self.stack:
                raise ConfigError(
                    f"{self.path}:{m.start_mark.line + 1}: recursive YAML merge; remove the cycle"
                )
            self.stack.add(id(m))
            try:
                self._mapping(m, at, out)
            finally:
                self.stack.discard(id(m))
        return out


def load(path: str, data: bytes, yaml12: bool = False) -> list[YamlDoc]:
    """Every document of a YAML stream (empty documents skipped), bounded; ConfigError when unusable.
    Scalars resolve as YAML 1.1 (Kubernetes) or, with `yaml12`, the YAML 1.2 core schema (Compose)."""
    text = _text(path, data)
    _measure(path, text)
    docs: list[YamlDoc] = []
    try:
        for root in yaml.compose_all(text, Loader=_Loader12 if yaml12 else _Loader):
            if root is None:
                continue
            b = _Builder(path, yaml12)
            value = b.build(root, "", root.start_mark.line + 1)
            if value is None:
                continue
            docs.append(YamlDoc(value, b.lines, b.ends))
    except yaml.YAMLError as e:
        raise _yaml_error(path, e) from None
    except RecursionError:
        raise _fail(path, f"YAML nested too deep; flatten it to under {MAX_DEPTH} levels") from None
    return docs


def load_documents(path: str, data: bytes) -> list[tuple[Any, dict[str, int]]]:
    """Each document as plain JSON-able data plus its field path -> 1-based line map."""
    return [(d.data, d.lines) for d in load(path, data)]


__all__ = [
    "MAX_ALIAS_NODES",
    "MAX_BYTES",
    "MAX_DEPTH",
    "YamlDoc",
    "index",
    "join",
    "load",
    "load_documents",
    "sub_map",
]
