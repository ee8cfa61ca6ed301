"""What every command shares: error mapping, progress on stderr, writing the report."""

from __future__ import annotations

import json
import os
import re
import stat
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any, NoReturn

import typer

from containment import fserrors, interrupt
from containment.escape import one_line, to_utf8
from containment.model import ContainmentError, DownloadError
from containment.progress import Progress

EXIT_FINDINGS = 1
EXIT_BAD_INPUT = 2
EXIT_DOWNLOAD = 3  # the advisory download failed (network, HTTP error, cut short): retrying may help
EXIT_BROKEN_PIPE = 141  # what a shell reports for a tool ended by SIGPIPE


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    print(f"containment: error: {one_line(message)}", file=sys.stderr)
    raise typer.Exit(code)


@contextmanager
def user_errors(subject: str = "") -> Iterator[None]:
    """Bad input becomes one clear line and exit code 2, never a traceback.

    `subject` (the target the user named) prefixes the messages of failures that cannot
    name their input themselves (memory, nesting, bugs). A stop signal (containment.interrupt)
    ends the command with 128 + its number and one line, whatever error it became on its way
    here (an interrupted SQLite statement, a broken worker pool)."""
    who = f"{subject}: " if subject else ""
    try:
        yield
    except typer.Exit:
        raise
    except BaseException as e:
        if isinstance(e, interrupt.Interrupted | KeyboardInterrupt) or interrupt.requested():
            _interrupted(e)
        _map_error(e, who)


def _interrupted(e: BaseException) -> NoReturn:
    if interrupt.requested():
        interrupt.report()
        raise typer.Exit(interrupt.exit_code()) from None
    # not installed (containment used as a library): Python's own KeyboardInterrupt
    code = e.exit_code if isinstance(e, interrupt.Interrupted) else 130
    print(f"containment: {e if isinstance(e, interrupt.Interrupted) else 'interrupted'}", file=sys.stderr)
    raise typer.Exit(code) from None


def _map_error(e: BaseException, who: str) -> NoReturn:
    if isinstance(e, DownloadError):
        fail(str(e) or f"{who}advisory download failed", EXIT_DOWNLOAD)
    if isinstance(e, ContainmentError):
        fail(str(e) or f"{who}{type(e).__name__}")
    if isinstance(e, BrokenPipeError):
        _quiet_broken_pipe()
    if isinstance(e, MemoryError):
        fail(f"{who}out of memory; the input is too large or hostile (scan a smaller target)")
    if isinstance(e, RecursionError):
        fail(f"{who}input nests too deeply to be read safely; refusing it as hostile or corrupt")
    if isinstance(e, OSError) and isinstance(e.filename, str | bytes | os.PathLike):
        # permission denied, a directory where a file belongs, a full disk: the user's to fix
        fail(f"{os.fsdecode(e.filename)}: {e.strerror or type(e).__name__}; {fserrors.fix(e, 'use')}")
    if not isinstance(e, Exception) or os.environ.get("CONTAINMENT_DEBUG"):
        raise e
    # a bug must still not print a traceback at the user
    fail(f"{who}internal error ({type(e).__name__}: {e}); rerun with CONTAINMENT_DEBUG=1 and report it")


def warn(message: str) -> None:
    """A warning on stderr: one line, names from images escaped (no control characters)."""
    print(f"containment: warning: {one_line(message)}", file=sys.stderr)


def _quiet_broken_pipe() -> NoReturn:
    """The reader went away (`... | head`): stop quietly, as a tool killed by SIGPIPE would."""
    try:  # the interpreter flushes stdout at exit; give it somewhere harmless to flush to
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
    raise typer.Exit(EXIT_BROKEN_PIPE)


def progress_printer(quiet: bool = False, *, enabled: bool = True) -> Progress:
    """Progress of long work (layers and directories read) for the pipeline to report to.

    Drawn on stderr only when `enabled` (the one switch: pass False for --no-progress), not
    `quiet`, and stderr is a terminal; otherwise a Progress that shows nothing and costs
    nothing. Never writes to stdout. rich.progress is imported only when drawing."""
    if not enabled or quiet or not _is_tty(sys.stderr):
        return Progress()
    from containment.cli.progress import TerminalProgress

    return TerminalProgress(sys.stderr)


def _is_tty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):  # closed or replaced (tests, embedding)
        return False


# Paths that name a file descriptor of this process: written through that descriptor.
_FD_PATH = re.compile(r"^/(?:dev/fd|proc/self/fd|proc/thread-self/fd)/(\d+)$")
_FD_ALIASES = {"/dev/stdout": 1, "/dev/stderr": 2}


