"""Results that look clean but are not: every format says the result is incomplete, and why.

1. A package database that exists but cannot be read or parsed (a dpkg status that is a
   directory, binary or text garbage, an apk database or rpmdb of garbage, a lockfile that is
   not one, a status file or a directory the scanner may not read) used to give "0 packages",
   "Total: 0", exit 0 and no warning. Now: a warning naming it, and `complete: false` with a
   gap in inventory JSON, the inventory table, CycloneDX and SPDX SBOMs, and every scan format
   (table, JSON `summary.complete` + `gaps` + `warnings`, SARIF tool execution notifications +
   `runs[0].properties.complete`, CycloneDX metadata properties).
2. A layer that rewrites or deletes the broken database makes the image whole again; the gaps
   survive the layer cache.
3. Packages of an ecosystem the advisory database holds nothing for (npm or Maven packages
   against a database of PyPI records; a Debian 12 image against one without Debian:12) are
   named with the command that fetches them; packages no advisory source covers are named too.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from containment.advisories.importer import import_paths
from containment.cli.main import app
from containment.image.build import ImageSpec, TarEntry, layer_tar, write_oci
from tests.conftest import OS_RELEASE, base_layer, dpkg_status
from tests.privileges import unprivileged, why_not
from tests.unit.report.test_fuzz_writers import valid_cyclonedx, valid_spdx
from tests.unit.report.test_vuln_reports import sarif_schema, scan_schema

GOOD_STATUS = dpkg_status(("bash", "5.2.15-2+b2"), ("libc6", "2.36-9"))


# ----------------------------------------------------------------------------- helpers


def run(*args: str, privileged: bool = True) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of the command: in-process, or as a user permissions apply to."""
    if privileged:
        r = CliRunner().invoke(app, list(args))
        if r.exception and not isinstance(r.exception, SystemExit):
            raise r.exception
        return r.exit_code, r.stdout, r.stderr
    p = subprocess.run(
        [sys.executable, "-m", "containment", *args],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=unprivileged,
    )
    return p.returncode, p.stdout, p.stderr


def osv_db(path: Path, *records: tuple[str, str, str]) -> Path:
    """An advisory database of (id, ecosystem, package) records, each affecting every version."""
    z = path.with_suffix(".zip")
    with zipfile.ZipFile(z, "w") as f:
        for vid, eco, name in records:
            f.writestr(
                f"{vid}.json",
                json.dumps(
                    {
                        "id": vid,
                        "modified": "2024-01-01T00:00:00Z",
                        "affected": [
                            {
                                "package": {"ecosystem": eco, "name": name},
                                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}],
                            }
                        ],
                    }
                ),
            )
    import_paths([z], path)
    return path


@pytest.fixture
def pypi_db(tmp_path) -> Path:
    return osv_db(tmp_path / "pypi.db", ("PYSEC-1", "PyPI", "django"))


def rootfs(root: Path, files: dict[str, bytes | None]) -> Path:
    """A root filesystem: path -> bytes, or None for a directory."""
    (root / "etc").mkdir(parents=True, exist_ok=True)
    (root / "etc" / "os-release").write_bytes(OS_RELEASE)
    for rel, data in files.items():
        p = root / rel
        if data is None:
            p.mkdir(parents=True, exist_ok=True)
        else:
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
    return root


# ----------------------------------------------------------------------------- what is checked


