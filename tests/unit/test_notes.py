"""Warnings are said once per cause, not once per file: a count and a few examples, on stderr
and in the report's `warnings` alike."""

from __future__ import annotations

import json

from containment.cache import LayerCache
from containment.catalog import dpkg, python
from containment.image.build import TarEntry, layer_tar
from containment.layers import Analyzer, LayerFacts, scan_target
from containment.notes import Note, condense
from tests.conftest import base_layer
from tests.unit.ux_helpers import cli, osv_db, pypi_advisory

# ----------------------------------------------------------------------------- condense


def test_twenty_alike_are_one_line_with_a_count_and_examples():
    notes = [
        Note("unknown version; not matched", f"mod{i} (devel) at /bin/b{i}", noun="packages")
        for i in range(20)
    ]
    assert condense(notes) == [
        "unknown version; not matched (20 packages: mod0 (devel) at /bin/b0, mod1 (devel) at /bin/b1, "
        "mod2 (devel) at /bin/b2, and 17 more)"
    ]


def test_a_cause_met_once_reads_as_a_plain_warning():
    assert condense([Note("not a zip archive", "/a.jar", "img layer 1")]) == [
        "img layer 1: /a.jar: not a zip archive"
    ]
    assert condense([Note("no history")]) == ["no history"]


def test_causes_and_places_stay_apart_in_the_order_first_met():
    notes = [
        Note("b", "/1", "L1"),
        Note("a", "/2", "L1"),
        Note("b", "/3", "L1"),
        Note("b", "/4", "L2"),
        Note("b", "/1", "L1"),  # the same subject again is not a second case
    ]
    assert condense(notes) == ["L1: b (2 files: /1, /3)", "L1: /2: a", "L2: /4: b"]


def test_exactly_the_examples_need_no_more():
    notes = [Note("c", f"/{i}") for i in range(3)]
    assert condense(notes) == ["c (3 files: /0, /1, /2)"]


def test_notes_survive_the_layer_cache():
    facts = LayerFacts("sha256:x", notes=[Note("c", "/s", "w", "members")])
    back = LayerFacts.from_json(json.loads(json.dumps(facts.to_json())))
    assert back.notes == facts.notes
    assert LayerFacts.from_json({"diff_id": "d"}).notes == []  # an entry written before notes


# ----------------------------------------------------------------------------- through the pipeline


def _broken_metadata(n: int) -> bytes:
    return layer_tar(
        [
            TarEntry(f"opt/app{i}/lib/python3/site-packages/x{i}-1.dist-info/METADATA", b"junk\n")
            for i in range(n)
        ]
    )


def test_one_layer_with_many_broken_files_gives_one_warning(make_oci):
    root = make_oci([base_layer(), _broken_metadata(12)])
    an = Analyzer(catalogers=dpkg.CATALOGERS + python.CATALOGERS, cache=LayerCache(enabled=False), workers=1)
    inv = scan_target(f"oci:{root}", an)
    broken = [w for w in inv.warnings if "not Python package metadata" in w]
    assert len(broken) == 1
    assert "(12 files: /opt/app0/" in broken[0] and "and 9 more)" in broken[0]
    assert " layer 1 (" in broken[0]  # where: the layer


def test_the_same_cause_in_a_cached_layer_is_still_one_warning(make_oci):
    root = make_oci([base_layer(), _broken_metadata(5)])

    def run() -> list[str]:
        an = Analyzer(catalogers=dpkg.CATALOGERS + python.CATALOGERS, workers=1)
        return [w for w in scan_target(f"oci:{root}", an).warnings if "not Python package metadata" in w]

    assert len(run()) == 1
    assert len(run()) == 1  # from the cache


# ----------------------------------------------------------------------------- as the user sees it


def test_scan_says_twenty_devel_versions_once_on_stderr_and_in_the_report(tmp_path):
    tree = tmp_path / "repo"
    for i in range(20):
        d = tree / f"app{i:02}" / "venv" / "lib" / "python3.11" / "site-packages" / "requests-0.dist-info"
        d.mkdir(parents=True)
        (d / "METADATA").write_text("Metadata-Version: 2.1\nName: requests\nVersion: (devel)\n")
    db = osv_db(tmp_path, pypi_advisory("PYSEC-2023-74", "requests", "2.32.0"))
    out = tmp_path / "report.json"
    r = cli("scan", "fs", str(tree), "--db", str(db), "--format", "json", "-o", str(out), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    lines = [line for line in r.stderr.splitlines() if "unknown version" in line]
    assert len(lines) == 1
    assert "(20 packages: requests (devel) at app00/venv/" in lines[0] and "and 17 more)" in lines[0]
    warnings = [w for w in json.loads(out.read_text())["warnings"] if "unknown version" in w]
    assert len(warnings) == 1 and lines[0] == f"containment: warning: {warnings[0]}"
