"""checks.dockerfile: the hadolint view of commands, hadolint's pragma grammar and the quirks of
hadolint's rules that our aliased rules reproduce (each expectation was checked against hadolint 2.15.1)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from containment.checks import shell
from containment.checks.dockerfile import check, parse, pragma
from containment.checks.dockerfile_base import hcommand, image_name, simplify


def lines_of(text: str, rule_id: str) -> list[int]:
    return sorted({m.location.start_line for m in check(parse("Dockerfile", text.encode())) if m.rule.id == rule_id})


def views(script: str) -> list[tuple[str, tuple[str, ...]]]:
    return [(h.name, h.args) for h in (hcommand(c) for c in shell.commands(script)) if h is not None]


def test_hadolint_view_names_commands_as_shellcheck_does() -> None:
    assert views("sudo apt-get install x") == [("sudo", ("apt-get", "install", "x"))]
    assert views("/opt/venv/bin/pip install y") == [("/opt/venv/bin/pip", ("install", "y"))]
    assert views("FOO=1 apt-get update") == [("apt-get", ("update",))]
    assert views("exec gosu app ps") == [("gosu", ("gosu", "app", "ps"))]
    assert views("busybox wget u && command -v curl") == [("wget", ("wget", "u")), ("command", ("-v", "curl"))]
    assert views("$PIP install x; A=1") == []


@pytest.mark.parametrize(
    ("word", "simple"),
    [("a-$X", "a-${X}"), ("${Y}z", "${Y}z"), ("$(uname -m)", "${uname -m}"), ("`id`", "${VAR}"),
     ("$((1+2))", "${VAR}"), ("$1$@", "${1}${@}"), ("plain", "plain"), ("$", "$")],
)
def test_simplify(word: str, simple: str) -> None:
    assert simplify(word) == simple


def test_image_name() -> None:
    assert image_name("docker.io/library/ubuntu:22.04@sha256:ab") == "library/ubuntu"
    assert image_name("localhost:5000/app") == "app"
    assert image_name("build") == "build"


@pytest.mark.parametrize(
    ("text", "parsed"),
    [("hadolint ignore=DL3008", ("", ["DL3008"])),
     ("  hadolint ignore = DL3008 , SC2086 # because", ("", ["DL3008", "SC2086"])),
     ("hadolint global ignore=DL3006,DL3007", ("global", ["DL3006", "DL3007"])),
     ("hadolint stage ignore=DL3059", ("stage", ["DL3059"])),
     ("hadolint ignore=DL3008x", None), ("hadolint ignore=", None), ("hadolintignore=DL3008", None),
     ("hadolint ignore=DL3008 extra", None), ("hadolint shell=bash", None), ("ignore=DL3008", None)],
)
def test_pragma_grammar(text: str, parsed: tuple[str, list[str]] | None) -> None:
    assert pragma(text) == parsed


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="hadolint globalstageignore=DLSC0123456789, #\t", max_size=60))
def test_pragma_never_raises(text: str) -> None:
    p = pragma(text)
    assert p is None or (p[0] in ("", "global", "stage") and all(p[1]))


def test_stage_pragma_covers_the_stage_and_the_next_from_line() -> None:
    text = ("# hadolint stage ignore=DL3059,DL3006\nFROM ubuntu AS b\nRUN a\nRUN b\nFROM ubuntu\nRUN c\nRUN d\n")
    assert lines_of(text, "CTM-DF-064") == [7]
    assert lines_of(text, "CTM-DF-004") == [2]  # the FROM line of the pragma's stage is not covered; line 5 is


def test_consecutive_runs_count_commands_as_hadolint() -> None:
    assert lines_of("FROM a:1\nRUN a\nRUN b\nRUN c && d\nRUN e\n", "CTM-DF-064") == [3]


def test_pip_no_cache_env_is_kept_by_stage_name() -> None:
    text = "FROM python:3\nRUN pip install a==1\nENV PIP_NO_CACHE_DIR=1\nRUN pip install b==1\nFROM python:3\n" \
           "RUN pip install c==1\n"
    assert lines_of(text, "CTM-DF-016") == [2]


def test_workdir_is_kept_by_stage_name() -> None:
    text = "FROM ubuntu:22.04\nWORKDIR /app\nFROM ubuntu:24.04\nCOPY a b\nFROM debian:12\nCOPY c d\n"
    assert lines_of(text, "CTM-DF-062") == [6]


def test_archive_rule_reports_the_last_stage_only() -> None:
    text = "FROM a:1\nCOPY x.tgz /\nRUN tar -xzf /x.tgz\nFROM b:1\nCOPY y.tar /\nRUN tar -xf /y.tar\n"
    assert lines_of(text, "CTM-DF-068") == [5]


def test_rpm_pins_accept_variables_only_when_declared() -> None:
    text = "FROM a:1\nARG V=1\nRUN dnf install -y x-$V && dnf clean all\nRUN dnf install -y y-$W && dnf clean all\n"
    assert lines_of(text, "CTM-DF-050") == [4]


def test_pipefail_only_from_shell() -> None:
    text = "FROM a:1\nRUN set -o pipefail && curl -fsS u | tar x\n"
    assert lines_of(text, "CTM-DF-037") == [2]


def test_instruction_before_from() -> None:
    text = "LABEL a=b\nARG V=1\nFROM a:$V\n"
    found = [m for m in check(parse("Dockerfile", text.encode())) if m.rule.id == "CTM-DF-065"]
    assert [m.location.start_line for m in found] == [1] and found[0].resource == "before the first FROM"
