"""Gate policy files (YAML): what each stage requires of an image, and the exceptions granted.

Why a schema and a line map: a policy is written by hand and read by a gate that refuses
images; a typo (`max_scor`) silently ignored would open the gate. The file is read with
`containment.checks.yamlload` (bounded: YAML bombs, deep nesting, binary data and duplicate
keys refused; the line of every field kept), validated against the JSON Schema shipped in
`containment/data/policy-1.schema.json`, then checked for what a schema cannot say (purl globs,
version ranges in the package's own scheme, dates, key files, stage names). Every error is
one line naming the file, the line, the field and what was expected::

    policy.yaml:14: stages.prod.max_score: expected a number from 0 to 100, got 'high'
    policy.yaml:9: stages.prod: unknown key 'max_scor' (did you mean max_score?)

The format is documented in docs/policy-file.md; examples/policy.yaml is a complete example.
"""

from __future__ import annotations

import datetime as dt
import difflib
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from containment import fserrors
from containment.checks import yamlload
from containment.ecosystems import BY_TYPE
from containment.model import ConfigError, ContainmentError, Package, PolicyError
from containment.policy import _purl
from containment.policy.exceptions import PolicyException

MAX_BYTES = 1024 * 1024

# Short names for predicate types (the full URI is accepted too).
ATTESTATION_TYPES = {
    "vuln": "https://cosign.sigstore.dev/attestation/vuln/v1",
    "gate": "https://containment.dev/attestation/gate/v1",
    "slsaprovenance": "https://slsa.dev/provenance/v0.2",
    "slsaprovenance1": "https://slsa.dev/provenance/v1",
    "spdxjson": "https://spdx.dev/Document",
    "cyclonedx": "https://cyclonedx.org/bom",
}
_OS_SCHEMES = {"deb": "dpkg", "apk": "apk", "rpm": "rpm"}
_KEY_ID = re.compile(r"^(?:sha256:)?([0-9a-f]{64})$")
_OPS = ("<=", ">=", "!=", "==", "<", ">", "=")
_TYPE_WORDS = {
    "number": "a number",
    "integer": "a whole number",
    "string": "a string",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping",
    "null": "nothing",
}


class PolicyFileError(PolicyError, ConfigError):
    """A policy file that cannot be used (both a PolicyError and a ConfigError: exit code 2)."""


# ---------------------------------------------------------------------------- model


@dataclass(frozen=True)
class BannedPackage:
    """A purl glob (no version) and an optional version constraint in the package's scheme."""

    pattern: str  # pkg:npm/left-pad, pkg:deb/debian/openssl, pkg:npm/@evil/*
    constraints: tuple[tuple[str, str], ...] = ()  # (op, version): all must hold; () = any version
    scheme: str = ""  # version scheme of the purl type (set when there are constraints)
    reason: str = ""
    text: str = ""  # as written
    line: int = 0

    def matches(self, pkg: Package) -> bool:
        """Does `pkg` fall under the ban? A version the scheme cannot read counts as banned
        (a gate fails closed)."""
        if not _purl.matches(self.pattern, pkg.purl, glob=True):
            return False
        if not self.constraints:
            return True
        from containment import versions

        try:
            got = versions.parse(self.scheme, pkg.version)
            for op, want in self.constraints:
                c = got._cmp(versions.parse(self.scheme, want))
                ok = {"<": c < 0, "<=": c <= 0, ">": c > 0, ">=": c >= 0, "!=": c != 0}.get(op, c == 0)
                if not ok:
                    return False
        except (versions.InvalidVersion, ValueError):
            return True
        return True


@dataclass(frozen=True)
class BaseImage:
    """An approved base image: its reference (resolved to layers at gate time) or its layers."""

    name: str
    ref: str = ""
    diff_ids: tuple[str, ...] = ()
    line: int = 0

    @property
    def label(self) -> str:
        return self.name or self.ref or (self.diff_ids[-1][:19] if self.diff_ids else "?")


