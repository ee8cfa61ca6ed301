"""Users' Rego policies: Conftest semantics, metadata, selectors, errors naming file and line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from containment.checks.rego import MAX_INPUT_DEPTH, load_policies, rule_level
from containment.model import ConfigDoc, ConfigError


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
    "app/Dockerfile",
    "dockerfile",
    (
        [
            instr("from", ["alpine:latest"], "FROM alpine:latest", 1),
            instr("run", ["apk add curl"], "RUN apk add curl", 2),
            instr("user", ["root"], "USER root", 3),
        ],
    ),
    layer="sha256:aaa",
)
POD = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "web"},
    "spec": {"containers": [{"name": "app", "image": "nginx", "securityContext": {"privileged": True}}]},
}
K8S = ConfigDoc("k8s/pod.yaml", "kubernetes", (POD, {"kind": "Service", "metadata": {"name": "svc"}}))
COMPOSE = ConfigDoc(
    "docker-compose.yml", "compose", ({"services": {"web": {"image": "nginx", "privileged": True}}},)
)


def write(tmp: Path, name: str, text: str) -> Path:
    p = tmp / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return p


def test_rule_names() -> None:
    assert rule_level("deny") == "deny"
    assert rule_level("deny_latest") == "deny"
    assert rule_level("violation_x") == "deny"
    assert rule_level("warn_x") == "warn"
    assert rule_level("denylist") == ""
    assert rule_level("allow") == ""


def test_v0_conftest_style_dockerfile_policy(tmp_path: Path) -> None:
    # The style of Conftest's examples/docker: v0 partial sets, implicit vars, `=` assignment, else.
    write(
        tmp_path,
        "policy/base.rego",
        """package main

blocked = ["apk", "curl"]

has_user = true {
  input[_].Cmd = "user"
} else = false { true }

deny[msg] {
  input[i].Cmd == "run"
  val := input[i].Value[_]
  word := blocked[_]
  contains(val, word)
  msg = sprintf("blocked command in %s", [input[i].Original])
}

warn[msg] {
  input[i].Cmd == "from"
  endswith(input[i].Value[0], ":latest")
  msg = "latest tag"
}

deny_no_user[msg] {
  not has_user
  msg = "no USER"
}
""",
    )
    ps = load_policies([str(tmp_path / "policy")])
    found = ps.evaluate([DOCKERFILE])
    by = {(m.rule.id, m.message): m for m in found}
    assert set(by) == {("main/deny", "blocked command in RUN apk add curl"), ("main/warn", "latest tag")}
    deny = by[("main/deny", "blocked command in RUN apk add curl")]
    assert deny.level == "deny" and deny.rule.severity == "MEDIUM" and deny.rule.kind == "policy"
    assert deny.location.path == "app/Dockerfile" and deny.location.layer == "sha256:aaa"
    assert deny.location.start_line == 2  # the message quotes exactly one instruction
    assert deny.source == f"rego:{tmp_path / 'policy/base.rego'}"
    warn = by[("main/warn", "latest tag")]
    assert warn.level == "warn" and warn.rule.severity == "LOW" and warn.location.start_line == 0


def test_v1_objects_details_and_startline(tmp_path: Path) -> None:
    write(
        tmp_path,
        "p.rego",
        """package main
import rego.v1

violation contains {"msg": "runs as root", "details": {"user": i.Value[0]}, "StartLine": i.StartLine} if {
  some i in input
  i.Cmd == "user"
  i.Value[0] == "root"
}

warn_trivy contains {"msg": "curl installed", "startline": 2, "endline": 2} if {
  some i in input
  contains(i.Original, "curl")
}
""",
    )
    found = load_policies([str(tmp_path / "p.rego")]).evaluate([DOCKERFILE])
    got = sorted((m.rule.id, m.level, m.message, m.location.start_line, m.location.end_line) for m in found)
    assert got == [
        ("main/violation", "deny", "runs as root", 3, 3),
        ("main/warn_trivy", "warn", "curl installed", 2, 2),
    ]


def test_kubernetes_resource_compose_and_image_inputs(tmp_path: Path) -> None:
    write(
        tmp_path,
        "p.rego",
        """package main
