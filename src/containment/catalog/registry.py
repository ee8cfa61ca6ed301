"""Every cataloger the walk feeds, in one list."""

from __future__ import annotations

import importlib

from containment.catalog.base import Cataloger

# One module per format; each exposes CATALOGERS.
MODULES: tuple[str, ...] = ("dpkg", "apk", "python")


def all_catalogers() -> list[Cataloger]:
    out: list[Cataloger] = []
    for m in MODULES:
        out.extend(importlib.import_module(f"containment.catalog.{m}").CATALOGERS)
    return out
