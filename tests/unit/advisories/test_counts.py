"""`db import`, `db update` and `db status` count the same things under the same names:
records (as the feeds write them), advisories (withdrawn ones among them), affected entries,
CVSS ratings, per ecosystem and per source."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from containment.cli.main import app

from .conftest import Mirror, write_json
from .nvd_records import CVE_2023_0286, write_feed

NAMES = ("records", "advisories", "affected entries", "CVSS ratings")


def _numbers(text: str) -> dict[str, str]:
    """name -> the rest of its line, for the count lines and the ecosystem rows."""
    out = {}
    for line in text.splitlines():
        s = line.strip()
        for name in NAMES:
            if s.startswith(name + " "):
                out[name] = s[len(name) :].strip()
        m = re.match(r"^(\S+:\S+|PyPI|Go|npm)\s+(\d+)\s+(\d+)$", s)
        if m:
            out[m.group(1)] = f"{m.group(2)} {m.group(3)}"
    return out


def test_fresh_import_prints_what_status_prints(feeds: Path, tmp_path: Path) -> None:
    write_feed(feeds / "nvd" / "nvdcve-2.0-2023.json.gz", CVE_2023_0286)
    db = str(tmp_path / "a.db")
    r = CliRunner()
    imp = r.invoke(app, ["db", "import", str(feeds), "--db", db, "-q"])
    st = r.invoke(app, ["db", "status", "--db", db])
    assert imp.exit_code == 0 and st.exit_code == 0, imp.output + st.output
    got_imp, got_st = _numbers(imp.stdout), _numbers(st.stdout)
    assert set(NAMES) <= set(got_imp) and "Alpine:v3.11" in got_imp and "Debian:12" in got_imp
    assert got_imp == got_st
    # the first line's records (read in this import) are the database's records too
    assert imp.stdout.startswith(f"imported {got_st['records']} records from ")
    assert got_st["records"] == "19" and got_st["advisories"] == "17 (1 of them withdrawn)"
    assert got_st["CVSS ratings"] == "1 CVEs"

    imp_j = json.loads(
        r.invoke(app, ["db", "import", str(feeds), "--db", str(tmp_path / "b.db"), "--json"]).stdout
    )
    st_j = json.loads(r.invoke(app, ["db", "status", "--db", str(tmp_path / "b.db"), "--json"]).stdout)
    for key in ("records", "advisories", "withdrawn", "affected", "cvss_cves", "ecosystems"):
        assert imp_j["database"][key] == st_j[key], key
    assert [(s["name"], s["records"], s["advisories"]) for s in imp_j["database"]["sources"]] == [
        (s["name"], s["records"], s["advisories"]) for s in st_j["sources"]
    ]
    assert imp_j["records"] == st_j["records"] == sum(s["records"] for s in st_j["sources"])
    # a source's records are its feed entries, its advisories the ids it holds
    src = {s["name"]: s for s in st_j["sources"]}
    assert src["alpine-secdb"]["records"] == 10 and src["debian-tracker"]["records"] == 3
    assert src["nvd"] == src["nvd"] | {"records": 1, "advisories": 0, "cvss_cves": 1}


def test_update_prints_the_same_counts(mirror: Mirror, tmp_path: Path) -> None:
    db = str(tmp_path / "a.db")
    r = CliRunner()
    up = r.invoke(app, ["db", "update", "--db", db, "--source", mirror.url, "-e", "PyPI", "-e", "Go", "-q"])
    st = r.invoke(app, ["db", "status", "--db", db])
    assert up.exit_code == 0, up.output
    assert _numbers(up.stdout) == _numbers(st.stdout) and _numbers(st.stdout)["records"] == "3"


def test_readme_names_the_counts() -> None:
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    for name in ("records", "advisories", "affected entries", "CVSS ratings"):
        assert f"**{name}**" in readme, name


def test_withdrawn_is_part_of_advisories_not_of_affected(tmp_path: Path) -> None:
    from .conftest import osv

    d = tmp_path / "f"
    write_json(d / "A.json", osv("PYSEC-1"))
    write_json(d / "B.json", osv("PYSEC-2", withdrawn="2024-01-01T00:00:00Z"))
    j = json.loads(
        CliRunner().invoke(app, ["db", "import", str(d), "--db", str(tmp_path / "a.db"), "--json"]).stdout
    )
    db = j["database"]
    assert (j["records"], db["records"], db["advisories"], db["withdrawn"], db["affected"]) == (2, 2, 2, 1, 1)
    assert db["ecosystems"] == {"PyPI": {"advisories": 1, "affected": 1}}
