"""Bytes <-> documents: JSON (orjson when installed), a fast safe YAML loader, and the compact
JSON forms of `Advisory` / `Affected` kept in the store.

The YAML loader builds plain dicts/lists/strings straight from libyaml's event stream (about
four times faster than ``yaml.load(..., CSafeLoader)``): every scalar is a string except an
implicit null (``~``, ``null``, empty), so ``1.10`` stays ``"1.10"`` and timestamps stay text.
Anchors/aliases are refused (no advisory feed uses them; they are how YAML bombs work).
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from yaml import events as _ev

from containment.advisories.types import Advisory, Affected, Event, Range

try:  # pragma: no cover - depends on the environment
    import orjson as _orjson
except ImportError:  # pragma: no cover
    _orjson = None  # type: ignore[assignment]


class DocumentError(ValueError):
    """Bytes that are not a JSON/YAML document we can read."""


if _orjson is not None:

    def loads_json(data: bytes) -> Any:
        return _orjson.loads(data)

    def dumps(obj: Any) -> bytes:
        return _orjson.dumps(obj)

else:  # pragma: no cover

    def loads_json(data: bytes) -> Any:
        return json.loads(data)

    def dumps(obj: Any) -> bytes:
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_Loader = getattr(yaml, "CBaseLoader", yaml.BaseLoader)


class _Pending:
    __slots__ = ()


_NOKEY = _Pending()


def load_yaml(data: bytes) -> Any:
    """The first document of a YAML stream as dicts, lists, strings and None."""
    p = _Loader(data)
    MS, ME = _ev.MappingStartEvent, _ev.MappingEndEvent
    SS, SE = _ev.SequenceStartEvent, _ev.SequenceEndEvent
    SC, AL, DE, STE = _ev.ScalarEvent, _ev.AliasEvent, _ev.DocumentEndEvent, _ev.StreamEndEvent
    stack: list[tuple[Any, Any]] = []
    cur: Any = None
    key: Any = _NOKEY
    done = False
    root: Any = None
    get = p.get_event
    try:
        while True:
            ev = get()
            t = type(ev)
            if t is SC:
                if ev.anchor is not None:
                    raise DocumentError("YAML anchors are not supported in advisory files")
                v: Any = ev.value
                if v in _NULLS and ev.implicit[0]:
                    v = None
            elif t is MS or t is SS:
                if ev.anchor is not None:
                    raise DocumentError("YAML anchors are not supported in advisory files")
                stack.append((cur, key))
                cur = {} if t is MS else []
                key = _NOKEY
                continue
            elif t is ME or t is SE:
                v = cur
                cur, key = stack.pop()
            elif t is AL:
                raise DocumentError("YAML aliases are not supported in advisory files")
            elif t is DE:
                done = True
                continue
            elif t is STE:
                return root
            else:
                continue
            if done:
                continue  # only the first document counts
            if key is _NOKEY:
                if type(cur) is list:
                    cur.append(v)
                    continue
                if not stack:
                    root = v
                    continue
                if isinstance(v, (dict, list)):
                    raise DocumentError("complex YAML mapping keys are not supported")
                key = v
            else:
                cur[key] = v
                key = _NOKEY
    except yaml.YAMLError as e:
        raise DocumentError(
            f"invalid YAML ({str(e).splitlines()[0] if str(e) else type(e).__name__})"
        ) from None
    finally:
        p.dispose()


def load_document(data: bytes) -> Any:
    """JSON or YAML, told apart by content (JSON is tried first when it looks like JSON)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    head = data[:64].lstrip()
    if head[:1] in (b"{", b"["):
        try:
            return loads_json(data)
        except (ValueError, RecursionError) as e:
            try:
                return load_yaml(data)
            except DocumentError:
                raise DocumentError(
                    f"invalid JSON ({str(e).splitlines()[0] if str(e) else 'parse error'})"
                ) from None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise DocumentError(f"not UTF-8 text (byte {e.start})") from None
    return load_yaml(data)


# ------------------------------------------------------------------------ stored forms


def advisory_from_doc(d: dict[str, Any]) -> Advisory:
    return Advisory(
        id=d["id"],
        aliases=tuple(d.get("aliases", ())),
        summary=d.get("summary", ""),
        details=d.get("details", ""),
        severity=tuple((s[0], s[1]) for s in d.get("severity", ())),
        published=d.get("published", ""),
        modified=d.get("modified", ""),
        withdrawn=d.get("withdrawn", ""),
        references=tuple(d.get("references", ())),
        source=d.get("source", ""),
        database_specific=d.get("database_specific", {}),
    )


def affected_from_doc(advisory_id: str, ecosystem: str, d: dict[str, Any]) -> Affected:
    s = d.get("s")
    return Affected(
        advisory_id=advisory_id,
        ecosystem=ecosystem,
        package=d["p"],
        ranges=tuple(Range(r[0], tuple(Event(e[0], e[1]) for e in r[1])) for r in d.get("r", ())),
        versions=tuple(d.get("v", ())),
        severity=(s[0], s[1]) if s else None,
        status=d.get("st", ""),
        extra=d.get("x", {}),
    )
