"""Dockerfiles: find them, parse them with BuildKit's own parser, and check them.

`parse` turns a Dockerfile into Conftest's Dockerfile input document (so users' existing Conftest
policies read it unchanged): one list of `{"Cmd", "SubCmd", "JSON", "Flags", "Value", "Stage"}`,
comments as `{"Cmd": "comment"}` entries before the instruction they precede (BuildKit's
PrevComment, as Conftest writes them), plus `Original`, `StartLine`, `EndLine` and `Heredocs`.
`check` judges that document with the rules of checks/dockerfile_rules.py; RUN scripts are read
as shell (checks/shell.py), never with regular expressions over the text. Conditions follow
hadolint's rule sources (src/Hadolint/Rule/DL*.hs) so that a finding that shares an alias with
hadolint lands on the same file and line (the first line of the instruction); `# hadolint
ignore=DLxxxx`, `# hadolint global ignore=...` and `# hadolint stage ignore=...` pragmas are
honoured for those aliases, by hadolint's grammar. Rules live by family: this module (FROM, USER,
HEALTHCHECK, ADD/COPY, apt/apk/pip/npm/gem, pipes), checks/dockerfile_packages.py (yum, dnf,
zypper, go, yarn and other RUN commands), checks/dockerfile_instructions.py (stage names,
platforms, ONBUILD, ENV, LABEL, USER, instruction order); checks/dockerfile_base.py holds the
stage model and hadolint's view of a RUN script's commands.
"""

from __future__ import annotations

import fnmatch
from typing import Any

import dockerfile as _bk

from containment.checks import dockerfile_instructions, dockerfile_packages, shell
from containment.checks.dockerfile_base import Cmd, image_name, stages_of
from containment.checks.dockerfile_base import Ctx as _Ctx
from containment.checks.dockerfile_base import Instr as _Instr
from containment.checks.dockerfile_base import Stage as _Stage
from containment.checks.dockerfile_base import args_no_flags as _args_no_flags
from containment.checks.dockerfile_base import dequote as _dequote
from containment.checks.dockerfile_base import flags as _flags
from containment.checks.dockerfile_base import has_flag as _has_flag
from containment.checks.dockerfile_base import is_cmd as _is
from containment.checks.dockerfile_base import pairs as _pairs
from containment.checks.dockerfile_rules import RULES
from containment.model import ConfigDoc, ConfigError, Misconfiguration, Rule

MAX_SIZE = 1024 * 1024
KIND = "dockerfile"

__all__ = ["RULES", "check", "is_dockerfile", "parse"]


# `dockerfile.go`, `Dockerfile.md`, `dockerfile.png`: code, docs and data named after Dockerfiles.
_NOT_DOCKERFILE = frozenset(
    {
    "go", "py", "pyc", "js", "ts", "json", "md", "rst", "txt", "html", "png", "jpg", "jpeg", "gif",
    "svg", "yaml", "yml", "toml", "golden", "rs", "java", "rb", "sh", "bash", "ps1", "lock", "snap",
    "orig", "rej", "bak", "swp", "tmpl", "tpl", "j2", "jinja", "erb", "mustache", "dockerignore",
    "containerignore", "zip", "gz", "tar",
    }
)


def is_dockerfile(path: str) -> bool:
    """Dockerfile, Containerfile, Dockerfile.*, Containerfile.*, *.Dockerfile, *.dockerfile (any case),
    but not code, docs or templates named after them (dockerfile.go, Dockerfile.md, Dockerfile.j2)."""
    base = path.rsplit("/", 1)[-1]
    low = base.lower()
    if low in ("dockerfile", "containerfile"):
        return True
    if low.startswith(("dockerfile.", "containerfile.")) and not low.endswith("."):
        return low.rsplit(".", 1)[-1] not in _NOT_DOCKERFILE
    return low.endswith(".dockerfile") and len(base) > len(".dockerfile")


# ---------------------------------------------------------------------------- parse


def _fail(path: str, why: str) -> ConfigError:
    why = " ".join(why.split())[:200]
    return ConfigError(f"{path}: not a Dockerfile ({why}); fix the syntax")


