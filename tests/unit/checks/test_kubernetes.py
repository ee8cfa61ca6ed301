"""Kubernetes checks: every rule fails on a manifest that breaks it (at the line of the offending
field, marked `# <-`) and passes on the clean one; PSS levels; parse of multi-document YAML, List
objects, CronJob, JSON and Helm templates."""

from __future__ import annotations

import json

import pytest

from containment.checks import kubernetes as k8s
from containment.model import ConfigDoc, ConfigError

DIGEST = "sha256:" + "a" * 64
SLOTS = {
    "ann": "",
    "pod": "",
    "podsc": "        runAsNonRoot: true\n        runAsUser: 10001\n        seccompProfile:\n          type: RuntimeDefault\n",
    "image": f"registry.example/app:1.2@{DIGEST}",
    "ctr": "",
    "csc": "",
    "drop": "[ALL]",
    "ns": "  namespace: prod\n",
    "ape": "false",
    "ro": "true",
    "reskey": "resources",
    "cscline": "",
}
TEMPLATE = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
{ns}spec:
  template:
    metadata:
      annotations:
        team: a
{ann}    spec:
      automountServiceAccountToken: false
{pod}      securityContext:
{podsc}      containers:
        - name: app
          image: {image}
          livenessProbe: {{httpGet: {{path: /healthz, port: 8080}}}}
          readinessProbe: {{httpGet: {{path: /ready, port: 8080}}}}
{ctr}          {reskey}:
            requests: {{cpu: 100m, memory: 64Mi}}
            limits: {{cpu: 200m, memory: 128Mi}}
          securityContext:{cscline}
            allowPrivilegeEscalation: {ape}
            readOnlyRootFilesystem: {ro}
{csc}            capabilities:
              drop: {drop}
