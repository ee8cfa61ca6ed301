from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from containment.advisories.importer import import_paths
from containment.advisories.store import AdvisoryStore, default_path
from containment.advisories.types import Event, Range
from containment.cli.main import app
from containment.model import FeedError

from .conftest import TRACKER, make_zip, osv, write_json


def _dump(db: Path) -> tuple[list, list, list]:
    c = sqlite3.connect(db)
    try:
        return (
            sorted(c.execute("SELECT id, feed, source, doc FROM advisories")),
            sorted(
                c.execute("SELECT feed, unit, advisory_id, ecosystem, package, withdrawn, doc FROM affected")
            ),
            sorted(c.execute("SELECT * FROM units")),
        )
    finally:
        c.close()


def test_import_feeds_and_query(feeds: Path, tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    st = import_paths([feeds], db)
    assert st.skipped == 0, st.warnings
    assert st.feeds == {"osv": 5, "alpine-secdb": 10, "debian-tracker": 3}
    assert st.records == 18
    with AdvisoryStore.open(str(db)) as s:
        dj = s.affected("PyPI", "django")
        assert [a.advisory_id for a in dj] == ["PYSEC-2024-1"]  # the withdrawn one is not matched
        assert dj[0].ranges == (Range("ECOSYSTEM", (Event("introduced", "0"), Event("fixed", "4.2.1"))),)
        assert dj[0].package == "Django" and dj[0].extra["purl"] == "pkg:pypi/Django"
        z = s.affected("PyPI", "zope_interface")
        assert z[0].versions == ("1.0", "1.9") and z[0].ranges[0].events[1] == Event("fixed", "1.10")
        std = s.affected("Go", "stdlib")
        assert std[0].extra["ecosystem_specific"]["imports"][0]["path"] == "net/http"
        assert s.affected("Go", "github.com/Example/Mod") == []  # GIT-only
        lo = s.affected("npm", "Lodash")
        assert lo[0].severity == ("ghsa", "MODERATE")
        ssl = s.affected("Alpine:v3.11", "OpenSSL")
        assert {a.advisory_id for a in ssl} >= {"CVE-2020-1967", "CVE-2019-1547"}
        assert s.affected("Alpine:v3.10", "openssl") == []
        deb = {a.advisory_id: a for a in s.affected("Debian:12", "openssl")}
        assert deb["CVE-2007-6755"].status == "wont_fix" and deb["CVE-2007-6755"].severity == (
            "debian",
            "unimportant",
        )
        advs = s.advisories(["PYSEC-2024-1", "PYSEC-2020-9", "CVE-2023-0286", "CVE-2019-17343", "NOPE"])
        assert set(advs) == {"PYSEC-2024-1", "PYSEC-2020-9", "CVE-2023-0286", "CVE-2019-17343"}
        assert advs["PYSEC-2024-1"].aliases == ("CVE-2024-1111", "GHSA-aaaa-bbbb-cccc")
        assert advs["PYSEC-2020-9"].withdrawn
        assert (
            advs["CVE-2023-0286"].details.startswith("X.400")
            and advs["CVE-2023-0286"].source == "debian-tracker"
        )
        assert advs["CVE-2019-17343"].aliases == ("XSA-310",)
        ecos = s.ecosystems()
        assert {"PyPI", "Go", "npm", "Alpine:v3.11", "Debian:12", "Debian:11", "Debian:sid"} <= set(ecos)
        status = s.status()
        assert status["schema_version"] == 1 and status["path"] == str(db)
        names = {x["name"]: x for x in status["sources"]}
        assert names["osv:PyPI"]["records"] == 3 and names["alpine-secdb"]["location"] == str(feeds)
        assert status["withdrawn"] == 1
        assert status["ecosystems"]["Alpine:v3.11"]["affected"] == 9


def test_reimport_is_idempotent_and_incremental(feeds: Path, tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    import_paths([feeds], db)
    before = _dump(db)
    st = import_paths([feeds], db)
    assert st.added == st.replaced == 0 and st.unchanged == 5 + 1 + 1
    assert _dump(db) == before
    # a changed OSV record replaces its rows; a changed secdb file replaces the file's rows
    write_json(feeds / "osv" / "PYSEC-2024-1.json", osv("PYSEC-2024-1", name="flask"))
    secdb = feeds / "alpine" / "v3.11" / "main.yaml"
    secdb.write_text(secdb.read_text().replace("CVE-2020-1967", "CVE-2020-9999"))
    st = import_paths([feeds], db)
    assert st.replaced == 2 and st.added == 0
    with AdvisoryStore.open(str(db)) as s:
        assert s.affected("PyPI", "django") == []
        assert [a.advisory_id for a in s.affected("PyPI", "Flask")] == ["PYSEC-2024-1"]
        ids = {a.advisory_id for a in s.affected("Alpine:v3.11", "openssl")}
        assert "CVE-2020-9999" in ids and "CVE-2020-1967" not in ids
        assert "CVE-2020-1967" not in s.advisories(["CVE-2020-1967"])  # orphan removed
    # the same file twice in one import changes nothing more
    st = import_paths([feeds / "osv", feeds / "osv"], db)
    assert st.duplicates == 2 and st.added == st.replaced == 0


def test_corrupt_zip_leaves_db_unchanged(feeds: Path, tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    import_paths([feeds], db)
    before = _dump(db)
    z = tmp_path / "bad" / "all.zip"
    make_zip(z, {f"R-{i}.json": osv(f"R-{i}") for i in range(20)})
    z.write_bytes(z.read_bytes()[:-60])
    with pytest.raises(FeedError, match=r"all\.zip.*(damaged|truncated).*not changed"):
        import_paths([feeds / "osv", z], db)
    assert _dump(db) == before
    with pytest.raises(FeedError):
        import_paths([z], tmp_path / "new.db")
    assert not (tmp_path / "new.db").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".new.db")] == []


def test_bad_member_crc_is_feed_error(tmp_path: Path) -> None:
    z = make_zip(tmp_path / "all.zip", {"A.json": osv("A-1") | {"details": "x" * 5000}})
    data = bytearray(z.read_bytes())
    i = data.index(b"A.json") + 6 + 10  # somewhere in the compressed data
    data[i] ^= 0xFF
    z.write_bytes(bytes(data))
    with pytest.raises(FeedError, match="all.zip"):
        import_paths([z], tmp_path / "x.db")
    assert not (tmp_path / "x.db").exists()


def test_malformed_records_warn_and_the_rest_imports(tmp_path: Path) -> None:
    d = tmp_path / "in"
    write_json(d / "ok.json", osv("OK-1"))
    (d / "broken.json").write_text('{"id": "X", "affected": [')
    write_json(d / "badfield.json", osv("BAD-1", affected=[{"package": {"ecosystem": "PyPI"}}]))
    make_zip(d / "z.zip", {"in-zip.json": "{nope", "fine.json": osv("OK-2")})
    st = import_paths([d], tmp_path / "x.db")
    assert st.records == 2 and st.skipped == 3
    text = "\n".join(st.warnings)
    assert "broken.json" in text and "badfield.json" in text and "affected[0].package.name" in text
    assert "z.zip [in-zip.json]" in text


def test_open_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(FeedError, match=r"no advisory database.*containment db update"):
        AdvisoryStore.open(str(tmp_path / "missing.db"))
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(FeedError, match=r"junk.db.*containment db update"):
        AdvisoryStore.open(str(junk))
    old = tmp_path / "old.db"
    c = sqlite3.connect(old)
    c.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    c.execute("INSERT INTO meta VALUES ('schema_version', '0')")
    c.commit()
    c.close()
    with pytest.raises(FeedError, match=r"schema version 0.*containment db update"):
        AdvisoryStore.open(str(old))
    with pytest.raises(FeedError, match="schema version 0"):
        import_paths([], old)


def test_path_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTAINMENT_CACHE_DIR", str(tmp_path / "c"))
    monkeypatch.delenv("CONTAINMENT_DB", raising=False)
    assert default_path() == tmp_path / "c" / "db" / "advisories.db"
    monkeypatch.setenv("CONTAINMENT_DB", str(tmp_path / "env.db"))
    assert default_path() == tmp_path / "env.db"
    assert default_path(str(tmp_path / "flag.db")) == tmp_path / "flag.db"


def test_read_only_open_works_on_read_only_file(feeds: Path, tmp_path: Path) -> None:
    db = tmp_path / "ro" / "a.db"
    import_paths([feeds / "osv"], db)
    db.chmod(0o444)
    s = AdvisoryStore.open(str(db))
    with pytest.raises(FeedError):
        s._q("INSERT INTO meta VALUES ('x', 'y')")
    assert s.affected("PyPI", "DJANGO")
    s.close()


def test_cli_import_status(feeds: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    r = CliRunner()
    db = tmp_path / "cli.db"
    res = r.invoke(app, ["db", "status", "--db", str(db)])
    assert res.exit_code == 2 and "containment db update" in res.output
    res = r.invoke(app, ["db", "import", str(feeds), "--db", str(db)])
    assert res.exit_code == 0, res.output
    assert "imported 18 records" in res.stdout and "Alpine:v3.11" in res.stdout
    monkeypatch.setenv("CONTAINMENT_DB", str(db))
    res = r.invoke(app, ["db", "status", "--json"])
    assert res.exit_code == 0 and json.loads(res.stdout)["path"] == str(db)
    res = r.invoke(app, ["db", "status"])
    assert "schema version    1" in res.stdout and "osv:PyPI" in res.stdout
    res = r.invoke(app, ["db", "import", str(tmp_path / "nothing-here")])
    assert res.exit_code == 2 and "no such file" in res.output
    bad = tmp_path / "t.zip"
    bad.write_bytes(b"PK\x03\x04 truncated")
    res = r.invoke(app, ["db", "import", str(bad)])
    assert res.exit_code == 2 and "t.zip" in res.output and "Traceback" not in res.output


def test_tracker_reimport_replaces_whole_file(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    p = write_json(tmp_path / "tracker.json", TRACKER)
    import_paths([p], db)
    smaller = {"openssl": TRACKER["openssl"]}
    write_json(p, smaller)
    import_paths([p], db)
    with AdvisoryStore.open(str(db)) as s:
        assert s.affected("Debian:12", "linux") == []
        assert s.advisories(["CVE-2024-26600"]) == {}
        assert s.affected("Debian:12", "openssl")
