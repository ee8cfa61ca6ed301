"""How long work tells the user how far it got.

The pipeline (layers/scheduler.py) reports to a `Progress`. This base shows nothing and costs nothing,
so library callers, pipes, CI logs and `--quiet` get silence; the CLI passes one that draws a
progress display on a terminal's stderr (containment.cli.progress). Counts arrive in batches,
from worker threads too: an implementation must be thread-safe.

A Progress is also a plain `Callable[[str], None]`: calling it with a message says what is being
done now (older callers pass a function of that shape; `as_progress` wraps one).

This module imports nothing of the project.
"""

from __future__ import annotations

from collections.abc import Callable


class Progress:
    """Receives progress; shows nothing. `shown` tells callers whether counting is worth it."""

    shown: bool = False

    def __call__(self, message: str) -> None:
        """What is being done now (one short line)."""

    def start(self, what: str, *, layers: int = 0, total_bytes: int = 0, cached: int = 0) -> None:
        """Long work on `what` begins: `layers` to read (0 for a directory), `total_bytes` to
        read when known (0: unknown), `cached` layers that need no reading."""

    def advance(self, *, read: int = 0, files: int = 0, packages: int = 0, layers: int = 0) -> None:
        """`read` more bytes read, `files` more entries walked, `packages` more found, `layers` done."""

    def stop(self) -> None:
        """The work ended (done, failed or interrupted): clear whatever was drawn."""


class _Messages(Progress):
    """A Progress that only passes messages to a function (older callers)."""

    def __init__(self, fn: Callable[[str], None]) -> None:
        self._fn = fn

    def __call__(self, message: str) -> None:
        self._fn(message)


def as_progress(p: Progress | Callable[[str], None] | None) -> Progress:
    if p is None:
        return Progress()
    if isinstance(p, Progress):
        return p
    return _Messages(p)