import rego.v1

deny contains sprintf("%s %s is privileged", [input.kind, input.metadata.name]) if {
  some c in input.spec.containers
  c.securityContext.privileged
}

deny contains sprintf("service %s is privileged", [name]) if {
  some name, s in input.services
  s.privileged
}

deny contains "root image" if input.config.User == ""
""",
    )
    ps = load_policies([str(tmp_path)])
    found = ps.evaluate([K8S, COMPOSE], {"config": {"User": ""}}, "reg.io/app:1")
    got = sorted((m.message, m.resource, m.location.path) for m in found)
    assert got == [
        ("Pod web is privileged", "Pod/web", "k8s/pod.yaml"),
        ("root image", "image config reg.io/app:1", ""),
        ("service web is privileged", "compose file", "docker-compose.yml"),
    ]


def test_namespaces_and_sub_packages(tmp_path: Path) -> None:
    write(tmp_path, "a.rego", 'package main\nimport rego.v1\ndeny contains "main" if true\n')
    write(tmp_path, "b.rego", 'package main.extra\nimport rego.v1\ndeny contains "sub" if true\n')
    write(tmp_path, "c.rego", 'package custom\nimport rego.v1\ndeny contains "custom" if true\n')
    msgs = {m.message for m in load_policies([str(tmp_path)]).evaluate([COMPOSE])}
    assert msgs == {"main", "sub"}
    msgs = {m.message for m in load_policies([str(tmp_path)], namespaces=("custom",)).evaluate([COMPOSE])}
    assert msgs == {"custom"}
    msgs = {
        m.message for m in load_policies([str(tmp_path)], namespaces=("main", "custom")).evaluate([COMPOSE])
    }
    assert msgs == {"main", "sub", "custom"}


def test_metadata_and_selector(tmp_path: Path) -> None:
    write(
        tmp_path,
        "p.rego",
        """package main.df
import rego.v1

__rego_metadata__ := {
  "id": "ORG-001",
  "title": "No root",
  "severity": "critical",
  "description": "why",
  "recommended_actions": "set USER",
}
__rego_input__ := {"selector": [{"type": "dockerfile"}]}

