"""`containment demo` (what `make demo` runs) prints a summary and the next commands, not a
row per package; the summary writer itself (report/summary.py)."""

from __future__ import annotations

import json
from dataclasses import replace

from containment.model import LayerInfo
from containment.report.summary import to_summary
from tests.unit.report.fixtures import (
    BASE,
    DJANGO_CVE,
    GLIBC_CVE,
    GO_VULN,
    IGNORE_SUPPRESSION,
    UNFIXED,
    inventory,
)
from tests.unit.ux_helpers import cli, osv_db, pypi_advisory

# ----------------------------------------------------------------------------- the command


def test_demo_without_a_database_is_a_screenful(tmp_path):
    r = cli("demo", "--workdir", str(tmp_path / "w"), "--db", str(tmp_path / "none.db"), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) < 45, r.stdout  # was 855: one row per package
    assert "┃" not in r.stdout and "│" not in r.stdout  # no package table
    for heading in ("packages per type", "packages per layer", "vulnerabilities", "next:"):
        assert heading in lines
    assert any(line.strip().startswith("pypi") for line in lines)  # this interpreter's distributions
    assert any("RUN pip install" in line and "pypi" in line for line in lines)  # the layer that added them
    assert any("no advisory database at" in line and "none.db" in line for line in lines)
    nxt = lines[lines.index("next:") + 1 :]
    assert any(" db update " in line for line in nxt) and any(" scan image oci:" in line for line in nxt)
    assert any(" inventory oci:" in line for line in nxt)
    sbom = json.loads((tmp_path / "w" / "sbom.cdx.json").read_text())
    assert sbom["bomFormat"] == "CycloneDX" and sbom["components"]


def test_demo_with_a_database_counts_findings_by_severity(tmp_path):
    # typer runs this very command, so the demo image holds its dist-info
    db = osv_db(tmp_path, pypi_advisory("PYSEC-2099-1", "typer", "9999.0", severity="HIGH"))
    r = cli("demo", "--workdir", str(tmp_path / "w"), "--db", str(db), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    vul = lines.index("vulnerabilities")
    assert lines[vul + 1] == f"  advisory database {db}, updated " + lines[vul + 1].rsplit(" ", 1)[1]
    total = lines[vul + 2]
    assert total.startswith("  Total: ") and "HIGH: " in total and "HIGH: 0," not in total
    nxt = lines[lines.index("next:") + 1 :]
    assert any(" scan image oci:" in line for line in nxt) and not any(" db update " in line for line in nxt)
    assert len(lines) < 45


# ----------------------------------------------------------------------------- the summary


def test_summary_counts_per_type_and_layer():
    text = to_summary(inventory(), None, "no advisory database at /x (next: db update)")
    lines = text.splitlines()
    assert (
        lines[0]
        == "registry.example.com/team/app:1.0  Debian GNU/Linux 12 (bookworm) (debian-12)  4 packages"
    )
    types = lines[lines.index("packages per type") + 1 : lines.index("packages per layer") - 1]
    assert [t.split() for t in types] == [["golang", "2", "Go"], ["deb", "1"], ["pypi", "1", "Python"]]
    layers = lines[lines.index("packages per layer") + 1 : lines.index("vulnerabilities") - 1]
    assert layers[0].split()[:4] == ["0", "ADD", "rootfs.tar.xz", "/"] and layers[0].endswith("1 deb")
    assert layers[1].endswith("2 golang, 1 pypi")
    assert lines[-1] == "  no advisory database at /x (next: db update)"


def test_summary_with_findings_counts_active_ones_only():
    suppressed = replace(UNFIXED, suppressed=IGNORE_SUPPRESSION)
    text = to_summary(inventory(), [GLIBC_CVE, DJANGO_CVE, GO_VULN, suppressed], "db.sqlite, updated today")
    lines = text.splitlines()
    assert lines[-3:] == [
        "  advisory database db.sqlite, updated today",
        "  Total: 3 (CRITICAL: 0, HIGH: 2, MEDIUM: 1, LOW: 0, NEGLIGIBLE: 0, UNKNOWN: 0)",
        "  in 3 packages",
    ]


def test_summary_layer_without_packages_and_hostile_history():
    inv = replace(
        inventory(),
        layers=(*inventory().layers, LayerInfo(2, "sha256:" + "3" * 64, created_by="RUN rm -rf /x\n\x1b[2J")),
    )
    text = to_summary(inv, [])
    assert "\x1b" not in text
    last = next(line for line in text.splitlines() if line.startswith("   2  "))
    assert "RUN rm -rf /x %1B[2J" in last and last.endswith("adds no package")
    assert BASE not in text  # layers are named by what made them
