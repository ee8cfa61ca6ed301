"""The report's `db` block comes from the real store: its build and update times reach every format."""

from __future__ import annotations

import json
import subprocess
import sys

from containment.advisories.store import AdvisoryStore

OSV = {
    "schema_version": "1.4.0",
    "id": "GHSA-6c3j-c64m-qhgq",
    "modified": "2023-09-07T17:43:06Z",
    "aliases": ["CVE-2019-11358"],
    "affected": [
        {
            "package": {"ecosystem": "npm", "name": "jquery"},
            "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "3.4.0"}]}],
        }
    ],
}


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "containment", *args], capture_output=True, text=True, timeout=120
    )


def test_db_times_reach_every_format(tmp_path):
    (tmp_path / "feed").mkdir()
    (tmp_path / "feed" / "a.json").write_text(json.dumps(OSV))
    db = str(tmp_path / "a.db")
    assert cli("db", "import", str(tmp_path / "feed"), "--db", db, "-q").returncode == 0
    store = AdvisoryStore.open(db)
    status = store.status()
    store.close()
    assert status["updated_at"] and status["built_at"]
    app = tmp_path / "app" / "node_modules" / "jquery"
    app.mkdir(parents=True)
    (app / "package.json").write_text('{"name": "jquery", "version": "3.3.9"}')
    target = str(tmp_path / "app")

    doc = json.loads(cli("scan", "fs", target, "--db", db, "-f", "json", "-q").stdout)
    assert doc["db"]["updated_at"] == status["updated_at"]
    assert doc["db"]["built_at"] == status["built_at"]
    assert doc["db"]["path"] == status["path"]
    assert [s["name"] for s in doc["db"]["sources"]] == [s["name"] for s in status["sources"]]
    assert [f["id"] for f in doc["findings"]] == ["CVE-2019-11358"]

    sarif = json.loads(cli("scan", "fs", target, "--db", db, "-f", "sarif", "-q").stdout)
    assert sarif["runs"][0]["properties"]["advisoryDatabase"]["updated_at"] == status["updated_at"]

    cdx = json.loads(cli("scan", "fs", target, "--db", db, "-f", "cyclonedx", "-q").stdout)
    props = {p["name"]: p["value"] for p in cdx["metadata"]["properties"]}
    assert props["containment:db:updated_at"] == status["updated_at"]

    table = cli("scan", "fs", target, "--db", db, "-q").stdout
    assert f"advisory database updated {status['updated_at']}" in table
