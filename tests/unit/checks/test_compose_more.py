"""Compose forms beyond the basic service keys: hardening left out (no-new-privileges, read_only, memory
limit, cap_drop), secrets in build args and inline configs, `extends` (same file and other files),
anchors and `x-` fields, named volumes bound to a host path, ${VAR} socket paths, long port syntax."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from containment.checks import compose
from containment.model import ConfigDoc
from tests.unit.checks.test_compose import CASES as BASIC_CASES

HARDENED = (
    "    user: \"1000\"\n    image: app:1\n    cap_drop: [ALL]\n    read_only: true\n"
    "    security_opt: [\"no-new-privileges:true\"]\n    deploy: {resources: {limits: {memory: 128M}}}\n"
)


def run(text: str) -> list[tuple[str, int, str]]:
    doc = compose.parse("compose.yaml", text.encode())
    assert doc is not None
    return [(m.rule.id, m.location.start_line, m.resource) for m in compose.check(doc)]


def messages(text: str) -> list[str]:
    doc = compose.parse("compose.yaml", text.encode())
    assert doc is not None
    return [m.message for m in compose.check(doc)]


def without(key: str) -> str:
    return "".join(line + "\n" for line in HARDENED.splitlines() if not line.strip().startswith(key))


CASES = [
    ("CTM-DC-015", "services:\n  svc:\n" + HARDENED + "    build:\n      context: .\n      args:\n"
                   "        NPM_TOKEN: npm_abcdef123456  # <-\n"),
    ("CTM-DC-015", "services:\n  svc:\n" + HARDENED + "    build:\n      context: .\n      args:\n"
                   "        - GITHUB_TOKEN=ghp_abc  # <-\n"),
    ("CTM-DC-016", "services:\n  svc:  # <-\n" + without("security_opt")),
    ("CTM-DC-016", "services:\n  svc:\n" + without("security_opt") + "    security_opt:  # <-\n"
                   "      - no-new-privileges:false\n"),
    ("CTM-DC-017", "services:\n  svc:  # <-\n" + without("read_only")),
    ("CTM-DC-017", "services:\n  svc:\n" + without("read_only") + "    read_only: false  # <-\n"),
    ("CTM-DC-018", "services:\n  svc:  # <-\n" + without("deploy")),
    ("CTM-DC-019", "services:\n  svc:  # <-\n" + without("cap_drop")),
    ("CTM-DC-019", "services:\n  svc:\n" + without("cap_drop") + "    cap_drop: [NET_RAW]  # <-\n"),
    ("CTM-DC-020", "services:\n  svc:\n" + HARDENED + "configs:\n  app_env:\n"
                   "    content: |  # <-\n      LOG_LEVEL=debug\n      DB_PASSWORD=hunter2\n"),
    ("CTM-DC-020", "services:\n  svc:\n" + HARDENED + "configs:\n  api_token:\n    content: abc123  # <-\n"),
    ("CTM-DC-007", "services:\n  svc:\n" + HARDENED + "    volumes:\n"
                   "      - ${XDG_RUNTIME_DIR}/docker.sock:/var/run/docker.sock  # <-\n"),
    ("CTM-DC-007", "services:\n  svc:\n" + HARDENED + "    volumes:\n      - sock:/var/run/docker.sock  # <-\n"
                   "volumes:\n  sock:\n    driver: local\n    driver_opts: {type: none, o: bind, device: /var/run}\n"),
    ("CTM-DC-012", "services:\n  svc:\n" + HARDENED + "    ports:\n      - target: 5432  # <-\n"
                   "        host_ip: \"::\"\n        published: \"5432\"\n"),
]  # fmt: skip


@pytest.mark.parametrize(("rule", "text"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_rule_fires_at_line(rule: str, text: str) -> None:
    marked = [i for i, line in enumerate(text.splitlines(), 1) if "# <-" in line][0]
    found = run(text)
    assert (rule, marked) in [(r, n) for r, n, _ in found], found


def test_hardened_service_is_clean() -> None:
    assert run("services:\n  svc:\n" + HARDENED) == []


PASSING = [
    "    build:\n      context: .\n      args: {NPM_TOKEN: \"${NPM_TOKEN}\", VERSION: \"1.2\", TOKEN_FILE: /run/t}\n",
    "    build:\n      context: .\n      secrets: [npm]\n",
    "    ports:\n      - {target: 5432, host_ip: 127.0.0.1, published: \"5432\"}\n",
    "    volumes:\n      - data:/var/lib/data\n",
    "    volumes:\n      - {type: volume, source: data, target: /d}\n",
    "    secrets: [db_password]\n",
]


@pytest.mark.parametrize("lines", PASSING)
def test_safe_forms_pass(lines: str) -> None:
    text = "services:\n  svc:\n" + HARDENED + lines + (
        "volumes:\n  data: {}\nsecrets:\n  db_password: {file: ./db_password.txt}\n  npm: {environment: NPM_TOKEN}\n"
        "configs:\n  nginx: {content: \"server { listen 80; }\"}\n  app_settings: {file: ./settings.yaml}\n"
    )
    assert run(text) == []


def test_extends_in_the_same_file_inherits_settings_and_findings() -> None:
    text = (
        "x-hardening: &hardening\n" + HARDENED.replace("    ", "  ")
        + "services:\n"
        "  base:\n    <<: *hardening\n    privileged: true  # base\n"
        "  web:\n    extends: base\n    ports: [\"8080:80\"]\n"
        "  api:\n    extends: {service: web}\n    user: \"2000\"\n"
        "  lax:\n    extends: {service: base}\n    read_only: false\n"
    )  # fmt: skip
    found = run(text)
    assert ("CTM-DC-001", 11, "service base") in found
    assert ("CTM-DC-001", 12, "service web") in found  # inherited: reported at the extending service
    assert ("CTM-DC-001", 15, "service api") in found  # through two levels
    assert not [f for f in found if f[0] == "CTM-DC-009"]  # user inherited from the anchor
    assert ("CTM-DC-017", 20, "service lax") in found  # its own override wins
    assert any("inherited through extends" in m for m in messages(text) if "service web" in m)


def test_extends_from_another_file_is_not_judged_on_what_it_lacks() -> None:
    text = "services:\n  web:\n    extends: {file: common.yaml, service: base}\n    privileged: true\n"
    assert {r for r, _, _ in run(text)} == {"CTM-DC-001"}
    text = "services:\n  web:\n    extends: missing\n"  # a base this file does not hold
    assert run(text) == []


def test_extends_cycles_end() -> None:
    text = "services:\n  a:\n    extends: b\n  b:\n    extends: a\n    privileged: true\n"
    found = {(r, res) for r, _, res in run(text)}
    assert ("CTM-DC-001", "service b") in found


def test_profiles_and_extension_fields_are_not_services() -> None:
    text = "x-svc: {privileged: true}\nservices:\n  svc:\n" + HARDENED + "    profiles: [debug]\n"
    assert run(text) == []


def test_every_rule_has_a_failing_case() -> None:
    fired = {c[0] for c in BASIC_CASES} | {c[0] for c in CASES}
    assert {r.id for r in compose.RULES} <= fired
    assert {r.id for r in compose.RULES} >= compose.ABSENCE_RULES


_scalar = st.one_of(st.none(), st.booleans(), st.integers(-3, 70000), st.text(max_size=10),
                    st.sampled_from(["a", "b", "host", "ALL", "/var/run", "no-new-privileges:true", "x=1"]))
_key = st.sampled_from(["a", "b", "extends", "service", "file", "build", "args", "deploy", "resources", "limits",
                        "memory", "volumes", "source", "type", "driver_opts", "o", "device", "security_opt",
                        "cap_drop", "read_only", "configs", "content", "ports", "host_ip", "target"])
_value: Any = st.recursive(_scalar, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                            st.dictionaries(_key, inner, max_size=5)), max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_key, _value, max_size=5), st.dictionaries(_key, _value, max_size=4))
def test_random_services_with_extends_and_top_level(services: dict[str, Any], top: dict[str, Any]) -> None:
    doc = ConfigDoc("compose.yaml", "compose", ({**top, "services": services},), {"lines": [{}]})
    for m in compose.check(doc):
        assert m.rule in compose.RULES
