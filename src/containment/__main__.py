"""`python -m containment`, and the `containment` command (`main`).

Nothing is imported at module level: a Ctrl-C should find the signal handlers in place as soon
as possible (containment.interrupt)."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn


def main() -> None:
    """The `containment` command: the typer app (cli/main.py) with stop signals routed to a
    clean exit (containment.interrupt): 130 on SIGINT, 143 on SIGTERM, one line on stderr, no
    process, temp file or half-written output left.

    The handlers go in before the app and its dependencies are imported, so even an early
    Ctrl-C ends the same way (no KeyboardInterrupt traceback)."""
    try:
        from containment import interrupt
    except KeyboardInterrupt:
        _early()
    try:
        interrupt.install()
        from containment.cli.main import app

        app()
    except KeyboardInterrupt:  # before install() had put its SIGINT handler in place
        _early()
    except interrupt.Interrupted:
        pass  # a signal outside a command's own handling (start-up, parsing, final output)
    finally:
        if interrupt.requested():
            # every cleanup on the main thread's way out has run; neither wait for worker
            # threads still finishing a file nor for the interpreter's exit handlers to join them
            interrupt.hard_exit()


def _early() -> NoReturn:
    import sys

    print("containment: interrupted (SIGINT)", file=sys.stderr)
    raise SystemExit(130) from None


if __name__ == "__main__":
    main()