def parse(path: str, data: bytes) -> ConfigDoc:
    """One Conftest-shaped input document; ConfigError on anything that is not a Dockerfile."""
    if len(data) > MAX_SIZE:
        raise ConfigError(f"{path}: Dockerfile larger than 1 MiB ({len(data)} bytes); split it or check the file")
    if b"\x00" in data:
        raise _fail(path, "binary data")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise _fail(path, f"not UTF-8 text at byte {e.start}") from None
    try:
        parsed = _bk.parse_string(text)
    except _bk.GoParseError as e:
        raise _fail(path, str(e)) from None
    except Exception as e:  # the binding raises plain errors on some inputs
        raise _fail(path, f"{type(e).__name__}: {e}") from None
    if not any(c.cmd.upper() == "FROM" for c in parsed):
        raise _fail(path, "no FROM instruction")
    lines = text.splitlines()
    covered: set[int] = set()
    for c in parsed:
        covered.update(range(c.start_line, c.end_line + 1))
    commands: list[dict[str, Any]] = []
    stage = -1
    prev_end = 0
    for c in parsed:
        if c.cmd.upper() == "FROM":
            stage += 1
        # comments between the previous instruction and this one (BuildKit's PrevComment)
        comments: list[tuple[int, str]] = []
        for n in range(prev_end + 1, c.start_line):
            raw = lines[n - 1].strip() if n - 1 < len(lines) else ""
            if n not in covered and raw.startswith("#"):
                body = raw[1:].strip()
                if body:
                    comments.append((n, body))
                else:
                    comments = []
        for n, body in comments:
            commands.append(
                {"Cmd": "comment", "SubCmd": "", "JSON": False, "Flags": [], "Value": [body],
                 "Stage": max(stage, 0), "Original": f"# {body}", "StartLine": n, "EndLine": n, "Heredocs": []}
            )
        commands.append(
            {
                "Cmd": c.cmd.lower(),
                "SubCmd": (c.sub_cmd or "").lower(),
                "JSON": bool(c.json),
                "Flags": list(c.flags),
                "Value": list(c.value),
                "Stage": max(stage, 0),
                "Original": c.original,
                "StartLine": c.start_line,
                "EndLine": c.end_line,
                "Heredocs": [{"Name": h.name, "Content": h.content} for h in c.heredocs],
            }
        )
        prev_end = c.end_line
    return ConfigDoc(path=path, kind=KIND, inputs=(commands,))



def _strip_install(args: list[str]) -> list[str]:
    i = 0
    while i < len(args) and args[i] != "install":
        i += 1
    while i < len(args) and args[i] == "install":
        i += 1
    return args[i:]