"""


def manifest(**slots: str) -> str:
    return TEMPLATE.format(**{**SLOTS, **slots})


def run(text: str, path: str = "deploy.yaml") -> list[tuple[str, int, str]]:
    doc = k8s.parse(path, text.encode())
    assert doc is not None
    return [(m.rule.id, m.location.start_line, m.resource) for m in k8s.check(doc)]


def marked_line(text: str) -> int:
    [n] = [i for i, line in enumerate(text.splitlines(), 1) if "# <-" in line]
    return n


def test_clean_manifest_has_no_findings_and_is_restricted() -> None:
    text = manifest()
    assert run(text) == []
    doc = k8s.parse("d.yaml", text.encode())
    assert doc is not None and k8s.pss_level(doc.inputs[0]) == "restricted"


CASES = [
    ("CTM-K8S-001", {"csc": "            privileged: true  # <-\n"}, "baseline"),
    ("CTM-K8S-002", {"pod": "      hostPID: true  # <-\n"}, "baseline"),
    ("CTM-K8S-003", {"pod": "      hostIPC: true  # <-\n"}, "baseline"),
    ("CTM-K8S-004", {"pod": "      hostNetwork: true  # <-\n"}, "baseline"),
    ("CTM-K8S-005", {"pod": "      volumes:\n        - name: h\n          hostPath:  # <-\n            path: /data\n"},
     "baseline"),
    ("CTM-K8S-006", {"pod": "      volumes:\n        - name: s\n          hostPath:\n"
                            "            path: /var/run/docker.sock  # <-\n"}, "baseline"),
    ("CTM-K8S-006", {"pod": "      volumes:\n        - name: s\n          hostPath:\n"
                            "            path: /run/containerd/  # <-\n"}, "baseline"),
    ("CTM-K8S-007", {"ctr": "          ports:\n            - containerPort: 80\n              hostPort: 80  # <-\n"},
     "baseline"),
    ("CTM-K8S-008", {"drop": "[ALL]\n              add: [NET_ADMIN]  # <-"}, "baseline"),
    ("CTM-K8S-009", {"drop": "[ALL]\n              add: [SYS_ADMIN]  # <-"}, "baseline"),
    ("CTM-K8S-010", {"drop": "[NET_RAW]  # <-"}, "restricted"),
    ("CTM-K8S-011", {"drop": "[ALL]\n              add: [CHOWN]  # <-"}, "restricted"),
    ("CTM-K8S-013", {"ape": "true  # <-"}, "restricted"),
    ("CTM-K8S-014", {"podsc": "        runAsNonRoot: false  # <-\n        runAsUser: 10001\n"
                              "        seccompProfile: {type: RuntimeDefault}\n"}, "restricted"),
    ("CTM-K8S-015", {"podsc": "        runAsNonRoot: true\n        runAsUser: 0  # <-\n"
                              "        seccompProfile: {type: RuntimeDefault}\n"}, "restricted"),
    ("CTM-K8S-016", {"podsc": "        runAsNonRoot: true\n        runAsUser: 1000  # <-\n"
                              "        seccompProfile: {type: RuntimeDefault}\n"}, None),
    ("CTM-K8S-017", {"podsc": "        runAsNonRoot: true\n        runAsUser: 10001\n        seccompProfile:\n"
                              "          type: Unconfined  # <-\n"}, "baseline"),
    ("CTM-K8S-017", {"ann": "        seccomp.security.alpha.kubernetes.io/pod: unconfined  # <-\n"}, "baseline"),
    ("CTM-K8S-018", {"podsc": "        runAsNonRoot: true\n        runAsUser: 10001\n", "cscline": "  # <-"},
     "restricted"),
    ("CTM-K8S-019", {"ann": "        container.apparmor.security.beta.kubernetes.io/app: unconfined  # <-\n"},
     "baseline"),
    ("CTM-K8S-019", {"csc": "            appArmorProfile:\n              type: Unconfined  # <-\n"}, "baseline"),
    ("CTM-K8S-020", {"csc": "            seLinuxOptions:\n              type: spc_t  # <-\n"}, "baseline"),
    ("CTM-K8S-020", {"csc": "            seLinuxOptions:\n              user: system_u  # <-\n"}, "baseline"),
    ("CTM-K8S-021", {"csc": "            procMount: Unmasked  # <-\n"}, "baseline"),
    ("CTM-K8S-022", {"podsc": SLOTS["podsc"] + "        sysctls:\n          - name: kernel.msgmax  # <-\n"
                                               "            value: '1'\n"}, "baseline"),
    ("CTM-K8S-023", {"pod": "      volumes:\n        - name: n\n          nfs:  # <-\n            server: x\n"},
     "restricted"),
    ("CTM-K8S-024", {"csc": "            windowsOptions:\n              hostProcess: true  # <-\n"}, "baseline"),
    ("CTM-K8S-025", {"reskey": "resources: {}  # <-\n          x-resources"}, None),
    ("CTM-K8S-029", {"ro": "false  # <-"}, None),
    ("CTM-K8S-030", {"image": "nginx:latest  # <-"}, None),
    ("CTM-K8S-030", {"image": "nginx  # <-"}, None),
    ("CTM-K8S-031", {"image": "nginx:1.27  # <-"}, None),
    ("CTM-K8S-032", {"image": "nginx:1.27\n          imagePullPolicy: IfNotPresent  # <-"}, None),
    ("CTM-K8S-033", {"ctr": "          env:\n            - name: DB_PASSWORD\n              value: hunter2  # <-\n"}, None),
    ("CTM-K8S-034", {"ctr": "          env:\n            - name: DB_PASSWORD\n              valueFrom:\n"
                            "                secretKeyRef:  # <-\n                  {name: s, key: k}\n"}, None),
    ("CTM-K8S-034", {"ctr": "          envFrom:\n            - secretRef:  # <-\n                name: s\n"}, None),
    ("CTM-K8S-036", {"ns": "  namespace: default  # <-\n"}, None),
]


@pytest.mark.parametrize(("rule", "slots", "level"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_rule_fires_at_line(rule: str, slots: dict[str, str], level: str | None) -> None:
    text = manifest(**slots)
    found = run(text)
    assert (rule, marked_line(text)) in [(r, line) for r, line, _ in found], found
    doc = k8s.parse("d.yaml", text.encode())
    assert doc is not None
    if level == "baseline":
        assert k8s.pss_level(doc.inputs[0]) == "privileged"
    elif level == "restricted":
        assert k8s.pss_level(doc.inputs[0]) == "baseline"


def test_capabilities() -> None:
    def caps(add: str, drop: str = "[ALL]") -> set[str]:
        text = manifest(drop=drop + f"\n              add: {add}")
        return {r for r, _, _ in run(text)}

    assert caps("[SYS_ADMIN]") == {"CTM-K8S-009"}
    assert caps("[CAP_SYS_ADMIN]") == {"CTM-K8S-009"}
    assert caps("[NET_ADMIN]") == {"CTM-K8S-008"}
    assert caps("[CHOWN]") == {"CTM-K8S-011"}
    assert caps("[NET_BIND_SERVICE]") == set()
    assert caps("[]", drop="[NET_RAW]") == {"CTM-K8S-010"}


def test_container_rules_name_the_container_and_cover_init_and_ephemeral() -> None:
    text = manifest(
        pod="      initContainers:\n        - name: init\n          image: busybox:1.36\n"
        "      ephemeralContainers:\n        - name: dbg\n          image: busybox:1.36\n"
        "          securityContext: {privileged: true}\n"
    )
    found = run(text)
    resources = {res for _, _, res in found}
    assert "Deployment/web container init" in resources
    assert ("CTM-K8S-001", 19, "Deployment/web container dbg") in found
    assert ("CTM-K8S-025", 14, "Deployment/web container init") in found  # no resources: the container's line
    assert not any(r == "CTM-K8S-025" and res.endswith("dbg") for r, _, res in found)  # ephemeral: no resources


def test_missing_resources_and_readonly_fire_and_pass() -> None:
    text = """apiVersion: v1
