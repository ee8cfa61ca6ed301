from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from containment.advisories.importer import import_paths
from containment.advisories.store import AdvisoryStore
from containment.advisories.update import DEFAULT_ECOSYSTEMS, ecosystems_in_use, update
from containment.cli.main import app
from containment.model import FeedError

from .conftest import ROOT_CORPUS, Mirror, make_zip, osv


def _content(db: Path) -> bytes:
    return db.read_bytes()


def test_update_from_http_mirror(mirror: Mirror, tmp_path: Path) -> None:
    db = tmp_path / "db" / "a.db"
    res = update(db, mirror.url, ["PyPI", "Go"])
    assert res.stats.records == 3 and res.ecosystems == ["PyPI", "Go"]
    with AdvisoryStore.open(str(db)) as s:
        assert [a.advisory_id for a in s.affected("PyPI", "requests")] == ["PYSEC-2024-3"]
        assert s.affected("Go", "stdlib")
    # second run: conditional GET answered 304, cached zip reused
    res = update(db, mirror.url, ["PyPI", "Go"])
    assert all(d["cached"] for d in res.downloads)
    assert "If-None-Match" in [h for p, h in mirror.requests if p.endswith("/all.zip")][-1]
    assert (Path(os.environ["CONTAINMENT_CACHE_DIR"]) / "db" / "downloads" / "PyPI" / "all.zip").is_file()
    # default ecosystems = those in the DB
    assert ecosystems_in_use(db) == ["Go", "PyPI"]
    assert ecosystems_in_use(tmp_path / "none.db") == list(DEFAULT_ECOSYSTEMS)


def test_update_keeps_native_feeds_and_other_ecosystems(mirror: Mirror, tmp_path: Path, feeds: Path) -> None:
    db = tmp_path / "a.db"
    import_paths([feeds], db)
    update(db, mirror.url, ["PyPI"])
    with AdvisoryStore.open(str(db)) as s:
        assert s.affected("Alpine:v3.11", "openssl") and s.affected("Debian:12", "openssl")
        assert s.affected("npm", "Lodash")  # not updated: kept
        assert s.affected("PyPI", "zope.interface") == []  # PyPI rebuilt from the mirror
        assert s.affected("PyPI", "requests")
        assert s.affected("Go", "stdlib")  # Go kept from the old DB


@pytest.mark.parametrize("case", ["down", "404", "truncated", "badzip"])
def test_update_failures_keep_old_db(case: str, mirror: Mirror, tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    update(db, mirror.url, ["PyPI"])
    before = _content(db)
    url = mirror.url
    ecos = ["PyPI"]
    if case == "down":
        mirror.close()
    elif case == "404":
        ecos = ["PyPI", "NoSuchEco"]
    elif case == "truncated":
        mirror.truncate.add("/Go/all.zip")
        ecos = ["PyPI", "Go"]
    else:
        p = mirror.root / "PyPI" / "all.zip"
        p.write_bytes(p.read_bytes()[:40])
    with pytest.raises(FeedError) as ei:
        update(db, url, ecos)
    msg = str(ei.value)
    assert msg.endswith("the existing database was kept") and "\n" not in msg
    if case == "404":
        assert "404" in msg and "NoSuchEco" in msg
    assert _content(db) == before
    assert [p.name for p in db.parent.iterdir() if p.name.startswith(".a.db")] == []


def test_update_bad_json_inside_zip_is_a_warning(tmp_path: Path) -> None:
    src = tmp_path / "mirror"
    make_zip(src / "PyPI" / "all.zip", {"A.json": osv("PYSEC-1"), "B.json": "{not json"})
    res = update(tmp_path / "a.db", str(src), ["PyPI"])
    assert res.stats.records == 1 and res.stats.skipped == 1
    assert any("B.json" in w for w in res.stats.warnings)


def test_update_local_dir_missing_ecosystem(tmp_path: Path) -> None:
    src = tmp_path / "mirror"
    make_zip(src / "PyPI" / "all.zip", {"A.json": osv("PYSEC-1")})
    with pytest.raises(FeedError, match="Go.*no advisory database was created"):
        update(tmp_path / "a.db", f"file://{src}", ["PyPI", "Go"])
    assert not (tmp_path / "a.db").exists()


def test_cli_update(mirror: Mirror, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    r = CliRunner()
    monkeypatch.setenv("CONTAINMENT_DB_SOURCE", mirror.url)
    db = tmp_path / "a.db"
    res = r.invoke(app, ["db", "update", "--db", str(db), "-e", "PyPI", "--quiet"])
    assert res.exit_code == 0, res.output
    assert "PyPI" in res.stdout and db.exists()
    res = r.invoke(app, ["db", "update", "--db", str(db), "-e", "Nope", "--source", mirror.url])
    assert res.exit_code == 2 and "existing database was kept" in res.output


def test_update_with_real_go_corpus_zip(tmp_path: Path) -> None:
    go = ROOT_CORPUS / "advisories" / "osv-go"
    if not go.is_dir():
        pytest.skip(f"corpus not found at {ROOT_CORPUS} (set CONTAINMENT_CORPUS)")
    src = tmp_path / "mirror"
    (src / "Go").mkdir(parents=True)
    with zipfile.ZipFile(src / "Go" / "all.zip", "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted(go.glob("*.json")):
            z.write(p, p.name)
    res = update(tmp_path / "a.db", str(src), ["Go"])
    n = len(list(go.glob("*.json")))
    assert res.stats.records == n and res.stats.skipped == 0
    with AdvisoryStore.open(str(tmp_path / "a.db")) as s:
        assert s.status()["advisories"] == n
        assert s.affected("Go", "stdlib")