@dataclass(frozen=True)
class Stage:
    name: str
    description: str = ""
    max_score: float | None = None
    max_severity: Mapping[str, int] = field(default_factory=dict)
    fixable_only: bool = False
    required_signatures: tuple[str, ...] = ()  # key ids (sha256 of the DER public key, hex)
    signature_names: Mapping[str, str] = field(default_factory=dict)  # key id -> as written
    required_attestations: tuple[str, ...] = ()  # predicate type URIs
    banned_packages: tuple[BannedPackage, ...] = ()
    banned_licenses: tuple[str, ...] = ()
    allowed_base_images: tuple[BaseImage, ...] = ()
    secrets: str = "allow"  # deny | allow
    misconfig_max_severity: Mapping[str, int] = field(default_factory=dict)
    misconfig_deny: tuple[str, ...] = ()
    no_debug: bool = False
    line: int = 0


@dataclass(frozen=True)
class Policy:
    source: str  # the file it came from
    stages: Mapping[str, Stage]
    exceptions: tuple[PolicyException, ...] = ()
    base_dir: str = "."  # relative key files and oci:/docker-archive: refs resolve against it

    def stage(self, name: str) -> Stage:
        if name not in self.stages:
            near = difflib.get_close_matches(name, list(self.stages), n=1)
            hint = f"did you mean {near[0]}? " if near else ""
            raise PolicyError(
                f"{self.source}: no stage {name!r}; {hint}the policy defines {', '.join(self.stages)}"
            )
        return self.stages[name]

    def resolve_bases(self, stage: str, layers_of: Callable[[str], tuple[str, ...]]) -> Policy:
        """The policy with the base images of `stage` given by reference resolved to their
        layers by `layers_of(ref)` (the service opens the image; this module never does)."""
        st = self.stage(stage)
        bases = tuple(
            replace(b, diff_ids=layers_of(self.ref_path(b.ref))) if b.ref and not b.diff_ids else b
            for b in st.allowed_base_images
        )
        return replace(self, stages={**self.stages, stage: replace(st, allowed_base_images=bases)})

    def ref_path(self, ref: str) -> str:
        """`oci:` and `docker-archive:` paths relative to the policy file's directory."""
        for prefix in ("oci:", "docker-archive:"):
            if ref.startswith(prefix) and not os.path.isabs(ref[len(prefix) :]):
                return prefix + os.path.join(self.base_dir, ref[len(prefix) :])
        return ref


# ---------------------------------------------------------------------------- loading


def schema_path() -> Path:
    return Path(str(resources.files("containment") / "data" / "policy-1.schema.json"))


@lru_cache(maxsize=1)
def _validator() -> Any:
    import jsonschema

    return jsonschema.Draft202012Validator(json.loads(schema_path().read_text()))


def load_policy(path: str | os.PathLike[str]) -> Policy:
    p = Path(path)
    try:
        if not p.is_file():
            if p.is_dir():
                raise PolicyFileError(f"{p}: is a directory; give the policy YAML file (--policy)")
            raise PolicyFileError(f"{p}: policy file not found; check the path (--policy)")
        if p.stat().st_size > MAX_BYTES:
            raise PolicyFileError(f"{p}: policy file over {MAX_BYTES // 1024} KiB; is it the right file?")
        data = p.read_bytes()
    except PolicyError:
        raise
    except OSError as e:
        raise PolicyFileError(f"{fserrors.problem(p, e)} (the policy file)") from None
    return parse_policy(data, str(p), base_dir=str(p.parent))


