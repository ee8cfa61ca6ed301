"""`containment gate` end to end, in a subprocess: the corpus app image refused under a prod
policy with its reasons, a clean image built here passed, bad policies exit 2 with the line,
and `policy export-vex` output read back by `scan --vex`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from containment.image.build import ImageSpec, TarEntry, layer_tar, write_oci
from tests.conftest import corpus_dir, corpus_images, dpkg_status

pytestmark = pytest.mark.e2e

# Until the lead registers the commands in cli/main.py, the same functions behind a small app.
_SHIM = (
    "import typer\n"
    "from containment.cli import gate as g\n"
    "app = typer.Typer(rich_markup_mode=None)\n"
    "app.command('gate')(g.gate)\n"
    "app.add_typer(g.policy_app, name='policy')\n"
    "app()\n"
)


def _registered() -> bool:
    r = subprocess.run(
        [sys.executable, "-m", "containment", "gate", "--help"], capture_output=True, timeout=120
    )
    return r.returncode == 0


REGISTERED = _registered()


def cli(*args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "containment"] if REGISTERED else [sys.executable, "-c", _SHIM]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=900)


PROD = """
stages:
  prod:
    max_severity: {CRITICAL: 0, HIGH: 0}
    secrets: deny
    misconfigurations:
      deny: [CTM-IMG-001]
      max_severity: {CRITICAL: 0}
    no_debug: true
"""


@pytest.fixture(scope="module")
def corpus_db(tmp_path_factory):
    adv = corpus_dir() / "advisories"
    if not adv.is_dir():
        pytest.skip(f"no corpus advisories at {adv} (set CONTAINMENT_CORPUS)")
    db = tmp_path_factory.mktemp("db") / "advisories.db"
    r = subprocess.run(
        [sys.executable, "-m", "containment", "db", "import", str(adv), "--db", str(db), "-q"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert r.returncode == 0, r.stderr
    return str(db)


@pytest.fixture
def prod_policy(tmp_path) -> Path:
    p = tmp_path / "policy.yaml"
    p.write_text(PROD.lstrip())
    return p


def test_corpus_app_image_is_refused_under_prod_with_reasons(corpus_db, prod_policy):
    images = corpus_images()
    if "debian-app" not in images:
        pytest.skip("corpus image debian-app not built (make corpus)")
    ref = images["debian-app"]["refs"]["oci"]
    r = cli(
        "gate", ref, "--policy", str(prod_policy), "--stage", "prod", "--db", corpus_db, "-f", "json", "-q"
    )
    assert r.returncode == 1, r.stderr
    d = json.loads(r.stdout)
    assert d["passed"] is False and d["stage"] == "prod"
    rules = {x["rule"] for x in d["reasons"]}
    assert {"secrets", "misconfigurations", "max_severity"} <= rules, d["reasons"]
    secrets = next(x for x in d["reasons"] if x["rule"] == "secrets")
    assert any(f.startswith(("CTM-SEC", "CTM-")) for f in secrets["findings"])
    root = [x for x in d["reasons"] if "CTM-IMG-001" in x["message"]]
    assert root, d["reasons"]
    table = cli("gate", ref, "--policy", str(prod_policy), "--stage", "prod", "--db", corpus_db, "-q")
    assert table.returncode == 1 and "REFUSED for stage prod" in table.stdout
    assert "x secrets:" in table.stdout and "x max_severity:" in table.stdout


def _clean_image(root: Path) -> str:
    osrel = b'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12"\n'
    layer = layer_tar(
        [
            TarEntry("etc", kind="dir"),
            TarEntry("etc/os-release", osrel),
            TarEntry("var/lib/dpkg/status", dpkg_status(("containment-hello", "1.0-1"))),
            TarEntry("app", kind="dir"),
            TarEntry("app/hello.txt", b"hello\n"),
        ]
    )
    cfg = {"User": "1000:1000", "Cmd": ["/app/hello"], "Healthcheck": {"Test": ["CMD", "/app/hello"]}}
    write_oci(str(root), ImageSpec(layers=[layer], config=cfg))
    return f"oci:{root}"


def test_a_clean_image_passes(corpus_db, prod_policy, tmp_path):
    ref = _clean_image(tmp_path / "clean")
    r = cli(
        "gate", ref, "--policy", str(prod_policy), "--stage", "prod", "--db", corpus_db, "-f", "json", "-q"
    )
    assert r.returncode == 0, (r.stdout, r.stderr)
    d = json.loads(r.stdout)
    assert d["passed"] is True and d["reasons"] == []
    assert d["checked"] == ["max_severity", "secrets", "misconfigurations", "no_debug"]


def test_bad_policy_and_stage_exit_2_with_the_line(tmp_path, corpus_db):
    ref = _clean_image(tmp_path / "clean")
    bad = tmp_path / "bad.yaml"
    bad.write_text("stages:\n  prod:\n    max_scor: 40\n")
    r = cli("gate", ref, "--policy", str(bad), "--stage", "prod", "--db", corpus_db)
    assert r.returncode == 2
    assert f"{bad}:3: stages.prod: unknown key 'max_scor' (did you mean max_score?)" in r.stderr
    assert "Traceback" not in r.stderr and r.stderr.count("\n") == 1
    good = tmp_path / "good.yaml"
    good.write_text(PROD)
    r = cli("gate", ref, "--policy", str(good), "--stage", "prd", "--db", corpus_db)
    assert r.returncode == 2 and "no stage 'prd'; did you mean prod?" in r.stderr
    r = cli("policy", "check", str(bad))
    assert r.returncode == 2 and ":3: stages.prod: unknown key" in r.stderr
    r = cli("policy", "check", str(good))
    assert r.returncode == 0 and "1 stage(s) (prod)" in r.stdout


def test_exported_vex_suppresses_in_scan(corpus_db, tmp_path):
    images = corpus_images()
    if "debian-app" not in images:
        pytest.skip("corpus image debian-app not built (make corpus)")
    ref = images["debian-app"]["refs"]["oci"]
    scan = subprocess.run(
        [sys.executable, "-m", "containment", "scan", "image", ref, "--db", corpus_db, "-f", "json", "-q"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    findings = json.loads(scan.stdout)["findings"]
    if not findings:
        pytest.skip("the corpus advisories give debian-app no vulnerability")
    f = findings[0]
    purl = f["package"]["purl"].split("@", 1)[0]
    pol = tmp_path / "policy.yaml"
    pol.write_text(
        "stages: {prod: {}}\nexceptions:\n"
        f"  - {{id: {f['id']}, purl: '{purl}', reason: not reachable, approver: sec@example.com, expires: 2999-01-01}}\n"
    )
    vex = tmp_path / "exceptions.vex.json"
    r = cli("policy", "export-vex", str(pol), "-o", str(vex), "--author", "sec@example.com")
    assert r.returncode == 0, r.stderr
    again = subprocess.run(
        [
            sys.executable,
            "-m",
            "containment",
            "scan",
            "image",
            ref,
            "--db",
            corpus_db,
            "--vex",
            str(vex),
            "-f",
            "json",
            "-q",
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    doc = json.loads(again.stdout)
    gone = [
        x for x in doc["suppressed"] if x["id"] == f["id"] and x["package"]["purl"] == f["package"]["purl"]
    ]
    assert gone and gone[0]["suppressed"]["kind"] == "vex"
