"""The model the Dockerfile checks share: stages of instructions read from the Conftest-shaped
document of checks/dockerfile.py, the context findings are added to, and the two views of a RUN
script's commands.

`Instr.commands()` is our view (checks/shell.py: `sudo`/`env` prefixes dropped, the program by
its basename), used by the rules that judge what a script does. `Instr.hcommands()` is hadolint's
view (ShellCheck's command name: the first word as written, `sudo` and `/usr/bin/pip` included,
the program after `busybox`/`builtin`/`command`/`exec`; a command whose name is not a literal
word is dropped), used by the rules that claim a hadolint id so that they fire exactly where
hadolint does. The flag helpers follow hadolint's Shell.hs (`--a=b` is the flag a, `-xyz` the
flags x, y and z).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from containment.checks import shell
from containment.checks.dockerfile_rules import BY_ID
from containment.model import ConfigDoc, Location, Misconfiguration


class Cmd(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def args(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class HCmd:
    """A command as hadolint sees it: `name` as ShellCheck gives it, `args` every word after the first."""

    name: str
    args: tuple[str, ...]


_UNWRAP = frozenset({"busybox", "builtin", "command", "run"})


def _literal_word(w: str) -> bool:
    return bool(w) and "$" not in w and "`" not in w


def _assignment(w: str) -> bool:
    return "=" in w and not w.startswith(("=", "-")) and w.split("=", 1)[0].replace("_", "a").isalnum()


_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def _close(w: str, k: int, open_: str, close: str) -> int:
    """Index just past the bracket closing the one at w[k]."""
    depth = 0
    for j in range(k, len(w)):
        if w[j] == open_:
            depth += 1
        elif w[j] == close:
            depth -= 1
            if depth == 0:
                return j + 1
    return len(w)


def simplify(w: str) -> str:
    """A word as hadolint's Shell.simplify writes it: `$X` -> `${X}`, `$(cmd)` -> `${cmd}`,
    `$((...))` and backticks -> `${VAR}`, `${X}` kept."""
    if "$" not in w and "`" not in w:
        return w
    out: list[str] = []
    k = 0
    while k < len(w):
        ch = w[k]
        if ch == "`":
            end = w.find("`", k + 1)
            out.append("${VAR}")
            k = len(w) if end == -1 else end + 1
        elif ch == "$" and w.startswith("$((", k):
            out.append("${VAR}")
            k = _close(w, k + 1, "(", ")")
        elif ch == "$" and w.startswith("$(", k):
            end = _close(w, k + 1, "(", ")")
            out.append("${" + w[k + 2 : end - 1] + "}")
            k = end
        elif ch == "$" and w.startswith("${", k):
            end = _close(w, k + 1, "{", "}")
            out.append(w[k:end])
            k = end
        elif ch == "$" and k + 1 < len(w) and w[k + 1] in _NAME_CHARS and not w[k + 1].isdigit():
            j = k + 1
            while j < len(w) and w[j] in _NAME_CHARS:
                j += 1
            out.append("${" + w[k + 1 : j] + "}")
            k = j
        elif ch == "$" and k + 1 < len(w) and w[k + 1] in "@*#?$!-0123456789":
            out.append("${" + w[k + 1] + "}")
            k += 2
        else:
            out.append(ch)
            k += 1
    return "".join(out)


def hcommand(c: shell.Command) -> HCmd | None:
    """ShellCheck's getCommandName and hadolint's extractAllArgs for one simple command."""
    words = list(c.raw)
    while words and _assignment(words[0]):
        words.pop(0)
    if not words or not _literal_word(words[0]):
        return None
    first, rest = words[0], tuple(words[1:])
    name: str | None = first
    if first in _UNWRAP and rest and not rest[0].startswith("-"):
        name = rest[0] if _literal_word(rest[0]) else None
    elif first == "exec" and rest:
        k = 0
        while k < len(rest) and rest[k].startswith("-") and rest[k] != "--":
            k += 2 if rest[k] == "-a" else 1
        if k < len(rest) and rest[k] == "--":
            k += 1
        if k < len(rest):
            name = rest[k] if _literal_word(rest[k]) else None
    return HCmd(name, tuple(simplify(a) for a in rest)) if name else None


@dataclass
class Instr:
    cmd: str  # upper case; for ONBUILD the sub command, with onbuild=True
    flags: tuple[str, ...]
    value: tuple[str, ...]
    json: bool
    line: int
    end: int
    heredocs: tuple[tuple[str, str], ...] = ()
    onbuild: bool = False
    _cmds: list[shell.Command] | None = None
    _hcmds: list[HCmd] | None = None

    def script(self) -> str:
        if self.json:
            return " ".join(self.value)
        text = " ".join(self.value)
        if self.heredocs and text.strip().startswith("<<") and len(self.heredocs) == 1:
            body = self.heredocs[0][1]
            first = body.lstrip().split("\n", 1)[0]
            if first.startswith("#!") and not any(s in first for s in ("sh", "bash", "ash", "ksh")):
                return ""  # a Python/Perl heredoc script: not shell
            return body
        for name, body in self.heredocs:
            text += f"\n{body}{name}\n"
        return text

    def commands(self) -> list[shell.Command]:
        if self._cmds is None:
            self._cmds = shell.commands(self.script()) if self.cmd == "RUN" else []
        return self._cmds

    def hcommands(self) -> list[HCmd]:
        if self._hcmds is None:
            self._hcmds = [h for h in (hcommand(c) for c in self.commands()) if h is not None]
        return self._hcmds

    def flag(self, name: str) -> str | None:
        for f in self.flags:
            if f.lower().startswith(f"--{name}="):
                return f.split("=", 1)[1]
        return None

    def mounts(self) -> list[dict[str, str]]:
        """`RUN --mount=...` options, one dict per mount (type defaults to bind)."""
        out = []
        for f in self.flags:
            if f.startswith("--mount="):
                opts = {k: v for k, _, v in (p.partition("=") for p in f[8:].split(","))}
                opts.setdefault("type", "bind")
                out.append(opts)
        return out

    def mount_targets(self) -> list[str]:
        """Targets of cache and tmpfs mounts (`RUN --mount=type=cache,target=...`)."""
        return [m.get("target") or m.get("dst") or m.get("destination") or ""
                for m in self.mounts() if m.get("type") in ("cache", "tmpfs")]

    def cache_mount_with(self, fragment: str) -> bool:
        """hadolint's hasCacheOrTmpfsMountWith: a cache or tmpfs mount whose target contains `fragment`."""
        return any(fragment in t for t in self.mount_targets())


