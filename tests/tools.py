"""Why a system tool the tests use is missing, in the words `make test`'s installer recorded.

`.ci/system-deps.sh` installs missing packages one at a time and writes one line per package it
could not install to `.venv/system-deps.txt`; a test that needs the tool skips with that line.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATE = Path(os.environ.get("CONTAINMENT_SYSTEM_DEPS_STATE", ROOT / ".venv" / "system-deps.txt"))


def install_failure(package: str) -> str:
    """The installer's line for `package`, or "" when it did not fail (or never ran)."""
    try:
        lines = STATE.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    return next((ln for ln in lines if ln.startswith(f"{package}:")), "")


def missing(tool: str, package: str) -> str | None:
    """A skip reason when `tool` (a command or an absolute path) is absent, else None."""
    present = os.path.exists(tool) if tool.startswith("/") else shutil.which(tool) is not None
    if present:
        return None
    return reason(tool, package)


def reason(what: str, package: str) -> str:
    failed = install_failure(package)
    if failed:
        return f"{what} missing: {failed}"
    return f"{what} not installed (apt-get install {package}; make test installs it)"
