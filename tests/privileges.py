"""Running a command as a user that file permissions apply to, even when the tests run as root.

Root ignores permission bits. `unprivileged` (a preexec_fn) keeps uid 0 but drops the
capabilities that override them (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH) from the bounding set
before exec, so mode 000 denies the command as it would any user, while it can still reach the
interpreter and the sources wherever they are installed (`nobody` often cannot: /root/.pyenv).
"""

from __future__ import annotations

import ctypes
import os
import subprocess

PR_CAPBSET_DROP = 24
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 1, 2


def unprivileged() -> None:
    """preexec_fn: as root, keep the uid but lose the capabilities that bypass permissions."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            os._exit(77)


def why_not() -> str | None:
    """None when `unprivileged` works here, else why not (a skip reason)."""
    if os.geteuid() != 0:
        return None
    r = subprocess.run(["true"], preexec_fn=unprivileged)
    return None if r.returncode == 0 else "cannot drop CAP_DAC_OVERRIDE here (no CAP_SETPCAP)"
