"""Kubernetes manifests: parse (multi-document YAML or JSON, List objects expanded) and check.

What is checked: every workload kind (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet,
ReplicationController, Job, CronJob, PodTemplate, OpenShift DeploymentConfig) and every container
of it (containers, initContainers, ephemeralContainers) against the Pod Security Standards
(https://kubernetes.io/docs/concepts/security/pod-security-standards/), control by control as the
document lists them for the baseline and restricted profiles, plus hygiene rules the peers check
(resources, read-only root filesystem, image tag/digest/pull policy, secrets in env literals,
service account token automount, default namespace, probes, security contexts, NET_RAW, the
dashboard, Tiller and git-sync's binary override). Objects that are not workloads are checked too:
default service accounts and bindings to them, RBAC roles (wildcards, webhook control, CSR approval,
bind, escalate), Services (externalIPs, NodePort, Tiller) and NGINX Ingress snippets. `pss_level`
tells the strictest profile a workload meets, from the same control evaluators the findings come from.
The rule table lives in checks/kubernetes_rules.py; RULES is re-exported here.

Rule ids are CTM-K8S-nnn; aliases are Checkov's CKV_K8S_n (conditions read from checkov's
checkov/kubernetes/checks/resource/k8s/*.py) and "pss:<profile>:<control name>". Where one of our
rules is narrower or stricter than Checkov's, the rationale says how.

Helm templates (text with `{{` that is not YAML) are not manifests: parse returns None for them.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from containment.checks import yamlload
from containment.checks.kubernetes_rules import (
    APPARMOR,
    BASELINE_CAPABILITIES,
    CAPS_BASELINE,
    CAPS_DROP_ALL,
    CAPS_RESTRICTED,
    CAPS_SYS_ADMIN,
    CONTAINER_SECURITY_CONTEXT,
    CPU_LIMITS,
    CPU_REQUESTS,
    DASHBOARD,
    DEFAULT_NAMESPACE,
    DEFAULT_SA_AUTOMOUNT,
    DEFAULT_SA_BOUND,
    DROP_ALL_CASE,
    ENV_FROM_SECRET,
    ENV_SECRET_LITERAL,
    GIT_SYNC_GIT,
    HOST_IPC,
    HOST_NETWORK,
    HOST_PATH,
    HOST_PID,
    HOST_PORT,
    HOST_PROCESS,
    IMAGE_DIGEST,
    IMAGE_TAG,
    INGRESS_SNIPPET,
    INGRESS_SNIPPET_ALIAS,
    INGRESS_SNIPPET_LUA,
    KIND,
    LIVENESS_PROBE,
    LOW_UID,
    MEMORY_LIMITS,
    MEMORY_REQUESTS,
    NET_RAW,
    POD_SECURITY_CONTEXT,
    PRIV_ESCALATION,
    PRIVILEGED,
    PROC_MOUNT,
    PULL_POLICY,
    RBAC_BIND,
    RBAC_CSR_APPROVE,
    RBAC_ESCALATE,
    RBAC_WEBHOOKS,
    RBAC_WILDCARD,
    READ_ONLY_ROOT,
    READINESS_PROBE,
    RESTRICTED_VOLUMES,
    RULES,
    RUN_AS_NON_ROOT,
    RUN_AS_ROOT_USER,
    RUNTIME_SOCKET,
    RUNTIME_SOCKET_DIRS,
    RUNTIME_SOCKETS,
    SA_TOKEN,
    SAFE_SYSCTLS,
    SECCOMP_UNCONFINED,
    SECCOMP_UNSET,
    SELINUX,
    SELINUX_TYPES,
    SERVICE_EXTERNAL_IPS,
    SERVICE_NODE_PORT,
    SYSCTLS,
    TILLER,
    TILLER_LISTEN,
    TILLER_SERVICE,
    VOLUME_TYPES,
    profile,
)
from containment.checks.yamlload import index, join, line_of
from containment.model import ConfigDoc, ConfigError, Location, Misconfiguration, Rule

# kind -> path of the pod template (its metadata and spec); Pod is the template itself.
TEMPLATE_PATHS: Mapping[str, str] = {
    "Pod": "",
    "PodTemplate": "template",
    "Deployment": "spec.template",
    "StatefulSet": "spec.template",
    "DaemonSet": "spec.template",
    "ReplicaSet": "spec.template",
    "ReplicationController": "spec.template",
    "Job": "spec.template",
    "DeploymentConfig": "spec.template",
    "CronJob": "spec.jobTemplate.spec.template",
}
CONTAINER_FIELDS = ("initContainers", "containers", "ephemeralContainers")

# Namespaced kinds whose objects land in the default namespace when metadata.namespace is unset.
NAMESPACED_KINDS = frozenset(
    set(TEMPLATE_PATHS)
    | {
        "Service",
        "Secret",
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "ConfigMap",
        "Ingress",
        "NetworkPolicy",
        "PersistentVolumeClaim",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "LimitRange",
        "ResourceQuota",
        "Endpoints",
        "EndpointSlice",
        "Lease",
    }
)


# ------------------------------------------------------------------------------------------ parse


def _is_object(d: Any) -> bool:
    """An object with apiVersion and kind; not a kustomize deletion patch (`$patch: delete`), which
    names an object to remove and describes nothing that runs."""
    return (
        isinstance(d, dict)
        and isinstance(d.get("apiVersion"), str)
        and isinstance(d.get("kind"), str)
        and d.get("$patch") != "delete"
    )


def _json_docs(path: str, data: bytes) -> list[yamlload.YamlDoc]:
    """JSON that PyYAML cannot read (tab indentation, escaped surrogate pairs): no lines, but the data."""
    if len(data) > yamlload.MAX_BYTES:
        raise ConfigError(f"{path}: JSON file over the {yamlload.MAX_BYTES}-byte limit; split it")
    try:
        value = json.loads(data)
    except (ValueError, RecursionError) as e:
        raise ConfigError(f"{path}: invalid JSON ({' '.join(str(e).split())}); fix the syntax") from None
    return [yamlload.YamlDoc(value)]


def parse(path: str, data: bytes) -> ConfigDoc | None:
    """The Kubernetes objects of a manifest file (None when it holds none, or is a Helm template)."""
    try:
        docs = yamlload.load(path, data)
    except ConfigError:
        if b"{{" in data:
            return None  # a Go/Helm template: render it first (helm template) and scan the output
        if (path.lower().endswith(".json") or data.lstrip()[:1] in (b"{", b"[")) and b"\x00" not in data:
            docs = _json_docs(path, data)
        else:
            raise
    inputs: list[Any] = []
    lines: list[dict[str, int]] = []
    starts: list[int] = []
    ends: list[int] = []

    def add(obj: dict[str, Any], at: str, doc: yamlload.YamlDoc) -> None:
        inputs.append(obj)
        lines.append(yamlload.sub_map(doc.lines, at))
        starts.append(doc.lines.get(at, 0))
        ends.append(doc.ends.get(at, 0))

    for doc in docs:
        items = doc.data if isinstance(doc.data, list) and not _is_object(doc.data) else None
        if items is None and _is_object(doc.data):
            kind = doc.data["kind"]
            if kind.endswith("List") and isinstance(doc.data.get("items"), list):
                for i, item in enumerate(doc.data["items"]):
                    if _is_object(item):
                        add(item, index("items", i), doc)
            else:
                add(doc.data, "", doc)
        elif items is not None:  # a bare JSON/YAML array of objects
            for i, item in enumerate(items):
                if _is_object(item):
                    add(item, index("", i), doc)
    if not inputs:
        return None
    return ConfigDoc(path, KIND, tuple(inputs), {"lines": lines, "start": starts, "end": ends})


# ------------------------------------------------------------------------------------------ model


@dataclass
class _Container:
    kind: str  # containers | initContainers | ephemeralContainers
    name: str
    at: str  # field path
    c: dict[str, Any]

    @property
    def sc(self) -> dict[str, Any]:
        return _dict(self.c.get("securityContext"))


@dataclass
class _Pod:
    obj: dict[str, Any]
    kind: str
    name: str
    spec: dict[str, Any]
    spec_at: str
    meta: dict[str, Any]
    meta_at: str
    containers: list[_Container]

    @property
    def psc(self) -> dict[str, Any]:
        return _dict(self.spec.get("securityContext"))

    @property
    def windows(self) -> bool:
        return _dict(self.spec.get("os")).get("name") == "windows"


def _dict(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def _list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else []


def _get(d: Any, dotted: str) -> Any:
    for part in dotted.split(".") if dotted else ():
        if not isinstance(d, dict):
            return None
        d = d.get(part)
    return d


def _pod(obj: Mapping[str, Any]) -> _Pod | None:
    kind = obj.get("kind")
    if not isinstance(kind, str) or kind not in TEMPLATE_PATHS:
        return None
    tpath = TEMPLATE_PATHS[kind]
    template = obj if not tpath else _get(obj, tpath)
    if not isinstance(template, dict) or not isinstance(template.get("spec"), dict):
        return None
    spec_at = join(tpath, "spec")
    spec = template["spec"]
    containers: list[_Container] = []
    for ck in CONTAINER_FIELDS:
        for i, c in enumerate(_list(spec.get(ck))):
            if isinstance(c, dict):
                containers.append(_Container(ck, str(c.get("name", i)), index(join(spec_at, ck), i), c))
    name = str(_dict(obj.get("metadata")).get("name", ""))
    return _Pod(
        dict(obj),
        kind,
        name,
        spec,
        spec_at,
        _dict(template.get("metadata")),
        join(tpath, "metadata"),
        containers,
    )


@dataclass
class _Hit:
    rule: Rule
    field: str
    message: str
    container: str = ""


def _sc_at(c: _Container, *rest: str) -> str:
    at = join(c.at, "securityContext")
    for r in rest:
        at = join(at, r)
    return at


# ------------------------------------------------------------------------------------------ PSS


def _pss(p: _Pod) -> Iterator[_Hit]:
    """Every Pod Security Standards violation of one workload (baseline, then restricted)."""
    spec, psc, sat = p.spec, p.psc, p.spec_at
    psc_at = join(sat, "securityContext")
    # HostProcess
    if _dict(psc.get("windowsOptions")).get("hostProcess") is True:
        yield _Hit(
            HOST_PROCESS,
            join(join(psc_at, "windowsOptions"), "hostProcess"),
            "pod runs as Windows HostProcess",
        )
    for c in p.containers:
        if _dict(c.sc.get("windowsOptions")).get("hostProcess") is True:
            yield _Hit(
                HOST_PROCESS,
                _sc_at(c, "windowsOptions", "hostProcess"),
                "runs as Windows HostProcess",
                c.name,
            )
    # Host Namespaces
    for fld, rule in (("hostNetwork", HOST_NETWORK), ("hostPID", HOST_PID), ("hostIPC", HOST_IPC)):
        if spec.get(fld) is True:
            yield _Hit(rule, join(sat, fld), f"{fld}: true")
    # Privileged Containers
    for c in p.containers:
        if c.sc.get("privileged") is True:
            yield _Hit(PRIVILEGED, _sc_at(c, "privileged"), "is privileged", c.name)
    # Capabilities (baseline and restricted)
    for c in p.containers:
        caps = _dict(c.sc.get("capabilities"))
        add_at = _sc_at(c, "capabilities", "add")
        for i, cap in enumerate(_list(caps.get("add"))):
            cap_s = str(cap)
            if cap_s.upper().removeprefix("CAP_") == "SYS_ADMIN":
                yield _Hit(CAPS_SYS_ADMIN, index(add_at, i), "adds capability SYS_ADMIN", c.name)
            elif cap_s not in BASELINE_CAPABILITIES:
                yield _Hit(CAPS_BASELINE, index(add_at, i), f"adds capability {cap_s}", c.name)
            elif cap_s != "NET_BIND_SERVICE" and not p.windows:
                yield _Hit(CAPS_RESTRICTED, index(add_at, i), f"adds capability {cap_s}", c.name)
        drops = [str(d) for d in _list(caps.get("drop"))]
        if p.windows:
            continue
        if not any(d.upper() == "ALL" for d in drops):
            yield _Hit(
                CAPS_DROP_ALL, _sc_at(c, "capabilities", "drop"), "does not drop ALL capabilities", c.name
            )
        elif "ALL" not in drops:
            i = next(i for i, d in enumerate(drops) if d.upper() == "ALL")
            yield _Hit(
                DROP_ALL_CASE,
                index(_sc_at(c, "capabilities", "drop"), i),
                f"drops {drops[i]!r}: Pod Security admission wants 'ALL'",
                c.name,
            )
    # HostPath Volumes, Volume Types
    for i, v in enumerate(_list(spec.get("volumes"))):
        if not isinstance(v, dict):
            continue
        vat = index(join(sat, "volumes"), i)
        vname = str(v.get("name", i))
        if "hostPath" in v:
            hp = str(_dict(v.get("hostPath")).get("path", ""))
            yield _Hit(HOST_PATH, join(vat, "hostPath"), f"volume {vname} mounts host path {hp}")
        bad = [k for k in v if k != "name" and k not in RESTRICTED_VOLUMES]
        if bad:
            yield _Hit(VOLUME_TYPES, join(vat, bad[0]), f"volume {vname} is of type {bad[0]}")
    # Host Ports
    for c in p.containers:
        for i, port in enumerate(_list(c.c.get("ports"))):
            hport = _dict(port).get("hostPort")
            if hport not in (None, 0, "0"):
                yield _Hit(
                    HOST_PORT,
                    join(index(join(c.at, "ports"), i), "hostPort"),
                    f"binds hostPort {hport}",
                    c.name,
                )
    # AppArmor
    for who, sc, at in [("pod", psc, psc_at)] + [
        (c.name, c.sc, join(c.at, "securityContext")) for c in p.containers
    ]:
        t = _dict(sc.get("appArmorProfile")).get("type")
        if t is not None and t not in ("RuntimeDefault", "Localhost"):
            yield _Hit(
                APPARMOR,
                join(join(at, "appArmorProfile"), "type"),
                f"AppArmor profile {t}",
                "" if who == "pod" else who,
            )
    for key, value in _dict(p.meta.get("annotations")).items():
        if key.startswith("container.apparmor.security.beta.kubernetes.io/") and not (
            value in ("", "runtime/default") or str(value).startswith("localhost/")
        ):
            yield _Hit(
                APPARMOR,
                join(join(p.meta_at, "annotations"), key),
                f"AppArmor annotation {key}: {value}",
                key.split("/", 1)[1],
            )
    # SELinux
    for who, sc, at in [("", psc, psc_at)] + [
        (c.name, c.sc, join(c.at, "securityContext")) for c in p.containers
    ]:
        se = sc.get("seLinuxOptions")
        if not isinstance(se, dict):
            continue
        se_at = join(at, "seLinuxOptions")
        if str(se.get("type") or "") not in SELINUX_TYPES:
            yield _Hit(SELINUX, join(se_at, "type"), f"SELinux type {se.get('type')}", who)
        for fld in ("user", "role"):
            if se.get(fld):
                yield _Hit(SELINUX, join(se_at, fld), f"SELinux {fld} {se.get(fld)}", who)
    # /proc Mount Type
    for c in p.containers:
        pm = c.sc.get("procMount")
        if pm is not None and pm != "Default":
            yield _Hit(PROC_MOUNT, _sc_at(c, "procMount"), f"procMount {pm}", c.name)
    # Seccomp (baseline: not Unconfined; restricted: RuntimeDefault or Localhost everywhere)
    pod_sp = _dict(psc.get("seccompProfile")).get("type")
    if pod_sp == "Unconfined":
        yield _Hit(
            SECCOMP_UNCONFINED, join(join(psc_at, "seccompProfile"), "type"), "pod seccomp profile Unconfined"
        )
    ann = _dict(p.meta.get("annotations"))
    for key, value in ann.items():
        if (
            key == "seccomp.security.alpha.kubernetes.io/pod"
            or key.startswith("container.seccomp.security.alpha.kubernetes.io/")
        ) and value == "unconfined":
            yield _Hit(
                SECCOMP_UNCONFINED, join(join(p.meta_at, "annotations"), key), f"annotation {key}: unconfined"
            )
    for c in p.containers:
        t = _dict(c.sc.get("seccompProfile")).get("type")
        if t == "Unconfined":
            yield _Hit(
                SECCOMP_UNCONFINED, _sc_at(c, "seccompProfile", "type"), "seccomp profile Unconfined", c.name
            )
        elif not p.windows and t is None and pod_sp not in ("RuntimeDefault", "Localhost", "Unconfined"):
            yield _Hit(SECCOMP_UNSET, _sc_at(c, "seccompProfile"), "has no seccomp profile", c.name)
        elif not p.windows and t is not None and t not in ("RuntimeDefault", "Localhost"):
            yield _Hit(SECCOMP_UNSET, _sc_at(c, "seccompProfile", "type"), f"seccomp profile {t}", c.name)
    if pod_sp is not None and pod_sp not in ("RuntimeDefault", "Localhost", "Unconfined") and not p.windows:
        yield _Hit(
            SECCOMP_UNSET, join(join(psc_at, "seccompProfile"), "type"), f"pod seccomp profile {pod_sp}"
        )
    # Sysctls
    for i, s in enumerate(_list(psc.get("sysctls"))):
        name = _dict(s).get("name")
        if name not in SAFE_SYSCTLS:
            yield _Hit(SYSCTLS, join(index(join(psc_at, "sysctls"), i), "name"), f"sets sysctl {name}")
    # Privilege Escalation (restricted, Linux only)
    for c in p.containers:
        if not p.windows and c.sc.get("allowPrivilegeEscalation") is not False:
            yield _Hit(
                PRIV_ESCALATION,
                _sc_at(c, "allowPrivilegeEscalation"),
                "does not set allowPrivilegeEscalation: false",
                c.name,
            )
    # Running as Non-root
    pod_nr = psc.get("runAsNonRoot")
    if pod_nr is False:
        yield _Hit(RUN_AS_NON_ROOT, join(psc_at, "runAsNonRoot"), "pod sets runAsNonRoot: false")
    for c in p.containers:
        nr = c.sc.get("runAsNonRoot")
        if nr is False:
            yield _Hit(RUN_AS_NON_ROOT, _sc_at(c, "runAsNonRoot"), "sets runAsNonRoot: false", c.name)
        elif nr is not True and pod_nr is not True and pod_nr is not False:
            yield _Hit(
                RUN_AS_NON_ROOT, _sc_at(c, "runAsNonRoot"), "may run as root (runAsNonRoot not true)", c.name
            )
    # Running as Non-root user
    if psc.get("runAsUser") == 0:
        yield _Hit(RUN_AS_ROOT_USER, join(psc_at, "runAsUser"), "pod runs as UID 0")
    for c in p.containers:
        if c.sc.get("runAsUser") == 0:
            yield _Hit(RUN_AS_ROOT_USER, _sc_at(c, "runAsUser"), "runs as UID 0", c.name)


def pss_level(obj: Mapping[str, Any]) -> str:
    """The strictest Pod Security Standards profile the workload meets: "restricted", "baseline" or
    "privileged"; "" when `obj` is not a workload."""
    p = _pod(obj)
    if p is None:
        return ""
    profiles = {profile(h.rule) for h in _pss(p)}
    if "baseline" in profiles:
        return "privileged"
    return "baseline" if "restricted" in profiles else "restricted"


# ------------------------------------------------------------------------------------------ others

_SECRET_WORDS = frozenset(
    [
        "password",
        "passwd",
        "pwd",
        "pass",
        "secret",
        "token",
        "credential",
        "credentials",
        "apikey",
        "accesskey",
        "privatekey",
    ]
)
_SECRET_PAIRS = frozenset(
    {
        ("api", "key"),
        ("access", "key"),
        ("private", "key"),
        ("secret", "key"),
        ("auth", "key"),
        ("client", "secret"),
        ("encryption", "key"),
        ("signing", "key"),
        ("master", "key"),
    }
)
_NOT_SECRET_LAST = frozenset(
    [
        "file",
        "path",
        "dir",
        "url",
        "uri",
        "host",
        "hostname",
        "port",
        "user",
        "username",
        "name",
        "enabled",
        "enable",
        "disabled",
        "required",
        "length",
        "ttl",
        "timeout",
        "expiry",
        "expiration",
        "id",
        "type",
        "mode",
        "header",
        "endpoint",
        "location",
        "policy",
        "format",
        "kind",
        "version",
        "size",
        "count",
        "ref",
        "field",
        "env",
        "secs",
        "seconds",
        "minutes",
        "hours",
        "days",
    ]
)
_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


def looks_like_secret_name(name: str) -> bool:
    """An env var name that names a credential (DB_PASSWORD, apiKey, GITHUB_TOKEN), not a pointer to one
    (PASSWORD_FILE, TOKEN_URL) or a setting about one (AUTH_ENABLED)."""
    words = [w.lower() for w in _WORDS.findall(name)]
    if not words or words[-1] in _NOT_SECRET_LAST:
        return False
    return any(w in _SECRET_WORDS for w in words) or any(
        pair in _SECRET_PAIRS for pair in zip(words, words[1:], strict=False)
    )


def _image_parts(image: str) -> tuple[str, str, str]:
    """(name, tag, digest) of an image reference."""
    name, _, digest = image.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        return name[:colon], name[colon + 1 :], digest
    return name, "", digest


def _hygiene(p: _Pod) -> Iterator[_Hit]:
    sat = p.spec_at
    for i, v in enumerate(_list(p.spec.get("volumes"))):
        hp = _dict(_dict(v).get("hostPath")).get("path")
        if isinstance(hp, str) and hp:
            norm = posixpath.normpath(hp)
            if posixpath.basename(norm) in RUNTIME_SOCKETS or norm in RUNTIME_SOCKET_DIRS:
                yield _Hit(
                    RUNTIME_SOCKET,
                    join(join(index(join(sat, "volumes"), i), "hostPath"), "path"),
                    f"volume {_dict(v).get('name', i)} mounts {hp} (container runtime socket)",
                )
    if p.spec.get("automountServiceAccountToken") is not False:
        yield _Hit(SA_TOKEN, join(sat, "automountServiceAccountToken"), "mounts the service account token")
    if p.spec.get("hostUsers") is not False:
        pod_uid = p.psc.get("runAsUser")
        for c in p.containers:
            if c.kind == "ephemeralContainers":
                continue
            uid = c.sc.get("runAsUser", pod_uid)
            if not isinstance(uid, int) or isinstance(uid, bool) or uid < 10000:
                what = "no runAsUser" if uid is None else f"runAsUser {uid}"
                fld = (
                    _sc_at(c, "runAsUser")
                    if "runAsUser" in c.sc
                    else join(join(sat, "securityContext"), "runAsUser")
                )
                yield _Hit(LOW_UID, fld, f"{what} (below 10000)", c.name)
    for c in p.containers:
        cname = c.name
        if c.kind != "ephemeralContainers":
            res = _dict(c.c.get("resources"))
            res_at = join(c.at, "resources")
            for part, key, rule in (
                ("requests", "cpu", CPU_REQUESTS),
                ("limits", "cpu", CPU_LIMITS),
                ("requests", "memory", MEMORY_REQUESTS),
                ("limits", "memory", MEMORY_LIMITS),
            ):
                # a limit without a request is also the request (Kubernetes copies it)
                parts = ("requests", "limits") if part == "requests" else ("limits",)
                if not any(_dict(res.get(x)).get(key) for x in parts):
                    yield _Hit(rule, join(join(res_at, part), key), f"has no {key} {part[:-1]}", cname)
        if c.sc.get("readOnlyRootFilesystem") is not True:
            yield _Hit(
                READ_ONLY_ROOT, _sc_at(c, "readOnlyRootFilesystem"), "has a writable root file system", cname
            )
        image = c.c.get("image")
        if isinstance(image, str) and image.strip():
            name, tag, digest = _image_parts(image.strip())
            img_at = join(c.at, "image")
            if not digest and tag in ("", "latest"):
                yield _Hit(IMAGE_TAG, img_at, f"image {image} has {'tag latest' if tag else 'no tag'}", cname)
            if not digest:
                yield _Hit(IMAGE_DIGEST, img_at, f"image {image} is not pinned by digest", cname)
                policy = c.c.get("imagePullPolicy") or ("Always" if tag in ("", "latest") else "IfNotPresent")
                if policy != "Always":
                    fld = join(c.at, "imagePullPolicy") if "imagePullPolicy" in c.c else img_at
                    yield _Hit(PULL_POLICY, fld, f"imagePullPolicy {policy} for {image}", cname)
        for i, e in enumerate(_list(c.c.get("env"))):
            e = _dict(e)
            e_at = index(join(c.at, "env"), i)
            ename = str(e.get("name", ""))
            if "secretKeyRef" in _dict(e.get("valueFrom")):
                yield _Hit(
                    ENV_FROM_SECRET,
                    join(join(e_at, "valueFrom"), "secretKeyRef"),
                    f"env {ename} comes from a Secret",
                    cname,
                )
            value = e.get("value")
            if (
                isinstance(value, str)
                and value.strip()
                and looks_like_secret_name(ename)
                and not value.startswith(("$(", "/"))
                and "{{" not in value
            ):
                yield _Hit(
                    ENV_SECRET_LITERAL, join(e_at, "value"), f"env {ename} holds a literal secret", cname
                )
        for i, ef in enumerate(_list(c.c.get("envFrom"))):
            if "secretRef" in _dict(ef):
                yield _Hit(
                    ENV_FROM_SECRET,
                    join(index(join(c.at, "envFrom"), i), "secretRef"),
                    "envFrom takes a whole Secret as environment",
                    cname,
                )


def _cap_name(c: Any) -> str:
    return str(c).upper().removeprefix("CAP_")


def _is_tiller(meta: Mapping[str, Any], image: Any) -> bool:
    labels = _dict(meta.get("labels"))
    return (
        (isinstance(image, str) and "tiller" in image)
        or labels.get("app") == "helm"
        or labels.get("name") == "tiller"
    )


def _workload(p: _Pod) -> Iterator[_Hit]:
    """Checks of a workload beyond PSS and resource hygiene: probes, security contexts, NET_RAW,
    components that should not run (dashboard, Tiller) and git-sync's binary override."""
    if not p.spec.get("securityContext"):
        yield _Hit(POD_SECURITY_CONTEXT, join(p.spec_at, "securityContext"), "has no pod securityContext")
    labels = _dict(p.meta.get("labels"))
    for c in p.containers:
        if c.kind == "ephemeralContainers":
            continue
        if c.kind == "containers" and p.kind not in ("Job", "CronJob"):
            for fld, rule in (("livenessProbe", LIVENESS_PROBE), ("readinessProbe", READINESS_PROBE)):
                if not c.c.get(fld):
                    yield _Hit(rule, join(c.at, fld), f"has no {fld}", c.name)
        if not c.c.get("securityContext"):
            yield _Hit(
                CONTAINER_SECURITY_CONTEXT, join(c.at, "securityContext"), "has no securityContext", c.name
            )
        caps = _dict(c.sc.get("capabilities"))
        drops = {_cap_name(d) for d in _list(caps.get("drop"))}
        added = [i for i, a in enumerate(_list(caps.get("add"))) if _cap_name(a) in ("NET_RAW", "ALL")]
        if added:
            yield _Hit(
                NET_RAW, index(_sc_at(c, "capabilities", "add"), added[0]), "adds NET_RAW back", c.name
            )
        elif not p.windows and not drops & {"ALL", "NET_RAW"}:
            yield _Hit(NET_RAW, _sc_at(c, "capabilities", "drop"), "does not drop NET_RAW", c.name)
        image = c.c.get("image")
        img_at = join(c.at, "image")
        if (isinstance(image, str) and ("kubernetes-dashboard" in image or "kubernetesui" in image)) or (
            "kubernetes-dashboard" in (labels.get("app"), labels.get("k8s-app"))
        ):
            yield _Hit(DASHBOARD, img_at, f"runs the Kubernetes dashboard ({image})", c.name)
        if _is_tiller(p.meta, image):
            yield _Hit(TILLER, img_at, f"runs Tiller (Helm v2) ({image})", c.name)
            listen = [str(a) for a in _list(c.c.get("args")) if "--listen" in str(a)]
            if not any("localhost" in a or "127.0.0.1" in a for a in listen):
                yield _Hit(TILLER_LISTEN, join(c.at, "args"), "Tiller listens on every interface", c.name)
        for i, e in enumerate(_list(c.c.get("env"))):
            if _dict(e).get("name") in ("GITSYNC_GIT", "GIT_SYNC_GIT"):
                yield _Hit(
                    GIT_SYNC_GIT,
                    join(index(join(c.at, "env"), i), "name"),
                    f"sets {_dict(e).get('name')} (git-sync runs that program as git)",
                    c.name,
                )


