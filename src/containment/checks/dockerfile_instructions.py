"""Dockerfile rules on instructions other than a RUN's commands: stage names and platforms, ONBUILD,
ENV, COPY, LABEL, USER, instruction order (CTM-DF-056..069).

Each rule claims a hadolint id and follows that rule's source (hadolint src/Hadolint/Rule/DL*.hs,
v2.15.1), quirks included, so a finding lands where hadolint's does: for instance DL3045 keys
WORKDIR by stage name (a second `FROM ubuntu` inherits the first one's WORKDIR), DL3010 only
reports the last stage, DL3066 accepts `${X}` or `$X` only for an ARG declared before.
"""

from __future__ import annotations

from containment.checks.dockerfile_base import (
    Ctx,
    Instr,
    Parsed,
    Stage,
    args_no_flags,
    dequote,
    image_name,
    pairs,
)

_ARCHIVES = (".tar", ".Z", ".bz2", ".gz", ".lz", ".lzma", ".tZ", ".tb2", ".tbz", ".tbz2", ".tgz", ".tlz",
             ".tpz", ".txz", ".xz")
_UNZIP = frozenset({"unzip", "gunzip", "bunzip2", "unlzma", "unxz", "zgz", "uncompress", "zcat", "gzcat"})
_LABEL_FIRST = frozenset("abcdefghijklmnopqrstuvwxyz")
_LABEL_LAST = _LABEL_FIRST | frozenset("0123456789")
_LABEL_CHARS = _LABEL_LAST | frozenset(".-_/")
_SENSITIVE = frozenset({
    "ACCESS_TOKEN", "APPLICATION_KEY", "APP_SECRET", "AUTH_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
    "BITTREX_API_KEY", "BITTREX_API_SECRET", "CF_PASSWORD", "CF_USERNAME", "CIRCLE_TOKEN", "CI_DEPLOY_PASSWORD",
    "CI_DEPLOY_USER", "DOCKERHUB_PASSWORD", "DOCKER_EMAIL", "DOCKER_PASSWORD", "DOCKER_USERNAME",
    "FACEBOOK_ACCESS_TOKEN", "FACEBOOK_APP_ID", "FACEBOOK_APP_SECRET", "FIREBASE_API_TOKEN", "FIREBASE_TOKEN",
    "FOSSA_API_KEY", "GH_ENTERPRISE_TOKEN", "GH_TOKEN", "GITHUB_ENTERPRISE_TOKEN", "GITHUB_TOKEN", "HEROKU_API_KEY",
    "HEROKU_API_USER", "NPM_AUTH_TOKEN", "NPM_TOKEN", "OKTA_AUTHN_GROUPID", "OKTA_CLIENT_ORGURL",
    "OKTA_CLIENT_TOKEN", "OKTA_OAUTH2_CLIENTID", "OKTA_OAUTH2_CLIENTSECRET", "OPENAI_API_KEY", "OS_PASSWORD",
    "OS_USERNAME", "POSTGRES_PASSWORD", "SLACK_TOKEN", "STRIPE_API_KEY", "STRIPE_DEVICE_NAME", "TRAVIS_OS_NAME",
    "TRAVIS_SECURE_ENV_VARS", "TRAVIS_SUDO", "VAULT_CLIENT_KEY", "VAULT_TOKEN",
})
_SUSPICIOUS = ("api_key", "client_key", "password", "private", "secret", "token", "username")
_VAR_CHARS = frozenset("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")


def _check_stages(ctx: Ctx, stages: list[Stage]) -> None:
    seen: set[str] = set()
    for st in stages:
        if st.alias:
            if st.alias in seen:
                ctx.add("CTM-DF-056", st, st.line, st.line, f"stage name {st.alias} used twice")
            seen.add(st.alias)
            if st.alias in ("scratch", "context"):
                ctx.add("CTM-DF-059", st, st.line, st.line, f"stage named {st.alias}")
        platform = st.flag("platform")
        if platform is not None:
            if "BUILDPLATFORM" not in platform and "TARGETPLATFORM" not in platform:
                ctx.add("CTM-DF-057", st, st.line, st.line, f"FROM --platform={platform}")
            if platform in ("$TARGETPLATFORM", "${TARGETPLATFORM}"):
                ctx.add("CTM-DF-058", st, st.line, st.line, "FROM --platform=$TARGETPLATFORM is the default")


def _sensitive(name: str) -> bool:
    low = name.lower()
    return name.upper() in _SENSITIVE or any(s in low for s in _SUSPICIOUS)


def _refers(var: str, text: str) -> bool:
    """`${var}` in text, or `$var` not followed by a character of a longer name (hadolint's DL3044 test)."""
    if "${" + var + "}" in text:
        return True
    bare = "$" + var
    return bare in text and any(not rest or rest[0] not in _VAR_CHARS for rest in text.split(bare)[1:])


def _self_reference(i: Instr, known: set[str]) -> bool:
    ps = [(k, v or "") for k, v in pairs(i)]
    refs = [k for n, (k, _) in enumerate(ps) if any(_refers(k, v) for m, (_, v) in enumerate(ps) if m != n)]
    return any(k not in known for k in refs)


def _label_key_ok(key: str) -> bool:
    return (
        key[:1] in _LABEL_FIRST
        and key[-1:] in _LABEL_LAST
        and set(key) <= _LABEL_CHARS
        and not key.startswith(("com.docker.", "io.docker.", "org.dockerproject."))
        and ".." not in key
        and "--" not in key
    )


