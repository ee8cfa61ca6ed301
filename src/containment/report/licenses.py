"""Declared license strings -> SPDX ids / expressions where they are ones, else named refs."""

from __future__ import annotations

import re
from functools import lru_cache

_OPS = re.compile(r"\b(AND|OR|WITH)\b|[()]")


@lru_cache(maxsize=1)
def _spdx_ids() -> dict[str, str]:
    """lower-case id -> canonical id, from the SPDX license list that cyclonedx-python-lib ships
    (read as data: importing its `spdx` module costs ~50 ms at every start)."""
    import importlib.util
    import json
    import os

    spec = importlib.util.find_spec("cyclonedx")
    for loc in (spec.submodule_search_locations or []) if spec else []:
        path = os.path.join(loc, "schema", "_res", "spdx.SNAPSHOT.schema.json")
        try:
            with open(path, "rb") as f:
                ids = json.load(f).get("enum", [])
        except (OSError, ValueError):
            continue
        return {i.lower(): i for i in ids if isinstance(i, str)}
    from cyclonedx import spdx  # fallback: the library's own lookup

    return {i.lower(): i for i in getattr(spdx, "_SPDX_IDS", [])} or {}


@lru_cache(maxsize=4096)
def spdx_id(text: str) -> str | None:
    """The canonical SPDX id for a single license string, or None."""
    t = text.strip()
    return _spdx_ids().get(t.lower()) if t else None


@lru_cache(maxsize=4096)
def spdx_expression(text: str) -> str | None:
    """A valid SPDX expression (ids canonicalized) or None."""
    t = text.strip()
    if not t or not _OPS.search(t):
        return None
    from license_expression import ExpressionError

    try:
        parsed = _licensing().parse(t, validate=True, strict=True)
    except (ExpressionError, ValueError, TypeError, AttributeError):
        return None
    return str(parsed) if parsed is not None else None


@lru_cache(maxsize=1)
def _licensing():  # type: ignore[no-untyped-def]
    from license_expression import get_spdx_licensing

    return get_spdx_licensing()


def license_ref(text: str) -> str:
    """An SPDX LicenseRef- id for a license that is not on the SPDX list."""
    return "LicenseRef-" + (re.sub(r"[^A-Za-z0-9.-]+", "-", text.strip()).strip("-")[:64] or "unknown")