@dataclass
class Stage:
    index: int
    image: str
    alias: str
    line: int
    flags: tuple[str, ...] = ()
    from_value: tuple[str, ...] = ()
    instrs: list[Instr] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.alias or str(self.index)

    def flag(self, name: str) -> str | None:
        for f in self.flags:
            if f.lower().startswith(f"--{name}="):
                return f.split("=", 1)[1]
        return None


@dataclass
class Parsed:
    stages: list[Stage]
    comments: list[dict[str, Any]]
    prelude: list[Instr]  # instructions before the first FROM
    order: list[Instr | Stage] = field(default_factory=list)  # every instruction in file order


def stages_of(doc: ConfigDoc) -> Parsed:
    entries = doc.inputs[0] if doc.inputs and isinstance(doc.inputs[0], list) else []
    out = Parsed([], [], [])
    for e in entries:
        if not isinstance(e, Mapping):
            continue
        cmd = str(e.get("Cmd", "")).upper()
        line, end = int(e.get("StartLine", 0)), int(e.get("EndLine", 0))
        value = tuple(str(v) for v in e.get("Value") or ())
        flags = tuple(str(f) for f in e.get("Flags") or ())
        if cmd == "COMMENT":
            out.comments.append(dict(e))
            continue
        if cmd == "FROM":
            alias = value[2] if len(value) >= 3 and value[1].upper() == "AS" else ""
            st = Stage(len(out.stages), value[0] if value else "", alias, line, flags, value)
            out.stages.append(st)
            out.order.append(st)
            continue
        onbuild = cmd == "ONBUILD"
        if onbuild:
            cmd = str(e.get("SubCmd", "")).upper()
        heredocs = tuple((str(h.get("Name", "")), str(h.get("Content", ""))) for h in e.get("Heredocs") or ())
        instr = Instr(cmd, flags, value, bool(e.get("JSON")), line, end, heredocs, onbuild)
        out.order.append(instr)
        if out.stages:
            out.stages[-1].instrs.append(instr)
        else:
            out.prelude.append(instr)
    return out