def assert_incomplete_everywhere(
    target: str, db: Path, names: str, privileged: bool = True, sbom: bool = True
) -> None:
    """Every format marks the result incomplete and names `names` (a path or an ecosystem)."""
    code, out, err = run("scan", "image", target, "--db", str(db), "-f", "json", privileged=privileged)
    assert code == 0, err
    doc = json.loads(out)
    jsonschema.Draft202012Validator(scan_schema()).validate(doc)
    assert doc["summary"]["complete"] is False
    assert any(names in g["subject"] or names in g["message"] for g in doc["gaps"]), doc["gaps"]
    assert all(g["message"] in doc["warnings"] for g in doc["gaps"])
    assert names in err  # and on stderr, as a warning

    code, out, _ = run("scan", "image", target, "--db", str(db), privileged=privileged)
    assert code == 0
    block = out[out.index("INCOMPLETE: ") :]
    assert names in block, out

    code, out, _ = run("scan", "image", target, "--db", str(db), "-f", "sarif", "-q", privileged=privileged)
    sarif = json.loads(out)
    jsonschema.Draft4Validator(sarif_schema()).validate(sarif)
    run0 = sarif["runs"][0]
    assert run0["properties"]["complete"] is False
    notes = run0["invocations"][0]["toolExecutionNotifications"]
    assert any(n["level"] == "error" and names in n["message"]["text"] for n in notes), notes

    code, out, _ = run(
        "scan", "image", target, "--db", str(db), "-f", "cyclonedx", "-q", privileged=privileged
    )
    cdx = json.loads(out)
    valid_cyclonedx(cdx)
    props = cdx["metadata"]["properties"]
    assert {"name": "containment:complete", "value": "false"} in props
    assert any(p["name"] == "containment:gap" and names in p["value"] for p in props), props

    if not sbom:
        return
    code, out, err = run("inventory", target, "-f", "json", privileged=privileged)
    inv = json.loads(out)
    assert inv["complete"] is False and any(names in g["message"] for g in inv["gaps"]), inv
    assert names in err
    code, out, _ = run("inventory", target, "-q", privileged=privileged)
    assert names in out[out.index("INCOMPLETE: ") :], out
    code, out, _ = run("sbom", target, "-q", privileged=privileged)
    cdx = json.loads(out)
    valid_cyclonedx(cdx)
    props = cdx["metadata"]["properties"]
    assert {"name": "containment:complete", "value": "false"} in props
    assert any(p["name"] == "containment:gap" and names in p["value"] for p in props), props
    code, out, _ = run("sbom", target, "-f", "spdx", "-q", privileged=privileged)
    spdx = json.loads(out)
    valid_spdx(spdx)
    assert "INCOMPLETE" in spdx["creationInfo"]["comment"] and names in spdx["creationInfo"]["comment"]