deny contains "always" if true
""",
    )
    write(
        tmp_path,
        "y.rego",
        'package main.yaml\nimport rego.v1\n__rego_input__ := {"selector": [{"type": "yaml"}]}\n'
        'deny contains "yaml" if true\n',
    )
    ps = load_policies([str(tmp_path)])
    found = ps.evaluate([DOCKERFILE, K8S, COMPOSE], {"config": {}})
    df = [m for m in found if m.message == "always"]
    assert [m.location.path for m in df] == ["app/Dockerfile"]  # the selector kept it to Dockerfiles
    rule = df[0].rule
    assert (rule.id, rule.title, rule.severity, rule.rationale, rule.remediation) == (
        "ORG-001",
        "No root",
        "CRITICAL",
        "why",
        "set USER",
    )
    yaml = sorted(m.location.path for m in found if m.message == "yaml")
    assert yaml == ["docker-compose.yml", "k8s/pod.yaml", "k8s/pod.yaml"]  # both objects of the manifest
    assert {r.id for r in ps.rules()} == {"ORG-001", "main.yaml/deny"}


def test_bad_metadata_severity(tmp_path: Path) -> None:
    write(
        tmp_path,
        "p.rego",
        'package main\n__rego_metadata__ := {"severity": "urgent"}\ndeny contains "x" if true\n',
    )
    with pytest.raises(ConfigError, match=r"p\.rego: __rego_metadata__ severity 'URGENT'"):
        load_policies([str(tmp_path)])


def test_lib_helpers_imported_from_another_file(tmp_path: Path) -> None:
    write(
        tmp_path,
        "lib/k8s.rego",
        'package lib.k8s\nimport rego.v1\nname(obj) := sprintf("%s/%s", [obj.kind, obj.metadata.name])\n',
    )
    write(
        tmp_path,
        "policy.rego",
        "package main\nimport rego.v1\nimport data.lib.k8s\n\n"
        'warn contains msg if {\n  input.kind == "Pod"\n  msg := sprintf("%s seen", [k8s.name(input)])\n}\n',
    )
    found = load_policies([str(tmp_path)]).evaluate([K8S])
    assert [(m.message, m.level) for m in found] == [("Pod/web seen", "warn")]


def test_rule_spread_over_files_names_the_defining_file(tmp_path: Path) -> None:
    write(tmp_path, "one.rego", 'package main\nimport rego.v1\ndeny contains "one" if true\n')
    write(tmp_path, "two.rego", 'package main\nimport rego.v1\nwarn_two contains "two" if true\n')
    found = load_policies([str(tmp_path)]).evaluate([COMPOSE])
    assert {(m.message, Path(m.source.removeprefix("rego:")).name) for m in found} == {
        ("one", "one.rego"),
        ("two", "two.rego"),
    }


def test_test_files_and_other_files_skipped(tmp_path: Path) -> None:
    write(tmp_path, "p.rego", 'package main\nimport rego.v1\ndeny contains "x" if true\n')
    write(tmp_path, "p_test.rego", "package main\nthis does not parse {{{\n")
    write(tmp_path, "README.md", "# not a policy\n")
    ps = load_policies([str(tmp_path)])
    assert [Path(f).name for f in ps.files] == ["p.rego"]


def test_docs_with_parse_errors_are_skipped(tmp_path: Path) -> None:
    write(tmp_path, "p.rego", 'package main\nimport rego.v1\ndeny contains "x" if true\n')
    broken = ConfigDoc("bad.yaml", "kubernetes", (), error="bad.yaml: not YAML")
    assert load_policies([str(tmp_path)]).evaluate([broken]) == []


# ---------------------------------------------------------------------------- errors


def test_parse_error_names_file_and_line(tmp_path: Path) -> None:
    write(tmp_path, "good.rego", 'package main\nimport rego.v1\ndeny contains "x" if true\n')
    write(tmp_path, "policies/deny.rego", "package main\n\n\n\n\n\ndeny contains msg if {{\n  msg := 1\n")
    with pytest.raises(ConfigError) as e:
        load_policies([str(tmp_path / "good.rego"), str(tmp_path / "policies")])
    msg = str(e.value)
    assert "\n" not in msg
    assert msg.startswith(f"{tmp_path / 'policies/deny.rego'}:7: ")
    assert msg.endswith("; fix the policy")


def test_compile_error_in_second_of_several_files_names_it(tmp_path: Path) -> None:
    # A v0 partial set and a v1 `contains` rule of the same name conflict in rego-cpp.
    write(tmp_path, "a.rego", 'package main\n\ndeny[msg] {\n  input.x == 1\n  msg := "a"\n}\n')
    write(tmp_path, "b.rego", 'package main\nimport rego.v1\n\n\ndeny contains msg if {\n  msg := "b"\n}\n')
    with pytest.raises(ConfigError) as e:
        load_policies([str(tmp_path)])
    assert str(e.value).startswith(f"{tmp_path / 'b.rego'}:5: Invalid rule body for object rule")


def test_unknown_function_names_the_file(tmp_path: Path) -> None:
    write(tmp_path, "ok.rego", 'package main\nimport rego.v1\nwarn contains "w" if true\n')
    write(tmp_path, "bad.rego", "package main.b\nimport rego.v1\ndeny contains no_such_function(1) if true\n")
    with pytest.raises(
        ConfigError, match=r"bad\.rego.*Function not found: no_such_function; fix the policy$"
    ):
        load_policies([str(tmp_path)])


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('x := 1 if input.services\nx := 2 if input.services\ndeny contains "c" if x', "eval_conflict_error"),
        (
            'deny contains msg if { msg := sprintf("%v", [1 / count(input.services.web.ports)]) }',
            "divide by zero",
        ),
        ("deny contains msg if { msg := to_number(input.services.web.image) }", "eval_"),
    ],
)
def test_runtime_errors_name_policy_and_input(tmp_path: Path, body: str, expected: str) -> None:
    write(tmp_path, "rt.rego", f"package main\nimport rego.v1\n{body}\n")
    doc = ConfigDoc(
        "docker-compose.yml", "compose", ({"services": {"web": {"image": "nginx", "ports": []}}},)
    )
    ps = load_policies([str(tmp_path)])
    with pytest.raises(ConfigError) as e:
        ps.evaluate([doc])
    msg = str(e.value)
    assert "\n" not in msg and "rt.rego" in msg and "docker-compose.yml" in msg and expected in msg


def test_engine_gap_is_a_config_error(tmp_path: Path) -> None:
    # rego-cpp does not iterate `[_]` inside a call's arguments (OPA does): bind it first.
    write(tmp_path, "gap.rego", 'package main\ndeny[msg] {\n  contains(input[_].Cmd, "ru")\n  msg = "m"\n}\n')
    with pytest.raises(ConfigError, match=r"gap\.rego.*fix the policy$"):
        load_policies([str(tmp_path)]).evaluate([DOCKERFILE])


def test_result_object_without_msg(tmp_path: Path) -> None:
    write(tmp_path, "p.rego", 'package main\nimport rego.v1\ndeny contains {"message": "x"} if true\n')
    with pytest.raises(ConfigError, match='without "msg"'):
        load_policies([str(tmp_path)]).evaluate([COMPOSE])


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        (lambda d: d / "missing", "no such policy file or directory"),
        (lambda d: (d / "empty").mkdir() or d / "empty", "no .rego policy files"),
        (lambda d: write(d, "p.txt", "package main\n"), "not a .rego file"),
        (lambda d: (d / "bin.rego").write_bytes(b"\x00\x01\x02") and d / "bin.rego", "not a text file"),
        (
            lambda d: (d / "latin.rego").write_bytes(b"package main\n# caf\xe9\n") and d / "latin.rego",
            "not UTF-8",
        ),
        (lambda d: write(d, "huge.rego", "package main\n" + "#" * (1024 * 1024 + 1)), "larger than"),
    ],
)
def test_bad_policy_paths(tmp_path: Path, setup: Any, expected: str) -> None:
    target = setup(tmp_path)
    with pytest.raises(ConfigError) as e:
        load_policies([str(target)])
    assert expected in str(e.value) and str(target) in str(e.value) and "\n" not in str(e.value)


def test_unreadable_policy(tmp_path: Path) -> None:
    p = write(tmp_path, "p.rego", "package main\n")
    p.chmod(0)
    try:
        if p.open("rb"):  # root reads anything: nothing to test
            pytest.skip("running as root")
    except PermissionError:
        pass
    with pytest.raises(ConfigError, match="cannot read the policy"):
        load_policies([str(p)])


def test_deep_input_is_refused_not_crashed(tmp_path: Path) -> None:
    write(tmp_path, "p.rego", 'package main\nimport rego.v1\ndeny contains "x" if input.a\n')
    deep: Any = 1
    for _ in range(MAX_INPUT_DEPTH + 10):
        deep = [deep]
    with pytest.raises(ConfigError, match="nested deeper"):
        load_policies([str(tmp_path)]).evaluate([ConfigDoc("deep.yaml", "kubernetes", (deep,))])


def test_nothing_on_stdout(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, "p.rego", "package main\ndeny contains msg if {{\n")
    with pytest.raises(ConfigError):
        load_policies([str(tmp_path)])
    assert capfd.readouterr().out == ""  # rego-cpp's own error print is silenced: stdout is the report
