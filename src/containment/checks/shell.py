"""Shell scripts (a Dockerfile RUN, a heredoc, an image history entry) as a list of simple commands.

The Dockerfile checks ask questions such as "is there an `apt-get install` without
`--no-install-recommends`?" or "is `curl` piped into `sh`?". Answering them on the RUN text with
regular expressions gets quoting, `&&`/`;`/`|` chains, subshells and `$(...)` wrong, so the
script is parsed with bashlex (a port of bash's own grammar) and flattened into `Command`s in
source order (an outer command before the commands of its `$(...)`), the way hadolint flattens
ShellCheck's tree.

bashlex does not implement every construct (`case`, `[[ ]]`, arrays, `$((...))`, `time`); on
those the script is tokenised with `shlex` instead and split at the shell operators, with the
`case` patterns and reserved words dropped. `commands()` never raises.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

# Words that open or close a compound command: never a program name.
_RESERVED = frozenset(
    {"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "for", "in", "case", "esac",
     "{", "}", "!", "time", "function", "select", "coproc"}
)
_OPERATORS = frozenset({";", "&&", "||", "|", "&", ";;", ";&", ";;&", "(", ")", "\n", "|&"})
_REDIRECTS = frozenset({">", ">>", "<", "<<", "<<<", "<>", ">|", "<&", ">&", "&>", "&>>"})
# sudo options that take a value (sudo(8)).
_SUDO_VALUE_OPTS = frozenset({"-u", "-g", "-C", "-h", "-p", "-r", "-t", "-U", "-D", "-R", "-T"})
MAX_SCRIPT = 1024 * 1024


@dataclass(frozen=True)
class Command:
    """One simple command. `argv` is the program and its words (quotes removed, expansions kept
    as written), without leading `sudo [opts]` / `env [VAR=x ...]` / `VAR=x` prefixes; `raw` is
    the argv as written (what hadolint calls the command); `sudo` says sudo was used;
    `pipe_from` is the argv of the command whose output is piped into this one (empty if none)."""

    argv: tuple[str, ...]
    pipe_from: tuple[str, ...] = ()
    sudo: bool = False
    raw: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The program run: its basename (`/usr/bin/apt-get` -> `apt-get`), "" for none."""
        return self.argv[0].rsplit("/", 1)[-1] if self.argv else ""

    @property
    def args(self) -> tuple[str, ...]:
        return self.argv[1:]


def _strip_prefixes(words: tuple[str, ...]) -> tuple[tuple[str, ...], bool]:
    """Drop `VAR=x`, `env [-i] VAR=x` and `sudo [opts]` prefixes; say whether sudo was one."""
    i, sudo, n = 0, False, len(words)
    while i < n:
        w = words[i]
        base = w.rsplit("/", 1)[-1]
        if "=" in w and not w.startswith(("=", "-")) and w.split("=", 1)[0].replace("_", "a").isalnum():
            i += 1
        elif base == "env":
            i += 1
            while i < n and (words[i].startswith("-") or ("=" in words[i] and not words[i].startswith("="))):
                i += 1
        elif base == "sudo":
            sudo = True
            i += 1
            while i < n and words[i].startswith("-"):
                opt = words[i]
                i += 1
                if opt == "--":
                    break
                if opt in _SUDO_VALUE_OPTS:
                    i += 1
        else:
            break
    return words[i:], sudo


def _make(words: Iterable[str], pipe_from: tuple[str, ...]) -> Command | None:
    raw = tuple(words)
    argv, sudo = _strip_prefixes(raw)
    if not argv and not sudo:
        return None
    return Command(argv=argv, pipe_from=pipe_from, sudo=sudo, raw=raw)


# ---------------------------------------------------------------------------- bashlex walk


def _nested(node: Any) -> Iterator[Any]:
    """Command substitutions and process substitutions inside a word or assignment."""
    for part in getattr(node, "parts", None) or ():
        kind = getattr(part, "kind", "")
        if kind in ("commandsubstitution", "processsubstitution"):
            yield part.command
        else:
            yield from _nested(part)


