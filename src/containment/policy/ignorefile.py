"""Ignore files: `.containmentignore` (YAML) and Trivy's plain `.trivyignore`.

YAML (a list of entries, or a mapping with `vulnerabilities:`, `misconfigurations:` and
`secrets:` lists, as Trivy's `.trivyignore.yaml`)::

    vulnerabilities:
      - id: CVE-2023-4911            # the finding id or any of its aliases (GHSA, PYSEC, ...)
        purls: [pkg:deb/debian/libc6] # optional; no version = every version, `*` globs allowed
        paths: [app/requirements.txt] # optional; package path globs or directories
        expires: 2026-12-31           # optional; suppresses through that day, then warns
        reason: not reachable: no setuid binaries in the image

    misconfigurations:
      - id: CTM-DF-002                # a rule id or a peer's id for it (DL3007, CKV_K8S_20, ...)
        paths: [docker/legacy/Dockerfile]
    secrets:
      - id: CTM-SEC-048
        paths: [tests/fixtures/**]

A bare list, and the plain format, apply to every kind (the id decides what it matches).
Trivy's `.trivyignore.yaml` keys `statement` and `expired_at` are accepted as `reason` and
`expires`. The plain format has one id per line, `#` comments and an optional
`exp:YYYY-MM-DD` after the id. An entry without a reason is allowed (as in Trivy); the
report shows "no reason given" next to what it suppressed.

An expired entry stops suppressing and `apply` returns a warning naming the id, the date and
the file, so a stale exception is noticed rather than silently dropped."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from containment import fserrors
from containment.model import Finding, Misconfiguration, PolicyError, SecretFinding, Suppression
from containment.policy import _purl

MAX_SIZE = 4 * 1024 * 1024

_ID_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:[-_.][A-Za-z0-9]+)*$")  # CVE-2024-1, GHSA-..., DL3007
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_KEYS = {"id", "purls", "paths", "expires", "reason", "statement", "expired_at"}


Item = Finding | Misconfiguration | SecretFinding
KIND_KEYS = {"vulnerabilities": "vuln", "misconfigurations": "config", "secrets": "secret"}


@dataclass(frozen=True)
class IgnoreRule:
    id: str
    purls: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    expires: dt.date | None = None
    reason: str = ""
    line: int = 0  # where the entry starts in its file (1-based; 0 unknown)
    kind: str = ""  # vuln, config or secret (the list it came from); "" = any

    def matches(self, f: Item) -> bool:
        want = self.id.casefold()
        if isinstance(f, Finding):
            if self.kind not in ("", "vuln"):
                return False
            ids: tuple[str, ...] = (f.id, *f.aliases, *f.advisory_ids)
            path = f.package.path
        else:
            if self.kind not in ("", "config" if isinstance(f, Misconfiguration) else "secret"):
                return False
            ids, path = (f.rule.id, *f.rule.aliases), f.location.path
        if not any(want == i.casefold() for i in ids):
            return False
        if self.purls and not (
            isinstance(f, Finding) and any(_purl.matches(p, f.package.purl, glob=True) for p in self.purls)
        ):
            return False
        return not self.paths or any(_path_matches(p, path) for p in self.paths)

    def expired(self, today: dt.date) -> bool:
        return self.expires is not None and today > self.expires


@dataclass(frozen=True)
class IgnoreRules:
    rules: tuple[IgnoreRule, ...]
    source: str = ""

    def __len__(self) -> int:
        return len(self.rules)

    def apply(self, findings: Iterable[Item], today: dt.date) -> tuple[tuple[Any, ...], list[str]]:
        """Mark the findings the rules cover (already-suppressed ones stay as they are), of any
        kind: vulnerabilities, misconfigurations, secrets.

        Returns the findings in their order, and one warning per expired rule."""
        out: list[Any] = []
        stale: dict[IgnoreRule, int] = {r: 0 for r in self.rules if r.expired(today)}
        for f in findings:
            if f.suppressed is None:
                for r in self.rules:
                    if not r.matches(f):
                        continue
                    if r in stale:
                        stale[r] += 1
                        continue
                    f = replace(  # type: ignore[type-var]
                        f,
                        suppressed=Suppression(
                            kind="ignorefile",
                            reason=r.reason,
                            source=self.source,
                            expires=r.expires.isoformat() if r.expires else "",
                        ),
                    )
                    break
            out.append(f)
        warnings = []
        for r, n in stale.items():
            assert r.expires is not None
            where = f"{self.source}:{r.line}" if r.line else self.source
            msg = f"{where}: ignore entry {r.id} expired on {r.expires.isoformat()} and no longer suppresses"
            msg += (
                f" ({n} finding{'s' if n != 1 else ''} reported again)" if n else " (it matched nothing now)"
            )
            warnings.append(msg + "; renew its date or remove it")
        return tuple(out), warnings


def _path_matches(pattern: str, path: str) -> bool:
    import fnmatch

    pat = pattern.strip().strip("/")
    path = path.lstrip("/")
    if not pat:
        return False
    return path == pat or path.startswith(pat + "/") or fnmatch.fnmatchcase(path, pat)


def load_ignorefile(path: str | Path) -> IgnoreRules:
    p = Path(path)
    try:
        if p.stat().st_size > MAX_SIZE:
            raise PolicyError(
                f"{p}: ignore file is larger than {MAX_SIZE // 1024 // 1024} MiB; is it the right file?"
            )
        data = p.read_bytes()
    except PolicyError:
        raise
    except FileNotFoundError:
        raise PolicyError(f"{p}: ignore file not found; check the path (--ignorefile)") from None
    except OSError as e:
        raise PolicyError(f"{fserrors.problem(p, e)} (the ignore file)") from None
    return parse_ignorefile(data, str(p))


def parse_ignorefile(data: bytes | str, source: str = "<ignorefile>") -> IgnoreRules:
    """Parse either format (chosen by the `.yaml`/`.yml` suffix, else by the content)."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise PolicyError(
                f"{source}: not UTF-8 text (byte {e.start}); save the ignore file as UTF-8"
            ) from None
    else:
        text = data
    if "\x00" in text:
        raise PolicyError(f"{source}: binary data, not an ignore file")
    if not source.endswith((".yaml", ".yml")) and _looks_plain(text):
        return IgnoreRules(tuple(_parse_plain(text, source)), source)
    return IgnoreRules(tuple(_parse_yaml(text, source)), source)


