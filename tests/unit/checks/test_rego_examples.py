"""Every policy in examples/policies loads and fires on a matching input (so docs cannot rot)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from containment.checks.rego import load_policies
from containment.model import ConfigDoc

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "policies"
DOCS = Path(__file__).resolve().parents[3] / "docs" / "policies.md"


def instr(cmd: str, value: list[str], original: str, line: int, stage: int = 0) -> dict[str, Any]:
    return {
        "Cmd": cmd,
        "Value": value,
        "Flags": [],
        "JSON": False,
        "Original": original,
        "Stage": stage,
        "SubCmd": "",
        "StartLine": line,
        "EndLine": line,
    }


DOCKERFILE = ConfigDoc(
    "Dockerfile",
    "dockerfile",
    (
        [
            instr("from", ["golang:1.22", "AS", "build"], "FROM golang:1.22 AS build", 1),
            instr("from", ["alpine@sha256:" + "0" * 64], "FROM alpine@sha256:" + "0" * 64, 4, 1),
            instr("copy", ["--from=build", "/app", "/app"], "COPY --from=build /app /app", 5, 1),
        ],
    ),
)
DEPLOYMENT = ConfigDoc(
    "k8s/web.yaml",
    "kubernetes",
    (
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {
                "template": {
                    "spec": {
                        "containers": [
                            {"name": "app", "image": "nginx", "securityContext": {"privileged": True}},
                        ]
                    }
                }
            },
        },
    ),
)
COMPOSE = ConfigDoc(
    "compose.yaml",
    "compose",
    (
        {
            "services": {
                "agent": {
                    "image": "agent",
                    "volumes": [{"type": "bind", "source": "/var/run/docker.sock", "target": "/s"}],
                },
                "web": {"image": "nginx", "volumes": ["./html:/usr/share/nginx/html"]},
            }
        },
    ),
)
IMAGE = {"architecture": "amd64", "os": "linux", "config": {"User": "", "Labels": {}}}

EXPECTED = {
    "dockerfile.rego": {
        ("ORG-DF-001", "deny", "base image golang:1.22 is not pinned by digest", 1, "stage build")
    },
    "kubernetes.rego": {
        (
            "main.kubernetes/deny_privileged",
            "deny",
            "Deployment/web: container app is privileged",
            0,
            "Deployment/web",
        ),
        (
            "main.kubernetes/warn_no_memory_limit",
            "warn",
            "Deployment/web: container app has no memory limit",
            0,
            "Deployment/web",
        ),
    },
    "compose.rego": {
        (
            "main.compose/violation_docker_socket",
            "deny",
            "service agent mounts the Docker socket",
            0,
            "compose file",
        )
    },
    "image.rego": {
        (
            "ORG-IMG-001",
            "deny",
            "image runs as root: set USER to a non-root user",
            0,
            "image config reg/app:1",
        ),
        ("ORG-IMG-001", "warn", "image has no org.example.owner label", 0, "image config reg/app:1"),
    },
}


def test_every_example_is_covered() -> None:
    assert sorted(p.name for p in EXAMPLES.glob("*.rego")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_fires_only_on_its_kind(name: str) -> None:
    ps = load_policies([str(EXAMPLES / name)])
    found = ps.evaluate([DOCKERFILE, DEPLOYMENT, COMPOSE], IMAGE, "reg/app:1")
    got = {(m.rule.id, m.level, m.message, m.location.start_line, m.resource) for m in found}
    assert got == EXPECTED[name]
    assert {m.source for m in found} == {f"rego:{EXAMPLES / name}"}


def test_examples_load_together_and_docs_name_them() -> None:
    ps = load_policies([str(EXAMPLES)])
    found = ps.evaluate([DOCKERFILE, DEPLOYMENT, COMPOSE], IMAGE, "reg/app:1")
    assert len(found) == sum(len(v) for v in EXPECTED.values())
    text = DOCS.read_text()
    for name in EXPECTED:
        assert f"examples/policies/{name}" in text


def test_docs_worked_example(tmp_path: Path) -> None:
    text = DOCS.read_text()
    after = text.split("`policies/privileged.rego`:", 1)[1]
    source = after.split("```rego\n", 1)[1].split("```", 1)[0]
    (tmp_path / "privileged.rego").write_text(source)
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web"},
        "spec": {
            "containers": [{"name": "app", "image": "nginx:1.27", "securityContext": {"privileged": True}}]
        },
    }
    found = load_policies([str(tmp_path)]).evaluate([ConfigDoc("pod.yaml", "kubernetes", (pod,))])
    got = [(m.rule.id, m.rule.severity, m.message, m.resource) for m in found]
    assert got == [("main/deny", "MEDIUM", "container app is privileged", "Pod/web")]
    assert (
        "rule\n`main/deny`, severity MEDIUM, message `container app is privileged`, resource `Pod/web`"
        in text
    )
