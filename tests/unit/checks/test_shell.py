"""checks.shell: RUN scripts as simple commands (bashlex, shlex fallback), never an exception."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from containment.checks.shell import Command, commands, fallback_commands, has_pipe


def argvs(script: str) -> list[tuple[str, ...]]:
    return [c.argv for c in commands(script)]


def test_and_or_semicolon_and_subshell() -> None:
    s = "apt-get update && apt-get install -y curl || true; (cd /x && make)"
    assert argvs(s) == [
        ("apt-get", "update"),
        ("apt-get", "install", "-y", "curl"),
        ("true",),
        ("cd", "/x"),
        ("make",),
    ]


def test_pipe_from_names_the_producer() -> None:
    cs = commands("curl -fsSL https://get.example | sh -s -- --yes")
    assert cs[1].argv == ("sh", "-s", "--", "--yes")
    assert cs[1].pipe_from == ("curl", "-fsSL", "https://get.example")
    assert cs[0].pipe_from == ()
    assert has_pipe("a | b") and not has_pipe("a || b")


def test_command_substitution_commands_follow_the_outer_one() -> None:
    assert argvs('echo "$(wget -qO- http://x | bash)"') == [
        ("echo", "$(wget -qO- http://x | bash)"),
        ("wget", "-qO-", "http://x"),
        ("bash",),
    ]


def test_quotes_removed() -> None:
    assert argvs("""pip install 'requests==2.31' "flask>=3" """) == [
        ("pip", "install", "requests==2.31", "flask>=3")
    ]


def test_sudo_env_and_assignment_prefixes_stripped() -> None:
    (c,) = commands("DEBIAN_FRONTEND=noninteractive env A=b sudo -u root -E apt-get install -y x")
    assert c.argv == ("apt-get", "install", "-y", "x")
    assert c.sudo is True
    assert c.raw[0] == "DEBIAN_FRONTEND=noninteractive"
    assert c.name == "apt-get"
    (plain,) = commands("/usr/bin/apt-get install x")
    assert plain.name == "apt-get" and plain.sudo is False


def test_bare_sudo_and_assignment_only() -> None:
    assert commands("A=1") == []
    assert commands("sudo") == [Command(argv=(), sudo=True, raw=("sudo",))]


def test_heredoc_body_is_not_commands() -> None:
    assert argvs("cat <<EOF > /etc/x\nrm -rf /\nEOF\n") == [("cat",)]


def test_compound_commands() -> None:
    s = "if [ -f x ]; then rm x; fi; for i in $(ls); do chmod 777 $i; done"
    assert argvs(s) == [("[", "-f", "x", "]"), ("rm", "x"), ("ls",), ("chmod", "777", "$i")]


def test_case_falls_back_to_shlex_and_keeps_commands() -> None:
    s = 'case "$(uname -m)" in amd64) apt-get install -y a ;; arm*|x) wget -O- u | sh ;; esac && echo ok'
    got = commands(s)
    names = [c.argv for c in got]
    assert ("apt-get", "install", "-y", "a") in names
    assert ("echo", "ok") in names
    assert not any(c.argv[:1] in (("amd64",), ("arm*",), ("esac",)) for c in got)
    sh = next(c for c in got if c.argv == ("sh",))
    assert sh.pipe_from == ("wget", "-O-", "u")


def test_double_brackets_and_arithmetic_rewritten_for_bashlex() -> None:
    assert argvs("[[ -f x ]] && echo $((1 + 2)) && time make -j2") == [
        ("[", "-f", "x", "]"),
        ("echo", "0"),
        ("make", "-j2"),
    ]


def test_fallback_splits_operators_and_skips_redirect_targets() -> None:
    got = [c.argv for c in fallback_commands("a x 2>/dev/null && b | c; d > out")]
    assert got == [("a", "x", "2"), ("b",), ("c",), ("d",)]


def test_unclosed_quote_never_raises() -> None:
    got = commands('echo "unclosed | x')
    assert got and got[0].argv[0] == "echo"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab $(){};|&<>'\"\\\n#=[]-`*!")), max_size=60))
def test_fuzz_shell_syntax_never_raises(script: str) -> None:
    for c in commands(script):
        assert isinstance(c, Command)
        assert all(isinstance(w, str) for w in c.argv)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_fuzz_any_text_never_raises(script: str) -> None:
    assert isinstance(commands(script), list)
