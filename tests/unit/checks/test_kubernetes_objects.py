"""Kubernetes checks beyond the Pod Security Standards: probes, security contexts, NET_RAW, dashboard,
Tiller, git-sync, service accounts, RBAC, Services and Ingress snippets. Each rule fails on a manifest
that breaks it (at the line marked `# <-`) and passes on a near-identical one that does not."""

from __future__ import annotations

import json

import pytest

from containment.checks import kubernetes as k8s
from containment.checks.kubernetes_rules import profile
from tests.unit.checks.test_kubernetes import CASES as PSS_CASES
from tests.unit.checks.test_kubernetes import manifest


def run(text: str) -> list[tuple[str, int, str]]:
    doc = k8s.parse("m.yaml", text.encode())
    assert doc is not None
    return [(m.rule.id, m.location.start_line, m.resource) for m in k8s.check(doc)]


def marked_line(text: str) -> int:
    [n] = [i for i, line in enumerate(text.splitlines(), 1) if "# <-" in line]
    return n


def pod(containers: str, spec: str = "", kind: str = "Pod", labels: str = "") -> str:
    """A pod (or a Job's pod template) with a pod securityContext, given containers and spec lines."""
    spec = spec or "  securityContext: {runAsNonRoot: true}\n"
    head = f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: x\n{labels}spec:\n"
    if kind == "Job":
        head = (
            "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: p\n  namespace: x\nspec:\n  template:\n"
            "    metadata:\n      labels: {a: b}\n    spec:\n"
        )
        spec = "".join(f"    {line}\n" for line in spec.splitlines())
        containers = "".join(f"    {line}\n" for line in containers.splitlines())
    return head + spec + containers


C = "  containers:\n    - name: app  # <-\n      image: app:1\n      securityContext: {privileged: false}\n"
ROLE = "apiVersion: rbac.authorization.k8s.io/v1\nkind: {kind}\nmetadata:\n  name: r\n  namespace: x\nrules:\n"

CASES: list[tuple[str, str]] = [
    ("CTM-K8S-037", pod(C.replace("privileged: false}", "privileged: false}\n      readinessProbe: {exec: {command: [a]}}"))),
    ("CTM-K8S-038", pod(C.replace("privileged: false}", "privileged: false}\n      livenessProbe: {exec: {command: [a]}}"))),
    ("CTM-K8S-039", manifest(drop="[CHOWN]  # <-")),
    ("CTM-K8S-039", manifest(drop="[ALL]\n              add: [NET_RAW]  # <-")),
    ("CTM-K8S-040", pod(C.replace("# <-", ""), spec="  securityContext: {}  # <-\n")),
    ("CTM-K8S-041", pod("  containers:\n    - name: app  # <-\n      image: app:1\n")),
    ("CTM-K8S-042", pod(C.replace("# <-", "").replace("app:1", "kubernetesui/dashboard:v2.7.0  # <-"))),
    ("CTM-K8S-042", manifest(image="registry.example/kubernetes-dashboard:2.7  # <-")),
    ("CTM-K8S-043", pod(C.replace("# <-", "").replace("app:1", "gcr.io/kubernetes-helm/tiller:v2.16.12  # <-"))),
    ("CTM-K8S-044", "apiVersion: v1\nkind: Service\nmetadata:  # <-\n  name: tiller-deploy\n  namespace: x\n"),
    ("CTM-K8S-045", pod(C.replace("# <-", "").replace("app:1", "ghcr.io/helm/tiller:v2.17.0")
                        + "      args: [--listen=0.0.0.0:44134]  # <-\n")),
    ("CTM-K8S-046", "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: default  # <-\n  namespace: x\n"),
    ("CTM-K8S-047", "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: b, namespace: x}\n"
                    "roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}\nsubjects:\n"
                    "  - kind: ServiceAccount\n    name: default  # <-\n    namespace: x\n"),
    ("CTM-K8S-048", ROLE.format(kind="Role") + "  - apiGroups: ['']\n    resources: [pods]\n    verbs: [get]\n"
                    "  - apiGroups: ['']\n    resources: ['*']  # <-\n    verbs: [get]\n"),
    ("CTM-K8S-049", ROLE.format(kind="ClusterRole").replace("rules:", "rules:  # <-")
                    + "  - apiGroups: [admissionregistration.k8s.io]\n"
                    "    resources: [mutatingwebhookconfigurations]\n    verbs: [patch]\n"),
    ("CTM-K8S-050", ROLE.format(kind="ClusterRole").replace("rules:", "rules:  # <-")
                    + "  - apiGroups: [certificates.k8s.io]\n    resources: [certificatesigningrequests/approval]\n"
                    "    verbs: [update]\n  - apiGroups: [certificates.k8s.io]\n    resources: [signers]\n"
                    "    verbs: [approve]\n"),
    ("CTM-K8S-051", ROLE.format(kind="Role").replace("rules:", "rules:  # <-")
                    + "  - apiGroups: [rbac.authorization.k8s.io]\n    resources: [rolebindings]\n    verbs: [bind]\n"),
    ("CTM-K8S-052", ROLE.format(kind="ClusterRole").replace("rules:", "rules:  # <-")
                    + "  - apiGroups: [rbac.authorization.k8s.io]\n    resources: [clusterroles]\n"
                    "    verbs: [escalate]\n"),
    ("CTM-K8S-053", manifest(ctr="          env:\n            - name: GITSYNC_GIT  # <-\n              value: /tmp/x\n")),
    ("CTM-K8S-054", "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: i\n  namespace: x\n"
                    "  annotations:\n    nginx.ingress.kubernetes.io/configuration-snippet: |  # <-\n"
                    "      more_set_headers 'X: y';\n"),
    ("CTM-K8S-055", "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: i\n  namespace: x\n"
                    "  annotations:\n    nginx.ingress.kubernetes.io/server-snippet: |  # <-\n"
                    "      content_by_lua_block { ngx.say(io.open('/var/run/secrets/kubernetes.io/x'):read()) }\n"),
    ("CTM-K8S-056", "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: i\n  namespace: x\n"
                    "  annotations:\n    nginx.ingress.kubernetes.io/server-snippet: |  # <-\n"
                    "      location /t { alias /var/run/secrets/; }\n"),
    ("CTM-K8S-057", "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: x}\nspec:\n"
                    "  selector: {app: a}\n  externalIPs: [10.0.0.5]  # <-\n  ports: [{port: 80}]\n"),
    ("CTM-K8S-058", "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: x}\nspec:\n"
                    "  type: NodePort  # <-\n  ports: [{port: 80, nodePort: 30080}]\n"),
    ("CTM-K8S-059", manifest(drop="\n                - all  # <-")),
]  # fmt: skip


