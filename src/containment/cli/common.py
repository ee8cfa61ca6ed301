"""What every command shares: error mapping, progress on stderr, atomic output files."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer

from containment.model import ContainmentError

EXIT_FINDINGS = 1
EXIT_BAD_INPUT = 2


def fail(message: str) -> NoReturn:
    print(f"containment: error: {message}", file=sys.stderr)
    raise typer.Exit(EXIT_BAD_INPUT)


@contextmanager
def user_errors() -> Iterator[None]:
    """Bad input becomes one clear line and exit code 2, never a traceback."""
    try:
        yield
    except ContainmentError as e:
        fail(str(e).splitlines()[0] if str(e) else type(e).__name__)
    except KeyboardInterrupt:
        print("containment: interrupted", file=sys.stderr)
        raise typer.Exit(130) from None
    except MemoryError:
        fail("out of memory; the input is too large or hostile (lower the limits or scan a smaller target)")
    except RecursionError:
        fail("input nests too deeply to be read safely; refusing it")
    except typer.Exit:
        raise
    except Exception as e:  # a bug must still not print a traceback at the user
        if os.environ.get("CONTAINMENT_DEBUG"):
            raise
        fail(f"internal error ({type(e).__name__}: {e}); rerun with CONTAINMENT_DEBUG=1 and report it")


def progress_printer(quiet: bool) -> Callable[[str], None]:
    if quiet or not sys.stderr.isatty():
        return lambda msg: None

    def show(msg: str) -> None:
        print(f"containment: {msg}", file=sys.stderr)

    return show


def write_output(text: str, output: str | None) -> None:
    """stdout, or a file written atomically (temp + rename) so a failed run leaves no half file."""
    if not output or output == "-":
        sys.stdout.write(text)
        if not text.endswith("\n"):
            sys.stdout.write("\n")
        return
    d = os.path.dirname(os.path.abspath(output)) or "."
    try:
        fd, tmp = tempfile.mkstemp(dir=d, prefix=".containment-")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            if not text.endswith("\n"):
                f.write("\n")
        os.replace(tmp, output)
    except OSError as e:
        fail(f"{output}: cannot write ({e.strerror}); choose another -o path")


def dump_json(doc: Any) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False)