def _uid_ok(user: str, args: set[str]) -> bool:
    uid = user.split(":", 1)[0]
    if all(ch.isdigit() for ch in uid):
        return True
    return any("${" + a + "}" in user or "$" + a in user for a in args)


def _absolute(dest: str) -> bool:
    d = dequote(dest)
    return d.startswith(("/", "$")) or (len(d) > 1 and d[0].isalpha() and d[1] == ":")


def _basename(p: str) -> str:
    return dequote(p).replace("\\", "/").rsplit("/", 1)[-1]


def _extracts(i: Instr, archive: str) -> bool:
    for c in i.hcommands():
        tar = c.name == "tar" and any(a in ("--extract", "--get") or (a.startswith("-") and "x" in a) for a in c.args)
        if (tar or c.name in _UNZIP) and archive in {_basename(a) for a in args_no_flags(c)}:
            return True
    return False


def _check_archives(ctx: Ctx, st: Stage) -> None:
    """DL3010: a COPY of an archive that a later RUN of the stage extracts (hadolint: last stage only)."""
    copied: list[tuple[Instr, str]] = []
    hit: set[int] = set()
    for i in st.instrs:
        if i.onbuild:
            continue
        if i.cmd == "COPY" and i.flag("from") is None and len(i.value) >= 2:
            target = _basename(i.value[-1])
            names = [target] if target.endswith(_ARCHIVES) else [
                b for b in (_basename(s) for s in i.value[:-1]) if b.endswith(_ARCHIVES)]
            copied.extend((i, n) for n in names)
        elif i.cmd == "RUN":
            for c, name in copied:
                if c.line not in hit and _extracts(i, name):
                    hit.add(c.line)
                    ctx.add("CTM-DF-068", st, c.line, c.end, f"{name} copied, then extracted: use ADD")


def check(ctx: Ctx, parsed: Parsed) -> None:
    stages = parsed.stages
    _check_stages(ctx, stages)
    for i in parsed.prelude:
        if i.cmd != "ARG":
            ctx.add("CTM-DF-065", None, i.line, i.end, f"{i.cmd} before the first FROM")
    if stages:
        _check_archives(ctx, stages[-1])
    known: set[str] = set()  # DL3044: ENV and ARG names defined so far (any stage)
    args: set[str] = set()  # DL3066: ARG names declared so far
    workdir: dict[str, bool] = {}  # DL3045: per stage name, WORKDIR set
    prev_run: tuple[frozenset[str], int] | None = None  # DL3059: flags and command count of the RUN before
    stage: Stage | None = None
    key = ""
    for item in parsed.order:
        if isinstance(item, Stage):
            stage, prev_run = item, None
            key = item.alias or image_name(item.image)
            workdir[key] = workdir.get(image_name(item.image), False)
            continue
        i = item
        if i.onbuild:
            prev_run = None
            if i.cmd in ("ONBUILD", "FROM", "MAINTAINER"):
                ctx.add("CTM-DF-060", stage, i.line, i.end, f"ONBUILD {i.cmd}")
            if i.cmd in ("ARG", "ENV") and any(_sensitive(k) for k, _ in pairs(i)):
                ctx.add("CTM-DF-069", stage, i.line, i.end, f"ONBUILD {i.cmd} of a sensitive-looking name")
            continue
        if i.cmd == "RUN":
            flags = frozenset(f for f in i.flags if f.startswith(("--mount=", "--network=", "--security=")))
            # ShellCheck yields each command twice (its T_Redirecting and its T_SimpleCommand), so hadolint's
            # "more than 2 commands" means more than one.
            count = 2 * len(i.hcommands())
            if prev_run is None or prev_run[0] != flags or count > 2 or prev_run[1] > 2:
                prev_run = (flags, count)
            else:
                ctx.add("CTM-DF-064", stage, i.line, i.end, "RUN right after a RUN: merge them")
            continue
        prev_run = None
        if i.cmd in ("ENV", "ARG"):
            names = {k for k, _ in pairs(i)}
            if i.cmd == "ENV" and _self_reference(i, known):
                ctx.add("CTM-DF-061", stage, i.line, i.end, "ENV refers to a variable it defines itself")
            if any(_sensitive(k) for k in names):
                ctx.add("CTM-DF-069", stage, i.line, i.end, f"{i.cmd} of a sensitive-looking name")
            known |= names
            if i.cmd == "ARG":
                args |= names
        elif i.cmd == "WORKDIR":
            workdir[key] = True
        elif i.cmd == "COPY" and stage is not None:
            if i.value and not workdir.get(key, False) and not _absolute(i.value[-1]):
                ctx.add("CTM-DF-062", stage, i.line, i.end, f"COPY to {i.value[-1]} without WORKDIR")
            if i.flag("from") is not None and len(i.value) >= 2 and dequote(i.value[-1]) == "/" and any(
                dequote(s) == "/" for s in i.value[:-1]
            ):
                ctx.add("CTM-DF-067", stage, i.line, i.end, "COPY --from=... / /")
        elif i.cmd == "LABEL" and stage is not None:
            bad = [k for k, _ in pairs(i) if not _label_key_ok(dequote(k))]
            if bad:
                ctx.add("CTM-DF-063", stage, i.line, i.end, f"invalid label key {bad[0]}")
        elif i.cmd == "USER" and stage is not None and i.value and not _uid_ok(i.value[0], args):
            ctx.add("CTM-DF-066", stage, i.line, i.end, f"USER {i.value[0]} is not numeric")