# RBAC operations, as (apiGroups, verbs, resources) a rule must all grant (wildcards count).
_Op = tuple[frozenset[str], frozenset[str], frozenset[str]]
_RBAC_OPS: tuple[tuple[Rule, frozenset[str], tuple[_Op, ...]], ...] = (
    (
        RBAC_WEBHOOKS,
        frozenset({"ClusterRole"}),
        (
            (
                frozenset({"admissionregistration.k8s.io"}),
                frozenset({"create", "update", "patch"}),
                frozenset({"mutatingwebhookconfigurations", "validatingwebhookconfigurations"}),
            ),
        ),
    ),
    (
        RBAC_CSR_APPROVE,
        frozenset({"ClusterRole"}),
        (
            (
                frozenset({"certificates.k8s.io"}),
                frozenset({"update", "patch"}),
                frozenset({"certificatesigningrequests/approval"}),
            ),
            (frozenset({"certificates.k8s.io"}), frozenset({"approve"}), frozenset({"signers"})),
        ),
    ),
    (
        RBAC_BIND,
        frozenset({"Role", "ClusterRole"}),
        (
            (
                frozenset({"rbac.authorization.k8s.io"}),
                frozenset({"bind"}),
                frozenset({"rolebindings", "clusterrolebindings"}),
            ),
        ),
    ),
    (
        RBAC_ESCALATE,
        frozenset({"Role", "ClusterRole"}),
        (
            (
                frozenset({"rbac.authorization.k8s.io"}),
                frozenset({"escalate"}),
                frozenset({"roles", "clusterroles"}),
            ),
        ),
    ),
)


