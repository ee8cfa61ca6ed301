"""Progress on a terminal: a rich display on stderr while layers and directories are read.

Only imported when stderr is a terminal and progress is wanted (cli/common.py progress_printer),
so pipes, CI logs and --quiet never load rich.progress. Nothing here ever writes to stdout: the
display is on stderr and rich is told not to redirect stdout through it.

Workers count into plain integers under a lock; the display reads them when it redraws (ten
times a second), so the hot paths never wait for rendering.
"""

from __future__ import annotations

import threading
from typing import IO, TYPE_CHECKING, Any

from containment.escape import one_line
from containment.progress import Progress

if TYPE_CHECKING:
    from rich.progress import Progress as RichProgress
    from rich.progress import TaskID

MAX_NAME = 32


def short_name(what: str) -> str:
    """A target as one safe line, its end kept when it is long (the tag, the last directory)."""
    text = one_line(what)
    return text if len(text) <= MAX_NAME else "…" + text[-(MAX_NAME - 1) :]


def _size(n: int, of: int = 0) -> str:
    """`n` (or `n/of`) bytes in the unit that suits the larger: 175.7/409.2 MB."""
    base = max(n, of)
    unit, suffix = next(((u, s) for u, s in ((1e9, "GB"), (1e6, "MB"), (1e3, "kB")) if base >= u), (1, "B"))
    fmt = (lambda x: f"{x / unit:,.1f}") if unit > 1 else (lambda x: f"{x:,}")
    return (f"{fmt(n)}/{fmt(of)}" if of else fmt(n)) + f" {suffix}"


def counts_text(
    *, layers_done: int, layers: int, cached: int, read: int, total: int, files: int, packages: int
) -> str:
    """The counts beside the bar: layers done, bytes read, entries walked, packages found."""
    parts = []
    if layers:
        parts.append(f"{layers_done}/{layers} layers" + (f" (+{cached} cached)" if cached else ""))
    if total or read:
        parts.append(_size(read, total))
    parts.append(f"{files:,} file" + ("" if files == 1 else "s"))
    parts.append(f"{packages:,} package record" + ("" if packages == 1 else "s"))
    return "  ".join(parts)


class TerminalProgress(Progress):
    """Draws on `file` (stderr, a terminal) from start() to stop(); transient: nothing stays."""

    shown = True

    def __init__(self, file: IO[str]) -> None:
        self._file = file
        self._lock = threading.Lock()
        self._live: RichProgress | None = None
        self._task: TaskID | None = None
        self._reset("")

    def _reset(self, what: str, layers: int = 0, total: int = 0, cached: int = 0) -> None:
        self._what = what
        self._layers = layers
        self._total = total
        self._cached = cached
        self._layers_done = self._read = self._files = self._packages = 0
        self._message = ""

    def __call__(self, message: str) -> None:
        with self._lock:
            self._message = one_line(message)

    def start(self, what: str, *, layers: int = 0, total_bytes: int = 0, cached: int = 0) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, SpinnerColumn, TextColumn, TimeElapsedColumn
        from rich.progress import Progress as RichProgress

        self.stop()
        with self._lock:
            self._reset(short_name(what), layers, total_bytes, cached)
        owner = self

        class _Live(RichProgress):
            def get_renderables(self) -> Any:
                owner._sync()
                yield from super().get_renderables()

        console = Console(file=self._file, stderr=True, highlight=False, emoji=False, markup=False)
        live = _Live(
            SpinnerColumn(),
            TextColumn("{task.description}", markup=False),
            BarColumn(bar_width=20),
            TextColumn("{task.fields[counts]}", markup=False),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            redirect_stdout=False,  # the report is stdout's alone
            redirect_stderr=True,  # a warning printed meanwhile goes above the display
        )
        self._task = live.add_task(self._what, total=total_bytes or None, counts="")
        self._live = live
        live.start()

    def _sync(self) -> None:
        live, task = self._live, self._task
        if live is None or task is None:
            return
        with self._lock:
            counts = counts_text(
                layers_done=self._layers_done,
                layers=self._layers,
                cached=self._cached,
                read=self._read,
                total=self._total,
                files=self._files,
                packages=self._packages,
            )
            desc = self._what + (f"  {self._message}" if self._message else "")
            read = self._read
        live.update(task, completed=read, description=desc, counts=counts)

    def advance(self, *, read: int = 0, files: int = 0, packages: int = 0, layers: int = 0) -> None:
        with self._lock:
            self._read += read
            self._files += files
            self._packages += packages
            self._layers_done += layers

    def stop(self) -> None:
        live = self._live
        if live is not None:
            try:
                live.stop()  # draws the final counts once more, then clears the display
            finally:
                self._live = self._task = None