@pytest.mark.parametrize(("rule", "text"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_rule_fires_at_line(rule: str, text: str) -> None:
    found = run(text)
    assert (rule, marked_line(text)) in [(r, line) for r, line, _ in found], found


PASSING: list[tuple[str, str]] = [
    ("CTM-K8S-037", pod(C, kind="Job")),  # Jobs end: no probes wanted
    ("CTM-K8S-037", pod(C.replace("containers:", "initContainers:") + "  containers: []\n")),  # init: no probes
    ("CTM-K8S-039", manifest(drop="[NET_RAW]")),
    ("CTM-K8S-039", manifest(drop="[CAP_NET_RAW]")),
    ("CTM-K8S-039", manifest(drop="[all]")),
    ("CTM-K8S-040", pod(C)),
    ("CTM-K8S-042", manifest(image="registry.example/dashboards/grafana:10")),
    ("CTM-K8S-043", manifest(image="registry.example/helm-operator:1")),
    ("CTM-K8S-044", "apiVersion: v1\nkind: Service\nmetadata: {name: distiller, namespace: x}\n"),
    ("CTM-K8S-045", pod(C.replace("app:1", "ghcr.io/helm/tiller:v2.17.0") + "      args: [--listen=localhost:44134]\n")),
    ("CTM-K8S-046", "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: default, namespace: x}\n"
                    "automountServiceAccountToken: false\n"),
    ("CTM-K8S-046", "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: app, namespace: x}\n"),
    ("CTM-K8S-047", "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: b, namespace: x}\n"
                    "subjects:\n  - {kind: User, name: default}\n  - {kind: ServiceAccount, name: app}\n"),
    ("CTM-K8S-048", ROLE.format(kind="Role") + "  - apiGroups: ['']\n    resources: [pods, pods/log]\n    verbs: [get]\n"),
    ("CTM-K8S-049", ROLE.format(kind="Role") + "  - apiGroups: ['*']\n    resources: ['*']\n    verbs: ['*']\n"),
    ("CTM-K8S-049", ROLE.format(kind="ClusterRole") + "  - apiGroups: [admissionregistration.k8s.io]\n"
                    "    resources: [mutatingwebhookconfigurations]\n    verbs: [get, list, watch]\n"),
    ("CTM-K8S-050", ROLE.format(kind="ClusterRole") + "  - apiGroups: [certificates.k8s.io]\n"
                    "    resources: [certificatesigningrequests/approval]\n    verbs: [update]\n"),
    ("CTM-K8S-051", ROLE.format(kind="Role") + "  - apiGroups: [rbac.authorization.k8s.io]\n"
                    "    resources: [rolebindings]\n    verbs: [create, get]\n"),
    ("CTM-K8S-052", ROLE.format(kind="Role") + "  - apiGroups: ['']\n    resources: [roles]\n    verbs: [escalate]\n"),
    ("CTM-K8S-053", manifest(ctr="          env:\n            - name: GITSYNC_REPO\n              value: https://x\n")),
    ("CTM-K8S-054", "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: i\n  namespace: x\n"
                    "  annotations: {nginx.ingress.kubernetes.io/rewrite-target: /}\n"),
    ("CTM-K8S-057", "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: x}\nspec: {externalIPs: []}\n"),
    ("CTM-K8S-058", "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: x}\nspec: {type: ClusterIP}\n"),
    ("CTM-K8S-059", manifest(drop="[ALL]")),
]  # fmt: skip


@pytest.mark.parametrize(("rule", "text"), PASSING, ids=[f"{c[0]}-{i}" for i, c in enumerate(PASSING)])
def test_rule_passes(rule: str, text: str) -> None:
    assert rule not in {r for r, _, _ in run(text)}


def test_wildcards_grant_the_rbac_operations() -> None:
    text = ROLE.format(kind="ClusterRole") + "  - apiGroups: ['*']\n    resources: ['*']\n    verbs: ['*']\n"
    found = {r for r, _, _ in run(text)}
    assert {"CTM-K8S-048", "CTM-K8S-049", "CTM-K8S-050", "CTM-K8S-051", "CTM-K8S-052"} <= found
    sub = ROLE.format(kind="ClusterRole") + (
        "  - apiGroups: [certificates.k8s.io]\n    resources: ['*/approval', signers]\n    verbs: [update, approve]\n"
    )
    assert "CTM-K8S-050" in {r for r, _, _ in run(sub)}


def test_case_of_drop_all_and_pss_level() -> None:
    lower = manifest(drop="[all]")
    found = {r for r, _, _ in run(lower)}
    assert "CTM-K8S-059" in found and "CTM-K8S-010" not in found and "CTM-K8S-039" not in found
    doc = k8s.parse("d.yaml", lower.encode())
    assert doc is not None and k8s.pss_level(doc.inputs[0]) == "baseline"  # admission refuses 'all'


def test_unconfined_seccomp_is_also_checkovs_31() -> None:
    assert "CKV_K8S_31" in next(r for r in k8s.RULES if r.id == "CTM-K8S-017").aliases


def test_every_rule_has_a_failing_case() -> None:
    fired = {c[0] for c in PSS_CASES} | {c[0] for c in CASES}
    fired |= {"CTM-K8S-009", "CTM-K8S-010", "CTM-K8S-011", "CTM-K8S-025", "CTM-K8S-026", "CTM-K8S-027",
              "CTM-K8S-028", "CTM-K8S-029", "CTM-K8S-035"}  # fmt: skip  # fired in test_kubernetes
    assert {r.id for r in k8s.RULES} <= fired
    for r in k8s.RULES:
        assert r.rationale and r.remediation and r.title, r.id
        for other in PASSING:
            assert other[0] in {x.id for x in k8s.RULES}


RESTRICTED_SPEC = {
    "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
    "containers": [
        {
            "name": "app",
            "image": "app:1",
            "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
        }
    ],
}


def workload(kind: str, spec: dict[str, object]) -> dict[str, object]:
    """An object of `kind` whose pod template (at kubernetes.TEMPLATE_PATHS[kind]) has `spec`."""
    obj: dict[str, object] = {"apiVersion": "v1", "kind": kind, "metadata": {"name": "w", "namespace": "x"}}
    path = k8s.TEMPLATE_PATHS[kind]
    node = obj
    for part in path.split(".") if path else ():
        node = node.setdefault(part, {})  # type: ignore[assignment]
    node["spec"] = spec
    return obj


@pytest.mark.parametrize("kind", sorted(k8s.TEMPLATE_PATHS))
def test_pss_level_of_every_workload_kind(kind: str) -> None:
    assert k8s.pss_level(workload(kind, RESTRICTED_SPEC)) == "restricted"
    baseline = {**RESTRICTED_SPEC, "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}}
    assert k8s.pss_level(workload(kind, baseline)) == "baseline"  # may run as root
    assert k8s.pss_level(workload(kind, {**RESTRICTED_SPEC, "hostNetwork": True})) == "privileged"
    init = {**RESTRICTED_SPEC, "initContainers": [{"name": "i", "image": "i:1", "securityContext": {"privileged": True}}]}
    assert k8s.pss_level(workload(kind, init)) == "privileged"  # init containers count
    # findings and level agree: a restricted workload has no PSS finding
    text = json.dumps(workload(kind, RESTRICTED_SPEC))
    doc = k8s.parse("w.json", text.encode())
    assert doc is not None and not [m for m in k8s.check(doc) if profile(m.rule)]


@pytest.mark.parametrize("kind", ["Service", "ConfigMap", "Role", "Ingress", "Namespace"])
def test_pss_level_of_objects_that_are_not_workloads(kind: str) -> None:
    assert k8s.pss_level({"apiVersion": "v1", "kind": kind, "metadata": {"name": "n"}, "spec": RESTRICTED_SPEC}) == ""


def test_pss_level_of_a_template_without_a_spec() -> None:
    assert k8s.pss_level({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}}) == ""


def test_kustomize_deletion_patch_is_not_an_object() -> None:
    text = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: loadgenerator\n$patch: delete\n"
    assert k8s.parse("delete.patch.yaml", text.encode()) is None
    both = text + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: x}\n"
    doc = k8s.parse("p.yaml", both.encode())
    assert doc is not None and [o["kind"] for o in doc.inputs] == ["ConfigMap"]