_RBAC_MESSAGES = {
    RBAC_WEBHOOKS.id: "can create/update/patch admission webhook configurations",
    RBAC_CSR_APPROVE.id: "can approve certificate signing requests",
    RBAC_BIND.id: "can bind roles (grant rights it does not hold)",
    RBAC_ESCALATE.id: "can escalate roles (add rights it does not hold)",
}


def _strs(v: Any) -> list[str]:
    return [str(x) for x in _list(v)]


def _grants(rule: Mapping[str, Any], op: _Op) -> bool:
    groups, verbs, resources = op
    if not any(g == "*" or g in groups for g in _strs(rule.get("apiGroups"))):
        return False
    if not any(v == "*" or v in verbs for v in _strs(rule.get("verbs"))):
        return False
    for r in _strs(rule.get("resources")):
        if r == "*" or r in resources:
            return True
        if r.startswith("*/") and any(x.partition("/")[2] == r[2:] for x in resources if "/" in x):
            return True
    return False


_SNIPPET_LUA = re.compile(r"\blua_|_lua\b|_lua_|\bkubernetes\.io\b")


def _token(value: Any, word: str) -> bool:
    """`word` as a dash/dot/underscore/slash-separated part of `value` (tiller-deploy, helm/tiller)."""
    return word in re.split(r"[-_./:]", str(value).lower())