def write_output(text: str, output: str | None) -> None:
    """Write a report to stdout (`-o -` or no -o) or to the file the user named.

    The text is encoded first (see containment.escape: names that are not UTF-8 are written
    percent-encoded), so nothing is created when that fails. Then, by what the path is:
    - a new path or an existing regular file: a temp file next to it, renamed over it, so a
      failed run leaves neither a half file nor a temp file; a new file gets the umask's mode,
      an existing one keeps its mode (and owner, when we may set it) and its symlink;
    - a device, FIFO or a descriptor (/dev/stdout, /dev/fd/N, /proc/self/fd/N), or a regular
      file with other hard links: written in place; renaming over it would replace the device
      (or split the links) instead of writing to it;
    - a directory or a block device: refused.
    """
    from containment.cli.deadline import disarm

    disarm()  # the report is complete: --timeout no longer applies while it is written
    data = to_utf8(text if text.endswith("\n") else text + "\n")
    if not output or output == "-":
        _write_stdout(data)
        return
    fd_num = _FD_ALIASES.get(output)
    m = _FD_PATH.match(output)
    if fd_num is None and m:
        fd_num = int(m.group(1))
    if fd_num == 1:
        _write_stdout(data)
        return
    try:
        if fd_num is not None:
            _write_all(fd_num, data)
            return
        _write_path(output, data)
    except BrokenPipeError:
        _quiet_broken_pipe()
    except OSError as e:
        fail(f"{output}: cannot write ({e.strerror or e}); choose another -o path")


def _write_stdout(data: bytes) -> None:
    """Through the descriptor: a BufferedWriter may report a short write after EPIPE instead of
    raising, and the report would end cut off with exit code 0."""
    try:
        sys.stdout.flush()
        try:
            fd = sys.stdout.fileno()
        except (AttributeError, OSError, ValueError):  # a text-only stream (tests, embedding)
            sys.stdout.write(data.decode("utf-8"))
            sys.stdout.flush()
            return
        _write_all(fd, data)
    except BrokenPipeError:
        _quiet_broken_pipe()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            n = os.write(fd, view)
        except BlockingIOError:  # a descriptor inherited in non-blocking mode: wait until writable
            import select

            select.select([], [fd], [])
            continue
        view = view[n:]


def _write_path(output: str, data: bytes) -> None:
    try:
        st: os.stat_result | None = os.stat(output)
    except FileNotFoundError:
        st = None
    if st is None:
        _replace(os.path.realpath(output), data, None)
    elif stat.S_ISDIR(st.st_mode):
        fail(f"{output}: is a directory; give -o a file path")
    elif stat.S_ISBLK(st.st_mode):
        fail(f"{output}: is a block device; refusing to write a report onto it; give -o a file path")
    elif stat.S_ISREG(st.st_mode) and st.st_nlink == 1 and not _is_proc(output):
        _replace(os.path.realpath(output), data, st)
    else:  # device, FIFO, socket, a hard-linked file, a /proc magic link
        _in_place(output, data)


def _is_proc(path: str) -> bool:
    """Does `path` lead through /proc (a magic link such as /proc/<pid>/fd/N)? Such a link
    resolves to whatever the descriptor is, so renaming over it is never what was meant."""
    p = os.path.abspath(path)
    for _ in range(40):
        p = os.path.join(os.path.realpath(os.path.dirname(p)), os.path.basename(p))
        if p.startswith("/proc/"):
            return True
        try:
            link = os.readlink(p)
        except OSError:
            return False
        p = os.path.normpath(os.path.join(os.path.dirname(p), link))
    return False


def _in_place(path: str, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC | os.O_NOCTTY | os.O_CLOEXEC)
    try:
        _write_all(fd, data)
    finally:
        os.close(fd)


def _umask() -> int:
    try:
        with open("/proc/self/status", "rb") as f:
            for line in f:
                if line.startswith(b"Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # no /proc: read it the old way (racy only against other threads)
    os.umask(mask)
    return mask


def _replace(path: str, data: bytes, st: os.stat_result | None) -> None:
    """Temp file + rename onto `path`; the temp file never outlives this call."""
    d = os.path.dirname(path) or "."
    try:
        fd, tmp = tempfile.mkstemp(dir=d, prefix=".containment-", suffix=".tmp")
    except PermissionError:
        if st is None:
            raise
        _in_place(path, data)  # a writable file in a directory we may not write: in place
        return
    try:
        with interrupt.guard(), interrupt.temp_file(tmp):
            try:
                if st is None:
                    os.fchmod(fd, 0o666 & ~_umask())
                else:
                    os.fchmod(fd, stat.S_IMODE(st.st_mode))
                    if st.st_uid != os.geteuid() or st.st_gid != os.getegid():
                        with suppress(OSError):
                            os.fchown(fd, st.st_uid, st.st_gid)
                _write_all(fd, data)
            finally:
                os.close(fd)
            os.replace(tmp, path)
            tmp = ""
    finally:
        if tmp:
            with suppress(OSError):
                os.unlink(tmp)


def dump_json(doc: Any) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False)
