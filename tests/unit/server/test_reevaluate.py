"""Findings computed, not frozen: stored inventories re-matched after advisory DB changes (SQLite and
PostgreSQL stores, real advisory DBs imported from OSV records, no image opened)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from containment.advisories import names
from containment.advisories.importer import import_paths
from containment.model import ContainmentError, FeedError, Inventory, OSInfo, Package
from containment.policy.policyfile import Stage
from containment.server.models import Decision, Image, Scan
from containment.server.reevaluate import ACTOR, _fold, reevaluate, take_snapshot
from containment.server.store import Store
from tests.unit.server.pg import pg_cluster, pg_url  # noqa: F401

DEBIAN = OSInfo(id="debian", version_id="12")
A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64
C = "sha256:" + "c" * 64


def osv(rid: str, eco: str, name: str, fixed: str, severity: str = "HIGH", **extra: Any) -> dict[str, Any]:
    return {
        "id": rid,
        "modified": "2024-01-01T00:00:00Z",
        "summary": f"{rid} in {name}",
        "affected": [
            {
                "package": {"ecosystem": eco, "name": name},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}],
            }
        ],
        "database_specific": {"severity": severity},
        **extra,
    }


def put_feed(tmp: Path, db: Path, *records: dict[str, Any]) -> None:
    """Import records into `db` the way `containment db import` does (in place, like an update)."""
    n = len(list(tmp.glob("feed-*")))
    feed = tmp / f"feed-{n}"
    feed.mkdir()
    for r in records:
        (feed / f"{r['id']}.json").write_text(json.dumps(r))
    import_paths([feed], db)


def pkg(name: str, version: str, type_: str = "pypi", source: str = "") -> Package:
    purl = f"pkg:{type_}/{name}@{version}"
    return Package(
        name, version, type_, purl, "x", "t", source_name=source, source_version=version if source else ""
    )


def inventory(digest: str, os_info: OSInfo | None, *packages: Package, target: str = "") -> Inventory:
    return Inventory(
        target=target or f"reg.example:5000/app@{digest}",
        kind="image",
        os=os_info,
        packages=packages,
        image_digest=digest,
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        s = Store.open(data_dir=tmp_path / "data")
    else:
        s = Store.open(url=request.getfixturevalue("pg_url"), data_dir=tmp_path / "data")
    yield s
    s.close()


def decide(store: Store, digest: str, stage: str, allowed: bool) -> None:
    with store.write() as s:
        img = s.query(Image).filter_by(digest=digest).one()
        s.add(Decision(image_id=img.id, digest=digest, stage=stage, allowed=allowed, policy="p"))


def findings_of(store: Store, digest: str) -> set[str]:
    with store.read() as s:
        img = s.query(Image).filter_by(digest=digest).one()
        scan = s.query(Scan).filter_by(image_id=img.id, actor=ACTOR).order_by(Scan.id.desc()).first()
        assert scan is not None
        assert "computed" not in scan.counts  # the findings live in their own column (listings skip it)
        assert scan.computed is not None
        return {f[1] for f in scan.computed["findings"]}


def run(store: Store, db: Path, snap: Path, **kw: Any) -> Any:
    return reevaluate(store, db, snap, **kw)


def test_full_then_only_what_changed(store: Store, tmp_path: Path) -> None:
    db, snap = tmp_path / "adv.db", tmp_path / "data" / "snap.db"
    put_feed(
        tmp_path,
        db,
        osv("GHSA-req", "PyPI", "requests", "2.31.0"),
        osv("CVE-2023-1", "Debian:12", "openssl", "3.0.11-1"),
    )
    store.put_inventory(
        inventory(
            A,
            DEBIAN,
            pkg("openssl", "3.0.9-1", "deb", "openssl"),
            pkg("requests", "2.30.0"),
            pkg("Flask", "2.0.0"),
        ),
        "scan",
        "ci",
    )
    store.put_inventory(
        inventory(B, DEBIAN, pkg("libssl3", "3.0.11-1", "deb", "openssl"), pkg("flask", "2.0.0")),
        "scan",
        "ci",
    )
    store.put_inventory(
        inventory(C, OSInfo("alpine", "3.19.1"), pkg("musl", "1.2.4-r2", "apk")), "sbom", "ci"
    )

    first = run(store, db, snap)
    assert first.full and first.images_new == 3 and first.images_evaluated == 3
    assert first.packages_matched == first.packages_total == 6
    assert findings_of(store, A) == {"GHSA-req", "CVE-2023-1"} and findings_of(store, B) == set()
    listed = {i["digest"]: i for i in store.images()}
    assert listed[A]["last_scan"]["actor"] == ACTOR
    assert listed[A]["last_scan"]["counts"]["vulnerabilities"]["high"] == 2

    again = run(store, db, snap)  # nothing changed: nothing matched, nothing written
    assert not again.full and again.changed_units == 0 and again.packages_matched == 0
    assert again.images_evaluated == 0

    decide(store, A, "prod", True)
    decide(store, B, "prod", True)
    decide(store, B, "dev", True)
    decide(store, C, "prod", True)
    decide(store, C, "prod", False)  # its newest decision for prod refused it: not in prod
    # the update: a new critical advisory for flask, and openssl's fix moves up (B becomes affected)
    put_feed(
        tmp_path,
        db,
        osv("GHSA-flask", "PyPI", "Flask", "2.2.5", "CRITICAL"),
        osv("CVE-2023-1", "Debian:12", "openssl", "3.0.12-1", modified="2024-02-01T00:00:00Z"),
        osv("GHSA-musl", "Alpine:v3.19", "musl", "1.2.4-r3", "CRITICAL"),
    )
    stages = {
        "prod": Stage("prod", max_severity={"critical": 0}),
        "dev": Stage("dev", max_severity={"high": 0}),
    }
    res = run(store, db, snap, stages=stages)
    assert res.changed_units == 3
    assert res.changed_keys == 3  # (PyPI, flask), (Debian:12, openssl), (Alpine:v3.19, musl)
    # only openssl and flask of A and B, musl of C: requests is not matched again
    assert res.packages_matched == 5 and res.images_evaluated == 3 and res.images_new == 0
    assert findings_of(store, A) == {"GHSA-req", "CVE-2023-1", "GHSA-flask"}
    assert findings_of(store, B) == {"CVE-2023-1", "GHSA-flask"}
    assert findings_of(store, C) == {"GHSA-musl"}
    got = sorted((a.digest, a.stage, a.severity, a.count, [g[0] for g in a.gained]) for a in res.alerts)
    assert got == [
        (A, "prod", "critical", 1, ["GHSA-flask"]),
        (B, "dev", "high", 1, ["CVE-2023-1"]),
        (B, "prod", "critical", 1, ["GHSA-flask"]),
    ]
    assert res.alerts[0].repositories == ("reg.example:5000/app",)
    assert "over the limit 0" in res.alerts[0].text

    # an advisory withdrawn: its findings go, nothing alerts
    put_feed(tmp_path, db, osv("GHSA-req", "PyPI", "requests", "2.31.0", withdrawn="2024-03-01T00:00:00Z"))
    res = run(store, db, snap, stages=stages)
    assert res.changed_keys == 1 and res.packages_matched == 1 and res.alerts == []
    assert findings_of(store, A) == {"CVE-2023-1", "GHSA-flask"}
    listed = {i["digest"]: i for i in store.images()}
    assert listed[A]["last_scan"]["counts"]["vulnerabilities"] == {
        "critical": 1,
        "high": 1,
        "medium": 0,
        "low": 0,
        "unknown": 0,
    }

    # a new image arriving later is evaluated in full, alone
    store.put_inventory(inventory("sha256:" + "d" * 64, DEBIAN, pkg("Flask", "1.0")), "scan", "ci")
    res = run(store, db, snap, stages=stages)
    assert res.images_new == 1 and res.packages_matched == 1 and res.alerts == []
    assert findings_of(store, "sha256:" + "d" * 64) == {"GHSA-flask"}
    with store.engine.connect() as c:
        from sqlalchemy import text

        actions = [
            r[0] for r in c.execute(text("SELECT action FROM audit_records WHERE actor = :a"), {"a": ACTOR})
        ]
    assert actions and set(actions) == {"findings.reevaluate"}


def test_syft_sbom_tracked_the_same_way(store: Store, tmp_path: Path) -> None:
    db, snap = tmp_path / "adv.db", tmp_path / "snap.db"
    put_feed(tmp_path, db, osv("GHSA-jinja", "PyPI", "jinja2", "3.1.0"))
    sbom = {  # what `syft -o cyclonedx-json` writes for an image (trimmed)
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "metadata": {
            "component": {"type": "container", "name": "app", "version": "sha256:" + "e" * 64},
            "tools": {"components": [{"type": "application", "author": "anchore", "name": "syft"}]},
        },
        "components": [
            {
                "type": "library",
                "name": "Jinja2",
                "version": "3.1.2",
                "purl": "pkg:pypi/jinja2@3.1.2",
                "properties": [{"name": "syft:location:0:path", "value": "/usr/lib/python3/site-packages"}],
            },
            {"type": "operating-system", "name": "debian", "version": "12"},
        ],
    }
    digest = store.put_sbom(sbom, "ci")
    assert run(store, db, snap).images_new == 1
    assert findings_of(store, digest) == set()
    put_feed(tmp_path, db, osv("GHSA-jinja", "PyPI", "jinja2", "3.1.4", modified="2024-05-01T00:00:00Z"))
    res = run(store, db, snap)
    assert res.changed_keys == 1 and res.packages_matched == 1
    assert findings_of(store, digest) == {"GHSA-jinja"}


def test_missing_db_is_a_clear_error(tmp_path: Path) -> None:
    with (
        Store.open(data_dir=tmp_path / "data") as store,
        pytest.raises(FeedError, match="no advisory database; run `containment db update`"),
    ):
        reevaluate(store, tmp_path / "nope.db", tmp_path / "snap.db")
    assert not (tmp_path / "snap.db").exists()


def test_snapshot_names_the_db(tmp_path: Path) -> None:
    db = tmp_path / "adv.db"
    put_feed(tmp_path, db, osv("GHSA-1", "PyPI", "a", "1.0"))
    meta = take_snapshot(db, tmp_path / "s.db")
    assert meta["schema_version"] == "1" and meta["updated_at"]
    with pytest.raises(ContainmentError, match="cannot snapshot"):
        take_snapshot(tmp_path / "missing.db", tmp_path / "s2.db")
    assert not (tmp_path / "s2.db").exists()


ECOSYSTEMS = ["PyPI", "npm", "Debian:12", "Alpine:v3.19", "Go", "Maven", "NuGet", "crates.io", "RubyGems"]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(ECOSYSTEMS), st.text(min_size=1, max_size=30))
def test_fold_keeps_every_name_that_may_match(eco: str, name: str) -> None:
    """The prefilter's fold is coarser than every ecosystem's normalization: a stored name whose
    normalized form is a changed key always survives it."""
    assert _fold(names.normalize(eco, name)) == _fold(name)


def test_a_package_shared_by_images_is_matched_once(tmp_path: Path) -> None:
    db, snap = tmp_path / "adv.db", tmp_path / "snap.db"
    put_feed(tmp_path, db, osv("GHSA-1", "PyPI", "urllib3", "2.0.7"))
    with Store.open(data_dir=tmp_path / "data") as store:
        for d in (A, B):
            store.put_inventory(
                inventory(d, DEBIAN, pkg("urllib3", "1.26.5"), pkg("six", "1.16.0")), "scan", "ci"
            )
        store.put_inventory(inventory(C, None, pkg("urllib3", "1.26.5")), "scan", "ci")
        res = reevaluate(store, db, snap)
        # five rows, three distinct (OS release, package, version): urllib3 and six on Debian 12, urllib3 alone
        assert res.packages_matched == 5 and res.packages_unique == 3
        assert findings_of(store, A) == findings_of(store, B) == findings_of(store, C) == {"GHSA-1"}
