"""`--timeout`: a scan that runs longer stops with one line on stderr and exit code 2.

Trivy stops a scan at `--timeout` (5m by default) with "context deadline exceeded"; containment
takes the same durations (`30s`, `5m`, `1h30m`, `500ms`, a bare number of seconds) but sets no
limit by default (`0`): a first scan may build its advisory database, and a CI job has its own.

The clock is a SIGALRM timer, so it also stops a scan blocked in a system call (a registry that
never answers, a FIFO that is never written). The exception it raises is a BaseException, like
KeyboardInterrupt, so no `except Exception` on the way can swallow it; `deadline()` turns it into
the error line. The timer is disarmed before the report is written: a finished report is never cut
short by its own deadline.
"""

from __future__ import annotations

import re
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from typer._click.types import ParamType

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ms|s|m|h)")


class ScanTimeout(BaseException):
    """The --timeout expired (raised in the main thread by the timer)."""


def parse_duration(text: str) -> float:
    """Seconds in `1h30m`, `5m`, `30s`, `250ms`, `1.5m` or `90` (seconds); ValueError otherwise."""
    t = text.strip().lower()
    if not t:
        raise ValueError("empty")
    try:
        seconds = float(t)
    except ValueError:
        pos, seconds = 0, 0.0
        for m in _PART.finditer(t):
            if m.start() != pos:
                raise ValueError(t) from None
            seconds += float(m.group(1)) * _UNITS[m.group(2)]
            pos = m.end()
        if pos != len(t) or pos == 0:
            raise ValueError(t) from None
    if seconds < 0 or seconds != seconds or seconds == float("inf"):
        raise ValueError(t)
    return seconds


def format_duration(seconds: float) -> str:
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    out = ""
    whole = int(seconds)
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    if h:
        out += f"{h}h"
    if m:
        out += f"{m}m"
    frac = seconds - whole
    if s or frac or not out:
        out += f"{s + frac:g}s"
    return out


class Duration(ParamType):
    """A click type: `5m` -> 300.0 (seconds); `0` means no limit."""

    name = "duration"

    def convert(self, value: Any, param: Any, ctx: Any) -> float:
        if isinstance(value, (int, float)):
            return float(value)
        try:
            return parse_duration(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a duration; write e.g. 30s, 5m, 1h30m (0: no limit)", param, ctx)


_armed = False


@contextmanager
def deadline(seconds: float | None, subject: str = "") -> Iterator[None]:
    """Stop the work inside after `seconds` with `containment: error: ...: timed out ...`, exit 2.
    No limit when `seconds` is 0 or None, or off the main thread (no signals there)."""
    global _armed
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: object) -> None:
        global _armed
        if _armed:
            _armed = False
            raise ScanTimeout()

    old = signal.signal(signal.SIGALRM, expire)
    _armed = True
    signal.setitimer(signal.ITIMER_REAL, seconds)
    timed_out = False
    try:
        yield
    except ScanTimeout:
        timed_out = True
    finally:
        while True:  # the timer may fire while it is being cancelled: the work is done by then
            try:
                disarm()
                break
            except ScanTimeout:
                continue
        signal.signal(signal.SIGALRM, old)
    if timed_out:
        from containment.cli.common import fail

        took = format_duration(seconds)
        who = f"{subject}: " if subject else ""
        fail(f"{who}timed out after {took} (--timeout {took}); raise --timeout (0: no limit) or scan less")


def disarm() -> None:
    """Cancel the running deadline, if any (the work is done: writing its report may take its time)."""
    global _armed
    if _armed and threading.current_thread() is threading.main_thread():
        _armed = False  # first: a signal already on its way now raises nothing
        signal.setitimer(signal.ITIMER_REAL, 0)