def assert_complete(target: str, db: Path) -> dict:
    code, out, err = run("scan", "image", target, "--db", str(db), "-f", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["summary"]["complete"] is True, doc["gaps"]
    assert doc["gaps"] == []
    code, out, _ = run("scan", "image", target, "--db", str(db))
    assert "INCOMPLETE" not in out
    code, out, _ = run("sbom", target, "-q")
    assert {"name": "containment:complete", "value": "true"} in json.loads(out)["metadata"]["properties"]
    return doc


# ----------------------------------------------------------------------------- 1. unreadable databases

BROKEN: dict[str, dict[str, bytes | None]] = {
    "dpkg status is a directory": {"var/lib/dpkg/status": None},
    "dpkg status is binary": {"var/lib/dpkg/status": b"\x00\x01\x02garbage\xff" * 10},
    "dpkg status is text garbage": {"var/lib/dpkg/status": b"hello world\nthis is not deb822\n"},
    "dpkg status has fields but no package": {"var/lib/dpkg/status": b"Foo: bar\nBaz: 1\n\nQux: 2\n"},
    "apk database is garbage": {"lib/apk/db/installed": b"hello world\nnot an apk database\n"},
    "rpmdb is garbage": {"var/lib/rpm/rpmdb.sqlite": b"SQLite format 3\x00" + b"\x07" * 4000},
    "npm lockfile is not json": {"app/package-lock.json": b"{ this is not json"},
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_package_database_that_cannot_be_read_makes_every_format_incomplete(case, tmp_path, pypi_db):
    files = BROKEN[case]
    root = rootfs(tmp_path / "rootfs", files)
    assert_incomplete_everywhere(f"dir:{root}", pypi_db, next(iter(files)))


_why_not = why_not()


@pytest.mark.skipif(_why_not is not None, reason=_why_not or "")
@pytest.mark.parametrize("what", ["status file", "its directory"])
def test_a_package_database_the_scanner_may_not_read(tmp_path, pypi_db, what):
    root = rootfs(tmp_path / "rootfs", {"var/lib/dpkg/status": GOOD_STATUS})
    locked = root / "var/lib/dpkg" / ("status" if what == "status file" else "")
    locked.chmod(0)
    pypi_db.chmod(0o644)
    try:
        name = "var/lib/dpkg/status" if what == "status file" else "var/lib/dpkg"
        assert_incomplete_everywhere(f"dir:{root}", pypi_db, name, privileged=False)
        _, _, err = run("inventory", f"dir:{root}", privileged=False)
        assert "Permission denied" in err and "check its permissions" in err
    finally:
        locked.chmod(0o755)


def test_a_readable_database_is_complete(tmp_path):
    db = osv_db(tmp_path / "a.db", ("DSA-1", "Debian:12", "bash"))
    root = rootfs(tmp_path / "rootfs", {"var/lib/dpkg/status": GOOD_STATUS})
    doc = assert_complete(f"dir:{root}", db)
    assert [f["id"] for f in doc["findings"]] == ["DSA-1"]


# ----------------------------------------------------------------------------- 2. layers and the cache


def _image(tmp_path: Path, *upper: list[TarEntry]) -> str:
    broken = layer_tar(
        [
            TarEntry("usr/lib/os-release", OS_RELEASE),
            TarEntry("etc/os-release", kind="symlink", link="../usr/lib/os-release"),
            TarEntry("var/lib/dpkg/status", b"\x00garbage"),
        ]
    )
    root = tmp_path / "img"
    write_oci(str(root), ImageSpec(layers=[broken, *(layer_tar(u) for u in upper)]))
    return f"oci:{root}"


def test_a_broken_database_in_the_top_layer(tmp_path):
    db = osv_db(tmp_path / "a.db", ("DSA-1", "Debian:12", "bash"))
    root = tmp_path / "img"
    write_oci(
        str(root),
        ImageSpec(layers=[base_layer(), layer_tar([TarEntry("var/lib/dpkg/status", b"\x00garbage")])]),
    )
    assert_incomplete_everywhere(f"oci:{root}", db, "var/lib/dpkg/status")
    # the second scan reads every layer from the cache: still incomplete
    _, out, _ = run("scan", "image", f"oci:{root}", "--db", str(db), "-f", "json")
    assert json.loads(out)["summary"]["complete"] is False


def test_a_later_layer_that_rewrites_or_deletes_the_broken_database_makes_it_whole(tmp_path):
    db = osv_db(tmp_path / "a.db", ("DSA-1", "Debian:12", "bash"))
    rewritten = _image(tmp_path / "a", [TarEntry("var/lib/dpkg/status", GOOD_STATUS)])
    doc = assert_complete(rewritten, db)
    assert doc["summary"]["packages"] == 2
    deleted = _image(tmp_path / "b", [TarEntry("var/lib/dpkg/.wh.status", b"")])
    assert_complete(deleted, db)


# ----------------------------------------------------------------------------- 3. coverage


def test_ecosystems_the_database_does_not_hold_are_named_with_the_command_that_gets_them(tmp_path, pypi_db):
    root = rootfs(
        tmp_path / "rootfs",
        {
            "var/lib/dpkg/status": GOOD_STATUS,
            "app/node_modules/lodash/package.json": b'{"name": "lodash", "version": "4.17.0"}',
        },
    )
    assert_incomplete_everywhere(f"dir:{root}", pypi_db, "npm", sbom=False)
    _, out, _ = run("scan", "image", f"dir:{root}", "--db", str(pypi_db), "-f", "json")
    gaps = {g["subject"]: g for g in json.loads(out)["gaps"]}
    assert set(gaps) == {"npm", "Debian:12"}
    assert gaps["npm"]["kind"] == "no-advisories"
    assert f"containment db update --db {pypi_db} --ecosystem npm" in gaps["npm"]["message"]
    assert "--ecosystem Debian" in gaps["Debian:12"]["message"]
    assert "lodash" in gaps["npm"]["message"] and "bash" in gaps["Debian:12"]["message"]
    # the inventory itself is whole: nothing was unreadable
    _, out, _ = run("inventory", f"dir:{root}", "-f", "json")
    assert json.loads(out)["complete"] is True


def test_the_default_database_gets_the_command_without_db(tmp_path, pypi_db, monkeypatch):
    monkeypatch.setenv("CONTAINMENT_DB", str(pypi_db))
    root = rootfs(
        tmp_path / "rootfs", {"app/node_modules/lodash/package.json": b'{"name": "lodash", "version": "1"}'}
    )
    _, out, _ = run("scan", "image", f"dir:{root}", "-f", "json")
    (gap,) = json.loads(out)["gaps"]
    assert "run `containment db update --ecosystem npm`" in gap["message"]


def test_maven_in_a_source_tree(tmp_path, pypi_db):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "gradle.lockfile").write_text(
        "org.apache.logging.log4j:log4j-core:2.14.1=runtimeClasspath\nempty=\n"
    )
    code, out, err = run("scan", "fs", str(tmp_path / "src"), "--db", str(pypi_db), "-f", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["summary"] == {**doc["summary"], "total": 0, "complete": False}
    (gap,) = doc["gaps"]
    assert (
        gap["subject"] == "Maven" and "--ecosystem Maven" in gap["message"] and "log4j-core" in gap["message"]
    )


def test_a_database_that_holds_the_ecosystems_is_complete(tmp_path):
    db = osv_db(tmp_path / "a.db", ("DSA-1", "Debian:12", "bash"), ("GHSA-1", "npm", "lodash"))
    root = rootfs(
        tmp_path / "rootfs",
        {
            "var/lib/dpkg/status": GOOD_STATUS,
            "app/node_modules/lodash/package.json": b'{"name": "lodash", "version": "4.17.0"}',
        },
    )
    doc = assert_complete(f"dir:{root}", db)
    assert {f["id"] for f in doc["findings"]} == {"DSA-1", "GHSA-1"}


def test_packages_no_advisory_source_covers(tmp_path, pypi_db):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "Podfile.lock").write_text("PODS:\n  - Alamofire (5.8.1)\n\nCOCOAPODS: 1.15.2\n")
    _, out, _ = run("scan", "fs", str(tmp_path / "src"), "--db", str(pypi_db), "-f", "json")
    (gap,) = json.loads(out)["gaps"]
    assert gap["kind"] == "unsupported" and gap["subject"] == "cocoapods" and "Alamofire" in gap["message"]
    # an OS whose advisories no source publishes: its packages were not checked either
    root = rootfs(tmp_path / "rootfs", {"var/lib/dpkg/status": GOOD_STATUS})
    (root / "etc" / "os-release").write_text('ID=madeup\nVERSION_ID="1"\nNAME="Made Up"\n')
    _, out, _ = run("scan", "image", f"dir:{root}", "--db", str(pypi_db), "-f", "json")
    (gap,) = json.loads(out)["gaps"]
    assert gap["kind"] == "unsupported" and "Made Up" in gap["message"]


def test_dev_dependencies_not_matched_are_not_a_gap(tmp_path, pypi_db):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "package-lock.json").write_text(
        json.dumps(
            {
                "name": "app",
                "lockfileVersion": 3,
                "packages": {
                    "": {"name": "app", "version": "1.0.0"},
                    "node_modules/jest": {"version": "29.0.0", "dev": True},
                },
            }
        )
    )
    _, out, _ = run("scan", "fs", str(tmp_path / "src"), "--db", str(pypi_db), "-f", "json")
    assert json.loads(out)["gaps"] == []
    _, out, _ = run(
        "scan", "fs", str(tmp_path / "src"), "--db", str(pypi_db), "-f", "json", "--include-dev-deps"
    )
    assert [g["subject"] for g in json.loads(out)["gaps"]] == ["npm"]


def test_no_warning_when_quiet_but_still_incomplete(tmp_path, pypi_db):
    root = rootfs(tmp_path / "rootfs", {"var/lib/dpkg/status": None})
    code, out, err = run("scan", "image", f"dir:{root}", "--db", str(pypi_db), "-f", "json", "-q")
    assert code == 0 and err == ""
    assert json.loads(out)["summary"]["complete"] is False


def test_exit_code_is_unchanged(tmp_path, pypi_db):
    """Incomplete is not a failure of the command: exit 0 (or --exit-code's when findings remain)."""
    root = rootfs(tmp_path / "rootfs", {"var/lib/dpkg/status": None})
    code, _, _ = run("scan", "image", f"dir:{root}", "--db", str(pypi_db), "--exit-code", "1")
    assert code == 0
