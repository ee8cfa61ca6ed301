"""Docker Compose files: recognise, parse (YAML 1.2, as docker compose reads it) and check each service.

No peer checks Compose natively (Checkov, Trivy and hadolint do not), so the rules follow Docker's
own defaults: the default capability set, the socket paths of the container runtimes, and the
`security_opt` values that switch a confinement off - plus the hardening a service leaves out
(no-new-privileges, read_only, a memory limit, cap_drop: [ALL]). A service is judged as Compose runs
it: `extends` of a service in the same file is merged first (mappings merged, sequences appended);
one extending a service of another file (not read here) is not judged on what it lacks. Anchors,
merge keys and `x-` fields are resolved by the YAML loader. The whole file is one input document, as
Conftest gives it to Rego policies; `meta["lines"]` maps field paths (`services.web.privileged`)
to lines.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator, Mapping
from typing import Any

from containment.checks import yamlload
from containment.checks.kubernetes import looks_like_secret_name
from containment.checks.kubernetes_rules import RUNTIME_SOCKET_DIRS, RUNTIME_SOCKETS
from containment.checks.yamlload import index, join, line_of
from containment.model import ConfigDoc, Location, Misconfiguration, Rule

KIND = "compose"
_NAME = re.compile(r"(?:docker-)?compose(?:\.[^/]+)?\.ya?ml")

# Docker's default capability set (moby oci/caps/defaults.go): adding one of these changes nothing.
DOCKER_DEFAULT_CAPS = frozenset(
    [
        "CHOWN",
        "DAC_OVERRIDE",
        "FSETID",
        "FOWNER",
        "MKNOD",
        "NET_RAW",
        "SETGID",
        "SETUID",
        "SETFCAP",
        "SETPCAP",
        "NET_BIND_SERVICE",
        "SYS_CHROOT",
        "KILL",
        "AUDIT_WRITE",
    ]  # noqa: SIM905
)
ESCAPE_CAPS = frozenset(
    "ALL SYS_ADMIN SYS_MODULE SYS_PTRACE SYS_RAWIO DAC_READ_SEARCH BPF SYS_BOOT PERFMON".split()  # noqa: SIM905
)
# Ports whose service should never face every interface: ssh, docker API, databases, caches, brokers.
SENSITIVE_PORTS: Mapping[int, str] = {
    22: "ssh", 2375: "Docker API", 2376: "Docker API", 2379: "etcd", 3306: "MySQL", 5432: "PostgreSQL",
    6379: "Redis", 27017: "MongoDB", 9200: "Elasticsearch", 9300: "Elasticsearch", 11211: "memcached",
    5984: "CouchDB", 1433: "SQL Server", 1521: "Oracle", 9042: "Cassandra", 5672: "RabbitMQ",
    15672: "RabbitMQ management", 8086: "InfluxDB", 7000: "Cassandra", 26257: "CockroachDB",
}  # fmt: skip
_UNCONFINED = re.compile(r"(seccomp|apparmor|systempaths)[:=]unconfined|label[:=]disable", re.IGNORECASE)


def _rule(n: int, title: str, severity: str, rationale: str, remediation: str) -> Rule:
    return Rule(f"CTM-DC-{n:03d}", title, severity, KIND, rationale, remediation)


PRIVILEGED = _rule(
    1,
    "Privileged service",
    "HIGH",
    "privileged: true gives every capability and the host's devices: root on the host.",
    "Remove privileged: true; add only the capability the service needs.",
)
NETWORK_HOST = _rule(
    2,
    "Service uses the host network",
    "HIGH",
    "network_mode: host exposes the host's interfaces and loopback services to the container.",
    "Remove network_mode: host and publish the ports the service needs.",
)
PID_HOST = _rule(
    3,
    "Service shares the host PID namespace",
    "HIGH",
    "pid: host lets the container see and signal every process of the host.",
    "Remove pid: host.",
)
IPC_HOST = _rule(
    4,
    "Service shares the host IPC namespace",
    "HIGH",
    "ipc: host lets the container read the shared memory of host processes.",
    "Remove ipc: host.",
)
CAP_ESCAPE = _rule(
    5,
    "Capability that allows escaping the container",
    "CRITICAL",
    "ALL, SYS_ADMIN, SYS_MODULE, SYS_PTRACE, SYS_RAWIO, DAC_READ_SEARCH, BPF, SYS_BOOT and PERFMON "
    "each allow a container escape or host takeover.",
    "Remove the capability from cap_add.",
)
CAP_ADDED = _rule(
    6,
    "Capability added beyond Docker's default set",
    "MEDIUM",
    "Every capability outside Docker's default set widens what a compromised process can do.",
    "Remove it from cap_add, or document why the service needs it.",
)
RUNTIME_SOCKET = _rule(
    7,
    "Container runtime socket mounted",
    "CRITICAL",
    "The docker/containerd/CRI-O/podman socket (or a directory holding it) gives full control of the host.",
    "Do not mount the socket; use a socket proxy that allows only the calls needed.",
)
ENV_SECRET = _rule(
    8,
    "Secret as a literal environment value",
    "HIGH",
    "A credential written into the compose file is in the repository and in `docker inspect`.",
    "Use Compose secrets (secrets:), or a ${VARIABLE} from an .env file kept out of the repository.",
)
NO_USER = _rule(
    9,
    "Service runs as root (no user)",
    "MEDIUM",
    "Without user: the service runs as the image's user, root unless the image says otherwise.",
    "Set user: to a non-root UID:GID.",
)
UNCONFINED = _rule(
    10,
    "Confinement switched off in security_opt",
    "HIGH",
    "seccomp:unconfined, apparmor:unconfined, label:disable or systempaths=unconfined remove a "
    "layer of the runtime's protection.",
    "Remove the security_opt entry (or give a custom profile).",
)
IMAGE_TAG = _rule(
    11,
    "Image tag is latest or missing",
    "MEDIUM",
    "A moving tag gives a different image on every pull: what runs is not what was scanned.",
    "Pin a version tag, better a digest (image@sha256:...).",
)
PORT_EXPOSED = _rule(
    12,
    "Sensitive port published on all interfaces",
    "HIGH",
    "A database, ssh or Docker API port published without a host IP listens on 0.0.0.0 (and "
    "Docker's iptables rules bypass the host firewall).",
    'Publish on 127.0.0.1 ("127.0.0.1:5432:5432") or do not publish; use the compose network.',
)
DEVICES = _rule(
    13,
    "Host device mapped into the service",
    "MEDIUM",
    "A host device gives the container direct access to hardware or kernel interfaces.",
    "Remove the devices entry unless the service needs it.",
)
USERNS_HOST = _rule(14, "Service leaves the user namespace (userns_mode: host)", "HIGH",
                    "userns_mode: host turns off the daemon's user-namespace remapping: root inside is root outside.",
                    "Remove userns_mode: host.")  # fmt: skip
BUILD_ARG_SECRET = _rule(
    15,
    "Secret as a literal build argument",
    "HIGH",
    "Build arguments are written into the image's history (`docker history`) and into the compose "
    "file's repository: a credential passed as build.args leaks with every copy of the image.",
    "Use build.secrets (BuildKit secret mounts) and RUN --mount=type=secret in the Dockerfile.",
)
NO_NEW_PRIVILEGES = _rule(
    16,
    "no-new-privileges not set",
    "MEDIUM",
    "Without security_opt no-new-privileges:true a process can gain privileges through setuid and "
    "setcap binaries of the image (Kubernetes' allowPrivilegeEscalation: false).",
    'Add security_opt: ["no-new-privileges:true"].',
)
WRITABLE_ROOT = _rule(
    17,
    "Root file system is writable (no read_only)",
    "LOW",
    "A read-only root file system stops an intruder from dropping tools or changing binaries.",
    "Set read_only: true and mount tmpfs: where the service writes.",
)
NO_MEMORY_LIMIT = _rule(
    18,
    "No memory limit",
    "LOW",
    "Without deploy.resources.limits.memory (or mem_limit) one service can exhaust the host's memory.",
    "Set deploy.resources.limits.memory (and cpus, pids).",
)
CAPS_NOT_DROPPED = _rule(
    19,
    "Capabilities not dropped (cap_drop: [ALL])",
    "LOW",
    "Docker's default set keeps NET_RAW, MKNOD, SETUID, DAC_OVERRIDE and more; most services need none.",
    "Set cap_drop: [ALL] and cap_add only what the service needs.",
)
CONFIG_SECRET = _rule(
    20,
    "Secret as inline content of a config",
    "HIGH",
    "A top-level config with `content:` holds its text in the compose file; a credential there is in "
    "the repository (secrets: with file: or environment: keeps it out).",
    "Declare it under secrets: with file: or environment:, and give the service secrets: instead.",
)

RULES: tuple[Rule, ...] = (
    PRIVILEGED, NETWORK_HOST, PID_HOST, IPC_HOST, CAP_ESCAPE, CAP_ADDED, RUNTIME_SOCKET, ENV_SECRET, NO_USER,
    UNCONFINED, IMAGE_TAG, PORT_EXPOSED, DEVICES, USERNS_HOST, BUILD_ARG_SECRET, NO_NEW_PRIVILEGES,
    WRITABLE_ROOT, NO_MEMORY_LIMIT, CAPS_NOT_DROPPED, CONFIG_SECRET,
)  # fmt: skip
# Rules about something absent: not judged on a service extending one in another file (not read here).
ABSENCE_RULES = frozenset(
    {NO_USER.id, NO_NEW_PRIVILEGES.id, WRITABLE_ROOT.id, NO_MEMORY_LIMIT.id, CAPS_NOT_DROPPED.id}
)


def is_compose(path: str) -> bool:
    """compose.yaml, docker-compose.yml and their overrides (docker-compose.prod.yml, compose.override.yaml)."""
    return _NAME.fullmatch(posixpath.basename(path).lower()) is not None


def parse(path: str, data: bytes) -> ConfigDoc | None:
    """The Compose file as one input (None when it has no services mapping: not a Compose file)."""
    for doc in yamlload.load(path, data, yaml12=True):
        if isinstance(doc.data, dict) and isinstance(doc.data.get("services"), dict):
            return ConfigDoc(
                path, KIND, (doc.data,), {"lines": [doc.lines], "start": [1], "end": [doc.ends.get("", 0)]}
            )
    return None


def _list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else []


def _dict(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def _at(prefix: str, suffix: str) -> str:
    return prefix + suffix if suffix.startswith("[") else join(prefix, suffix)


def _cap(c: Any) -> str:
    return str(c).upper().removeprefix("CAP_")


def _host_path(src: str) -> str:
    return posixpath.normpath("/" + src.lstrip("/")) if src.startswith("/") else ""


def _bound_device(volume: Any) -> str:
    """The host path a named volume binds (local driver, driver_opts o: bind, device: /path), else ""."""
    opts = volume.get("driver_opts") if isinstance(volume, dict) else None
    if (
        isinstance(opts, dict)
        and "bind" in str(opts.get("o", "")).split(",")
        and isinstance(opts.get("device"), str)
    ):
        return str(opts["device"])
    return ""


def _source(src: str, named: Mapping[str, Any]) -> str:
    """A mount source as a host path: absolute paths normalised, ${VAR}/docker.sock and ./x kept as written
    (their base name still tells), named volumes resolved to the device they bind ("" when none)."""
    if src.startswith("/"):
        return _host_path(src)
    if "/" in src or src.startswith(("$", ".", "~")):
        return src
    return _host_path(_bound_device(named.get(src)))


def _volumes(svc: dict[str, Any], at: str, named: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(host source, field path) of each bind mount, short and long syntax."""
    for i, v in enumerate(_list(svc.get("volumes"))):
        vat = index(join(at, "volumes"), i)
        if isinstance(v, str):
            yield _source(v.split(":", 1)[0], named), vat
        elif (
            isinstance(v, dict)
            and isinstance(v.get("source"), str)
            and v.get("type") in ("bind", "volume", None)
        ):
            yield _source(v["source"], named), join(vat, "source")


