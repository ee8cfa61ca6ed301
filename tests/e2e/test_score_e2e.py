"""`containment score` end to end: the corpus advisories against corpus images, KEV / EPSS feeds
served by a local HTTP mirror in the `db update --source` layout, an image in a real registry."""

from __future__ import annotations

import gzip
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from containment.advisories import exploits
from containment.service import ScanOptions, scan
from containment.service.score import score_target
from tests.conftest import corpus_dir

pytestmark = pytest.mark.e2e

ADV = corpus_dir() / "advisories"


def _app() -> typer.Typer:
    from containment.cli import score as cli_score

    app = typer.Typer()
    app.command("score")(cli_score.score)
    app.command("import-kev")(cli_score.import_kev)
    app.command("import-epss")(cli_score.import_epss)
    return app


def run(*args: str) -> Any:
    return CliRunner().invoke(_app(), list(args))


@pytest.fixture(scope="module")
def corpus_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    if not ADV.is_dir():
        pytest.skip(f"no corpus advisories at {ADV} (set CONTAINMENT_CORPUS)")
    from containment.advisories.importer import import_paths

    db = tmp_path_factory.mktemp("db") / "advisories.db"
    import_paths([ADV], db)
    return str(db)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    root = tmp_path / "mirror"
    root.mkdir()

    class H(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a: Any, **kw: Any) -> None:
            super().__init__(*a, directory=str(root), **kw)

        def log_message(self, *a: Any) -> None:
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


def test_score_debian_app_with_kev_and_epss_from_a_mirror(
    corpus_image: Any, corpus_db: str, served: tuple[Path, str], tmp_path: Path
) -> None:
    ref = corpus_image("debian-app")["refs"]["oci"]
    db = tmp_path / "a.db"
    db.write_bytes(Path(corpus_db).read_bytes())
    r = run("score", ref, "--db", str(db), "-f", "json", "-q")
    assert r.exit_code == 0, r.output
    before = json.loads(r.stdout)["score"]
    assert before["exploit_feeds"] == [] and before["value"] > 0
    # a KEV catalog and EPSS scores naming CVEs the image really has (by id or alias)
    report = scan(ref, ScanOptions(db=str(db), default_ignorefiles=False))
    known = {i for f in report.findings for i in (f.id, *f.aliases) if i.startswith("CVE-")}
    top = [c for c in before["contributions"] if c["kind"] == "vulnerability" and c["id"] in known]
    cves = list(dict.fromkeys(c["id"] for c in top))[:2]  # the two heaviest
    assert len(cves) == 2
    weight = {c["id"]: c["weight"] for c in reversed(top)}
    root, url = served
    (root / "kev").mkdir()
    (root / "epss").mkdir()
    kev = {
        "catalogVersion": "2099.01.01",
        "dateReleased": "2099-01-01T00:00:00Z",
        "vulnerabilities": [
            {"cveID": cves[0], "dateAdded": "2099-01-01", "knownRansomwareCampaignUse": "Known"}
        ],
    }
    (root / "kev" / exploits.KEV_FILE).write_text(json.dumps(kev))
    csv = f"#model_version:v2025.03.14,score_date:2099-01-01T00:00:00+0000\ncve,epss,percentile\n{cves[1]},0.9,0.99\n"
    (root / "epss" / exploits.EPSS_FILE).write_bytes(gzip.compress(csv.encode()))
    res = exploits.update_from_mirror(db, url)
    assert [f["name"] for f in res["feeds"]] == ["kev", "epss"]
    r = run("score", ref, "--db", str(db), "-f", "json", "-q")
    assert r.exit_code == 0, r.output
    after = json.loads(r.stdout)["score"]
    assert (
        after["exact"] >= before["exact"]
        and after["components"]["vulnerabilities"] >= before["components"]["vulnerabilities"]
    )
    kev_hits = [c for c in after["contributions"] if "KEV, ransomware" in c["factors"]]
    epss_hits = [c for c in after["contributions"] if "EPSS 0.900" in c["factors"]]
    assert {c["id"] for c in kev_hits} == {cves[0]} and {c["id"] for c in epss_hits} == {cves[1]}
    assert kev_hits[0]["weight"] == pytest.approx(weight[cves[0]] * 3.5, abs=0.01)
    assert epss_hits[0]["weight"] == pytest.approx(weight[cves[1]] * 2.8, abs=0.01)
    assert after["contributions"][0]["id"] == cves[0]  # now the heaviest finding of all
    assert {f["name"] for f in after["exploit_feeds"]} == {"kev", "epss"}
    assert after["after_top"] < after["value"] and len(after["top_actions"]) == 3
    # the table: headline, components, the first actions
    r = run("score", ref, "--db", str(db), "-q")
    assert r.exit_code == 0
    assert f"risk score {after['value']}/100" in r.stdout and "fix these 3 to drop from" in r.stdout
    assert "vulnerabilities" in r.stdout and "exploit feeds: epss v2025.03.14" in r.stdout


def test_cli_import_by_url_and_bad_feed(served: tuple[Path, str], tmp_path: Path) -> None:
    root, url = served
    (root / "kev.json").write_text(
        json.dumps(
            {
                "catalogVersion": "1",
                "vulnerabilities": [{"cveID": "CVE-2021-44228", "dateAdded": "2021-12-10"}],
            }
        )
    )
    (root / "bad.csv.gz").write_bytes(gzip.compress(b"cve,epss,percentile\nCVE-2021-44228,0.5,0.5\n")[:-10])
    db = tmp_path / "x.db"
    r = run("import-kev", f"{url}/kev.json", "--db", str(db))
    assert r.exit_code == 0 and "imported kev: 1 CVEs" in r.stdout
    content = db.read_bytes()
    r = run("import-epss", f"{url}/bad.csv.gz", "--db", str(db))
    assert r.exit_code == 2 and "damaged or truncated gzip" in r.stderr and r.stderr.count("\n") == 1
    assert db.read_bytes() == content


def test_score_from_a_registry_equals_the_oci_dir(corpus_image: Any, corpus_db: str, tmp_path: Path) -> None:
    from tests.e2e.registry import have_tools, start_registry

    missing = have_tools()
    if missing:
        pytest.skip(missing)
    img = corpus_image("alpine-311")
    reg = start_registry(tmp_path / "reg")
    try:
        ref = reg.push(img["refs"]["oci"], "team/app:1")
        r = run("score", ref, "--plain-http", "--db", corpus_db, "-f", "json", "-q")
        assert r.exit_code == 0, r.output
        remote = json.loads(r.stdout)["score"]
    finally:
        reg.stop()
    _, local = score_target(img["refs"]["oci"], ScanOptions(db=corpus_db, default_ignorefiles=False))
    assert remote["value"] == local.value and remote["components"] == dict(local.components)


def test_bad_reference_is_one_line_exit_2(tmp_path: Path) -> None:
    r = run("score", f"oci:{tmp_path}/none:latest", "-q")
    assert r.exit_code == 2 and r.stderr.count("\n") == 1 and "containment: error:" in r.stderr
