"""The vulnerability table through the real command line, as a new user first reads it."""

from __future__ import annotations

import pytest

from containment.image.build import TarEntry, layer_tar
from tests.conftest import base_layer
from tests.unit.ux_helpers import cli, osv_db, pypi_advisory

META = b"Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\n"
SITE = "usr/local/lib/python3.11/site-packages"


def column(lines: list[str], name: str, after: str = "") -> str:
    """The text of one column of the first table after the line `after` (folded cells joined)."""
    start = lines.index(after) if after else 0
    head = next(i for i in range(start, len(lines)) if lines[i].startswith("┃") and f" {name} " in lines[i])
    bars = [i for i, ch in enumerate(lines[head]) if ch == "┃"]
    k = next(j for j in range(len(bars) - 1) if lines[head][bars[j] : bars[j + 1]].strip("┃ ") == name)
    lo, hi = bars[k] + 1, bars[k + 1]
    cells = []
    for line in lines[head + 2 :]:
        if not line.startswith("│"):
            break
        cells.append(line[lo:hi].strip())
    return "".join(cells)


@pytest.fixture
def db(tmp_path):
    return osv_db(
        tmp_path,
        pypi_advisory("PYSEC-2023-74", "requests", "2.32.0", cve="CVE-2023-32681"),
        pypi_advisory("PYSEC-2023-192", "urllib3", "1.26.17", severity="MEDIUM", cve="CVE-2023-43804"),
    )


def test_scan_image_names_layers_by_instruction_and_totals_per_target(make_oci, db, tmp_path):
    app = layer_tar(
        [
            TarEntry(f"{SITE}/requests-2.31.0.dist-info/METADATA", META),
            TarEntry(f"{SITE}/requests-2.31.0-py3.11.egg-info/PKG-INFO", META),
        ]
    )
    img = make_oci(
        [base_layer(), app],
        history=[
            "/bin/sh -c #(nop) ADD file:" + "ab" * 32 + " in / ",
            "RUN /bin/sh -c apt-get update && pip install requests==2.31.0 # buildkit",
        ],
    )
    r = cli("scan", "image", f"oci:{img}", "--db", str(db), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert "Debian GNU/Linux 12" in lines[0]
    # Trivy's layout: each target a header, its underline, its own Total; no report-wide Total
    totals = [i for i, line in enumerate(lines) if line.startswith("Total:")]
    assert [lines[i - 2] for i in totals] == [f"oci:{img} (debian 12)", "Python (pypi)"]
    assert lines[totals[1]].startswith("Total: 1 (")
    rows = [line for line in lines if "CVE-2023-32681" in line]
    assert len(rows) == 1  # dist-info and egg-info of one release: one row
    assert "RUN pip install requests==2" in rows[0]  # the layer, by what made it
    assert "sha256" not in r.stdout.split("Python (pypi)")[1]
    paths = column(lines, "Path", after="Python (pypi)")
    assert f"/{SITE}/requests-2.31.0.dist-info/METADATA" in paths
    assert f"/{SITE}/requests-2.31.0-py3.11.egg-info/PKG-INFO" in paths


def test_scan_fs_shows_the_file_and_no_os_line(db, tmp_path):
    tree = tmp_path / "repo"
    (tree / "app").mkdir(parents=True)
    (tree / "app" / "requirements.txt").write_text("urllib3==1.26.4\n")
    site = tree / "venv" / "lib" / "python3.11" / "site-packages"
    for d, f in (("requests-2.31.0.dist-info", "METADATA"), ("requests-2.31.0-py3.11.egg-info", "PKG-INFO")):
        (site / d).mkdir(parents=True)
        (site / d / f).write_bytes(META)
    r = cli("scan", "fs", str(tree), "--db", str(db), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "no OS" not in r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == str(tree)
    assert "app/requirements.txt (pypi)" in lines  # the lockfile names its group
    totals = [line for line in lines if line.startswith("Total:")]
    assert len(totals) == 2  # Python (pypi) and app/requirements.txt: one each
    assert sum("CVE-2023-32681" in line for line in lines) == 1
    paths = column(lines, "Path", after="Python (pypi)")
    assert "venv/lib/python3.11/site-packages/requests-2.31.0.dist-info/METADATA" in paths
    assert "venv/lib/python3.11/site-packages/requests-2.31.0-py3.11.egg-info/PKG-INFO" in paths
    assert "Layer" not in r.stdout
