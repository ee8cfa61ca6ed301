"""Dockerfile RUN rules for yum, dnf, zypper, go, yarn and a few commands (CTM-DF-043..055).

Each rule claims a hadolint id and follows that rule's source (hadolint src/Hadolint/Rule/DL*.hs,
v2.15.1) on hadolint's view of the commands (`Instr.hcommands()`), so a finding lands where
hadolint's does: on the first line of the RUN, ONBUILD RUN included.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from containment.checks.dockerfile_base import (
    Cmd,
    Ctx,
    Instr,
    Stage,
    args_no_flags,
    first_index,
    flag_values,
    has_flag,
    image_name,
    is_cmd,
    pairs,
)

_NO_SENSE = frozenset({"free", "kill", "mount", "ps", "service", "shutdown", "ssh", "top", "vim"})
_VERSION_CHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.~^_:+")
_DNF = ("dnf", "microdnf")


def _rpm_pinned(pkg: str, names: set[str]) -> bool:
    """hadolint's packageVersionFixed (DL3033, DL3041): `name-<version-like>`, an .rpm, or `${VAR}` of a known ARG/ENV."""
    parts = pkg.split("-")
    if len(parts) <= 1:
        return False
    if pkg.endswith(".rpm"):
        return True
    if "$" in pkg:
        return any("${" + n + "}" in pkg for n in names)
    rest = parts[1:]
    return all(set(p) <= _VERSION_CHARS for p in rest) and any(p[:1].isdigit() for p in rest)


def _install_args(c: Cmd, names: Sequence[str]) -> list[str]:
    if not is_cmd(c, names, "install"):
        return []
    return [a for a in args_no_flags(c) if a not in ("install", "module")]


def _rpm_rule(cmds: Sequence[Cmd], names: Sequence[str], skip: Sequence[str], known: set[str]) -> bool:
    """True when every package and module of every yum (dnf) install is pinned."""
    pkgs = [a for c in cmds if not is_cmd(c, names, *skip) for a in _install_args(c, names)]
    mods = [a for c in cmds if is_cmd(c, names, "module") for a in _install_args(c, names)]
    return all(_rpm_pinned(p, known) for p in pkgs) and all(":" in m for m in mods)


def _ordered(cmds: Sequence[Cmd], install: Callable[[Cmd], bool], clean: Callable[[Cmd], bool]) -> bool:
    """No install, or the first clean comes after the first install (hadolint's findCommandIndex test)."""
    a = first_index(cmds, install)
    if a is None:
        return True
    b = first_index(cmds, clean)
    return b is not None and a < b


_DNF_INSTALLS = ("install", "in", "upgrade", "up", "upgrade-minimal", "up-min", "reinstall", "rei")


def _dnf_cleaned(cmds: Sequence[Cmd], name: str) -> bool:
    """DL3040 for one of dnf/microdnf: no install by it, or `<name> clean all` (or `rm -rf /var/cache/libdnf5*`)
    after the first one."""
    return _ordered(cmds, lambda c: is_cmd(c, (name,), *_DNF_INSTALLS),
                    lambda c: is_cmd(c, (name,), "clean", "all") or is_cmd(c, ("rm",), "-rf", "/var/cache/libdnf5*"))


def _go_pinned(pkg: str) -> bool:
    if pkg == "." or pkg.startswith(("/", ".")):
        return True
    return "@" in pkg and not pkg.endswith(("@latest", "@none"))


def _go_packages(cmds: Sequence[Cmd]) -> list[str]:
    run = [a for c in cmds if is_cmd(c, ("go",), "run")
           for k, a in enumerate(args_no_flags(c)) if a != "run" and k <= 1]
    if run:
        return run
    return [a for c in cmds if is_cmd(c, ("go",), "install", "get")
            for a in args_no_flags(c) if a not in ("install", "get", "tool")]


def _wget_quiet(c: Cmd) -> bool:
    return has_flag(c, "progress", "q", "quiet", "o", "output-file", "a", "append-output", "no-verbose") \
        or "-nv" in c.args