def _pairs(value: Any) -> Iterator[tuple[str, Any, str]]:
    """(key, value, key path suffix) of a mapping or a KEY=VALUE list (environment, build.args)."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield str(k), v, str(k)
    for i, e in enumerate(_list(value)):
        if isinstance(e, str) and "=" in e:
            k, _, v = e.partition("=")
            yield k, v, f"[{i}]"


def _literal_secret(name: str, value: Any) -> bool:
    return (
        isinstance(value, str)
        and bool(value.strip())
        and "$" not in value
        and not value.startswith("/")
        and looks_like_secret_name(name)
    )


def _ports(p: Any) -> tuple[str, list[int]]:
    """(host ip, container ports) of one ports entry; ip "" means every interface."""
    if isinstance(p, dict):
        target = p.get("target")
        ports = [target] if isinstance(target, int) else _port_range(str(target or ""))
        return str(p.get("host_ip") or ""), ports
    s = str(p).split("/", 1)[0]
    ip = ""
    if s.startswith("["):
        ip, _, s = s[1:].partition("]")
        s = s.lstrip(":")
    parts = s.split(":")
    if len(parts) == 3:
        ip = parts[0]
    elif ip and len(parts) == 1:  # "[::1]:8080" would be host:port without container; ignore
        return ip, []
    return ip, _port_range(parts[-1])


def _port_range(s: str) -> list[int]:
    lo, _, hi = s.partition("-")
    try:
        a = int(lo)
        b = int(hi) if hi else a
    except ValueError:
        return []
    return [n for n in SENSITIVE_PORTS if a <= n <= b]


def _service(svc: dict[str, Any], at: str, named: Mapping[str, Any]) -> Iterator[tuple[Rule, str, str]]:
    if svc.get("privileged") is True:
        yield PRIVILEGED, join(at, "privileged"), "privileged: true"
    for fld, rule in (
        ("network_mode", NETWORK_HOST),
        ("pid", PID_HOST),
        ("ipc", IPC_HOST),
        ("userns_mode", USERNS_HOST),
    ):
        if svc.get(fld) == "host":
            yield rule, join(at, fld), f"{fld}: host"
    for i, c in enumerate(_list(svc.get("cap_add"))):
        cap = _cap(c)
        if cap in ESCAPE_CAPS:
            yield CAP_ESCAPE, index(join(at, "cap_add"), i), f"cap_add {cap}"
        elif cap not in DOCKER_DEFAULT_CAPS:
            yield CAP_ADDED, index(join(at, "cap_add"), i), f"cap_add {cap}"
    for src, fat in _volumes(svc, at, named):
        if src and (posixpath.basename(src) in RUNTIME_SOCKETS or src in RUNTIME_SOCKET_DIRS):
            yield RUNTIME_SOCKET, fat, f"mounts {src} (container runtime socket)"
    for k, v, suffix in _pairs(svc.get("environment")):
        if _literal_secret(k, v):
            yield ENV_SECRET, _at(join(at, "environment"), suffix), f"environment {k} holds a literal secret"
    build = svc.get("build")
    for k, v, suffix in _pairs(build.get("args") if isinstance(build, dict) else None):
        if _literal_secret(k, v):
            yield (
                BUILD_ARG_SECRET,
                _at(join(join(at, "build"), "args"), suffix),
                f"build arg {k} holds a literal secret",
            )
    opts = [str(o).strip().replace("=", ":") for o in _list(svc.get("security_opt"))]
    if (
        not any(o in ("no-new-privileges", "no-new-privileges:true") for o in opts)
        and svc.get("privileged") is not True
    ):
        yield (
            NO_NEW_PRIVILEGES,
            join(at, "security_opt") if "security_opt" in svc else at,
            "no-new-privileges not set",
        )
    if svc.get("read_only") is not True:
        yield (
            WRITABLE_ROOT,
            join(at, "read_only") if "read_only" in svc else at,
            "root file system is writable",
        )
    limits = _dict(_dict(_dict(svc.get("deploy")).get("resources")).get("limits"))
    if not limits.get("memory") and not svc.get("mem_limit"):
        yield NO_MEMORY_LIMIT, at, "no memory limit (deploy.resources.limits.memory or mem_limit)"
    if not any(_cap(c) == "ALL" for c in _list(svc.get("cap_drop"))) and svc.get("privileged") is not True:
        yield (
            CAPS_NOT_DROPPED,
            join(at, "cap_drop") if "cap_drop" in svc else at,
            "does not drop ALL capabilities",
        )
    user = svc.get("user")
    if user is None:
        yield NO_USER, at, "no user: runs as the image's user (root unless the image sets one)"
    elif str(user).split(":", 1)[0] in ("root", "0"):
        yield NO_USER, join(at, "user"), f"user: {user}"
    for i, o in enumerate(_list(svc.get("security_opt"))):
        if _UNCONFINED.fullmatch(str(o).strip()):
            yield UNCONFINED, index(join(at, "security_opt"), i), f"security_opt {o}"
    image = svc.get("image")
    if isinstance(image, str) and image.strip() and "$" not in image:
        ref, _, digest = image.strip().partition("@")
        tag = ref.rsplit(":", 1)[1] if ref.rfind(":") > ref.rfind("/") else ""
        if not digest and tag in ("", "latest"):
            yield IMAGE_TAG, join(at, "image"), f"image {image} has {'tag latest' if tag else 'no tag'}"
    for i, p in enumerate(_list(svc.get("ports"))):
        ip, ports = _ports(p)
        if ip in ("", "0.0.0.0", "::", "[::]") and ports:
            what = ", ".join(f"{n} ({SENSITIVE_PORTS[n]})" for n in ports)
            yield PORT_EXPOSED, index(join(at, "ports"), i), f"publishes {what} on all interfaces"
    for i, _d in enumerate(_list(svc.get("devices"))):
        yield DEVICES, index(join(at, "devices"), i), f"maps host device {_d}"


def _merge(base: Any, own: Any) -> Any:
    """Compose's merge of an extended service: mappings merged, sequences appended, scalars overridden."""
    if isinstance(base, dict) and isinstance(own, dict):
        out = dict(base)
        for k, v in own.items():
            out[k] = _merge(base[k], v) if k in base else v
        return out
    if isinstance(base, list) and isinstance(own, list):
        return base + [x for x in own if x not in base]
    return own