def _objects(obj: Mapping[str, Any], kind: str, meta: Mapping[str, Any]) -> Iterator[_Hit]:
    """Checks of the objects that are not workloads: service accounts, RBAC, Services, Ingresses."""
    if (
        kind == "ServiceAccount"
        and meta.get("name") == "default"
        and obj.get("automountServiceAccountToken") is not False
    ):
        at = "automountServiceAccountToken" if "automountServiceAccountToken" in obj else "metadata.name"
        yield _Hit(DEFAULT_SA_AUTOMOUNT, at, "default service account mounts its token")
    if kind in ("RoleBinding", "ClusterRoleBinding"):
        for i, s in enumerate(_list(obj.get("subjects"))):
            s = _dict(s)
            if s.get("kind") == "ServiceAccount" and s.get("name") == "default":
                yield _Hit(
                    DEFAULT_SA_BOUND,
                    join(index("subjects", i), "name"),
                    f"binds {_dict(obj.get('roleRef')).get('name', '')} to the default service account",
                )
    if kind in ("Role", "ClusterRole"):
        rules = [_dict(r) for r in _list(obj.get("rules"))]
        for i, r in enumerate(rules):
            for fld in ("apiGroups", "resources", "verbs"):
                if any("*" in s for s in _strs(r.get(fld))):
                    yield _Hit(RBAC_WILDCARD, join(index("rules", i), fld), f"rule {i} grants '*' in {fld}")
                    break
        for rule, kinds, ops in _RBAC_OPS:
            if kind in kinds and rules and all(any(_grants(r, op) for r in rules) for op in ops):
                yield _Hit(rule, "rules", _RBAC_MESSAGES[rule.id])
    if kind == "Service":
        spec = _dict(obj.get("spec"))
        if (
            _token(meta.get("name", ""), "tiller")
            or any(_token(v, "tiller") for v in _dict(meta.get("labels")).values())
            or any(_token(v, "tiller") for v in _dict(spec.get("selector")).values())
        ):
            yield _Hit(TILLER_SERVICE, "metadata", "exposes Tiller (Helm v2)")
        if _list(spec.get("externalIPs")):
            ips = ", ".join(_strs(spec.get("externalIPs")))
            yield _Hit(SERVICE_EXTERNAL_IPS, "spec.externalIPs", f"sets externalIPs {ips}")
        if spec.get("type") == "NodePort":
            yield _Hit(SERVICE_NODE_PORT, "spec.type", "is of type NodePort (open on every node)")
    if kind == "Ingress":
        for key, value in _dict(meta.get("annotations")).items():
            if "snippet" not in key:
                continue
            at = join("metadata.annotations", key)
            yield _Hit(INGRESS_SNIPPET, at, f"annotation {key}")
            if _SNIPPET_LUA.search(str(value)):
                yield _Hit(INGRESS_SNIPPET_LUA, at, f"annotation {key} runs Lua or names the token path")
            if "alias" in str(value):
                yield _Hit(INGRESS_SNIPPET_ALIAS, at, f"annotation {key} has an alias directive")