def parse_policy(data: bytes | str, source: str = "policy.yaml", base_dir: str = ".") -> Policy:
    """Read and validate a policy; PolicyFileError (one line, with the line number) otherwise."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if len(raw) > MAX_BYTES:
        raise PolicyFileError(f"{source}: policy file over {MAX_BYTES // 1024} KiB; is it the right file?")
    try:
        docs = yamlload.load(source, raw, yaml12=True)
    except ConfigError as e:
        raise PolicyFileError(str(e)) from None
    if not docs:
        raise PolicyFileError(f"{source}: empty policy; define at least one stage (see docs/policy-file.md)")
    if len(docs) > 1:
        raise PolicyFileError(f"{source}: {len(docs)} YAML documents; a policy is one document")
    doc = docs[0]
    if not isinstance(doc.data, dict):
        raise PolicyFileError(
            f"{source}:1: expected a mapping with `stages:` (and `exceptions:`), got {_show(doc.data)}"
        )
    stages = doc.data.get("stages")
    if isinstance(stages, dict):  # `dev:` with nothing under it is a stage that requires nothing
        for k, v in stages.items():
            if v is None:
                stages[k] = {}
    _validate(doc.data, doc.lines, source)
    return _build(doc.data, doc.lines, source, base_dir)


def _show(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "nothing (null)"
    if isinstance(v, dict):
        return "a mapping"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, str):
        s = v if len(v) <= 60 else v[:57] + "..."
        return repr(s)
    return str(v)


def _path(parts: Any) -> str:
    at = ""
    for p in parts:
        at = yamlload.index(at, p) if isinstance(p, int) else yamlload.join(at, str(p))
    return at


class _Err:
    def __init__(self, source: str, lines: Mapping[str, int]) -> None:
        self.source = source
        self.lines = lines

    def __call__(self, at: str, msg: str, line_at: str | None = None) -> PolicyFileError:
        line = yamlload.line_of(self.lines, at if line_at is None else line_at)
        where = f"{self.source}:{line}" if line else self.source
        return PolicyFileError(f"{where}: {at + ': ' if at else ''}{' '.join(msg.split())}")


def _schema_problem(e: Any) -> tuple[str, str, str]:
    """(field path, path of the line to show, message) of one jsonschema error, in the policy's words."""
    at, msg, line_at = _problem(e)
    return at, line_at or at, msg


def _problem(e: Any) -> tuple[str, str, str]:
    at = _path(e.absolute_path)
    schema = e.schema if isinstance(e.schema, dict) else {}
    expected = schema.get("x-expected")
    if "propertyNames" in e.relative_schema_path:
        key = str(e.instance)
        return at, f"unknown key {key!r}: expected {expected or 'another name'}", yamlload.join(at, key)
    if e.validator == "additionalProperties" and isinstance(e.instance, dict):
        known = list(schema.get("properties", {}))
        extra = [k for k in e.instance if k not in known]
        key = extra[0] if extra else "?"
        near = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
        hint = f" (did you mean {near[0]}?)" if near else f"; expected one of {', '.join(known)}"
        return at, f"unknown key {key!r}{hint}", yamlload.join(at, key)
    if e.validator == "required" and isinstance(e.instance, dict):
        missing = [r for r in e.validator_value if r not in e.instance]
        return at, f"missing key {missing[0] if missing else '?'!r}", ""
    if e.validator == "type" and not expected:
        want = e.validator_value if isinstance(e.validator_value, list) else [e.validator_value]
        expected = " or ".join(_TYPE_WORDS.get(str(w), str(w)) for w in want)
    if e.validator in ("minItems", "minProperties", "minLength") and not expected:
        expected = "at least one entry" if e.validator != "minLength" else "a non-empty string"
    if e.validator == "const" and not expected:
        expected = repr(e.validator_value)
    if e.validator == "enum" and not expected:
        expected = "one of " + ", ".join(str(v) for v in e.validator_value)
    if expected:
        return at, f"expected {expected}, got {_show(e.instance)}", ""
    return at, " ".join(str(e.message).split())[:200], ""


def _validate(data: Any, lines: Mapping[str, int], source: str) -> None:
    err = _Err(source, lines)
    problems = [_schema_problem(e) for e in _validator().iter_errors(data)]
    if not problems:
        return
    # by line; on one line a misspelt key first (it explains a "missing key" there)
    problems.sort(key=lambda p: (yamlload.line_of(lines, p[1]), "unknown key" not in p[2], p[1]))
    at, line_at, msg = problems[0]
    more = len(set(problems)) - 1
    raise err(at, msg + (f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""), line_at)