def _resolve(
    services: Mapping[str, Any], name: str, seen: tuple[str, ...] = ()
) -> tuple[dict[str, Any], str]:
    """The service as Compose runs it after `extends` within this file, and the service (or file) it
    extends that this file does not hold ("" when every base was found)."""
    svc = _dict(services.get(name))
    ext = svc.get("extends")
    if ext is None:
        return svc, ""
    base_name = ext if isinstance(ext, str) else str(_dict(ext).get("service", ""))
    own = {k: v for k, v in svc.items() if k != "extends"}
    if isinstance(ext, dict) and ext.get("file"):
        return own, f"{ext.get('file')}:{base_name}"
    if base_name not in services or base_name in seen or len(seen) > 20:
        return own, base_name
    base, missing = _resolve(services, base_name, (*seen, name))
    return _merge(base, own), missing


def _configs(data: Mapping[str, Any]) -> Iterator[tuple[Rule, str, str, str]]:
    """Credentials written inline in top-level configs (content:)."""
    for name, cfg in _dict(data.get("configs")).items():
        content = _dict(cfg).get("content")
        if not isinstance(content, str):
            continue
        at = join(join("configs", str(name)), "content")
        keys = [line.strip().partition("=")[::2] for line in content.splitlines() if "=" in line]
        keys += [
            line.strip().partition(":")[::2]
            for line in content.splitlines()
            if ":" in line and "=" not in line
        ]
        if (looks_like_secret_name(str(name)) and content.strip() and "$" not in content) or any(
            _literal_secret(k.strip().strip("\"'"), v.strip().strip("\"'")) for k, v in keys
        ):
            yield CONFIG_SECRET, at, f"config {name}", f"config {name}: inline content holds a credential"