# ------------------------------------------------------------------------------------------ check


def check(doc: ConfigDoc) -> list[Misconfiguration]:
    """Every finding of every object of a parsed manifest."""
    all_lines = doc.meta.get("lines", []) if isinstance(doc.meta, Mapping) else []
    out: list[Misconfiguration] = []
    for n, obj in enumerate(doc.inputs):
        if not isinstance(obj, dict):
            continue
        lines: Mapping[str, int] = (
            all_lines[n] if n < len(all_lines) and isinstance(all_lines[n], dict) else {}
        )
        kind = str(obj.get("kind", ""))
        meta = _dict(obj.get("metadata"))
        resource = f"{kind}/{meta.get('name', '')}"
        hits: list[_Hit] = []
        p = _pod(obj)
        if p is not None:
            hits.extend(_pss(p))
            hits.extend(_hygiene(p))
            hits.extend(_workload(p))
        hits.extend(_objects(obj, kind, meta))
        ns = meta.get("namespace")
        if (
            kind in NAMESPACED_KINDS
            and (ns is None or ns == "default")
            and not (
                (kind == "ServiceAccount" and meta.get("name") == "default")
                or (kind == "Service" and meta.get("name") == "kubernetes")
            )
        ):
            what = "namespace default" if ns else "no namespace (default unless kubectl -n)"
            hits.append(_Hit(DEFAULT_NAMESPACE, "metadata.namespace", what))
        for h in hits:
            res = f"{resource} container {h.container}" if h.container else resource
            line = line_of(lines, h.field)
            who = f"container {h.container} of {resource}" if h.container else resource
            out.append(
                Misconfiguration(
                    h.rule, f"{who}: {h.message}", Location(doc.path, line, line, doc.layer, h.field), res
                )
            )
    return out


__all__ = ["KIND", "RULES", "check", "looks_like_secret_name", "parse", "pss_level"]
