"""The Kubernetes rules as data: id, title, severity, rationale, remediation and peer aliases.

Kept apart from the code that evaluates them (checks/kubernetes.py) so that each stays small and a
rule's wording can change without touching the evaluators. Aliases: Checkov's CKV_K8S_n, claimed only
where our condition equals Checkov's (conditions read from checkov/kubernetes/checks/resource/k8s/*.py,
agreement measured by bench/k8s_vs_checkov.py); "pss:<profile>:<control name>" for the Pod Security
Standards controls. Where a rule is narrower or stricter than Checkov's, its rationale says how.
"""

from __future__ import annotations

from containment.model import Rule

KIND = "kubernetes"
_PSS = "https://kubernetes.io/docs/concepts/security/pod-security-standards/"

BASELINE_CAPABILITIES = frozenset(
    [
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    ]
)
SAFE_SYSCTLS = frozenset(
    [
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
    ]
)
SELINUX_TYPES = frozenset({"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"})
RESTRICTED_VOLUMES = frozenset(
    [
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "persistentVolumeClaim",
        "projected",
        "secret",
    ]
)
RUNTIME_SOCKETS = frozenset(
    {"docker.sock", "containerd.sock", "crio.sock", "podman.sock", "cri-dockerd.sock"}
)
RUNTIME_SOCKET_DIRS = frozenset(
    {
        "/",
        "/var",
        "/run",
        "/var/run",
        "/run/containerd",
        "/var/run/containerd",
        "/run/crio",
        "/var/run/crio",
        "/run/podman",
        "/var/run/podman",
        "/var/run/docker",
        "/run/docker",
    }
)


def _rule(n: int, title: str, severity: str, rationale: str, remediation: str, *aliases: str) -> Rule:
    refs = (_PSS,) if any(a.startswith("pss:") for a in aliases) else ()
    return Rule(f"CTM-K8S-{n:03d}", title, severity, KIND, rationale, remediation, aliases, refs)


