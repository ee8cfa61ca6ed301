"""Small helpers shared by the lockfile catalogers (python_lock, gomod, cargo_lock, gemfile_lock,
composer_lock): text decoding, guarded TOML/JSON loading, and dependency-graph reachability
used to mark development-only packages."""

from __future__ import annotations

import json
import posixpath
import tomllib
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any, TypeVar

from containment.model import CatalogError

K = TypeVar("K", bound=Hashable)

# Upper bound on graph nodes visited by reachability (a lockfile with more entries than this
# is hostile; real ones have a few thousand).
MAX_NODES = 500_000


def basename(path: str) -> str:
    i = path.rfind("/")
    return path[i + 1 :] if i >= 0 else path


def dirname(path: str) -> str:
    return posixpath.dirname(path)


def decode_text(data: bytes) -> str:
    """UTF-8 (BOM tolerated), falling back to latin-1 so that a stray byte never aborts a file."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def load_toml(path: str, data: bytes) -> dict[str, Any]:
    """Parse a TOML file or raise CatalogError naming it."""
    try:
        text = data.decode("utf-8-sig")
        doc = tomllib.loads(text)
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError, ValueError) as exc:
        raise CatalogError(f"{path}: not valid TOML ({exc})") from None
    return doc


def load_toml_or_none(data: bytes | None) -> dict[str, Any] | None:
    """A sibling manifest that helps but is not required: None when absent or unreadable."""
    if data is None:
        return None
    try:
        doc = tomllib.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError, ValueError):
        return None
    return doc


def load_json(path: str, data: bytes) -> Any:
    """Parse a JSON file or raise CatalogError naming it."""
    try:
        return json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise CatalogError(f"{path}: not valid JSON ({exc})") from None


def as_dict(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def as_list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else []


def as_str(v: Any) -> str:
    return v if isinstance(v, str) else ""


def reachable(roots: Iterable[K], edges: Callable[[K], Iterable[K]]) -> set[K]:
    """Every node reachable from `roots` (roots included), iteratively and bounded."""
    seen: set[K] = set()
    queue: deque[K] = deque()
    for r in roots:
        if r not in seen:
            seen.add(r)
            queue.append(r)
    while queue and len(seen) < MAX_NODES:
        node = queue.popleft()
        for nxt in edges(node):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def dev_only(main_roots: Iterable[K], dev_roots: Iterable[K], graph: Mapping[K, Iterable[K]]) -> set[K]:
    """Nodes reachable from the development roots but not from the main roots."""
    main = reachable(main_roots, lambda n: graph.get(n, ()))
    dev = reachable(dev_roots, lambda n: graph.get(n, ()))
    return dev - main