def _walk(node: Any, out: list[Command], pipe_from: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Append the simple commands under `node`; return the argv of the last one (for pipes)."""
    kind = getattr(node, "kind", "")
    if kind == "command":
        words: list[str] = []
        inner: list[Any] = []
        for part in node.parts:
            pk = getattr(part, "kind", "")
            if pk in ("word", "assignment"):  # assignments are kept in raw, stripped from argv
                words.append(part.word)
                inner.extend(_nested(part))
            elif pk == "redirect":
                target = getattr(part, "output", None)
                if target is not None and getattr(target, "kind", "") == "word":
                    inner.extend(_nested(target))
        cmd = _make(words, pipe_from)
        last: tuple[str, ...] = ()
        if cmd is not None:
            out.append(cmd)
            last = cmd.argv
        for sub in inner:
            _walk(sub, out)
        return last
    if kind == "pipeline":
        prev: tuple[str, ...] = pipe_from
        for part in node.parts:
            if getattr(part, "kind", "") == "pipe":
                continue
            prev = _walk(part, out, prev)
        return prev
    result: tuple[str, ...] = ()
    children: list[Any] = []
    for attr in ("parts", "list"):
        children.extend(getattr(node, attr, None) or ())
    body = getattr(node, "command", None)
    if body is not None:
        children.append(body)
    first = True
    for child in children:
        ck = getattr(child, "kind", "")
        if ck in ("operator", "reservedword", "pipe"):
            continue
        if ck == "word":  # `for x in $(...)`, `case $(...) in`
            for sub in _nested(child):
                _walk(sub, out)
            continue
        if ck == "redirect":
            continue
        result = _walk(child, out, pipe_from if first else ())
        first = False
    return result


# ---------------------------------------------------------------------------- shlex fallback


def _tokens(script: str) -> list[str]:
    lex = shlex.shlex(script, posix=True, punctuation_chars=";&|()<>\n")
    lex.whitespace = " \t\r"
    lex.whitespace_split = True
    lex.commenters = "#"
    try:
        return list(lex)
    except ValueError:  # unbalanced quote: plain words, operators set apart
        for op in ("&&", "||", ";", "|", "\n"):
            script = script.replace(op, f" {op} ")
        return [w for w in script.replace("\t", " ").split(" ") if w]


def _split_operator(tok: str) -> bool:
    return tok in _OPERATORS or (bool(tok) and set(tok) <= set(";&|()\n"))


def _substitutions(word: str) -> list[str]:
    """Bodies of the `$(...)` inside one word (a quoted word keeps them as text)."""
    out: list[str] = []
    i = word.find("$(")
    while i != -1:
        depth, j = 0, i + 1
        while j < len(word):
            if word[j] == "(":
                depth += 1
            elif word[j] == ")":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        out.append(word[i + 2 : j])
        i = word.find("$(", j)
    return out


def fallback_commands(script: str, _depth: int = 0) -> list[Command]:
    """Commands by shlex tokens split at shell operators (for what bashlex cannot parse)."""
    out: list[Command] = []
    words: list[str] = []
    pipe_from: tuple[str, ...] = ()
    in_case = 0
    expect_pattern = False
    skip_next = False

    def flush(piped: bool) -> None:
        nonlocal words, pipe_from
        # leading reserved words (`then apt-get ...`, `do rm ...`) are not the program
        while words and words[0] in _RESERVED:
            words.pop(0)
        ws = words
        cmd = _make(ws, pipe_from) if ws else None
        if cmd is not None:
            out.append(cmd)
        if _depth < 8:
            for w in ws:
                for body in _substitutions(w) if "$(" in w else ():
                    out.extend(_inner(body, _depth + 1))
        pipe_from = cmd.argv if (piped and cmd is not None) else ()
        words = []

    for tok in _tokens(script):
        if tok == "$":  # `$(` of a command substitution: its commands follow as a group
            continue
        if skip_next:  # the word after a redirection operator is a file, not an argument
            skip_next = False
            continue
        if tok in _REDIRECTS or (set(tok) <= set("<>&") and ("<" in tok or ">" in tok)):
            skip_next = True
            continue
        if in_case and expect_pattern:
            if tok == ")":
                expect_pattern = False
            elif tok == "esac":
                in_case -= 1
                expect_pattern = in_case > 0
            continue
        if _split_operator(tok):
            piped = tok in ("|", "|&")
            if tok in (";;", ";&", ";;&") and in_case:
                flush(False)
                expect_pattern = True
                continue
            flush(piped)
            continue
        if not words and tok == "case":
            in_case += 1
            words = []
            # skip `case WORD in`
            words.append("\0case")
            continue
        if words == ["\0case"] or (words and words[0] == "\0case"):
            if tok == "in":
                words = []
                expect_pattern = True
            continue
        if not words and tok == "esac" and in_case:
            in_case -= 1
            continue
        words.append(tok)
    flush(False)
    return out


def _inner(script: str, depth: int) -> list[Command]:
    try:
        return _bashlex(script)
    except Exception:
        return fallback_commands(script, depth)


def _rewrite(script: str) -> str:
    """What bashlex cannot parse made parseable without changing the commands: `$((expr))` ->
    `0`, `[[ ... ]]` -> `[ ... ]`, a leading `time` dropped."""
    out: list[str] = []
    i, n = 0, len(script)
    while i < n:
        if script.startswith("$((", i):
            depth, j = 0, i + 1
            while j < n:
                if script[j] == "(":
                    depth += 1
                elif script[j] == ")":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            out.append("0")
            i = j + 1
            continue
        out.append(script[i])
        i += 1
    text = "".join(out).replace("[[ ", "[ ").replace(" ]]", " ]")
    for op in ("&&", "||", ";", "|"):
        text = text.replace(f"{op} time ", f"{op} ")
    return text[text.index("time ") + 5 :] if text.lstrip().startswith("time ") else text


def _bashlex(script: str) -> list[Command]:
    import bashlex  # 0.2 s of parser tables: only when a shell script is read

    out: list[Command] = []
    for tree in bashlex.parse(script):
        _walk(tree, out)
    return out


def commands(script: str) -> list[Command]:
    """The simple commands of a shell script, in source order. Never raises."""
    script = script[:MAX_SCRIPT]
    for text in (script, _rewrite(script)):
        try:
            return _bashlex(text)
        except Exception:  # bashlex raises ParsingError, NotImplementedError and worse on valid shell
            continue
    try:
        return fallback_commands(script)
    except Exception:
        return [c for c in (_make(line.split(), ()) for line in script.splitlines()) if c is not None]


def has_pipe(script: str) -> bool:
    """Whether any command's output is piped into another (`a | b`, also inside `$(...)`)."""
    return any(c.pipe_from for c in commands(script))


__all__ = ["Command", "commands", "fallback_commands", "has_pipe"]