def _check_glob(text: str) -> str:
    """Why `text` is not a usable glob, or ""."""
    i = 0
    while i < len(text):
        if text[i] == "[":
            j = text.find("]", i + 2)
            if j < 0:
                return f"unclosed '[' in {text!r}"
            i = j
        i += 1
    return ""


def _scheme(purl_type: str) -> str:
    if purl_type in _OS_SCHEMES:
        return _OS_SCHEMES[purl_type]
    eco = BY_TYPE.get(purl_type)
    return eco.scheme if eco else ""


def _banned(item: Any, at: str, err: _Err) -> BannedPackage:
    line = yamlload.line_of(err.lines, at)
    if isinstance(item, str):
        text, reason, ranges = item.strip(), "", ""
        base, sep, version = text.rpartition("@")
        if sep and base and "/" not in version:
            if version.startswith(("<", ">", "=", "!")):
                text, ranges = base, version
            else:
                text, ranges = base, "=" + version
        pattern_at = at
    else:
        text, reason, ranges = item["purl"].strip(), item.get("reason", ""), item.get("versions", "")
        pattern_at = yamlload.join(at, "purl")
        if "@" in text.rpartition("/")[2]:
            raise err(pattern_at, f"{text!r}: give the version range in `versions`, not in the purl")
    bad = _check_glob(text)
    parsed = _purl.parse(text.replace("*", "x"))
    if bad or parsed is None:
        raise err(
            pattern_at,
            f"{bad or repr(text) + ' is not a purl glob'}; write pkg:TYPE/[NAMESPACE/]NAME, `*` allowed "
            "(pkg:npm/left-pad, pkg:deb/debian/openssl@<3.0.12)",
        )
    constraints: list[tuple[str, str]] = []
    scheme = ""
    if ranges:
        where = yamlload.join(at, "versions") if isinstance(item, dict) else at
        purl_type = text[4:].lstrip("/").split("/", 1)[0].lower()
        scheme = _scheme(purl_type)
        if not scheme or "*" in purl_type:
            raise err(where, f"a version range needs a purl type with a version scheme, not {purl_type!r}")
        from containment import versions

        for part in ranges.split(","):
            part = part.strip()
            op = next((o for o in _OPS if part.startswith(o)), "")
            ver = part[len(op) :].strip()
            if not op or not ver:
                raise err(where, f"bad version range {ranges!r}; write comparators like '>=1.2, <2.0'")
            try:
                versions.parse(scheme, ver)
            except (versions.InvalidVersion, ValueError):
                raise err(where, f"{ver!r} is not a {scheme} version (in {ranges!r})") from None
            constraints.append(("=" if op == "==" else op, ver))
    return BannedPackage(
        text, tuple(constraints), scheme, reason, str(item if isinstance(item, str) else text), line
    )


def _key_id_of_file(path: str) -> str:
    """How a policy names a key: containment.supplychain.keys.key_id of the PEM public key."""
    from containment.supplychain import keys

    return keys.key_id(keys.load_public(path))


def _signature(text: str, at: str, err: _Err, base_dir: str) -> str:
    m = _KEY_ID.match(text.strip().lower())
    if m:
        return m.group(1)
    path = text if os.path.isabs(text) else os.path.join(base_dir, text)
    if not os.path.isfile(path):
        raise err(
            at, f"{text!r} is neither a key id (64 hex digits) nor a public key file ({path} not found)"
        )
    try:
        return _key_id_of_file(path)
    except (ValueError, TypeError, OSError, ContainmentError) as e:
        why = " ".join(str(e).split())[:120]
        raise err(
            at, f"{path}: not a PEM public key ({why}); give the .pub file `containment key generate` wrote"
        ) from None


def _severity_counts(d: Mapping[str, Any] | None) -> dict[str, int]:
    return {k: int(v) for k, v in (d or {}).items()}