kind: Pod
metadata: {name: p, namespace: x}
spec:
  containers:
    - name: c
      image: nginx:1.27
"""
    found = {r for r, _, _ in run(text)}
    assert {"CTM-K8S-025", "CTM-K8S-026", "CTM-K8S-027", "CTM-K8S-028", "CTM-K8S-029", "CTM-K8S-035",
            "CTM-K8S-013", "CTM-K8S-014", "CTM-K8S-018", "CTM-K8S-010", "CTM-K8S-016", "CTM-K8S-031",
            "CTM-K8S-032"} <= found
    assert "CTM-K8S-036" not in found and "CTM-K8S-030" not in found


def test_pull_policy_defaults() -> None:
    assert "CTM-K8S-032" not in {r for r, _, _ in run(manifest(image="nginx:latest"))}  # defaults to Always
    assert "CTM-K8S-032" not in {r for r, _, _ in run(manifest(image="nginx:1.2\n          imagePullPolicy: Always"))}


def test_secret_env_names() -> None:
    assert k8s.looks_like_secret_name("DB_PASSWORD") and k8s.looks_like_secret_name("apiKey")
    assert k8s.looks_like_secret_name("GITHUB_TOKEN") and k8s.looks_like_secret_name("AWS_SECRET_ACCESS_KEY")
    assert not k8s.looks_like_secret_name("PASSWORD_FILE") and not k8s.looks_like_secret_name("TOKEN_URL")
    assert not k8s.looks_like_secret_name("AUTH_ENABLED") and not k8s.looks_like_secret_name("KEYCLOAK_HOST")
    text = manifest(ctr="          env:\n            - name: DB_PASSWORD\n              value: $(FROM_ENV)\n"
                        "            - name: LOG_LEVEL\n              value: debug\n")
    assert "CTM-K8S-033" not in {r for r, _, _ in run(text)}


def test_windows_pods_are_exempt_from_linux_only_controls() -> None:
    text = """apiVersion: v1
kind: Pod
metadata: {name: w, namespace: x}
spec:
  os: {name: windows}
  securityContext: {runAsNonRoot: true}
  containers:
    - name: c
      image: mcr.microsoft.com/windows/nanoserver:ltsc2022
"""
    doc = k8s.parse("w.yaml", text.encode())
    assert doc is not None
    found = {m.rule.id for m in k8s.check(doc)}
    assert not found & {"CTM-K8S-010", "CTM-K8S-013", "CTM-K8S-018"}
    assert k8s.pss_level(doc.inputs[0]) == "restricted"


CRONJOB = """apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly
  namespace: jobs
spec:
  schedule: "0 1 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          hostPID: true
          containers:
            - name: run
              image: busybox:1.36
              securityContext:
                privileged: true
