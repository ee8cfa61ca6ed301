"""Every rule is data a user can look up: `containment checks list`, ids stable and unique."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from containment.checks.registry import all_rules
from containment.model import CHECK_KINDS, SEVERITIES

PREFIX = {
    "dockerfile": "CTM-DF-",
    "image": "CTM-IMG-",
    "kubernetes": "CTM-K8S-",
    "compose": "CTM-DC-",
    "secret": "CTM-SEC-",
}
ALIAS = re.compile(
    r"^(DL\d{4}|SC\d{4}|CIS Docker \d+(\.\d+)+|CKV2?_[A-Z0-9]+_\d+|pss:(baseline|restricted):.+)$"
)


def test_rules_are_complete_and_ids_follow_the_scheme():
    rules = all_rules()
    assert len(rules) >= 150
    for r in rules:
        assert r.kind in CHECK_KINDS and r.id.startswith(PREFIX[r.kind]), r.id
        assert re.fullmatch(r"CTM-[A-Z0-9]+-\d{3}", r.id), r.id
        assert r.severity in SEVERITIES and r.title and r.remediation, r.id
        for a in r.aliases:
            assert ALIAS.match(a), (r.id, a)
    kinds = {r.kind for r in rules}
    assert kinds == set(PREFIX)


def test_a_peer_id_is_claimed_by_rules_of_one_kind_per_tool_family():
    """DL3002 may name a Dockerfile rule and its image-config twin; a Checkov Kubernetes id never
    names a Dockerfile rule."""
    for r in all_rules():
        for a in r.aliases:
            if a.startswith("CKV_K8S") or a.startswith("pss:"):
                assert r.kind == "kubernetes", (r.id, a)
            if a.startswith("CKV_DOCKER") or a.startswith("CKV2_DOCKER"):
                assert r.kind in ("dockerfile", "image"), (r.id, a)


def test_checks_list_json_and_table():
    out = subprocess.run(
        [sys.executable, "-m", "containment", "checks", "list", "--format", "json"],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert [r["id"] for r in doc["rules"]] == [r.id for r in all_rules()]
    assert all("aliases" in r for r in doc["rules"])
    table = subprocess.run(
        [sys.executable, "-m", "containment", "checks", "list", "--kind", "kubernetes"],
        capture_output=True,
        text=True,
    )
    assert table.returncode == 0 and "CTM-K8S-001" in table.stdout and "CTM-DF-001" not in table.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "containment", "checks", "list", "--kind", "terraform"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "terraform" in bad.stderr
