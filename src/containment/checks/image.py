"""Image config and hygiene checks, from the image itself (for images built without a Dockerfile
at hand): the config (user, healthcheck, ports, ENV, labels, entrypoint), the history (remote
code fetched at build time, secrets in build commands) and the file facts the walk collected
(containment.checks.filefacts: setuid files, world-writable entries, tools, caches).

Decisions, so users can predict what is reported:
- setuid/setgid files are all reported (CIS Docker 4.8 asks to remove them), the programs
  distributions install setuid at their usual place (passwd, su, mount, ...) as LOW
  (CTM-IMG-010), any other (a copy such as /usr/local/bin/find with mode 4755) as HIGH (CTM-IMG-009);
- tools are judged by their real file, not by links (busybox applets are links); curl and wget
  are LOW (common in images that need them at run time), remote-access servers MEDIUM;
- a package cache is reported per cache directory and layer, with its size, also when a later
  layer deleted it: its bytes still ship in the earlier layer (clean it in the same RUN);
- an entrypoint that starts a process supervisor (supervisord, s6, runit) is not reported: it
  is the sanctioned way to run several processes; `sh -c "a & b"` is (CTM-IMG-017);
- secrets are judged by the variable or label name (PASSWORD, SECRET, TOKEN, API_KEY, ...) with
  a literal value; the secret scanner judges values. Messages never hold the value.

Malformed config fields (a User that is not a string, Env not a list of strings) raise
ConfigError: the image config is invalid (OCI image spec) and no runtime would run it as written.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from containment.checks import filefacts
from containment.checks.shell import commands
from containment.model import ConfigError, FileFact, Location, Misconfiguration, Rule

_CIS = "https://www.cisecurity.org/benchmark/docker"


def _rule(
    n: int,
    title: str,
    severity: str,
    rationale: str,
    remediation: str,
    aliases: tuple[str, ...] = (),
) -> Rule:
    return Rule(f"CTM-IMG-{n:03d}", title, severity, "image", rationale, remediation, aliases, (_CIS,))


ROOT = _rule(
    1,
    "Image runs as root",
    "HIGH",
    "A process running as root in the container is root on the host once it escapes; most "
    "services need no privilege at all.",
    "Create a user and set it (USER app / --user), or run the image with a non-root user.",
    ("CIS Docker 4.1", "CKV_DOCKER_8", "CKV_DOCKER_3", "DL3002"),
)
NO_HEALTHCHECK = _rule(
    2,
    "Image has no HEALTHCHECK",
    "LOW",
    "Without a health check the engine cannot tell a hung service from a working one.",
    "Add a HEALTHCHECK instruction (or configure a probe where the image runs).",
    ("CIS Docker 4.6", "CKV_DOCKER_2"),
)
ADMIN_PORT = _rule(
    3,
    "Image exposes a remote administration port",
    "MEDIUM",
    "SSH, telnet, RDP, VNC or the Docker API inside a container is a door around the "
    "orchestrator's access control; containers are reached with exec, not logged into.",
    "Remove the EXPOSE of the port and the service behind it.",
    ("CKV_DOCKER_1", "CIS Docker 5.8"),
)
REMOTE_ACCESS = _rule(
    4,
    "Remote-access server installed",
    "MEDIUM",
    "An SSH or telnet server in an image is a way in that bypasses the orchestrator, and one "
    "more daemon to patch.",
    "Remove the server's package; use docker exec / kubectl exec to reach a container.",
    ("CIS Docker 5.6", "CIS Docker 4.3"),
)
DEBUGGER = _rule(
    5,
    "Debugging tool installed",
    "MEDIUM",
    "gdb, strace and friends let whoever gets a shell read and change other processes' memory.",
    "Leave debuggers out of production images (a debug variant or an ephemeral debug container).",
    ("CIS Docker 4.3",),
)
NETWORK_TOOL = _rule(
    6,
    "Network tool installed",
    "LOW",
    "netcat, socat, nmap, tcpdump and ssh/telnet clients are an attacker's first tools for "
    "reverse shells, scanning and sniffing.",
    "Remove the packages that bring them, or build the final stage FROM a minimal base.",
    ("CIS Docker 4.3",),
)
DOWNLOADER = _rule(
    7,
    "Download tool installed",
    "LOW",
    "curl or wget in a production image lets an intruder fetch the next stage of an attack.",
    "Drop them from the final stage (multi-stage build) unless the application needs them.",
    ("CIS Docker 4.3",),
)
SUDO = _rule(
    8,
    "sudo installed",
    "MEDIUM",
    "Containers need no privilege switching; sudo is a setuid-root program and an escalation "
    "path when misconfigured.",
    "Remove sudo; run the commands that need root at build time or as a root init step.",
    ("CIS Docker 4.3",),
)
SETID_UNKNOWN = _rule(
    9,
    "setuid/setgid file not installed by the distribution",
    "HIGH",
    "A setuid or setgid program that the distribution does not ship that way (a copied binary, "
    "a custom build) is a classic privilege escalation: find, vim, python with setuid give a root shell.",
    "Remove the bit (chmod u-s,g-s) or the file.",
    ("CIS Docker 4.8",),
)
SETID_DISTRO = _rule(
    10,
    "setuid/setgid program of the distribution present",
    "LOW",
    "Setuid programs such as passwd, su or mount are rarely needed in a container and each is "
    "attack surface.",
    "Remove the setuid/setgid bits in the final stage: "
    "find / -perm /6000 -type f -exec chmod a-s {} + || true",
    ("CIS Docker 4.8",),
)
WORLD_WRITABLE_DIR = _rule(
    11,
    "World-writable directory without the sticky bit",
    "MEDIUM",
    "Anyone may delete or replace any file in such a directory, including the files of other "
    "users and of the application.",
    "chmod o-w the directory, or chmod +t it if it must be shared (as /tmp is).",
)
WORLD_WRITABLE_FILE = _rule(
    12,
    "World-writable file",
    "MEDIUM",
    "Any user in the container may change a world-writable program or configuration file that "
    "another user (often root) then runs or reads.",
    "chmod o-w the file.",
)
CACHE = _rule(
    13,
    "Package manager cache left in the image",
    "LOW",
    "Package lists and downloaded archives make the image larger and may hold stale metadata; "
    "deleted in a later layer they still ship in the layer that wrote them.",
    "Clean in the same RUN that fills the cache: rm -rf /var/lib/apt/lists/*, apk add --no-cache, "
    "pip install --no-cache-dir, yum/dnf clean all, npm cache clean --force.",
    (),  # hadolint's DL3009/DL3019/... judge a Dockerfile's RUN text; this judges the layer's files
)
SECRET_ENV = _rule(
    14,
    "Secret-looking ENV variable with a literal value",
    "HIGH",
    "ENV values are stored in the image config: anyone who can pull the image can read them.",
    "Pass the value at run time (secret store, --env-file, orchestrator secrets) or use a build "
    "secret (RUN --mount=type=secret).",
    ("CIS Docker 4.10",),
)
SECRET_LABEL = _rule(
    15,
    "Secret-looking label with a literal value",
    "HIGH",
    "Labels are stored in the image config and shown by every registry and inspect command.",
    "Remove the label; keep credentials out of image metadata.",
    ("CIS Docker 4.10",),
)
REMOTE_ADD = _rule(
    16,
    "ADD of a remote URL in the image history",
    "MEDIUM",
    "ADD <url> downloads whatever the server returns at build time, unverified.",
    "Download with a checksum check (ADD --checksum=sha256:..., or curl then sha256sum -c), or COPY "
    "a vendored file.",
    ("CIS Docker 4.9", "CKV_DOCKER_4"),
)
PIPE_TO_SHELL = _rule(
    17,
    "Remote script piped into a shell in the image history",
    "HIGH",
    "curl | sh runs code from the network as it was at build time, unverified and unreproducible.",
    "Download the script, check its checksum or signature, then run it.",
    ("CIS Docker 4.11",),
)
SECRET_HISTORY = _rule(
    18,
    "Secret-looking value in the image history",
    "HIGH",
    "Build arguments and commands are recorded in the image history, readable by anyone who can "
    "pull the image, even when the value is not in the final environment.",
    "Use build secrets (RUN --mount=type=secret) instead of ARG/ENV or command-line credentials.",
    ("CIS Docker 4.10",),
)
MULTI_PROCESS = _rule(
    19,
    "Entrypoint starts more than one long-running process",
    "LOW",
    "With `a & b` the engine watches only one process: the other may die unnoticed, signals and "
    "zombies are not handled. A process supervisor (supervisord, s6, runit) is not reported.",
    "Run one process per container, or use a supervisor or an init (tini) that forwards signals.",
)
TLS_DISABLED = _rule(
    20,
    "ENV disables TLS certificate verification",
    "HIGH",
    "Variables such as NODE_TLS_REJECT_UNAUTHORIZED=0 or PYTHONHTTPSVERIFY=0 switch off "
    "certificate checks for every connection the application makes.",
    "Remove the variable; add the needed CA certificate to the trust store instead.",
    ("CKV2_DOCKER_5", "CKV2_DOCKER_6", "CKV2_DOCKER_12", "CKV2_DOCKER_14", "CKV2_DOCKER_16"),
)

RULES: tuple[Rule, ...] = (
    ROOT,
    NO_HEALTHCHECK,
    ADMIN_PORT,
    REMOTE_ACCESS,
    DEBUGGER,
    NETWORK_TOOL,
    DOWNLOADER,
    SUDO,
    SETID_UNKNOWN,
    SETID_DISTRO,
    WORLD_WRITABLE_DIR,
    WORLD_WRITABLE_FILE,
    CACHE,
    SECRET_ENV,
    SECRET_LABEL,
    REMOTE_ADD,
    PIPE_TO_SHELL,
    SECRET_HISTORY,
    MULTI_PROCESS,
    TLS_DISABLED,
)

MAX_PER_RULE = 100  # findings of one rule listed one by one; the rest are counted in one more

CONFIG = "image config"
HISTORY = "image history"
FILES = "image files"


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


ADMIN_PORTS = {
    22: "SSH",
    23: "telnet",
    3389: "RDP",
    5900: "VNC",
    5901: "VNC",
    2375: "the Docker API (unencrypted)",
    2376: "the Docker API",
}

_TOOL_RULES = {
    "remote-access": REMOTE_ACCESS,
    "debugger": DEBUGGER,
    "network": NETWORK_TOOL,
    "downloader": DOWNLOADER,
    "privilege": SUDO,
}

# Programs distributions install setuid/setgid in a bin/sbin directory (Debian, Ubuntu, Alpine,
# RHEL/Fedora, SUSE, Arch), and helpers they install setuid under lib/libexec.
_DISTRO_SETID_BIN = _names(
    """
    chfn chsh gpasswd mount newgrp passwd su umount sudo sudoedit pkexec fusermount fusermount3
    newuidmap newgidmap at crontab staprun ping ping6 traceroute6.iputils chage expiry unix_chkpwd
    pam_timestamp_check userhelper mount.nfs mount.cifs umount.nfs pppd exim4 wall write bsd-write
    dotlockfile mlocate plocate locate ssh-agent screen Xorg.wrap bbsuid sg mail-lock mail-unlock
    mail-touchlock lockfile procmail postdrop postqueue ksu doas
    """
)
_DISTRO_SETID_HELPERS = _names(
    """
    ssh-keysign dbus-daemon-launch-helper polkit-agent-helper-1 utempter dmcrypt-get-device
    Xorg.wrap chrome-sandbox unix_chkpwd pt_chown
    """
)
_SYSTEM_BIN = frozenset({"bin", "sbin", "usr/bin", "usr/sbin"})
_HELPER_DIRS = ("usr/lib/", "usr/libexec/", "lib/", "usr/lib64/", "lib64/")

# Names of variables/labels: tokens that mark a secret, pairs of tokens that do, and last tokens
# that make it a reference to one (a file, a path, a length) rather than the secret itself.
_SECRET_TOKENS = frozenset(
    {
        "PASSWORD",
        "PASSWD",
        "PASSPHRASE",
        "SECRET",
        "SECRETS",
        "TOKEN",
        "TOKENS",
        "APIKEY",
        "CREDENTIAL",
        "CREDENTIALS",
        "PRIVATEKEY",
        "ACCESSKEY",
        "SECRETKEY",
        "AUTHTOKEN",
    }
)
_SECRET_PAIRS = frozenset(
    {
        ("API", "KEY"),
        ("ACCESS", "KEY"),
        ("PRIVATE", "KEY"),
        ("SECRET", "KEY"),
        ("AUTH", "KEY"),
        ("ENCRYPTION", "KEY"),
        ("SIGNING", "KEY"),
        ("MASTER", "KEY"),
        ("LICENSE", "KEY"),
        ("CLIENT", "SECRET"),
        ("DB", "PASS"),
        ("ROOT", "PASS"),
        ("ADMIN", "PASS"),
    }
)
_NOT_SECRET_LAST = _names(
    """
    FILE FILES PATH DIR DIRECTORY LOCATION NAME NAMES LENGTH LEN SIZE TTL TIMEOUT EXPIRY EXPIRES
    EXPIRATION ENABLED DISABLED ENABLE DISABLE REQUIRED HEADER FIELD TYPE ALGORITHM ALG ENDPOINT
    HOST PORT USER USERNAME ID FORMAT MODE VERSION PREFIX POLICY URL URI PARAM REGEX PATTERN
    """
)
_NOT_A_VALUE = frozenset({"", "true", "false", "yes", "no", "on", "off", "0", "1", "none", "null", "nil"})
_LABEL_NAMESPACES_SKIPPED = ("org.opencontainers.", "org.label-schema.")

# Variable -> values that switch TLS verification off (None: any non-empty value).
_TLS_OFF: dict[str, frozenset[str] | None] = {
    "NODE_TLS_REJECT_UNAUTHORIZED": frozenset({"0"}),
    "PYTHONHTTPSVERIFY": frozenset({"0"}),
    "GIT_SSL_NO_VERIFY": None,
    "NPM_CONFIG_STRICT_SSL": frozenset({"false"}),
    "PIP_TRUSTED_HOST": None,
    "CURL_INSECURE": None,
}

_SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh", "ksh", "mksh", "busybox"})
_INTERPRETERS = _SHELLS | frozenset({"python", "python2", "python3", "perl", "ruby", "node", "php", "eval"})
_DOWNLOADERS = frozenset({"curl", "wget", "fetch"})
_SUPERVISORS = frozenset(
    {"supervisord", "s6-svscan", "runsvdir", "runsv", "s6-supervise", "circusd", "honcho"}
)
_NOT_A_PROCESS = frozenset({"", "wait", "true", ":", "echo", "printf", "set", "export", "trap", "exit", "cd"})
_INSTRUCTIONS = _names(
    """
    RUN ADD COPY ENV ARG LABEL EXPOSE USER WORKDIR CMD ENTRYPOINT HEALTHCHECK SHELL VOLUME
    STOPSIGNAL ONBUILD MAINTAINER FROM
    """
)


# ---------------------------------------------------------------------------- input


def _bad(field: str, what: str) -> ConfigError:
    return ConfigError(
        f"image config: {field} is {what}; the image config is invalid (OCI image spec): rebuild the image"
    )


def _kind(value: object) -> str:
    if value is None:
        return "null"
    name = {"str": "string", "int": "number", "float": "number", "bool": "boolean", "dict": "object"}.get(
        type(value).__name__, type(value).__name__
    )
    return f"{'an' if name[0] in 'aeiou' else 'a'} {name}"


def _mapping(value: object, field: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _bad(field, f"{_kind(value)}, not an object")
    return value


def _strings(value: object, field: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _bad(field, f"{_kind(value)}, not a list of strings")
    return value


def _string(value: object, field: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _bad(field, f"{_kind(value)}, not a string")
    return value


# ---------------------------------------------------------------------------- names


def name_tokens(name: str) -> list[str]:
    """A variable or label name as upper-case words: `dbPassword` / `db.password` / `DB_PASSWORD`
    -> [DB, PASSWORD]."""
    out: list[str] = []
    cur: list[str] = []
    prev = ""
    for ch in name:
        if not ch.isalnum():
            if cur:
                out.append("".join(cur))
                cur = []
        elif ch.isupper() and prev.islower() and cur:
            out.append("".join(cur))
            cur = [ch]
        else:
            cur.append(ch)
        prev = ch
    if cur:
        out.append("".join(cur))
    return [t.upper() for t in out]


def secret_name(name: str) -> bool:
    """Whether a variable/label/option name says its value is a credential."""
    tokens = name_tokens(name)
    if not tokens or tokens[-1] in _NOT_SECRET_LAST:
        return False
    if any(t in _SECRET_TOKENS for t in tokens):
        return True
    return any(pair in _SECRET_PAIRS for pair in zip(tokens, tokens[1:], strict=False))


def literal_value(value: str) -> bool:
    """A value that is itself the secret: not empty, no placeholder, no reference to a variable
    or a mounted secret file."""
    v = value.strip().strip("'\"")
    if v.lower() in _NOT_A_VALUE:
        return False
    return not v.startswith(("$", "/run/secrets/", "<", "{{")) and not (v.startswith("%") and v.endswith("%"))


# ---------------------------------------------------------------------------- checks


def _user(cfg: Mapping[str, Any]) -> Iterator[Misconfiguration]:
    user = _string(cfg.get("User"), "config.User").strip()
    name, _, group = user.partition(":")
    loc = Location(field="config.User")
    if not user or not name:
        yield Misconfiguration(ROOT, "image runs as root (config.User is empty)", loc, CONFIG)
    elif name in ("root", "0"):
        yield Misconfiguration(ROOT, f"image runs as root (config.User is {user!r})", loc, CONFIG)


def _healthcheck(cfg: Mapping[str, Any]) -> Iterator[Misconfiguration]:
    hc = _mapping(cfg.get("Healthcheck"), "config.Healthcheck")
    test = _strings(hc.get("Test"), "config.Healthcheck.Test")
    loc = Location(field="config.Healthcheck")
    if not test:
        yield Misconfiguration(NO_HEALTHCHECK, "image has no HEALTHCHECK", loc, CONFIG)
    elif test[0] == "NONE":
        yield Misconfiguration(
            NO_HEALTHCHECK, "image disables its health check (HEALTHCHECK NONE)", loc, CONFIG
        )


def _ports(cfg: Mapping[str, Any]) -> Iterator[Misconfiguration]:
    for key in _mapping(cfg.get("ExposedPorts"), "config.ExposedPorts"):
        port, _, proto = str(key).partition("/")
        if not port.isdigit() or (proto and proto.lower() != "tcp"):
            continue
        service = ADMIN_PORTS.get(int(port))
        if service:
            yield Misconfiguration(
                ADMIN_PORT,
                f"image exposes port {key} ({service})",
                Location(field=f"config.ExposedPorts.{key}"),
                CONFIG,
            )


def _env(cfg: Mapping[str, Any]) -> Iterator[Misconfiguration]:
    for i, item in enumerate(_strings(cfg.get("Env"), "config.Env")):
        name, eq, value = item.partition("=")
        if not eq:
            continue
        loc = Location(field=f"config.Env[{i}]")
        if secret_name(name) and literal_value(value):
            yield Misconfiguration(
                SECRET_ENV,
                f"ENV {name} holds a literal value ({len(value)} characters) in the image config",
                loc,
                CONFIG,
            )
        off = _TLS_OFF.get(name.upper(), frozenset())
        if (off is None and value.strip()) or (off and value.strip().strip("'\"").lower() in off):
            yield Misconfiguration(
                TLS_DISABLED, f"ENV {name}={value} turns TLS certificate verification off", loc, CONFIG
            )


def _labels(cfg: Mapping[str, Any]) -> Iterator[Misconfiguration]:
    for key, value in _mapping(cfg.get("Labels"), "config.Labels").items():
        if not isinstance(value, str):
            raise _bad(f"config.Labels[{key!r}]", f"{_kind(value)}, not a string")
        if str(key).startswith(_LABEL_NAMESPACES_SKIPPED):
            continue
        if secret_name(str(key)) and literal_value(value):
            yield Misconfiguration(
                SECRET_LABEL,
                f"label {key} holds a literal value ({len(value)} characters)",
                Location(field=f"config.Labels.{key}"),
                CONFIG,
            )


def _script_of(argv: Sequence[str]) -> str | None:
    """The script of `sh -c SCRIPT` (also `bash -ec`, `/bin/sh -c`), None for other commands."""
    if not argv or argv[0].rsplit("/", 1)[-1] not in _SHELLS:
        return None
    args = list(argv[1:])
    if argv[0].rsplit("/", 1)[-1] == "busybox" and args and args[0] in _SHELLS:
        args = args[1:]
    for i, a in enumerate(args):
        if a.startswith("-") and not a.startswith("--") and "c" in a[1:]:
            return " ".join(args[i + 1 : i + 2])
        if not a.startswith("-"):
            return None
    return None


def _events(node: Any, script: str, out: list[tuple[int, str]]) -> None:
    """(position, program) of each simple command and (position, "&") of each `&` operator in a
    bashlex tree, at any depth of lists, subshells and compounds (not inside `$(...)`)."""
    kind = getattr(node, "kind", "")
    if kind == "operator":
        if node.op == "&":
            out.append((node.pos[0], "&"))
        return
    if kind == "command":
        first = next(iter(commands(script[node.pos[0] : node.pos[1]])), None)
        out.append((node.pos[0], first.name if first else ""))
        return
    for child in getattr(node, "parts", None) or getattr(node, "list", None) or ():
        _events(child, script, out)


def background_jobs(script: str) -> tuple[int, bool]:
    """(commands sent to the background with `&`, whether another long-running command follows
    the first one) in a shell script."""
    script = script[: 64 * 1024]
    events: list[tuple[int, str]] = []
    try:
        import bashlex  # 0.2 s of parser tables: only when an entrypoint is a shell script

        for tree in bashlex.parse(script):
            _events(tree, script, events)
        events.sort()
    except Exception:  # bashlex rejects some valid shell: tokens split at operators instead
        events = []
        try:
            lex = shlex.shlex(script, posix=True, punctuation_chars=";&|()<>\n")
            lex.whitespace_split = True
            start = True
            for k, tok in enumerate(lex):
                if tok in (";", "&", "&&", "||", "\n", "|", "(", ")"):
                    if tok == "&":
                        events.append((k, "&"))
                    start = True
                elif start:
                    events.append((k, tok.rsplit("/", 1)[-1]))
                    start = False
        except ValueError:
            return 0, False
    bg = sum(1 for _, e in events if e == "&")
    first = next((k for k, (_, e) in enumerate(events) if e == "&"), len(events))
    after = any(e != "&" and e not in _NOT_A_PROCESS for _, e in events[first + 1 :])
    return bg, after


def _entrypoint(cfg: Mapping[str, Any]) -> Iterator[Misconfiguration]:
    entry = _strings(cfg.get("Entrypoint"), "config.Entrypoint")
    cmd = _strings(cfg.get("Cmd"), "config.Cmd")
    argv = entry + cmd if entry else cmd
    field = "config.Entrypoint" if entry else "config.Cmd"
    if argv and argv[0].rsplit("/", 1)[-1] in _SUPERVISORS:
        return
    script = _script_of(argv)
    if not script:
        return
    bg, after = background_jobs(script)
    if bg >= 2 or (bg and after):
        yield Misconfiguration(
            MULTI_PROCESS,
            f"{field} starts {bg + (1 if after else 0)} processes at once with `&` ({' '.join(argv)[:120]})",
            Location(field=field),
            CONFIG,
        )


# ---------------------------------------------------------------------------- history


def split_history(created_by: str) -> tuple[str, str]:
    """(instruction, rest) of a history line, for the forms builders write:
    buildkit `RUN /bin/sh -c apt-get ... # buildkit`, `ENV A=b`, `ADD https://x /y # buildkit`;
    the classic builder's `/bin/sh -c #(nop)  CMD ["x"]` and `/bin/sh -c apt-get ...`, and
    `|2 A=1 B=2 /bin/sh -c ...` (build arguments). Anything else (`debootstrap ...`): ("", line)."""
    line = created_by.strip()
    if line.endswith("# buildkit"):
        line = line[: -len("# buildkit")].rstrip()
    for nop in ("/bin/sh -c #(nop)", "/bin/sh -c #(NOP)"):
        if line.startswith(nop):
            rest = line[len(nop) :].strip()
            word, _, args = rest.partition(" ")
            return (word.upper(), args.strip()) if word.upper() in _INSTRUCTIONS else ("", rest)
    if line.startswith("|") or line.startswith("/bin/sh -c ") or line.startswith("/bin/bash -c "):
        return "RUN", line
    word, _, args = line.partition(" ")
    if word in _INSTRUCTIONS:
        return word, args.strip()
    return "", line


def run_parts(rest: str) -> tuple[list[tuple[str, str]], str]:
    """(build arguments, script) of a RUN history line: `|2 A=1 B=2 /bin/sh -c SCRIPT`."""
    args: list[tuple[str, str]] = []
    text = rest.strip()
    if text.startswith("|"):
        count, _, text = text[1:].partition(" ")
        n = int(count) if count.isdigit() else 0
        for _ in range(n):
            word, _, text = text.strip().partition(" ")
            name, eq, value = word.partition("=")
            if eq:
                args.append((name, value))
    text = text.strip()
    if text.startswith("["):  # exec form: RUN ["sh", "-c", "..."]
        try:
            argv = json.loads(text)
            if isinstance(argv, list) and all(isinstance(a, str) for a in argv):
                return args, _script_of(argv) or " ".join(shlex.quote(a) for a in argv)
        except ValueError:
            pass
        return args, text
    head, sep, script = text.partition(" -c ")
    if sep and head.split() and head.split()[0].rsplit("/", 1)[-1] in _SHELLS:
        return args, script
    return args, text


def _downloader_fed(script: str) -> str:
    """The downloader whose output a script runs (`curl URL | sh`, `sh -c "$(wget -O- URL)"`,
    `bash <(curl URL)`), or ""."""
    fed: dict[tuple[str, ...], str] = {}  # argv -> the downloader its input comes from
    for c in commands(script):
        source = ""
        if c.pipe_from:
            first = c.pipe_from[0].rsplit("/", 1)[-1]
            source = first if first in _DOWNLOADERS else fed.get(c.pipe_from, "")
        fed[c.argv] = source
        if c.name not in _INTERPRETERS:
            continue
        if source and _reads_stdin(c.argv):
            return source
        for w in c.argv[1:]:
            if w.startswith(("$(", "<(", "`")):
                for d in _DOWNLOADERS:
                    if d in w:
                        return d
    return ""


def _reads_stdin(argv: Sequence[str]) -> bool:
    """Whether an interpreter runs its standard input: `sh`, `sh -`, `bash -s --`, `python3 -`,
    not `sh script.sh` or `sh -c '...'`."""
    shell = argv[0].rsplit("/", 1)[-1] in _SHELLS
    skip = False
    for a in argv[1:]:
        if skip:
            skip = False
            continue
        if a in ("-", "--"):
            return True
        if shell and a in ("-o", "+o"):
            skip = True
            continue
        if a.startswith("--"):
            continue
        if a.startswith(("-", "+")):
            if shell and "s" in a[1:]:
                return True
            if "c" in a[1:]:
                return False
            continue
        return False
    return True


def _remote(src: str) -> bool:
    s = src.lower()
    return s.startswith(("http://", "https://", "ftp://", "git@", "git://", "ssh://"))


def _identifier(name: str) -> bool:
    return bool(name) and not name[0].isdigit() and name.replace("_", "a").isalnum() and name.isascii()


def _words(rest: str) -> list[str]:
    """The arguments of an instruction: its JSON array form, else shell words."""
    if rest.startswith("["):
        try:
            value = json.loads(rest)
        except ValueError:
            value = None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
    try:
        return shlex.split(rest)
    except ValueError:
        return rest.split()


def _history_secrets(
    instr: str, rest: str, env_now: set[str], args: list[tuple[str, str]], script: str
) -> Iterator[str]:
    """Names of secret-looking values a history line records."""
    if instr in ("ENV", "ARG"):
        words = _words(rest)
        if instr == "ENV" and words and "=" not in words[0]:  # old form: ENV NAME value
            words = [f"{words[0]}={' '.join(words[1:])}"]
        for w in words:
            name, eq, value = w.partition("=")
            if eq and secret_name(name) and literal_value(value) and name not in env_now:
                yield f"{instr} {name}"
        return
    for name, value in args:
        if secret_name(name) and literal_value(value):
            yield f"build argument {name}"
    if not script:
        return
    for c in commands(script):
        for w in c.raw:
            name, eq, value = w.partition("=")
            if eq and _identifier(name) and secret_name(name) and literal_value(value):
                yield f"variable {name}"
        argv = c.argv
        for i, w in enumerate(argv):
            if not w.startswith("--"):
                continue
            name, eq, value = w[2:].partition("=")
            if not secret_name(name):
                continue
            if not eq:
                value = argv[i + 1] if i + 1 < len(argv) else ""
            if literal_value(value) and not value.startswith("-"):
                yield f"option --{name} of {c.name}"


def _history(
    config: Mapping[str, Any], cfg: Mapping[str, Any], diff_ids: Sequence[str]
) -> Iterator[Misconfiguration]:
    history = config.get("history")
    if history is None:
        return
    if not isinstance(history, list):
        raise _bad("history", f"{_kind(history)}, not a list")
    env_now = set()  # variables the config still holds a literal secret in (reported from there)
    for item in _strings(cfg.get("Env"), "config.Env"):
        name, _, value = item.partition("=")
        if secret_name(name) and literal_value(value):
            env_now.add(name)
    layer_index = 0
    for i, h in enumerate(history):
        if not isinstance(h, Mapping):
            raise _bad(f"history[{i}]", f"{_kind(h)}, not an object")
        empty = h.get("empty_layer", False)
        layer = ""
        if not empty:
            layer = diff_ids[layer_index] if layer_index < len(diff_ids) else ""
            layer_index += 1
        created_by = _string(h.get("created_by"), f"history[{i}].created_by")
        if not created_by:
            continue
        loc = Location(field=f"history[{i}]", layer=layer)
        instr, rest = split_history(created_by[: 1024 * 1024])
        args: list[tuple[str, str]] = []
        script = ""
        if instr == "RUN":
            args, script = run_parts(rest)
        elif instr == "ADD":
            words = _words(rest)
            checksum = any(w.startswith("--checksum") for w in words)
            sources = [w for w in words if not w.startswith("--")][:-1]
            for src in sources:
                if _remote(src) and not checksum:
                    yield Misconfiguration(
                        REMOTE_ADD,
                        f"history[{i}] adds {src} from the network without a checksum",
                        loc,
                        HISTORY,
                    )
        if script:
            dl = _downloader_fed(script)
            if dl:
                yield Misconfiguration(
                    PIPE_TO_SHELL, f"history[{i}] runs a script downloaded with {dl} in a shell", loc, HISTORY
                )
        for what in dict.fromkeys(_history_secrets(instr, rest, env_now, args, script)):
            yield Misconfiguration(
                SECRET_HISTORY, f"history[{i}] records a literal value for {what}", loc, HISTORY
            )


# ---------------------------------------------------------------------------- files


def distro_setid(path: str) -> bool:
    """Whether a distribution installs this path setuid/setgid (by name at its usual place)."""
    slash = path.rfind("/")
    directory, base = path[:slash], path[slash + 1 :]
    if directory in _SYSTEM_BIN:
        return base in _DISTRO_SETID_BIN
    return base in _DISTRO_SETID_HELPERS and path.startswith(_HELPER_DIRS)


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover


def _files(files: Sequence[FileFact]) -> Iterator[Misconfiguration]:
    caches: dict[tuple[str, str], int] = {}
    for f in files:
        loc = Location(path=f.path, layer=f.layer)
        shown = "/" + f.path
        if f.what in (filefacts.SETUID, filefacts.SETGID):
            bits = f"{f.mode & 0o7777:04o}"
            if distro_setid(f.path):
                yield Misconfiguration(
                    SETID_DISTRO,
                    f"{shown} is {f.what} (mode {bits}), as distributions install it",
                    loc,
                    FILES,
                )
            else:
                yield Misconfiguration(
                    SETID_UNKNOWN,
                    f"{shown} is {f.what} (mode {bits}); no distribution installs it so",
                    loc,
                    FILES,
                )
        elif f.what == filefacts.WORLD_WRITABLE:
            if f.mode & 0o170000 == 0o040000:
                yield Misconfiguration(
                    WORLD_WRITABLE_DIR,
                    f"{shown} is a world-writable directory without the sticky bit (mode {f.mode & 0o7777:04o})",
                    loc,
                    FILES,
                )
            else:
                yield Misconfiguration(
                    WORLD_WRITABLE_FILE,
                    f"{shown} is world-writable (mode {f.mode & 0o7777:04o})",
                    loc,
                    FILES,
                )
        elif f.what == filefacts.TOOL:
            kind = filefacts.TOOLS.get(f.path.rsplit("/", 1)[-1], "")
            rule = _TOOL_RULES.get(kind)
            if rule is not None:
                yield Misconfiguration(rule, f"{shown} is installed ({kind} tool)", loc, FILES)
        elif f.what == filefacts.CACHE:
            caches[f.path, f.layer] = caches.get((f.path, f.layer), 0) + f.size
    for (path, layer), size in caches.items():
        yield Misconfiguration(
            CACHE,
            f"package manager cache /{path} holds {_human(size)}",
            Location(path=path, layer=layer),
            FILES,
        )


def _capped(findings: Iterable[Misconfiguration]) -> list[Misconfiguration]:
    """At most MAX_PER_RULE findings per rule, then one that counts the rest."""
    out: list[Misconfiguration] = []
    seen: dict[str, int] = {}
    last: dict[str, Misconfiguration] = {}
    for m in findings:
        n = seen.get(m.rule.id, 0) + 1
        seen[m.rule.id] = n
        if n <= MAX_PER_RULE:
            out.append(m)
        last[m.rule.id] = m
    for rid, n in seen.items():
        if n > MAX_PER_RULE:
            m = last[rid]
            out.append(
                Misconfiguration(
                    m.rule,
                    f"... and {n - MAX_PER_RULE} more: {m.rule.title.lower()} (last: {m.message})",
                    m.location,
                    m.resource,
                )
            )
    return out


def check(
    config: Mapping[str, Any], files: Sequence[FileFact], diff_ids: Sequence[str] = ()
) -> list[Misconfiguration]:
    """Image config and hygiene misconfigurations. `config` is the image config JSON (OCI/Docker);
    `files` the squashed file facts with their layer; `diff_ids` the layers' diff_ids, bottom
    first (rootfs.diff_ids when not given). Raises ConfigError for an invalid config."""
    if not isinstance(config, Mapping):
        raise _bad("the document", f"{_kind(config)}, not an object")
    cfg = _mapping(config.get("config"), "config")
    if not diff_ids:
        rootfs = _mapping(config.get("rootfs"), "rootfs")
        diff_ids = _strings(rootfs.get("diff_ids"), "rootfs.diff_ids")
    found: list[Misconfiguration] = []
    for part in (_user, _healthcheck, _ports, _env, _labels, _entrypoint):
        found.extend(part(cfg))
    found.extend(_history(config, cfg, diff_ids))
    found.extend(_files(files))
    return _capped(found)


__all__ = ["MAX_PER_RULE", "RULES", "check", "distro_setid", "name_tokens", "secret_name", "split_history"]
