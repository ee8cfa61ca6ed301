"""Fuzz: random JSON inputs through real policies, random policy text: results or ConfigError, nothing else."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from containment.checks.rego import PolicySet, load_policies
from containment.model import ConfigDoc, ConfigError, Misconfiguration

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "policies"

POLICY = """package main
import rego.v1

deny contains sprintf("%v has %v", [k, v]) if {
  some k, v in input
  is_string(v)
  startswith(v, "a")
}

warn contains {"msg": "number", "StartLine": input.line} if input.n > 3

violation contains msg if {
  some i in input
  msg := sprintf("%d", [i.x / i.y])
}
"""

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=30,
)
kinds = st.sampled_from(["dockerfile", "kubernetes", "compose"])


@pytest.fixture(scope="module")
def policies(tmp_path_factory: pytest.TempPathFactory) -> tuple[PolicySet, PolicySet]:
    d = tmp_path_factory.mktemp("fuzz")
    (d / "p.rego").write_text(POLICY)
    return load_policies([str(d)]), load_policies([str(EXAMPLES)])


def _check(found: list[Misconfiguration]) -> None:
    for m in found:
        assert isinstance(m.message, str) and m.level in ("deny", "warn") and m.location.start_line >= 0


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=kinds, values=st.lists(json_values, min_size=1, max_size=3), image=json_values)
def test_random_inputs(
    policies: tuple[PolicySet, PolicySet], kind: str, values: list[Any], image: Any
) -> None:
    doc = ConfigDoc("f", kind, tuple(values))
    for ps in policies:
        try:
            _check(ps.evaluate([doc], image if isinstance(image, dict) else None))
        except ConfigError as e:
            assert "\n" not in str(e) and str(e)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=300))
def test_random_policy_text(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    d = tmp_path_factory.mktemp("fz")
    (d / "r.rego").write_text("package main\n" + text, encoding="utf-8", errors="surrogatepass")
    try:
        ps = load_policies([str(d)])
        _check(ps.evaluate([ConfigDoc("f", "compose", ({"a": 1},))], {"config": {}}))
    except ConfigError as e:
        assert "\n" not in str(e) and str(e)
    except UnicodeEncodeError:
        pass  # hypothesis made a lone surrogate: not a file anyone can write


RULE_BITS = st.sampled_from(
    [
        "deny contains msg if { msg := input.a }",
        "deny[msg] { msg := input[_] }",
        'warn contains {"msg": 1} if true',
        "x := 1\nx := 2",
        'deny contains msg if { msg := concat(",", input) }',
        "violation contains m if { some m in input }",
        "import data.lib.nope",
        "deny := true",
        'deny_y := ["a", "b"]',
        'warn contains m if { m := {"msg": sprintf("%v", [input])} }',
        "f(x) := x + 1",
        'deny contains msg if { msg := f("s") }',
        "{",
        "}",
        "if",
    ]
)


@settings(max_examples=200, deadline=None)
@given(bits=st.lists(RULE_BITS, min_size=1, max_size=4), value=json_values)
def test_random_rule_mixes(tmp_path_factory: pytest.TempPathFactory, bits: list[str], value: Any) -> None:
    d = tmp_path_factory.mktemp("mix")
    (d / "m.rego").write_text("package main\nimport rego.v1\n" + "\n".join(bits) + "\n")
    try:
        ps = load_policies([str(d)])
        _check(ps.evaluate([ConfigDoc("f", "kubernetes", (value,))]))
    except ConfigError as e:
        assert "\n" not in str(e) and str(e)
