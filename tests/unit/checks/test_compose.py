"""Compose checks: recognition by name, each rule failing (at the marked line) and passing, short and
long syntax, YAML 1.2 scalars (22:22 is a string), bad input."""

from __future__ import annotations

import pytest

from containment.checks import compose
from containment.model import ConfigError

CLEAN = """services:
  web:
    image: nginx:1.27
    user: "10001:10001"
    cap_drop: [ALL]
    cap_add: [NET_BIND_SERVICE]
    ports: ["127.0.0.1:5432:5432", "8080:80"]
    volumes: ["./data:/data", "logs:/logs"]
    environment:
      LOG_LEVEL: debug
      DB_PASSWORD: ${DB_PASSWORD}
      PASSWORD_FILE: /run/secrets/db
    security_opt: ["no-new-privileges:true"]
    read_only: true
    deploy: {resources: {limits: {memory: 256M, cpus: "0.5"}}}
  app:
    build: .
    user: app
    cap_drop: [all]
    security_opt: ["no-new-privileges=true"]
    read_only: true
    mem_limit: 1g
"""


def run(text: str) -> list[tuple[str, int, str]]:
    doc = compose.parse("docker-compose.yml", text.encode())
    assert doc is not None
    return [(m.rule.id, m.location.start_line, m.resource) for m in compose.check(doc)]


def test_names() -> None:
    for yes in ("compose.yaml", "compose.yml", "docker-compose.yaml", "a/b/docker-compose.yml",
                "docker-compose.override.yml", "compose.prod.yaml", "Docker-Compose.YML"):
        assert compose.is_compose(yes), yes
    for no in ("composer.yaml", "compose.json", "my-compose.yml", "compose.yaml.bak", "docker-compose/x.yml"):
        assert not compose.is_compose(no), no


def test_clean_file() -> None:
    assert run(CLEAN) == []


CASES = [
    ("CTM-DC-001", "    privileged: true  # <-\n"),
    ("CTM-DC-002", "    network_mode: host  # <-\n"),
    ("CTM-DC-003", "    pid: host  # <-\n"),
    ("CTM-DC-004", "    ipc: host  # <-\n"),
    ("CTM-DC-005", "    cap_add:\n      - ALL  # <-\n"),
    ("CTM-DC-005", "    cap_add:\n      - CAP_SYS_ADMIN  # <-\n"),
    ("CTM-DC-006", "    cap_add:\n      - NET_ADMIN  # <-\n"),
    ("CTM-DC-007", "    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock:ro  # <-\n"),
    ("CTM-DC-007", "    volumes:\n      - type: bind\n        source: //run/podman/podman.sock  # <-\n"
                   "        target: /s\n"),
    ("CTM-DC-007", "    volumes:\n      - /var/run:/host-run  # <-\n"),
    ("CTM-DC-008", "    environment:\n      - AWS_SECRET_ACCESS_KEY=abc123  # <-\n"),
    ("CTM-DC-008", "    environment:\n      POSTGRES_PASSWORD: hunter2  # <-\n"),
    ("CTM-DC-009", "    user: root  # <-\n"),
    ("CTM-DC-009", "    user: \"0:0\"  # <-\n"),
    ("CTM-DC-010", "    security_opt:\n      - seccomp:unconfined  # <-\n"),
    ("CTM-DC-010", "    security_opt:\n      - apparmor=unconfined  # <-\n"),
    ("CTM-DC-010", "    security_opt:\n      - label:disable  # <-\n"),
    ("CTM-DC-011", "    image: redis  # <-\n"),
    ("CTM-DC-011", "    image: redis:latest  # <-\n"),
    ("CTM-DC-012", "    ports:\n      - 22:22  # <-\n"),
    ("CTM-DC-012", "    ports:\n      - \"0.0.0.0:6379:6379\"  # <-\n"),
    ("CTM-DC-012", "    ports:\n      - target: 27017  # <-\n        published: 27017\n"),
    ("CTM-DC-012", "    ports:\n      - \"3300-3310:3300-3310/tcp\"  # <-\n"),
    ("CTM-DC-013", "    devices:\n      - /dev/kmsg:/dev/kmsg  # <-\n"),
    ("CTM-DC-014", "    userns_mode: host  # <-\n"),
]


@pytest.mark.parametrize(("rule", "lines"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_rule_fires_at_line(rule: str, lines: str) -> None:
    text = f"x-common: &c\n  restart: always\nservices:\n  svc:\n    <<: *c\n{lines}"
    if "user:" not in lines:
        text += "    user: \"1000\"\n"
    if "image:" not in lines:
        text += "    image: app:1\n"
    marked = [i for i, line in enumerate(text.splitlines(), 1) if "# <-" in line][0]
    found = run(text)
    assert (rule, marked, "service svc") in found, found


def test_no_user_reported_at_service() -> None:
    assert ("CTM-DC-009", 2, "service a") in run("services:\n  a:\n    image: x:1\n")


def test_not_flagged() -> None:
    text = """services:
  a:
    image: "${IMAGE}"
    user: "1000"
    ports: ["[::1]:5432:5432", "127.0.0.1:22:22", "8080:8080"]
    environment: [API_TOKEN, "SECRET_KEY=$${LITERAL_DOLLAR}", "TOKEN_URL=https://x"]
    volumes: [{type: volume, source: docker.sock, target: /x}]
    cap_add: [chown]
    cap_drop: [ALL]
    security_opt: [no-new-privileges]
    read_only: true
    mem_limit: 64m
"""
    assert run(text) == []


def test_not_compose_and_bad_input() -> None:
    assert compose.parse("compose.yaml", b"version: '3'\n") is None
    assert compose.parse("compose.yaml", b"services: [a]\n") is None
    with pytest.raises(ConfigError, match=r"^compose.yaml:\d+: duplicate key 'a'"):
        compose.parse("compose.yaml", b"services:\n  a: {}\n  a: {}\n")
    with pytest.raises(ConfigError, match="binary data"):
        compose.parse("compose.yaml", b"\x00\x01services")


def test_rules_well_formed() -> None:
    ids = [r.id for r in compose.RULES]
    assert len(set(ids)) == len(ids) and all(r.kind == "compose" for r in compose.RULES)
    # every rule has a failing case: test_compose_more.test_every_rule_has_a_failing_case