"""


def test_cronjob_pod_template() -> None:
    found = run(CRONJOB)
    assert ("CTM-K8S-002", 12, "CronJob/nightly") in found
    assert ("CTM-K8S-001", 17, "CronJob/nightly container run") in found


def test_multi_document_and_list_objects() -> None:
    text = (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: x}\n---\n"
        + CRONJOB
        + "---\napiVersion: v1\nkind: List\nitems:\n"
        + "  - apiVersion: v1\n    kind: Pod\n    metadata: {name: p1}\n    spec:\n      containers:\n"
        + "        - name: a\n          image: x:1\n          securityContext: {privileged: true}\n"
        + "  - apiVersion: v1\n    kind: Service\n    metadata: {name: s, namespace: x}\n"
    )
    doc = k8s.parse("all.yaml", text.encode())
    assert doc is not None
    assert [o["kind"] for o in doc.inputs] == ["ConfigMap", "CronJob", "Pod", "Service"]
    assert doc.meta["start"] == [1, 5, 26, 34]
    assert doc.meta["end"][2] == 33
    found = [(m.rule.id, m.location.start_line, m.resource) for m in k8s.check(doc)]
    assert ("CTM-K8S-001", 33, "Pod/p1 container a") in found
    assert ("CTM-K8S-036", 28, "Pod/p1") in found  # no namespace: reported at metadata
    assert json.loads(json.dumps(doc.to_json()))["meta"]["lines"][2]["spec.containers[0]"] == 31
    assert [k8s.pss_level(o) for o in doc.inputs] == ["", "privileged", "privileged", ""]


def test_json_manifest_and_layer() -> None:
    obj = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "j", "namespace": "x"},
           "spec": {"hostNetwork": True, "containers": [{"name": "c", "image": "a:1"}]}}
    text = json.dumps(obj, indent=2)
    doc = k8s.parse("pod.json", text.encode())
    assert doc is not None and doc.kind == "kubernetes"
    doc = ConfigDoc(doc.path, doc.kind, doc.inputs, doc.meta, layer="sha256:l1")
    [hit] = [m for m in k8s.check(doc) if m.rule.id == "CTM-K8S-004"]
    assert hit.location.start_line == 9 and hit.location.layer == "sha256:l1" and hit.location.path == "pod.json"
    tabbed = json.dumps(obj, indent="\t")  # YAML refuses tab indentation; JSON reads it (no lines)
    doc = k8s.parse("pod.json", tabbed.encode())
    assert doc is not None and any(m.rule.id == "CTM-K8S-004" for m in k8s.check(doc))


def test_not_kubernetes_and_templates() -> None:
    assert k8s.parse("values.yaml", b"replicas: 3\nimage: nginx\n") is None
    assert k8s.parse("empty.yaml", b"") is None
    helm = b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {{ .Values.name }}\n{{- if .Values.x }}\n"
    assert k8s.parse("templates/pod.yaml", helm) is None
    with pytest.raises(ConfigError, match=r"^bad.yaml:\d+: invalid YAML"):
        k8s.parse("bad.yaml", b"apiVersion: v1\nkind: Pod\nspec: [\n")


def test_rules_are_well_formed() -> None:
    ids = [r.id for r in k8s.RULES]
    assert len(ids) == len(set(ids)) and all(r.kind == "kubernetes" for r in k8s.RULES)
    assert all(r.severity in ("CRITICAL", "HIGH", "MEDIUM", "LOW") for r in k8s.RULES)
    aliases = {a for r in k8s.RULES for a in r.aliases}
    for control in ("HostProcess", "Host Namespaces", "Privileged Containers", "Capabilities", "HostPath Volumes",
                    "Host Ports", "AppArmor", "SELinux", "/proc Mount Type", "Seccomp", "Sysctls"):
        assert f"pss:baseline:{control}" in aliases
    for control in ("Volume Types", "Privilege Escalation", "Running as Non-root", "Running as Non-root user",
                    "Seccomp", "Capabilities"):
        assert f"pss:restricted:{control}" in aliases
    # every rule has a failing case: test_kubernetes_objects.test_every_rule_has_a_failing_case


def test_limit_without_request_is_the_request() -> None:
    text = manifest(reskey="resources:\n            limits: {cpu: 1, memory: 1Gi}\n          x-resources")
    found = {r for r, _, _ in run(text)}
    assert not found & {"CTM-K8S-025", "CTM-K8S-026", "CTM-K8S-027", "CTM-K8S-028"}
