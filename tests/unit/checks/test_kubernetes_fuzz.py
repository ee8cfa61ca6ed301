"""Fuzz: random bytes, YAML-ish text and random object shapes never make the Kubernetes or Compose
parsers or checks raise anything but a one-line ConfigError (or return None)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from containment.checks import compose, kubernetes
from containment.model import ConfigDoc, ConfigError

_scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 70000), st.text(max_size=12),
                     st.sampled_from(["ALL", "SYS_ADMIN", "host", "Unconfined", "/var/run/docker.sock", "0"]))
_keys = st.sampled_from(["spec", "template", "containers", "initContainers", "securityContext", "capabilities",
                         "add", "drop", "volumes", "hostPath", "path", "ports", "hostPort", "env", "name", "value",
                         "image", "metadata", "annotations", "seccompProfile", "type", "sysctls", "jobTemplate",
                         "seLinuxOptions", "runAsUser", "services", "environment", "cap_add", "user", "os"])
_values: Any = st.recursive(_scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                              st.dictionaries(_keys, inner, max_size=5)),
                            max_leaves=40)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(sorted(kubernetes.TEMPLATE_PATHS)), st.dictionaries(_keys, _values, max_size=6))
def test_check_random_objects(kind: str, body: dict[str, Any]) -> None:
    obj = {"apiVersion": "v1", "kind": kind, **body}
    doc = ConfigDoc("f.yaml", "kubernetes", (obj,), {"lines": [{}]})
    for m in kubernetes.check(doc):
        assert m.rule in kubernetes.RULES
    assert kubernetes.pss_level(obj) in ("restricted", "baseline", "privileged", "")  # "": no pod template


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_keys, _values, max_size=6))
def test_compose_check_random(services: dict[str, Any]) -> None:
    doc = ConfigDoc("compose.yaml", "compose", ({"services": services},), {"lines": [{}]})
    for m in compose.check(doc):
        assert m.rule in compose.RULES


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_keys, _values, max_size=6), st.booleans())
def test_parse_serialised_random(body: dict[str, Any], as_json: bool) -> None:
    obj = {"apiVersion": "apps/v1", "kind": "Deployment", **body}
    data = json.dumps(obj).encode()
    doc = kubernetes.parse("f.json" if as_json else "f.yaml", data)
    assert doc is not None and doc.inputs[0] == obj
    kubernetes.check(doc)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_parse_random_bytes(data: bytes) -> None:
    for parse in (kubernetes.parse, compose.parse):
        try:
            parse("f.yaml", b"apiVersion: v1\nkind: Pod\n" + data)
        except ConfigError as e:
            assert "\n" not in str(e) and str(e).startswith("f.yaml")