PRIVILEGED = _rule(
    1,
    "Privileged container",
    "HIGH",
    "A privileged container has every capability and the host's devices: it is root on the node.",
    "Remove securityContext.privileged or set it to false.",
    "CKV_K8S_16",
    "pss:baseline:Privileged Containers",
)
HOST_PID = _rule(
    2,
    "Pod shares the host PID namespace",
    "HIGH",
    "hostPID lets the pod see and signal every process of the node.",
    "Remove spec.hostPID or set it to false.",
    "CKV_K8S_17",
    "pss:baseline:Host Namespaces",
)
HOST_IPC = _rule(
    3,
    "Pod shares the host IPC namespace",
    "HIGH",
    "hostIPC lets the pod read the shared memory of every process of the node.",
    "Remove spec.hostIPC or set it to false.",
    "CKV_K8S_18",
    "pss:baseline:Host Namespaces",
)
HOST_NETWORK = _rule(
    4,
    "Pod shares the host network namespace",
    "HIGH",
    "hostNetwork exposes the node's interfaces and loopback services to the pod.",
    "Remove spec.hostNetwork or set it to false.",
    "CKV_K8S_19",
    "pss:baseline:Host Namespaces",
)
HOST_PATH = _rule(
    5,
    "hostPath volume",
    "MEDIUM",
    "A hostPath volume reads (or writes) the node's file system from the pod.",
    "Use a persistentVolumeClaim, configMap, secret or emptyDir instead.",
    "pss:baseline:HostPath Volumes",
)
RUNTIME_SOCKET = _rule(
    6,
    "Container runtime socket mounted",
    "CRITICAL",
    "The docker/containerd/CRI-O/podman socket (or a directory holding it) gives full control "
    "of the node's containers. Checkov's CKV_K8S_27 looks for /var/run/docker.sock only.",
    "Do not mount the runtime socket; use a dedicated API with narrow rights.",
    "CKV_K8S_27",
)
HOST_PORT = _rule(
    7,
    "Container binds a hostPort",
    "MEDIUM",
    "hostPort opens a port on the node itself, bypassing network policies.",
    "Remove ports[].hostPort (or set 0) and use a Service.",
    "CKV_K8S_26",
    "pss:baseline:Host Ports",
)
CAPS_BASELINE = _rule(
    8,
    "Capability added beyond the baseline set",
    "HIGH",
    "Pod Security baseline allows only " + ", ".join(sorted(BASELINE_CAPABILITIES)) + " to be added.",
    "Remove the capability from securityContext.capabilities.add.",
    "pss:baseline:Capabilities",
)
CAPS_SYS_ADMIN = _rule(
    9,
    "CAP_SYS_ADMIN added",
    "CRITICAL",
    "SYS_ADMIN allows mounts, namespaces and many container escapes.",
    "Remove SYS_ADMIN from securityContext.capabilities.add.",
    "CKV_K8S_39",
    "pss:baseline:Capabilities",
)
CAPS_DROP_ALL = _rule(
    10,
    "Capabilities not dropped (drop: [ALL])",
    "MEDIUM",
    "Pod Security restricted requires capabilities.drop to contain ALL.",
    "Set securityContext.capabilities.drop: [ALL] and add back only NET_BIND_SERVICE if needed.",
    "CKV_K8S_37",
    "pss:restricted:Capabilities",
)
CAPS_RESTRICTED = _rule(
    11,
    "Capability added other than NET_BIND_SERVICE",
    "MEDIUM",
    "Pod Security restricted allows only NET_BIND_SERVICE to be added (capabilities outside "
    "the baseline set are CTM-K8S-008/009). Not Checkov's CKV_K8S_25, which fails on any add, "
    "NET_BIND_SERVICE included, although both profiles allow it.",
    "Remove the capability from securityContext.capabilities.add.",
    "pss:restricted:Capabilities",
)
PRIV_ESCALATION = _rule(
    13,
    "allowPrivilegeEscalation is not false",
    "MEDIUM",
    "Unless set to false, a process can gain more privileges than its parent (setuid binaries).",
    "Set securityContext.allowPrivilegeEscalation: false on every container.",
    "CKV_K8S_20",
    "pss:restricted:Privilege Escalation",
)
RUN_AS_NON_ROOT = _rule(
    14,
    "runAsNonRoot is not true",
    "MEDIUM",
    "Pod Security restricted requires runAsNonRoot: true (pod level, or on every container). "
    "Checkov's CKV_K8S_23 also accepts runAsUser > 0 instead.",
    "Set spec.securityContext.runAsNonRoot: true.",
    "CKV_K8S_23",
    "pss:restricted:Running as Non-root",
)
RUN_AS_ROOT_USER = _rule(
    15,
    "runAsUser is 0 (root)",
    "HIGH",
    "Pod Security restricted forbids running as UID 0.",
    "Set runAsUser to a non-zero UID (or leave it to the image's non-root USER).",
    "pss:restricted:Running as Non-root user",
)
LOW_UID = _rule(
    16,
    "Container UID below 10000",
    "LOW",
    "A UID under 10000 may collide with a user of the host (CIS/Checkov advice; user namespaces "
    "(hostUsers: false) make it moot).",
    "Set runAsUser to 10000 or more.",
    "CKV_K8S_40",
)
SECCOMP_UNCONFINED = _rule(
    17,
    "Seccomp profile Unconfined",
    "HIGH",
    "Pod Security baseline forbids an Unconfined seccomp profile: every syscall is allowed.",
    "Set seccompProfile.type to RuntimeDefault (or Localhost).",
    "pss:baseline:Seccomp",
)
SECCOMP_UNSET = _rule(
    18,
    "No seccomp profile (RuntimeDefault or Localhost)",
    "MEDIUM",
    "Pod Security restricted requires seccompProfile.type RuntimeDefault or Localhost (pod level, "
    "or on every container). Checkov's CKV_K8S_31 accepts RuntimeDefault only (and the old "
    "docker/default and runtime/default annotations).",
    "Set spec.securityContext.seccompProfile.type: RuntimeDefault.",
    "CKV_K8S_31",
    "pss:restricted:Seccomp",
)
APPARMOR = _rule(
    19,
    "AppArmor profile unconfined or unknown",
    "HIGH",
    "Pod Security baseline allows only the RuntimeDefault and Localhost AppArmor profiles "
    "(appArmorProfile field and container.apparmor.security.beta.kubernetes.io annotations).",
    "Remove the override or use RuntimeDefault / a localhost/ profile.",
    "pss:baseline:AppArmor",
)
SELINUX = _rule(
    20,
    "Custom SELinux user, role or type",
    "HIGH",
    "Pod Security baseline forbids setting the SELinux user or role, and allows only the container_t, "
    "container_init_t, container_kvm_t and container_engine_t types.",
    "Remove seLinuxOptions.user/role and use an allowed type.",
    "pss:baseline:SELinux",
)
PROC_MOUNT = _rule(
    21,
    "procMount is not Default",
    "HIGH",
    "An Unmasked /proc exposes kernel interfaces the runtime normally masks.",
    "Remove securityContext.procMount or set it to Default.",
    "pss:baseline:/proc Mount Type",
)
SYSCTLS = _rule(
    22,
    "Unsafe sysctl",
    "HIGH",
    "Pod Security baseline allows only the namespaced safe sysctls: " + ", ".join(sorted(SAFE_SYSCTLS)) + ".",
    "Remove the sysctl from spec.securityContext.sysctls.",
    "pss:baseline:Sysctls",
)
VOLUME_TYPES = _rule(
    23,
    "Volume type not allowed by the restricted profile",
    "MEDIUM",
    "Pod Security restricted allows only " + ", ".join(sorted(RESTRICTED_VOLUMES)) + " volumes.",
    "Use one of the allowed volume types.",
    "pss:restricted:Volume Types",
)
HOST_PROCESS = _rule(
    24,
    "Windows HostProcess container",
    "HIGH",
    "A Windows HostProcess container runs directly on the host with full access.",
    "Remove windowsOptions.hostProcess or set it to false.",
    "pss:baseline:HostProcess",
)
CPU_REQUESTS = _rule(
    25,
    "No CPU request",
    "LOW",
    "Without requests the scheduler cannot place the pod fairly.",
    "Set resources.requests.cpu.",
    "CKV_K8S_10",
)
CPU_LIMITS = _rule(
    26,
    "No CPU limit",
    "LOW",
    "Without a limit one container can starve the node's CPU.",
    "Set resources.limits.cpu.",
    "CKV_K8S_11",
)
MEMORY_REQUESTS = _rule(
    27,
    "No memory request",
    "LOW",
    "Without requests the scheduler cannot place the pod fairly.",
    "Set resources.requests.memory.",
    "CKV_K8S_12",
)
MEMORY_LIMITS = _rule(
    28,
    "No memory limit",
    "LOW",
    "Without a limit one container can exhaust the node's memory.",
    "Set resources.limits.memory.",
    "CKV_K8S_13",
)
READ_ONLY_ROOT = _rule(
    29,
    "Root file system is writable",
    "LOW",
    "A read-only root file system stops an intruder from dropping tools or changing binaries.",
    "Set securityContext.readOnlyRootFilesystem: true (mount emptyDir where writes are needed).",
    "CKV_K8S_22",
)
IMAGE_TAG = _rule(
    30,
    "Image tag is latest or missing",
    "MEDIUM",
    "A moving tag gives a different image on every pull: what runs is not what was scanned.",
    "Pin a version tag, better a digest (image@sha256:...).",
    "CKV_K8S_14",
)
IMAGE_DIGEST = _rule(
    31,
    "Image not pinned by digest",
    "LOW",
    "Tags can be moved; only a digest names exactly the image that was scanned and signed.",
    "Refer to the image as name@sha256:<digest>.",
    "CKV_K8S_43",
)
PULL_POLICY = _rule(
    32,
    "imagePullPolicy is not Always",
    "LOW",
    "With a tag and IfNotPresent/Never, a node may run a stale or planted local image.",
    "Set imagePullPolicy: Always, or pin the image by digest.",
    "CKV_K8S_15",
)
ENV_SECRET_LITERAL = _rule(
    33,
    "Secret as a literal env value",
    "HIGH",
    "A credential written into the manifest is in the repository, in etcd unencrypted and "
    "in every `kubectl get -o yaml`.",
    "Move it to a Secret and use valueFrom.secretKeyRef, or mount it as a file.",
)
ENV_FROM_SECRET = _rule(
    34,
    "Secret exposed as environment variable",
    "LOW",
    "Environment variables leak into logs, crash dumps and child processes; files are safer.",
    "Mount the Secret as a volume instead of env/envFrom.",
    "CKV_K8S_35",
)
SA_TOKEN = _rule(
    35,
    "Service account token mounted automatically",
    "LOW",
    "Unless the pod talks to the API server, its token is only useful to an intruder.",
    "Set spec.automountServiceAccountToken: false.",
    "CKV_K8S_38",
)
DEFAULT_NAMESPACE = _rule(
    36,
    "Object in the default namespace",
    "LOW",
    "The default namespace mixes unrelated workloads under the same policies and RBAC.",
    "Set metadata.namespace to a dedicated namespace.",
    "CKV_K8S_21",
)

