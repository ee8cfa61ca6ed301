"""Declared license strings -> SPDX ids / expressions where they are ones, else named refs."""

from __future__ import annotations

import re
from functools import lru_cache

_OPS = re.compile(r"\b(AND|OR|WITH)\b|[()]")


@lru_cache(maxsize=4096)
def spdx_id(text: str) -> str | None:
    """The canonical SPDX id for a single license string, or None."""
    from cyclonedx import spdx

    t = text.strip()
    return spdx.fixup_id(t) if t else None


@lru_cache(maxsize=4096)
def spdx_expression(text: str) -> str | None:
    """A valid SPDX expression (ids canonicalized) or None."""
    t = text.strip()
    if not t or not _OPS.search(t):
        return None
    from license_expression import ExpressionError, get_spdx_licensing

    try:
        parsed = _licensing().parse(t, validate=True, strict=True)
    except (ExpressionError, ValueError, TypeError, AttributeError):
        return None
    del get_spdx_licensing
    return str(parsed) if parsed is not None else None


@lru_cache(maxsize=1)
def _licensing():  # type: ignore[no-untyped-def]
    from license_expression import get_spdx_licensing

    return get_spdx_licensing()


def license_ref(text: str) -> str:
    """An SPDX LicenseRef- id for a license that is not on the SPDX list."""
    return "LicenseRef-" + (re.sub(r"[^A-Za-z0-9.-]+", "-", text.strip()).strip("-")[:64] or "unknown")
