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
    "Pod Security restricted requires capabilities.drop to contain ALL. The runtimes (containerd, "
    "CRI-O) read `all` in any case as ALL, and so does this rule, as Checkov's CKV_K8S_37 does; "
    "CTM-K8S-059 reports the spelling the Pod Security admission refuses.",
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
    "Pod Security baseline forbids an Unconfined seccomp profile: every syscall is allowed. "
    "Checkov's CKV_K8S_31 fails it too (anything but RuntimeDefault), alongside CTM-K8S-018.",
    "Set seccompProfile.type to RuntimeDefault (or Localhost).",
    "CKV_K8S_31",
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

LIVENESS_PROBE = _rule(
    37,
    "No liveness probe",
    "LOW",
    "Without a liveness probe a hung process keeps its pod and its traffic until someone notices. "
    "Checked as Checkov's CKV_K8S_8 does: app containers (not init containers) of every workload "
    "kind but Job and CronJob, whose pods are meant to end.",
    "Add livenessProbe (httpGet, tcpSocket, grpc or exec) to the container.",
    "CKV_K8S_8",
)
READINESS_PROBE = _rule(
    38,
    "No readiness probe",
    "LOW",
    "Without a readiness probe a pod gets traffic before it can serve it, and keeps it when it "
    "cannot. Same scope as CTM-K8S-037 (Checkov's CKV_K8S_9).",
    "Add readinessProbe to the container.",
    "CKV_K8S_9",
)
NET_RAW = _rule(
    39,
    "NET_RAW capability not dropped",
    "MEDIUM",
    "NET_RAW is in the default set of container runtimes: it allows crafted packets (ARP and DNS "
    "spoofing of neighbour pods). Passes when capabilities.drop holds ALL or NET_RAW (any case, CAP_ "
    "prefix or not) and NET_RAW is not added back; Checkov's CKV_K8S_28 does not look at add.",
    "Add NET_RAW (better ALL) to securityContext.capabilities.drop.",
    "CKV_K8S_28",
)
POD_SECURITY_CONTEXT = _rule(
    40,
    "No pod securityContext",
    "LOW",
    "A pod without spec.securityContext takes every default: user from the image, no seccomp, no "
    "fsGroup (Checkov's CKV_K8S_29; also for PodTemplate and DeploymentConfig, which Checkov skips).",
    "Set spec.securityContext (runAsNonRoot, runAsUser, seccompProfile).",
    "CKV_K8S_29",
)
CONTAINER_SECURITY_CONTEXT = _rule(
    41,
    "No container securityContext",
    "LOW",
    "A container without securityContext keeps privilege escalation, a writable root file system and "
    "the runtime's default capabilities (containers and init containers, as Checkov's CKV_K8S_30).",
    "Set securityContext on the container (allowPrivilegeEscalation: false, readOnlyRootFilesystem, "
    "capabilities.drop: [ALL]).",
    "CKV_K8S_30",
)
DASHBOARD = _rule(
    42,
    "Kubernetes dashboard deployed",
    "MEDIUM",
    "The dashboard is a web UI acting with its service account's rights; exposed or over-privileged "
    "dashboards are a classic way into clusters. Recognised as Checkov's CKV_K8S_33 does: an image "
    "named kubernetes-dashboard or kubernetesui/*, or the label app / k8s-app: kubernetes-dashboard.",
    "Do not deploy the dashboard; use kubectl or a read-only tool with per-user authentication.",
    "CKV_K8S_33",
)
TILLER = _rule(
    43,
    "Tiller (Helm v2) deployed",
    "HIGH",
    "Tiller runs with cluster-admin rights and by default serves its gRPC API to every pod without "
    "authentication; Helm v2 is out of support. Recognised as Checkov's CKV_K8S_34: an image named "
    "*tiller*, or the label app: helm or name: tiller.",
    "Remove Tiller; use Helm 3 (no in-cluster component).",
    "CKV_K8S_34",
)
TILLER_SERVICE = _rule(
    44,
    "Service exposing Tiller",
    "HIGH",
    "A Service in front of Tiller lets any pod (or more) install charts with cluster-admin rights. "
    "Recognised as Checkov's CKV_K8S_44: 'tiller' in the name, a label value or a selector value.",
    "Delete the Service (and Tiller).",
    "CKV_K8S_44",
)
TILLER_LISTEN = _rule(
    45,
    "Tiller listens beyond localhost",
    "HIGH",
    "Unless started with --listen=localhost:44134 (or 127.0.0.1), Tiller's unauthenticated API is "
    "reachable from every pod (Checkov's CKV_K8S_45).",
    "Remove Tiller, or start it with --listen=localhost:44134.",
    "CKV_K8S_45",
)
DEFAULT_SA_AUTOMOUNT = _rule(
    46,
    "Default service account mounts its token",
    "LOW",
    "Every pod that names no service account runs as `default`; unless that account sets "
    "automountServiceAccountToken: false, each of them gets an API token (Checkov's CKV_K8S_41).",
    "Set automountServiceAccountToken: false on the default ServiceAccount.",
    "CKV_K8S_41",
)
DEFAULT_SA_BOUND = _rule(
    47,
    "Role bound to a default service account",
    "MEDIUM",
    "Rights given to the `default` service account go to every pod of the namespace that names no "
    "account (Checkov's CKV_K8S_42).",
    "Create a dedicated ServiceAccount for the workload and bind the role to it.",
    "CKV_K8S_42",
)
RBAC_WILDCARD = _rule(
    48,
    "Wildcard in a Role or ClusterRole",
    "MEDIUM",
    "'*' in apiGroups, resources or verbs grants today's and tomorrow's resources and verbs, "
    "escalate/bind/impersonate included. Every rule of the role is read; Checkov's CKV_K8S_49 reads "
    "only the first, so its id is not claimed.",
    "List the API groups, resources and verbs the subject needs.",
)
RBAC_WEBHOOKS = _rule(
    49,
    "ClusterRole controls admission webhooks",
    "HIGH",
    "create/update/patch on mutating or validating webhook configurations lets the subject intercept "
    "and rewrite every object sent to the API server, or switch policy enforcement off (Checkov's "
    "CKV_K8S_155; wildcards count).",
    "Keep this right to the cluster's operators; remove it from workload roles.",
    "CKV_K8S_155",
)
RBAC_CSR_APPROVE = _rule(
    50,
    "ClusterRole approves CertificateSigningRequests",
    "HIGH",
    "update/patch on certificatesigningrequests/approval with approve on signers lets the subject "
    "issue itself client certificates, e.g. for system:masters (Checkov's CKV_K8S_156).",
    "Remove the approval rights; let the controller manager or an audited operator approve.",
    "CKV_K8S_156",
)
RBAC_BIND = _rule(
    51,
    "Role can bind roles",
    "HIGH",
    "bind on rolebindings/clusterrolebindings lets the subject grant any role it can name to itself, "
    "beyond its own rights (Checkov's CKV_K8S_157).",
    "Remove the bind verb (or limit it with resourceNames to the roles meant to be delegated).",
    "CKV_K8S_157",
)
RBAC_ESCALATE = _rule(
    52,
    "Role can escalate roles",
    "HIGH",
    "escalate on roles/clusterroles lets the subject add rights it does not hold to a role it is "
    "bound to (Checkov's CKV_K8S_158).",
    "Remove the escalate verb.",
    "CKV_K8S_158",
)
GIT_SYNC_GIT = _rule(
    53,
    "git-sync told which git binary to run",
    "MEDIUM",
    "GITSYNC_GIT (and git-sync v3's GIT_SYNC_GIT) make git-sync run another program as git: whoever "
    "can set the pod's environment runs code in it (Checkov's CKV_K8S_159 looks at GITSYNC_GIT "
    "only).",
    "Remove the variable; use the git of the git-sync image.",
    "CKV_K8S_159",
)
INGRESS_SNIPPET = _rule(
    54,
    "NGINX Ingress snippet annotation",
    "MEDIUM",
    "*-snippet annotations put raw nginx configuration into the shared ingress controller, which can "
    "read every Secret of the cluster (CVE-2021-25742); Checkov's CKV_K8S_153.",
    "Remove the snippet annotation; set allow-snippet-annotations: false in the controller.",
    "CKV_K8S_153",
)
INGRESS_SNIPPET_LUA = _rule(
    55,
    "NGINX Ingress snippet with Lua code or the service account path",
    "HIGH",
    "A snippet with lua_* directives or naming kubernetes.io (the token path) is the exploit of "
    "CVE-2021-25742 (Checkov's CKV_K8S_152, same pattern).",
    "Remove the snippet.",
    "CKV_K8S_152",
)
INGRESS_SNIPPET_ALIAS = _rule(
    56,
    "NGINX Ingress snippet with an alias directive",
    "HIGH",
    "An alias directive in a snippet serves files of the controller's file system, its service "
    "account token included (CVE-2021-25742; Checkov's CKV_K8S_154).",
    "Remove the snippet.",
    "CKV_K8S_154",
)
SERVICE_EXTERNAL_IPS = _rule(
    57,
    "Service sets externalIPs",
    "MEDIUM",
    "Whoever can create a Service with externalIPs intercepts the cluster's traffic to those IPs "
    "(CVE-2020-8554, unfixed; the DenyServiceExternalIPs admission plugin blocks it). Checkov has "
    "no such check.",
    "Remove spec.externalIPs; use a LoadBalancer or Ingress.",
)
SERVICE_NODE_PORT = _rule(
    58,
    "Service of type NodePort",
    "LOW",
    "A NodePort opens the port on every node's interfaces, outside network policies' usual reach "
    "and often past the perimeter firewall. Checkov has no such check.",
    "Use a ClusterIP Service behind an Ingress or a LoadBalancer.",
)
DROP_ALL_CASE = _rule(
    59,
    "capabilities.drop spells ALL in lower case",
    "LOW",
    "The runtime drops every capability for `all`, but the Pod Security admission compares with "
    "'ALL' exactly and refuses the pod in a restricted namespace.",
    "Write drop: [ALL].",
    "pss:restricted:Capabilities",
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
    LIVENESS_PROBE,
    READINESS_PROBE,
    NET_RAW,
    POD_SECURITY_CONTEXT,
    CONTAINER_SECURITY_CONTEXT,
    DASHBOARD,
    TILLER,
    TILLER_SERVICE,
    TILLER_LISTEN,
    DEFAULT_SA_AUTOMOUNT,
    DEFAULT_SA_BOUND,
    RBAC_WILDCARD,
    RBAC_WEBHOOKS,
    RBAC_CSR_APPROVE,
    RBAC_BIND,
    RBAC_ESCALATE,
    GIT_SYNC_GIT,
    INGRESS_SNIPPET,
    INGRESS_SNIPPET_LUA,
    INGRESS_SNIPPET_ALIAS,
    SERVICE_EXTERNAL_IPS,
    SERVICE_NODE_PORT,
    DROP_ALL_CASE,
)


def profile(rule: Rule) -> str:
    """The PSS profile a rule belongs to ("baseline", "restricted" or "")."""
    for a in rule.aliases:
        if a.startswith("pss:"):
            return a.split(":")[1]
    return ""
