"""`--help` of every command and subcommand prints help (no text is read as Rich markup)."""

from __future__ import annotations

import subprocess
import sys

import pytest
import typer

from containment.cli.main import app


def _commands(cmd: object, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = [path]
    for name, sub in getattr(cmd, "commands", {}).items():
        out.extend(_commands(sub, (*path, name)))
    return out


COMMANDS = _commands(typer.main.get_command(app))


def test_every_command_is_walked():
    assert ("sbom",) in COMMANDS and ("scan", "image") in COMMANDS and ("db", "update") in COMMANDS


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "containment")
def test_help(path):
    r = subprocess.run(
        [sys.executable, "-m", "containment", *path, "--help"], capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 0, r.stderr
    assert "Usage" in r.stdout and not r.stderr
    assert "Traceback" not in r.stdout