# ------------------------------------------------------------------------ plain format


def _strip_comment(line: str) -> str:
    if line.lstrip().startswith("#"):
        return ""
    return re.split(r"\s#", line, maxsplit=1)[0].strip()


def _looks_plain(text: str) -> bool:
    for line in text.splitlines():
        s = _strip_comment(line)
        if not s:
            continue
        if not _ID_RE.match(s.split()[0]):
            return False
    return True


def _parse_plain(text: str, source: str) -> Iterable[IgnoreRule]:
    for n, line in enumerate(text.splitlines(), 1):
        s = _strip_comment(line)
        if not s:
            continue
        vid, *rest = s.split()
        expires = None
        for tok in rest:
            if tok.startswith("exp:"):
                expires = _date(tok[4:], f"{source}:{n}", "exp:")
            else:
                raise PolicyError(
                    f"{source}:{n}: unexpected {tok!r} after {vid}; a line is `ID` or `ID exp:YYYY-MM-DD`"
                    " (comments start with #)"
                )
        yield IgnoreRule(vid, expires=expires, line=n)


def _date(value: Any, where: str, field: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _DATE_RE.match(value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise PolicyError(f"{where}: {field} {str(value)[:40]!r} is not a date; write it as YYYY-MM-DD")


# ------------------------------------------------------------------------- YAML format


class _Loader(yaml.SafeLoader):
    """SafeLoader that records where each mapping starts (key `__line__`)."""


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> dict[Any, Any]:
    m = yaml.SafeLoader.construct_mapping(loader, node, deep=True)
    m["__line__"] = node.start_mark.line + 1
    return m


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _parse_yaml(text: str, source: str) -> Iterable[IgnoreRule]:
    try:
        doc = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        raise PolicyError(
            f"{where}: not valid YAML ({' '.join(str(e.problem or e).split())}); an entry looks like `- id: CVE-2024-1234`"
        ) from None
    except (yaml.YAMLError, RecursionError, ValueError, TypeError) as e:
        raise PolicyError(f"{source}: not valid YAML ({' '.join(str(e).split())[:200]})") from None
    if doc is None:
        return []
    if isinstance(doc, dict):
        unknown = sorted(str(k) for k in doc if k not in {*KIND_KEYS, "__line__"})
        if unknown:
            raise PolicyError(
                f"{source}:{doc['__line__']}: unknown top-level key {unknown[0]!r}; "
                "the file holds `vulnerabilities:`, `misconfigurations:` and `secrets:` lists of entries"
            )
        out: list[IgnoreRule] = []
        for key, kind in KIND_KEYS.items():
            entries = doc.get(key) or []
            if not isinstance(entries, list):
                raise PolicyError(f"{source}: `{key}` must be a list of entries like `- id: CVE-2024-1234`")
            out += [replace(_entry(e, i, source), kind=kind) for i, e in enumerate(entries)]
        return out
    if not isinstance(doc, list):
        raise PolicyError(f"{source}: `vulnerabilities` must be a list of entries like `- id: CVE-2024-1234`")
    return [_entry(e, i, source) for i, e in enumerate(doc)]


def _strings(value: Any, where: str, field: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise PolicyError(f"{where}: `{field}` must be a list of strings")
    return tuple(v.strip() for v in value)


def _entry(e: Any, i: int, source: str) -> IgnoreRule:
    if isinstance(e, str):
        e = {"id": e}
    if not isinstance(e, dict):
        raise PolicyError(f"{source}: entry {i + 1} must be a mapping like `- id: CVE-2024-1234`")
    line = e.get("__line__", 0) if isinstance(e.get("__line__"), int) else 0
    where = f"{source}:{line}" if line else f"{source}: entry {i + 1}"
    unknown = sorted(str(k) for k in e if k not in _KEYS and k != "__line__")
    if unknown:
        raise PolicyError(
            f"{where}: unknown field {unknown[0]!r}; an entry has id, purls, paths, expires, reason"
        )
    vid = e.get("id")
    if not isinstance(vid, str) or not vid.strip():
        raise PolicyError(
            f"{where}: `id` is missing; give the vulnerability id (CVE-..., GHSA-...) or rule id (CTM-DF-002, DL3007)"
        )
    if len(vid.split()) != 1:
        raise PolicyError(
            f"{where}: id {vid.strip()[:60]!r} is not one word; give one vulnerability id per entry"
        )
    purls = _strings(e.get("purls"), where, "purls")
    for p in purls:
        if _purl.parse(p) is None:
            raise PolicyError(f"{where}: {p!r} in `purls` is not a purl; write it like pkg:pypi/django")
    paths = _strings(e.get("paths"), where, "paths")
    exp_value = e.get("expires", e.get("expired_at"))
    expires = None if exp_value is None else _date(exp_value, where, "expires")
    reason = e.get("reason", e.get("statement", ""))
    if reason is None:
        reason = ""
    if not isinstance(reason, str | int | float):
        raise PolicyError(f"{where}: `reason` must be text")
    return IgnoreRule(vid.strip(), purls, paths, expires, str(reason).strip(), line)
