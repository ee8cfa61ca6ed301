"""How `containment` starts: the typer app, decorated (cli/settings.py), with usage errors in
one line like every other error.

Click prints a usage error as a box: the usage line, "Try '... --help' for help.", then
"Error: ...". containment prints every error the same way, one line on stderr, exit code 2:

    containment: error: scan image: no such option --severty (did you mean --severity?); see containment scan image --help
"""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from typing import Any, NoReturn

import typer
from typer import _click as click
from typer._click import exceptions as errors
from typer.core import TyperArgument

from containment.cli.settings import sentence

PROG = "containment"
COMPLETE_VAR = "_CONTAINMENT_COMPLETE"


class Shell(StrEnum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"


def completion_script(shell: str) -> str:
    """The script a shell sources; it calls `containment` back with COMPLETE_VAR set. Made here,
    from typer's templates: no shell detection, nothing fetched."""
    from typer._completion_shared import get_completion_script

    return get_completion_script(prog_name=PROG, complete_var=COMPLETE_VAR, shell=shell)


class ContainmentTyper(typer.Typer):
    """A Typer whose call runs the decorated click tree and words usage errors as one line."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        sys.exit(run(self, list(args[0]) if args else kwargs.get("args")))


def command(app: typer.Typer) -> click.Command:
    from containment.cli.settings import prepare

    return prepare(typer.main.get_command(app))


def run(app: typer.Typer, args: list[str] | None = None) -> int:
    cmd = command(app)
    if os.environ.get(COMPLETE_VAR):  # the shell asks for completions (containment completion SHELL)
        from typer._completion_classes import completion_init

        completion_init()
    try:
        rv = cmd.main(args=args, prog_name=PROG, complete_var=COMPLETE_VAR, standalone_mode=False)
    except errors.NoArgsIsHelpError as e:  # `containment scan`: its help, as click does
        e.show()
        return e.exit_code
    except errors.UsageError as e:
        _one_line(usage_message(e), e.ctx)
    except click.ClickException as e:
        _one_line(sentence(e.format_message()), None, e.exit_code)
    except typer.Abort:
        print(f"{PROG}: aborted", file=sys.stderr)
        return 1
    return rv if isinstance(rv, int) else 0


def _one_line(message: str, ctx: click.Context | None, code: int = 2) -> NoReturn:
    from containment.escape import one_line

    where = ""
    see = f"; see {PROG} --help"
    if ctx is not None:
        path = ctx.command_path.split(" ", 1)
        if len(path) > 1:
            where = f"{path[1]}: "
        see = f"; see {ctx.command_path} --help"
    print(f"{PROG}: error: {one_line(where + message + see)}", file=sys.stderr)
    sys.exit(code)


def usage_message(e: errors.UsageError) -> str:
    """The error in containment's words: lower case, no trailing period, the value's origin."""
    ctx = e.ctx
    if isinstance(e, errors.NoSuchOption):
        from containment.cli.settings import closest

        hint = _taken_by(ctx, e.option_name) or _suggest(closest(e.option_name, e.possibilities or ()))
        return f"no such option {e.option_name}{hint}"
    if isinstance(e, errors.MissingParameter):
        p = e.param
        if isinstance(p, TyperArgument):
            return f"missing argument {p.human_readable_name.upper()}"
        if p is not None:
            from containment.cli.settings import flag_names

            names = flag_names(p)
            return f"missing option --{names[0]}" if names else f"missing {p.human_readable_name}"
        return sentence(e.format_message())
    if isinstance(e, errors.BadParameter):
        if e.param is not None and ctx is not None:
            from containment.cli.settings import origin

            return f"{origin(ctx, e.param)}: {sentence(e.message)}"
        return sentence(e.format_message())
    if isinstance(e, errors.BadOptionUsage) and "requires" in e.message:
        return f"{e.option_name} needs a value"
    if isinstance(e, errors.BadOptionUsage) and "does not take a value" in e.message:
        return f"{e.option_name} takes no value"
    message = e.message
    if message.startswith("No such command") and ctx is not None:
        name = message.split("'", 2)[1] if message.count("'") >= 2 else ""
        commands = sorted(getattr(ctx.command, "commands", {}))
        from containment.cli.settings import closest

        return f"no such command {name!r}{_suggest([repr(c) for c in closest(name, commands)])}"
    if message.startswith("Got unexpected extra argument"):
        extra = message[message.rfind("(") + 1 : message.rfind(")")]
        return f"unexpected argument{'s' if ' ' in extra else ''} {extra}"
    return sentence(message)


def _taken_by(ctx: click.Context | None, option: str) -> str:
    """` (scan fs and scan image take it)` for a flag this command lacks but others have."""
    if ctx is None or not option.startswith("--"):
        return ""
    from containment.cli.settings import flag_names, walk

    takers = [
        " ".join(path)
        for path, cmd in walk(ctx.find_root().command)
        if any(option[2:] in flag_names(p) for p in cmd.params if p.opts)
    ]
    if not takers or len(takers) > 4:
        return ""
    return f" ({' and '.join(takers) if len(takers) < 3 else ', '.join(takers)} take{'s' if len(takers) == 1 else ''} it)"


def _suggest(options: list[str]) -> str:
    options = sorted(options)
    if not options:
        return ""
    return f" (did you mean {' or '.join(options)}?)"