def check_run(ctx: Ctx, st: Stage, i: Instr, known: set[str]) -> None:
    """The stateless RUN rules, and the pin rules that need the ARG/ENV names `known` before this RUN."""
    h = i.hcommands()

    def add(rid: str, msg: str) -> None:
        ctx.add(rid, st, i.line, i.end, msg)

    bad = sorted({c.name for c in h if c.name in _NO_SENSE})
    if bad:
        add("CTM-DF-043", f"{', '.join(bad)} in RUN")
    if not _rpm_rule(h, ("yum",), ("module",), known):
        add("CTM-DF-044", "yum install of unpinned packages")
    if any(is_cmd(c, ("zypper",), "install", "in", "remove", "rm", "source-install", "si", "patch")
           and not has_flag(c, "non-interactive", "n", "no-confirm", "y") for c in h):
        add("CTM-DF-045", "zypper without -y / --non-interactive")
    if any(is_cmd(c, ("zypper",), "dist-upgrade", "dup") for c in h):
        add("CTM-DF-046", "zypper dist-upgrade")
    if not i.cache_mount_with("/var/cache/zypp") and not _ordered(
        h, lambda c: is_cmd(c, ("zypper",), "install", "in"), lambda c: is_cmd(c, ("zypper",), "clean", "cc")
    ):
        add("CTM-DF-047", "zypper install without zypper clean after it")
    zpk = [a for c in h if is_cmd(c, ("zypper",), "install", "in")
           for a in args_no_flags(c) if a not in ("install", "in")]
    if any(not (any(s in p for s in "=<>") or p.endswith(".rpm")) for p in zpk):
        add("CTM-DF-048", "zypper install of unpinned packages")
    if not all(_dnf_cleaned(h, n) for n in _DNF) \
            and not i.cache_mount_with("/var/cache/libdnf5") and not i.cache_mount_with(".cache/libdnf5"):
        add("CTM-DF-049", "dnf install without dnf clean all after it")
    if not _rpm_rule(h, _DNF, ("module", "group"), known):
        add("CTM-DF-050", "dnf install of unpinned packages")
    loose = [p for p in _go_packages(h) if not _go_pinned(p)]
    if loose:
        add("CTM-DF-051", f"go package without a pinned version: {loose[0]}")
    if any(c.name == "ln" and "/bin/sh" in c.args for c in h):
        add("CTM-DF-053", "ln ... /bin/sh: use SHELL")
    if any(c.name == "useradd" and not has_flag(c, "l", "no-log-init") and has_flag(c, "u", "uid")
           and any(len(v) > 5 for v in flag_values(c, "u")) for c in h):
        add("CTM-DF-054", "useradd -u <high uid> without -l")
    if any(c.name == "wget" and not _wget_quiet(c) for c in h):
        add("CTM-DF-055", "wget without --progress, -q or -nv")


def _yarn_left(i: Instr) -> bool:
    h = i.hcommands()
    inst = first_index(h, lambda c: is_cmd(c, ("yarn",), "install"))
    if inst is None:
        return False
    clean = first_index(h, lambda c: is_cmd(c, ("yarn",), "cache", "clean"))
    if clean is None:
        return not i.cache_mount_with(".cache/yarn")
    return clean < inst


def check_stages(ctx: Ctx, stages: list[Stage], prelude: list[Instr]) -> None:
    """The RUN rules that keep state across instructions: pins that accept `${VAR}` of a known ARG/ENV
    (DL3033/DL3041: ENV of this stage and the stage it is built from, ARG anywhere before) and yarn's
    cache, reported in the final stage and in stages used as a base (DL3060)."""
    args: set[str] = {k for i in prelude if i.cmd == "ARG" for k, _ in pairs(i)}
    envs: dict[int, set[str]] = {}
    ob_names: set[str] = set()
    used = {image_name(s.image) for s in stages}
    last = stages[-1] if stages else None
    for st in stages:
        parent = next((s.index for s in stages[: st.index] if s.alias == image_name(st.image)), None)
        env = set(envs.get(parent, set())) if parent is not None else set()
        envs[st.index] = env
        keeps = last is not None and (
            (st.from_value, st.flag("platform")) == (last.from_value, last.flag("platform"))
            or (bool(st.alias) and st.alias in used)
        )
        for i in st.instrs:
            if i.cmd in ("ENV", "ARG"):
                names = {k for k, _ in pairs(i)}
                if i.onbuild:
                    ob_names |= names
                elif i.cmd == "ENV":
                    env |= names
                else:
                    args |= names
            elif i.cmd == "RUN":
                check_run(ctx, st, i, ob_names if i.onbuild else env | args)
                if _yarn_left(i) and (keeps or i.onbuild):
                    ctx.add("CTM-DF-052", st, i.line, i.end, "yarn install without yarn cache clean after it")