def check(doc: ConfigDoc) -> list[Misconfiguration]:
    """Every finding of every service (after `extends` in the same file) and top-level config of a parsed
    Compose file. A service extending one in another file is not judged on what it lacks."""
    out: list[Misconfiguration] = []
    all_lines = doc.meta.get("lines", []) if isinstance(doc.meta, Mapping) else []

    def add(rule: Rule, fld: str, resource: str, message: str, lines: Mapping[str, int]) -> None:
        line = line_of(lines, fld)
        out.append(Misconfiguration(rule, message, Location(doc.path, line, line, doc.layer, fld), resource))

    for n, data in enumerate(doc.inputs):
        lines: Mapping[str, int] = (
            all_lines[n] if n < len(all_lines) and isinstance(all_lines[n], dict) else {}
        )
        services = data.get("services") if isinstance(data, dict) else None
        if not isinstance(services, dict):
            continue
        named = _dict(data.get("volumes"))
        for name, raw in services.items():
            if not isinstance(raw, dict):
                continue
            svc, missing = _resolve(services, str(name))
            at = join("services", str(name))
            for rule, fld, msg in _service(svc, at, named):
                if missing and rule.id in ABSENCE_RULES:
                    continue  # what it lacks may come from the service it extends elsewhere
                inherited = "" if fld == at or _first_key(fld, at) in raw else " (inherited through extends)"
                add(rule, fld, f"service {name}", f"service {name}: {msg}{inherited}", lines)
        for rule, fld, resource, msg in _configs(data):
            add(rule, fld, resource, msg, lines)
    return out


def _first_key(fld: str, at: str) -> str:
    """The service key a field path under `at` starts with (`services.web.ports[0]` -> `ports`)."""
    rest = fld[len(at) :].lstrip(".")
    for sep in ".[":
        rest = rest.split(sep, 1)[0]
    return rest


__all__ = ["KIND", "RULES", "check", "is_compose", "parse"]