_SHELLS = ("sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "busybox")
_ARCHIVES = (".tar", ".Z", ".bz2", ".gz", ".lz", ".lzma", ".tZ", ".tb2", ".tbz", ".tbz2", ".tgz", ".tlz",
             ".tpz", ".txz", ".xz")
_TRUTHY = frozenset({"1", "true", "True", "TRUE", "on", "On", "ON", "yes", "Yes", "YES"})
_SECRET_WORDS = ("PASSWORD", "PASSWD", "SECRET", "TOKEN", "API_KEY", "APIKEY", "ACCESS_KEY", "PRIVATE_KEY",
                 "CREDENTIAL", "AUTH_KEY", "CLIENT_SECRET")
_NOT_SECRET_SUFFIXES = ("_FILE", "_PATH", "_DIR", "_URL_FILE", "_VERSION", "_LENGTH", "_ENABLED", "_NAME",
                        "_TYPE", "_HEADER", "_MODE", "_SIZE", "_ENDPOINT", "_EXPIRY", "_TTL")


def _pip_install(c: Cmd) -> bool:
    if c.name.startswith("pip") and not c.name.startswith("pipenv"):
        return "install" in c.args
    if c.name.startswith("python"):
        a = list(c.args)
        return any(a[i : i + 3] == ["-m", "pip", "install"] for i in range(len(a)))
    return False


_PIP_VALUE_FLAGS = ("abi", "b", "build", "e", "editable", "extra-index-url", "f", "find-links", "i", "index-url",
                    "implementation", "no-binary", "only-binary", "platform", "prefix", "progress-bar", "proxy",
                    "python", "python-version", "root", "root-user-action", "src", "t", "target", "trusted-host",
                    "upgrade-strategy")
_VCS = ("git+", "git", "hg+", "svn", "bzr+")


def _pip_pinned(p: str) -> bool:
    if any(s in p for s in ("==", ">=", "<=", ">", "<", "!=", "~=")):
        return True
    vcs = p.startswith(_VCS)
    return (vcs and "@" in p) or p.endswith((".whl", ".tar.gz")) or (not vcs and "/" in p)


def _npm_pinned(p: str) -> bool:
    if p.startswith(("git://", "git+ssh://", "git+http://", "git+https://")):
        return "#" in p
    if p.endswith((".tar", ".tar.gz", ".tgz")) or p.startswith(("/", "./", "../", "~/")):
        return True
    return "@" in (p.split("/", 1)[-1] if p.startswith("@") else p)


def _world_writable(mode: str) -> bool:
    if mode.isdigit() and 3 <= len(mode) <= 4:
        if len(mode) == 4 and mode[0] in "1357":
            return False  # sticky bit: /tmp-style directory
        return mode[-1] in "2367"
    for clause in mode.split(","):
        who, _, perms = clause.partition("+") if "+" in clause else clause.partition("=")
        if perms and "w" in perms and ("o" in who or "a" in who):
            return True
    return False


def _secret_name(name: str) -> bool:
    up = name.upper()
    return any(w in up for w in _SECRET_WORDS) and not up.endswith(_NOT_SECRET_SUFFIXES)


def _literal(value: str) -> bool:
    v = _dequote(value).strip()
    return bool(v) and not v.startswith("$") and v.lower() not in ("none", "null", "false", "true", "changeme", "")


# ---------------------------------------------------------------------------- the checks


def _check_from(ctx: _Ctx, stages: list[_Stage]) -> None:
    aliases: set[str] = set()
    for st in stages:
        img = _dequote(st.image)
        ref, _, digest = img.partition("@")
        last = ref.rsplit("/", 1)[-1]
        tag = last.split(":", 1)[1] if ":" in last else ""
        is_alias = ref in aliases or ref.lower() in aliases
        if ref != "scratch" and not digest:
            if tag == "latest":
                ctx.add("CTM-DF-003", st, st.line, st.line, f"FROM {img}: the latest tag moves")
            if not tag and not ref.startswith("$") and not is_alias:
                ctx.add("CTM-DF-004", st, st.line, st.line, f"FROM {img}: no tag (means latest)")
            if not is_alias and not ref.startswith("$"):
                ctx.add("CTM-DF-005", st, st.line, st.line, f"FROM {img}: not pinned by digest")
        if st.alias:
            aliases.add(st.alias)
            aliases.add(st.alias.lower())


def _lineage(stages: list[_Stage], st: _Stage) -> list[_Stage]:
    """The stage and the earlier stages it is built FROM (nearest first)."""
    out = [st]
    seen = {st.index}
    cur = st
    while True:
        parent = next((s for s in stages[: cur.index] if s.alias and s.alias.lower() == cur.image.lower()), None)
        if parent is None or parent.index in seen:
            return out
        out.append(parent)
        seen.add(parent.index)
        cur = parent


def _is_root(user: str) -> bool:
    return user in ("root", "0") or user.startswith(("root:", "0:"))


def _check_user_and_health(ctx: _Ctx, stages: list[_Stage]) -> None:
    for st in stages:
        users = [i for i in st.instrs if i.cmd == "USER" and not i.onbuild]
        if users and _is_root(_dequote(users[-1].value[0] if users[-1].value else "")):
            u = users[-1]
            ctx.add("CTM-DF-001", st, u.line, u.end, f"stage {st.name} ends as USER {u.value[0]}")
    final = stages[-1]
    chain = _lineage(stages, final)
    if not any(i.cmd == "USER" and not i.onbuild for s in chain for i in s.instrs):
        ctx.add("CTM-DF-002", final, final.line, final.line, f"final stage {final.name} sets no USER: runs as root")
    if not any(i.cmd == "HEALTHCHECK" and not i.onbuild for s in chain for i in s.instrs):
        ctx.add("CTM-DF-022", final, final.line, final.line, f"final stage {final.name} has no HEALTHCHECK")


def _check_instructions(ctx: _Ctx, stages: list[_Stage]) -> None:
    names: set[str] = set()
    for st in stages:
        if st.alias:
            names.add(st.alias)
        seen: dict[str, int] = {}
        for i in st.instrs:
            if i.onbuild:
                continue
            if i.cmd in ("CMD", "ENTRYPOINT", "HEALTHCHECK"):
                seen[i.cmd] = seen.get(i.cmd, 0) + 1
                rid = {"CMD": "CTM-DF-024", "ENTRYPOINT": "CTM-DF-025", "HEALTHCHECK": "CTM-DF-026"}[i.cmd]
                if seen[i.cmd] > 1:
                    ctx.add(rid, st, i.line, i.end, f"{i.cmd} number {seen[i.cmd]} in stage {st.name}")
                shell_form = not i.json
                if i.cmd == "HEALTHCHECK":
                    shell_form = bool(i.value) and i.value[0].upper() == "CMD" and not i.json
                if shell_form and i.value:
                    ctx.add("CTM-DF-033", st, i.line, i.end, f"{i.cmd} in shell form: {' '.join(i.value)[:80]}")
            elif i.cmd == "WORKDIR" and i.value:
                w = _dequote(i.value[0])
                if not (w.startswith(("$", "/")) or (len(w) > 1 and w[0].isalpha() and w[1] == ":")):
                    ctx.add("CTM-DF-028", st, i.line, i.end, f"WORKDIR {w} is relative")
            elif i.cmd == "MAINTAINER":
                ctx.add("CTM-DF-029", st, i.line, i.end, "MAINTAINER is deprecated")
            elif i.cmd == "EXPOSE":
                _check_expose(ctx, st, i)
            elif i.cmd == "ADD":
                srcs = [_dequote(s) for s in i.value[:-1]]
                urls = [s for s in srcs if s.startswith(("http://", "https://"))]
                if urls and not i.flag("checksum"):
                    ctx.add("CTM-DF-006", st, i.line, i.end, f"ADD fetches {urls[0]} unverified")
                if srcs and not all(s.endswith(_ARCHIVES) or s.startswith(("http://", "https://")) for s in srcs):
                    ctx.add("CTM-DF-007", st, i.line, i.end, "ADD of plain files: use COPY")
            elif i.cmd == "COPY":
                _check_copy(ctx, st, i, names, len(stages[: st.index + 1]))
            elif i.cmd in ("ARG", "ENV"):
                _check_secrets(ctx, st, i)


def _check_expose(ctx: _Ctx, st: _Stage, i: _Instr) -> None:
    for raw in i.value:
        p = _dequote(raw).split("/", 1)[0]
        if "$" in p:
            continue
        lo, _, hi = p.partition("-")
        if not lo.isdigit() or (hi and not hi.isdigit()):
            continue
        a, b = int(lo), int(hi or lo)
        if a > 65535 or b > 65535:
            ctx.add("CTM-DF-038", st, i.line, i.end, f"EXPOSE {raw}: ports range from 0 to 65535")
        elif a <= 22 <= b:
            ctx.add("CTM-DF-023", st, i.line, i.end, f"EXPOSE {raw}: SSH port")


def _check_copy(ctx: _Ctx, st: _Stage, i: _Instr, names: set[str], count: int) -> None:
    if len(i.value) > 2 and not _dequote(i.value[-1]).endswith("/"):
        ctx.add("CTM-DF-042", st, i.line, i.end, f"COPY of {len(i.value) - 1} sources to {i.value[-1]}")
    src = i.flag("from")
    if src is None:
        return
    s = _dequote(src)
    if st.alias and s == st.alias:
        ctx.add("CTM-DF-032", st, i.line, i.end, f"COPY --from={s} names its own stage")
    if ":" in s or s in names or (s.isdigit() and int(s) < count):
        return
    ctx.add("CTM-DF-031", st, i.line, i.end, f"COPY --from={s}: no earlier stage has that name")


def _check_secrets(ctx: _Ctx, st: _Stage, i: _Instr) -> None:
    for name, value in _pairs(i):
        if value is not None and _secret_name(name) and _literal(value):
            ctx.add("CTM-DF-021", st, i.line, i.end, f"{i.cmd} {name} holds a literal secret value")


def _pip_nocache(i: _Instr) -> bool:
    """ENV PIP_NO_CACHE_DIR=<truthy> (hadolint's pipNoCacheDirSet)."""
    vals = [_dequote(v or "") for k, v in _pairs(i) if k == "PIP_NO_CACHE_DIR"]
    return bool(vals) and vals[-1] in _TRUTHY


def _run_checks(ctx: _Ctx, stages: list[_Stage]) -> None:
    images = {s.image for s in stages}
    nocache: dict[str, bool] = {}  # DL3042: PIP_NO_CACHE_DIR set, per stage name (an alias or an image name)
    for st in stages:
        pipefail = False
        key = st.alias or image_name(st.image)
        nocache[key] = nocache.get(image_name(st.image), False)
        fetchers: set[str] = set()
        keeps_lists = st.index == len(stages) - 1 or (bool(st.alias) and st.alias in images)
        for i in st.instrs:
            if i.cmd == "SHELL" and not i.onbuild:
                pipefail = _shell_ok(i)
            if i.cmd == "ENV" and not i.onbuild:
                if _pip_nocache(i):
                    nocache[key] = True
                continue
            if i.cmd != "RUN":
                continue
            cmds = i.commands()
            _run_one(ctx, st, i, cmds, pipefail=pipefail, nocache_env=nocache[key] and not i.onbuild,
                     keeps_lists=keeps_lists)
            if not i.onbuild:
                new = {c.name for c in i.hcommands() if c.name in ("curl", "wget")}
                fetchers |= new
                if new and len(fetchers) == 2:
                    ctx.add("CTM-DF-036", st, i.line, i.end, "both wget and curl used in this stage")


def _shell_ok(i: _Instr) -> bool:
    """SHELL sets pipefail (bash/zsh/ash -o pipefail) or is not a POSIX shell (pwsh, cmd)."""
    text = " ".join(i.value)
    if any(text.startswith(s) for s in ("pwsh", "powershell", "cmd")):
        return True
    return any(
        c.name in ("bash", "zsh", "ash") and _has_flag(c, "o") and "pipefail" in c.args for c in shell.commands(text)
    )


def _run_one(ctx: _Ctx, st: _Stage, i: _Instr, cmds: list[shell.Command], *, pipefail: bool, nocache_env: bool,
             keeps_lists: bool) -> None:
    def add(rid: str, msg: str) -> None:
        ctx.add(rid, st, i.line, i.end, msg)

    mounts = i.mount_targets()
    h = i.hcommands()  # hadolint's view, for every rule below that claims a hadolint id
    apt_install = [c for c in h if _is(c, ("apt-get",), "install")]
    for c in apt_install:
        pkgs = [a for a in _args_no_flags(c, ("t", "target-release")) if a != "install"]
        loose = [p for p in pkgs if not ("=" in p or "/" in p or p.endswith(".deb"))]
        if loose:
            add("CTM-DF-008", f"apt-get install of unpinned packages: {' '.join(loose[:5])}")
            break
    if any(not (_has_flag(c, "no-install-recommends") or "APT::Install-Recommends=false" in c.args)
           for c in apt_install):
        add("CTM-DF-013", "apt-get install without --no-install-recommends")
    if any(not (_has_flag(c, "y", "yes", "qq", "assume-yes") or sum(f == "q" for _, f in _flags(c)) == 2
                or sum(f == "quiet" for _, f in _flags(c)) == 2 or "-q=2" in c.args) for c in apt_install):
        add("CTM-DF-039", "apt-get install without -y")
    updates = [c for c in cmds if _is(c, ("apt", "apt-get", "aptitude"), "update")]
    if updates and keeps_lists and not any(
        (c.name == "rm" and any(a.startswith("/var/lib/apt/lists") for a in c.args))
        or _is(c, ("apt-get", "apt"), "dist-clean")
        for c in cmds
    ) and not any("/var/lib/apt/lists" in t or "/var/lib/apt" in t for t in mounts):
        add("CTM-DF-014", "apt-get update without rm -rf /var/lib/apt/lists/* in the same RUN")
    installs = [c for c in cmds if _is(c, ("apt", "apt-get", "aptitude"), "install")
                or _is(c, ("apk",), "add") or _is(c, ("yum", "dnf", "microdnf", "zypper"), "install")]
    if any(_is(c, ("apt", "apt-get", "aptitude", "apk"), "update") for c in cmds) and not installs:
        add("CTM-DF-040", "package index update alone: install in the same RUN")
    if any(_is(c, ("apt", "apt-get", "aptitude"), "upgrade", "dist-upgrade", "full-upgrade")
           or _is(c, ("apk",), "upgrade") or _is(c, ("yum", "dnf", "microdnf"), "upgrade", "update") for c in cmds):
        add("CTM-DF-017", "package upgrade in the build: use a newer base image")
    apk_add = [c for c in h if _is(c, ("apk",), "add")]
    for c in apk_add:
        pkgs = [a for a in _args_no_flags(c, ("t", "virtual", "repository", "X")) if a != "add"]
        if any(not (any(s in p for s in "=~><") or p.endswith(".apk")) for p in pkgs):
            add("CTM-DF-009", "apk add of unpinned packages")
            break
    if apk_add and not any("/var/cache/apk" in t for t in mounts) and any(
        not _has_flag(c, "no-cache") for c in apk_add
    ):
        add("CTM-DF-015", "apk add without --no-cache")
    pips = [c for c in h if _pip_install(c)]
    for c in pips:
        a = list(c.args)
        if "-r" in a or "--requirement" in a or "." in a or _has_flag(c, "constraint", "c"):
            continue
        if not all(_pip_pinned(p) for p in _strip_install(_args_no_flags(c, _PIP_VALUE_FLAGS))):
            add("CTM-DF-010", "pip install of unpinned packages")
            break
    text = " ".join(i.value)
    env_nocache = "PIP_NO_CACHE_DIR=" in text and text.split("PIP_NO_CACHE_DIR=", 1)[1][:5].startswith(
        tuple(_TRUTHY))
    if (pips and not nocache_env and not env_nocache and not any(".cache/pip" in t for t in mounts)
            and any("--no-cache-dir" not in c.args and not _pip_wrapper(c) for c in pips)):
        add("CTM-DF-016", "pip install without --no-cache-dir")
    for c in h:
        if not _is(c, ("npm",), "install"):
            continue
        rest = _args_no_flags(c, ("loglevel", "registry"))
        if rest[:1] == ["install"] and not all(_npm_pinned(p) for p in _strip_install(rest)):
            add("CTM-DF-011", "npm install of unpinned packages")
            break
    for c in h:
        if _is(c, ("gem",), "install", "i") and not ({"-v", "--version"} & set(c.args)) and not any(
            a.startswith("--version=") for a in c.args
        ):
            gems = _gem_names([a for a in c.args if a])
            if any(":" not in g for g in gems):
                add("CTM-DF-012", "gem install of unpinned gems")
                break
    if any(c.name == "apt" for c in h):
        add("CTM-DF-030", "apt used: use apt-get")
    if not i.onbuild and any(c.name == "cd" for c in h):
        add("CTM-DF-027", "cd in RUN: use WORKDIR")
    if any(c.name == "sudo" for c in h):
        add("CTM-DF-019", "sudo in RUN")
    for sc in cmds:
        if sc.name == "chmod" and any(_world_writable(a) for a in sc.args if not a.startswith("--")):
            add("CTM-DF-020", f"{' '.join(sc.argv)[:80]} makes files world-writable")
            break
    for sc in cmds:
        producer = sc.pipe_from[0].rsplit("/", 1)[-1] if sc.pipe_from else ""
        subst = any(a.startswith(("$(curl", "$(wget", "<(curl", "<(wget", "`curl", "`wget")) for a in sc.args)
        interp = sc.name in _SHELLS or sc.name.startswith(("python", "perl", "ruby", "node"))
        if interp and (producer in ("curl", "wget") or subst):
            add("CTM-DF-018", f"{producer or 'download'} output run by {sc.name}")
            break
    yum = [c for c in h if _is(c, ("yum",), "install", "groupinstall", "localinstall")]
    if any(not _has_flag(c, "y", "assumeyes") for c in yum):
        add("CTM-DF-035", "yum install without -y")
    first_install = next((k for k, c in enumerate(h) if _is(c, ("yum",), "install")), None)
    first_clean = next((k for k, c in enumerate(h) if _is(c, ("yum",), "clean", "all")
                        or _is(c, ("rm",), "-rf", "/var/cache/yum/*")), None)
    if first_install is not None and not (first_clean is not None and first_install < first_clean):
        add("CTM-DF-034", "yum install without yum clean all after it")
    if any(_is(c, ("dnf", "microdnf"), "install", "groupinstall", "localinstall")
           and not _has_flag(c, "y", "assumeyes") for c in h):
        add("CTM-DF-041", "dnf install without -y")
    if not pipefail and not i.onbuild and any(c.pipe_from for c in cmds):
        add("CTM-DF-037", "RUN with a pipe and no pipefail: a failing left side is ignored")


def _pip_wrapper(c: Cmd) -> bool:
    a = list(c.args)
    for w in ("pipx", "pipenv"):
        if w in c.name or (c.name.startswith("python") and any(a[k : k + 2] == ["-m", w] for k in range(len(a)))):
            return True
    return False


def _gem_names(args: list[str]) -> list[str]:
    out, k = [], 0
    args = args[: args.index("--")] if "--" in args else args
    while k < len(args):
        a = args[k]
        if a.startswith("-"):
            k += 2
            continue
        if a not in ("install", "i"):
            out.append(a)
        k += 1
    return out


# ---------------------------------------------------------------------------- hadolint pragmas


def _ws(text: str, k: int, at_least: int = 0) -> int | None:
    j = k
    while j < len(text) and text[j] in " \t":
        j += 1
    return j if j - k >= at_least else None


def _word(text: str, k: int | None, word: str) -> int | None:
    return k + len(word) if k is not None and text.startswith(word, k) else None


def pragma(text: str) -> tuple[str, list[str]] | None:
    """A hadolint pragma comment (the text after `#`) as (kind, rule ids), kind "" (next line),
    "global" or "stage"; None for any other comment. The grammar is hadolint's Pragma.hs:
    `hadolint [global|stage] ignore = ID[, ID...]`, spaces and tabs around `=` and `,`, a rule id made
    of the characters D, L, S, C and digits, an optional `# reason` after an id, nothing else."""
    k = _word(text, _ws(text, 0), "hadolint")
    k = _ws(text, k, 1) if k is not None else None
    if k is None:
        return None
    kind = ""
    for w in ("global", "stage"):
        after = _word(text, k, w)
        nxt = _ws(text, after, 1) if after is not None else None
        if nxt is not None:
            kind, k = w, nxt
            break
    k = _word(text, k, "ignore")
    k = _word(text, _ws(text, k) if k is not None else None, "=")
    if k is None:
        return None
    ids: list[str] = []
    while True:
        k = _ws(text, k)
        assert k is not None
        j = k
        while j < len(text) and text[j] in "DLSC0123456789":
            j += 1
        if j == k:
            return None
        ids.append(text[k:j])
        k = _ws(text, j)
        assert k is not None
        if k < len(text) and text[k] == "#":
            k = len(text)
        if k == len(text):
            return kind, ids
        if text[k] != ",":
            return None
        k += 1


class _Pragmas:
    """Which hadolint ids a pragma switches off at a line: `ignore` for the next line, `global` for the
    file, `stage` from the line after the pragma up to the next FROM (hadolint applies a stage pragma to
    the lines after the key line and before the next FROM's line, that FROM line included)."""

    def __init__(self, comments: list[dict[str, Any]], from_lines: list[int]) -> None:
        self.next_line: dict[int, set[str]] = {}
        self.everywhere: set[str] = set()
        stage: dict[int, set[str]] = {}
        for c in comments:
            p = pragma(str((c.get("Value") or [""])[0]))
            if p is None:
                continue
            line = int(c.get("StartLine", 0)) + 1
            if p[0] == "global":
                self.everywhere |= set(p[1])
            elif p[0] == "stage":
                stage[line] = set(p[1])
            else:
                self.next_line[line] = set(p[1])
        for f in from_lines:
            stage.setdefault(f, set())
        self.stage_keys = sorted(stage)
        self.stage = stage

    def ignored(self, m: Misconfiguration) -> bool:
        line = m.location.start_line
        ids = self.next_line.get(line, set()) | self.everywhere
        before = [k for k in self.stage_keys if k < line]
        if before:
            ids = ids | self.stage[before[-1]]
        return bool(ids) and any(a in ids for a in m.rule.aliases)


def check(doc: ConfigDoc) -> list[Misconfiguration]:
    """Every rule of RULES on one parsed Dockerfile, in line order."""
    parsed = stages_of(doc)
    stages = parsed.stages
    if not stages:
        return []
    ctx = _Ctx(doc, [])
    _check_from(ctx, stages)
    _check_user_and_health(ctx, stages)
    _check_instructions(ctx, stages)
    _run_checks(ctx, stages)
    dockerfile_packages.check_stages(ctx, stages, parsed.prelude)
    dockerfile_instructions.check(ctx, parsed)
    pragmas = _Pragmas(parsed.comments, [s.line for s in stages])
    found = [m for m in ctx.out if not pragmas.ignored(m)]
    return sorted(found, key=lambda m: (m.location.start_line, m.rule.id))


def rules_matching(pattern: str) -> list[Rule]:
    """Rules whose id or an alias matches a glob (`DL30*`, `CKV_DOCKER_*`)."""
    return [r for r in RULES if fnmatch.fnmatch(r.id, pattern) or any(fnmatch.fnmatch(a, pattern) for a in r.aliases)]