def _build(data: dict[str, Any], lines: Mapping[str, int], source: str, base_dir: str) -> Policy:
    err = _Err(source, lines)
    stages: dict[str, Stage] = {}
    for name, raw in data["stages"].items():
        at = yamlload.join("stages", name)
        sig_names: dict[str, str] = {}
        for i, s in enumerate(raw.get("required_signatures", [])):
            sig_names[
                _signature(s, yamlload.index(yamlload.join(at, "required_signatures"), i), err, base_dir)
            ] = s
        atts = tuple(
            ATTESTATION_TYPES.get(a.strip().lower(), a.strip()) for a in raw.get("required_attestations", [])
        )
        for i, a in enumerate(atts):
            if "://" not in a:
                raise err(
                    yamlload.index(yamlload.join(at, "required_attestations"), i),
                    f"{a!r} is not a predicate type URI nor one of {', '.join(ATTESTATION_TYPES)}",
                )
        banned = tuple(
            _banned(item, yamlload.index(yamlload.join(at, "banned_packages"), i), err)
            for i, item in enumerate(raw.get("banned_packages", []))
        )
        bases = []
        for i, b in enumerate(raw.get("allowed_base_images", [])):
            bases.append(
                BaseImage(
                    b.get("name", ""),
                    b.get("ref", "").strip(),
                    tuple(b.get("diff_ids", ())),
                    yamlload.line_of(lines, yamlload.index(yamlload.join(at, "allowed_base_images"), i)),
                )
            )
        mis = raw.get("misconfigurations", {})
        stages[name] = Stage(
            name=name,
            description=raw.get("description", ""),
            max_score=float(raw["max_score"]) if "max_score" in raw else None,
            max_severity=_severity_counts(raw.get("max_severity")),
            fixable_only=bool(raw.get("fixable_only", False)),
            required_signatures=tuple(sig_names),
            signature_names=sig_names,
            required_attestations=tuple(dict.fromkeys(atts)),
            banned_packages=banned,
            banned_licenses=tuple(s.strip() for s in raw.get("banned_licenses", [])),
            allowed_base_images=tuple(bases),
            secrets=raw.get("secrets", "allow"),
            misconfig_max_severity=_severity_counts(mis.get("max_severity")),
            misconfig_deny=tuple(mis.get("deny", ())),
            no_debug=bool(raw.get("no_debug", False)),
            line=yamlload.line_of(lines, at),
        )
    exceptions = []
    for i, e in enumerate(data.get("exceptions", [])):
        at = yamlload.index("exceptions", i)
        try:
            expires = dt.date.fromisoformat(e["expires"].strip())
            if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", e["expires"].strip()):
                raise ValueError
        except ValueError:
            raise err(
                yamlload.join(at, "expires"), f"expected a date YYYY-MM-DD, got {_show(e['expires'])}"
            ) from None
        for key in ("purl", "image"):
            bad = _check_glob(e.get(key, ""))
            if bad:
                raise err(yamlload.join(at, key), f"bad glob: {bad}")
        if e.get("purl") and _purl.parse(e["purl"].replace("*", "x")) is None:
            raise err(
                yamlload.join(at, "purl"), f"{e['purl']!r} is not a purl glob (pkg:TYPE/NAME, `*` allowed)"
            )
        for j, s in enumerate(e.get("stages", [])):
            if s not in stages:
                near = difflib.get_close_matches(s, list(stages), n=1)
                hint = f" (did you mean {near[0]}?)" if near else f"; stages are {', '.join(stages)}"
                raise err(yamlload.index(yamlload.join(at, "stages"), j), f"unknown stage {s!r}{hint}")
        exceptions.append(
            PolicyException(
                id=e["id"].strip(),
                reason=e["reason"].strip(),
                approver=e["approver"].strip(),
                expires=expires,
                purl=e.get("purl", "").strip(),
                image=e.get("image", "").strip(),
                stages=tuple(e.get("stages", ())),
                line=yamlload.line_of(lines, at),
            )
        )
    return Policy(source, stages, tuple(exceptions), base_dir)


__all__ = [
    "ATTESTATION_TYPES",
    "BannedPackage",
    "BaseImage",
    "Policy",
    "PolicyFileError",
    "Stage",
    "load_policy",
    "parse_policy",
    "schema_path",
]