@dataclass
class Ctx:
    doc: ConfigDoc
    out: list[Misconfiguration]

    def add(self, rule_id: str, stage: Stage | None, line: int, end: int, message: str) -> None:
        rule = BY_ID[rule_id]
        self.out.append(
            Misconfiguration(
                rule=rule,
                message=message,
                location=Location(path=self.doc.path, start_line=line, end_line=end or line, layer=self.doc.layer),
                resource=f"stage {stage.name}" if stage is not None else "before the first FROM",
            )
        )


# ---------------------------------------------------------------------------- shell helpers (hadolint's Shell.hs)


def flags(c: Cmd) -> list[tuple[int, str]]:
    """hadolint's flags: (argument index, flag): `--a=b` -> a, `-xyz` -> x, y, z."""
    out: list[tuple[int, str]] = []
    for i, a in enumerate(c.args):
        if a in ("-", "--") or not a.startswith("-"):
            continue
        if a.startswith("--"):
            out.append((i, a[2:].split("=", 1)[0]))
        else:
            out.extend((i, ch) for ch in a[1:])
    return out


def has_flag(c: Cmd, *names: str) -> bool:
    return any(f in names for _, f in flags(c))


def args_no_flags(c: Cmd, drop_values_of: Sequence[str] = ()) -> list[str]:
    """Arguments that are not flags; with `drop_values_of`, also the value after those flags
    (hadolint's dropFlagArg then getArgsNoFlags)."""
    fl = flags(c)
    flag_idx = {i for i, _ in fl}
    drop = {i + 1 for i, f in fl if f in drop_values_of and "=" not in c.args[i]}
    return [a for i, a in enumerate(c.args) if i not in flag_idx and i not in drop]


def flag_values(c: Cmd, name: str) -> list[str]:
    """hadolint's getFlagArg: the argument after each occurrence of the flag."""
    idx = {i + 1 for i, f in flags(c) if f == name}
    return [a for i, a in enumerate(c.args) if i in idx]


def is_cmd(c: Cmd, names: Sequence[str], *args: str) -> bool:
    """hadolint's cmdsHaveArgs: the command is one of `names` and has any one of `args` (or none asked)."""
    return c.name in names and (not args or any(a in args for a in c.args))


def first_index(cmds: Sequence[Cmd], pred: Any) -> int | None:
    return next((k for k, c in enumerate(cmds) if pred(c)), None)


def dequote(s: str) -> str:
    return s.strip("\"'")


def pairs(i: Instr) -> Iterator[tuple[str, str | None]]:
    """ENV and LABEL key/value pairs; ARG names with their default (None without one)."""
    if i.cmd in ("ENV", "LABEL"):
        v = list(i.value)
        for k in range(0, len(v) - 1, 2):
            yield v[k], v[k + 1]
    else:
        for tok in i.value:
            key, eq, val = tok.partition("=")
            yield key, (val if eq else None)


def image_name(ref: str) -> str:
    """The name part of an image reference as hadolint's parser gives it (no registry, tag or digest)."""
    ref = dequote(ref).split("@", 1)[0]
    parts = ref.split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        parts = parts[1:]
    last = parts[-1].split(":", 1)[0]
    return "/".join([*parts[:-1], last])
