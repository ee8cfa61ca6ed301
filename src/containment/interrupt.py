"""Stopping on SIGINT, SIGTERM and SIGHUP: at once, with nothing left behind.

The command line calls `install()` once, in its main thread (cli/main.py `main`). From then on:

- the first of these signals raises `Interrupted` in the main thread. It is a BaseException, so
  no `except Exception` swallows it, and every `finally` on the way out runs: temp files are
  removed, transactions rolled back, worker processes killed and reaped. Later signals are
  ignored while that cleanup runs (a second Ctrl-C must not cut it short);
- a watcher thread hears the signal at once, even while the main thread is inside C code (a
  long SQLite statement, a decompressor) and cannot run Python's handler yet. It sets the stop
  flag that worker threads poll (`check()`, `requested()`) and that `sqlite_guard` turns into an
  interrupted statement, and it arms a deadline: if the process is still alive GRACE seconds
  later, the registered temp files are removed, registered child processes killed, and the
  process exits with the signal's code whatever the main thread is doing.

The exit code is 128 + the signal number (130 SIGINT, 143 SIGTERM, 129 SIGHUP), what a shell
reports for a process a signal ended; stderr gets one line (`report`).

Worker processes (advisory import) are forked with these signals blocked and, in
`worker_init`, ignore them and die with their parent: the parent alone decides when they stop,
so a Ctrl-C, which the terminal sends to the whole process group, prints no traceback from
them and cannot leave one behind.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any, Protocol

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
GRACE = 1.0  # seconds from the first signal to a forced exit, whatever is still running
_NAMES: dict[int, str] = {
    signal.SIGINT: "interrupted",
    signal.SIGTERM: "terminated",
    signal.SIGHUP: "hung up",
}


class Interrupted(SystemExit):
    """A stop signal arrived: unwind, clean up, exit with `exit_code`.

    A SystemExit (so a BaseException: no `except Exception` swallows it): one that nothing
    catches still ends the process with the right code and no traceback."""

    def __init__(self, signum: int) -> None:
        super().__init__(128 + signum)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    def __str__(self) -> str:
        return describe(self.signum)


class _Killable(Protocol):
    def kill(self) -> None: ...


_lock = threading.Lock()
_stop = threading.Event()
_signum = 0
_raised = False  # the main thread was given its Interrupted (only once)
_reported = False
_installed = False
_temps: set[str] = set()
_children: set[Any] = set()


def describe(signum: int) -> str:
    try:
        name = signal.Signals(signum).name
    except ValueError:
        name = f"signal {signum}"
    return f"{_NAMES.get(signum, 'stopped')} ({name})"


def requested() -> int:
    """The signal that asked us to stop, 0 when none did."""
    return _signum if _stop.is_set() else 0


def check() -> None:
    """Raise Interrupted when a stop signal arrived (for loops and worker threads)."""
    if _stop.is_set():
        raise Interrupted(_signum)


def exit_code() -> int:
    return 128 + _signum if _stop.is_set() else 0


def report() -> None:
    """The one stderr line of an interrupted run (printed once, however many paths get here)."""
    global _reported
    with _lock:
        if _reported or not _stop.is_set():
            return
        _reported = True
    with contextlib.suppress(OSError, ValueError):
        os.write(2, f"containment: {describe(_signum)}\n".encode())


def _first(signum: int) -> bool:
    """Record the first stop signal and arm the deadline; False for any later one."""
    global _signum
    with _lock:
        if _stop.is_set():
            return False
        _signum = signum
        _stop.set()
    threading.Thread(target=_deadline, name="containment-interrupt-deadline", daemon=True).start()
    return True


def _handler(signum: int, frame: object) -> None:
    global _raised
    _first(signum)
    if _raised:
        return  # cleanup of the first signal is running: let it finish
    _raised = True
    raise Interrupted(_signum)


def _watch(fd: int) -> None:
    while True:
        try:
            data = os.read(fd, 64)
        except InterruptedError:
            continue
        except OSError:
            return
        if not data:
            return
        for b in data:
            if b in SIGNALS:
                _first(b)


def _deadline() -> None:
    time.sleep(GRACE)
    hard_exit()


def hard_exit() -> None:
    """Remove registered temp files, kill registered children, say why, and exit now."""
    for path in list(_temps):
        with contextlib.suppress(OSError):
            if os.path.isdir(path) and not os.path.islink(path):
                import shutil

                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)
    for child in list(_children):
        with contextlib.suppress(Exception):
            child.kill()
    report()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(exit_code() or 1)


def install() -> None:
    """Route SIGINT, SIGTERM and SIGHUP here (main thread only; idempotent)."""
    global _installed
    if _installed or threading.current_thread() is not threading.main_thread():
        return
    for s in SIGNALS:
        signal.signal(s, _handler)
    default_hook = sys.unraisablehook

    def unraisable(u: Any) -> None:
        # the handler's Interrupted can land where Python cannot raise it (a weakref callback,
        # __del__, an SQLite progress handler): the stop is recorded all the same (the flag, the
        # deadline), so say nothing of it
        if not isinstance(u.exc_value, Interrupted):
            default_hook(u)

    sys.unraisablehook = unraisable
    r, w = os.pipe()
    os.set_blocking(w, False)
    signal.set_wakeup_fd(w, warn_on_full_buffer=False)
    threading.Thread(target=_watch, args=(r,), name="containment-interrupt-watch", daemon=True).start()
    _installed = True


def hand_over() -> None:
    """A long-running command that stops itself gracefully (`serve`, `worker`: requests and jobs
    in flight get their own --graceful-timeout) takes the signals over: the watcher stops hearing
    them (no 1-second deadline is armed) and they no longer raise Interrupted; the command
    installs its own handlers next. Main thread only; a no-op before install()."""
    if threading.current_thread() is not threading.main_thread():
        return
    with contextlib.suppress(ValueError, OSError):
        signal.set_wakeup_fd(-1)
    for s in SIGNALS:
        with contextlib.suppress(ValueError, OSError):
            signal.signal(s, signal.SIG_DFL)


def installed() -> bool:
    return _installed


@contextlib.contextmanager
def guard() -> Iterator[None]:
    """Within the block, the stop signals raise Interrupted (so `finally` clauses run) even when
    `install()` was not called, e.g. when containment is used as a library. Main thread only;
    elsewhere, and once installed, a no-op."""
    if _installed or threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: object) -> None:
        raise Interrupted(signum)

    old = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def register_temp(path: str) -> None:
    """A temp file (or directory) a forced exit must remove (until `forget_temp`)."""
    with _lock:
        _temps.add(path)


def forget_temp(path: str) -> None:
    with _lock:
        _temps.discard(path)


@contextlib.contextmanager
def temp_file(path: str) -> Iterator[str]:
    """Register a temp file for the duration: a forced exit removes it."""
    register_temp(path)
    try:
        yield path
    finally:
        forget_temp(path)


@contextlib.contextmanager
def children(procs: list[_Killable]) -> Iterator[None]:
    """Register child processes for the duration: a forced exit kills them."""
    with _lock:
        _children.update(procs)
    try:
        yield
    finally:
        with _lock:
            _children.difference_update(procs)


@contextlib.contextmanager
def blocked() -> Iterator[None]:
    """The stop signals held back (delivered when the block ends): processes forked inside the
    block start with them blocked, before they could run the parent's handlers."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def worker_init() -> None:
    """First thing in a forked worker process: the parent decides when it stops. The stop
    signals are ignored (a Ctrl-C reaches the whole process group), the parent's wakeup pipe is
    let go, and the worker is killed if the parent dies (Linux), so none is ever orphaned."""
    global _installed
    with contextlib.suppress(ValueError, OSError):
        signal.set_wakeup_fd(-1)
    for s in SIGNALS:
        signal.signal(s, signal.SIG_IGN)
    _installed = False
    _die_with_parent()
    signal.pthread_sigmask(signal.SIG_UNBLOCK, SIGNALS)


def _die_with_parent() -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
        if os.getppid() == 1:  # the parent died before prctl: nobody will collect our work
            os._exit(1)
    except (OSError, AttributeError):
        pass


def sqlite_guard(conn: Any, every: int = 10_000) -> None:
    """Make a stop signal abort the connection's running statement (sqlite3.OperationalError
    'interrupted'; callers turn it into Interrupted with `check()`)."""
    conn.set_progress_handler(_sqlite_progress, every)


def _sqlite_progress() -> int:
    return 1 if _stop.is_set() else 0


def _reset_for_tests() -> None:
    """Forget a previous stop request (in-process tests only)."""
    global _signum, _raised, _reported
    with _lock:
        _stop.clear()
        _signum = 0
        _raised = False
        _reported = False
        _temps.clear()
        _children.clear()