RULES: tuple[Rule, ...] = (
    PRIVILEGED,
    HOST_PID,
    HOST_IPC,
    HOST_NETWORK,
    HOST_PATH,
    RUNTIME_SOCKET,
    HOST_PORT,
    CAPS_BASELINE,
    CAPS_SYS_ADMIN,
    CAPS_DROP_ALL,
    CAPS_RESTRICTED,
    PRIV_ESCALATION,
    RUN_AS_NON_ROOT,
    RUN_AS_ROOT_USER,
    LOW_UID,
    SECCOMP_UNCONFINED,
    SECCOMP_UNSET,
    APPARMOR,
    SELINUX,
    PROC_MOUNT,
    SYSCTLS,
    VOLUME_TYPES,
    HOST_PROCESS,
    CPU_REQUESTS,
    CPU_LIMITS,
    MEMORY_REQUESTS,
    MEMORY_LIMITS,
    READ_ONLY_ROOT,
    IMAGE_TAG,
    IMAGE_DIGEST,
    PULL_POLICY,
    ENV_SECRET_LITERAL,
    ENV_FROM_SECRET,
    SA_TOKEN,
    DEFAULT_NAMESPACE,
)


def profile(rule: Rule) -> str:
    """The PSS profile a rule belongs to ("baseline", "restricted" or "")."""
    for a in rule.aliases:
        if a.startswith("pss:"):
            return a.split(":")[1]
    return ""
