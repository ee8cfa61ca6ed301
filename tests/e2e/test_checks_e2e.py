"""Secrets and misconfigurations end to end, through the CLI: the corpus app image's planted
problems, each with its layer, and config files / Rego policies from a real directory."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


def cli(*args: str, cwd: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "containment", *args], capture_output=True, text=True, timeout=900, cwd=cwd
    )


@pytest.fixture(scope="module")
def app_report(request):
    from tests.conftest import corpus_images

    images = corpus_images()
    if "debian-app" not in images:
        pytest.skip("corpus image debian-app not built (make corpus)")
    img = images["debian-app"]
    r = cli("scan", "image", img["refs"]["oci"], "--scanners", "secret,config", "-f", "json", "-q")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout), img


def _valid(doc: dict) -> None:
    import jsonschema

    from containment.report.findings_json import schema_path

    jsonschema.Draft202012Validator(json.loads(schema_path().read_text())).validate(doc)


def test_every_planted_problem_is_reported_with_its_layer(app_report):
    doc, img = app_report
    _valid(doc)
    diff_ids = [layer["diff_id"] for layer in doc["layers"]]
    assert len(diff_ids) == 4
    secrets = doc["secrets"]
    by = {(s["rule"]["id"], s["location"]["path"] or s["location"]["field"]): s for s in secrets}
    titles = {s["rule"]["title"] for s in secrets}
    assert any("AWS access key" in t for t in titles) and any("AWS secret" in t for t in titles)
    assert any("private key" in t.lower() for t in titles)
    settings = [s for s in secrets if s["location"]["path"] == "opt/app/config/settings.yaml"]
    assert settings and all(s["location"]["layer"] == diff_ids[3] for s in settings)
    gh = [s for s in secrets if s["location"]["path"] == "opt/app/.env"]
    assert gh and "GitHub" in gh[0]["rule"]["title"]
    assert gh[0]["location"]["layer"] == diff_ids[2] and gh[0]["removed_in"] == diff_ids[3]
    env = [s for s in secrets if s["location"]["field"].startswith("config.Env")]
    assert env and all("*" in s["match"] for s in env)
    raw = json.dumps(doc)
    for planted in ("AKIAQ3EGRZ7T5WBJ4NXM", "9sK2vQ7xL0pR4tY8uB3nM6cZ1aD5fG7hJ2kL4mN8"):
        assert planted not in raw, "a secret leaked into the report"
    mis = doc["misconfigurations"]
    setuid = [m for m in mis if m["location"]["path"] == "usr/local/bin/find"]
    assert (
        setuid and setuid[0]["rule"]["severity"] == "HIGH" and setuid[0]["location"]["layer"] == diff_ids[3]
    )
    fields = {m["location"]["field"] for m in mis}
    assert "config.User" in fields and any(f.startswith("config.ExposedPorts") and "22" in f for f in fields)
    assert any(m["location"]["field"].startswith("config.Env") for m in mis)  # DB_PASSWORD by name
    assert by  # every secret has a rule id and a place


def test_sarif_and_table_carry_the_same_findings(app_report, tmp_path):
    doc, img = app_report
    out = tmp_path / "r.sarif"
    r = cli(
        "scan",
        "image",
        img["refs"]["oci"],
        "--scanners",
        "secret,config",
        "-f",
        "sarif",
        "-o",
        str(out),
        "-q",
    )
    assert r.returncode == 0, r.stderr
    sarif = json.loads(out.read_text())
    results = sarif["runs"][0]["results"]
    assert len(results) == len(doc["secrets"]) + len(doc["misconfigurations"])
    rules = sarif["runs"][0]["tool"]["driver"]["rules"]
    assert all("aliases" in r.get("properties", {}) for r in rules if r["id"].startswith("CTM-"))
    table = cli("scan", "image", img["refs"]["oci"], "--scanners", "secret", "-q")
    assert table.returncode == 0 and "removed in layer 3" in table.stdout


DOCKERFILE = """FROM python:latest
ARG API_TOKEN=abc123secretvalue
RUN apt-get update && apt-get install -y curl
RUN curl -fsSL https://example.com/install.sh | sh
USER root
EXPOSE 22
CMD python app.py
"""
DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    spec:
      hostNetwork: true
      containers:
      - name: app
        image: nginx:latest
        securityContext:
          privileged: true
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ports:
  - port: 80
"""
COMPOSE = """services:
  db:
    image: postgres
    privileged: true
    environment:
      POSTGRES_PASSWORD: hunter2hunter2
    volumes:
      - /var/run/docker.sock:/var/run/docker.sock
"""
POLICY = """package main

deny contains msg if {
  some i
  cmd := input[i]
  cmd.Cmd == "from"
  val := cmd.Value[0]
  endswith(val, ":latest")
  msg := sprintf("base image %s uses latest", [val])
}
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "web.yaml").write_text(DEPLOYMENT)
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "base.rego").write_text(POLICY)
    return tmp_path


def test_scan_config_finds_each_kind_with_lines_and_runs_rego(repo, tmp_path):
    out = tmp_path / "c.sarif"
    r = cli(
        "scan", "config", str(repo), "--policy", str(repo / "policies"), "-f", "sarif", "-o", str(out), "-q"
    )
    assert r.returncode == 0, r.stderr
    run = json.loads(out.read_text())["runs"][0]
    by_file: dict[str, set[int]] = {}
    for res in run["results"]:
        loc = res["locations"][0]["physicalLocation"]
        by_file.setdefault(loc["artifactLocation"]["uri"].rsplit("/", 1)[-1], set()).add(
            loc.get("region", {}).get("startLine", 0)
        )
    assert {"Dockerfile", "web.yaml", "compose.yaml"} <= set(by_file), by_file
    assert {1, 4, 6} <= by_file["Dockerfile"]  # latest base, curl | sh, EXPOSE 22
    assert 12 in by_file["web.yaml"] or 13 in by_file["web.yaml"]  # privileged
    rego = [res for res in run["results"] if "uses latest" in res["message"]["text"]]
    assert rego and rego[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith(
        "Dockerfile"
    )
    js = cli("scan", "config", str(repo), "-f", "json", "-q")
    doc = json.loads(js.stdout)
    _valid(doc)
    assert [(w["resource"], w["pss_level"], w["location"]["start_line"]) for w in doc["workloads"]] == [
        ("Deployment/web", "privileged", 1)
    ]
    assert "Pod Security Standards" in cli("scan", "config", str(repo), "-q").stdout
    # exit codes: findings with --exit-code, bad policy is bad input
    assert cli("scan", "config", str(repo), "--exit-code", "5", "-q").returncode == 5
    (repo / "policies" / "broken.rego").write_text("package main\n\ndeny contains msg if {\n")
    bad = cli("scan", "config", str(repo), "--policy", str(repo / "policies"), "-q")
    assert bad.returncode == 2 and "broken.rego" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "name,data,says",
    [
        (
            "bomb.yaml",
            b'a: &a ["x","x","x","x","x","x","x","x","x"]\n'
            + b"".join(
                f"{c}: &{c} [{','.join(['*' + p] * 9)}]\n".encode()
                for p, c in zip("abcdefgh", "bcdefghi", strict=True)
            )
            + b"kind: Pod\napiVersion: v1\n",
            "alias",
        ),
        ("binary.yaml", b"\x00\x01\x02\xff" * 100, "binary.yaml"),
        ("Dockerfile", b"FROM alpine\nRUN \\\n", ""),
    ],
)
def test_hostile_config_files_are_one_line_errors(tmp_path, name, data, says):
    f = tmp_path / name
    f.write_bytes(data)
    r = cli("scan", "config", str(f), "-q")
    if name == "Dockerfile" and r.returncode == 0:
        return  # BuildKit accepts a trailing continuation: nothing to refuse
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert says in r.stderr
    # in a directory a bad manifest is a warning, the scan goes on and says it is incomplete (a
    # binary file named .yaml mentions no apiVersion/kind: it is no manifest, and is passed over)
    (tmp_path / "Dockerfile.ok").write_text("FROM alpine:3.19\nUSER app\n")
    r2 = cli("scan", "config", str(tmp_path), "-f", "json")
    assert r2.returncode == 0
    doc = json.loads(r2.stdout)
    _valid(doc)
    assert doc["kind"] == "config" and doc["misconfigurations"]  # the good Dockerfile was checked
    if name != "binary.yaml":
        assert name in r2.stderr and any(g["subject"] == name for g in doc["gaps"])
