"""The whole real advisory corpus (../shared/corpus/advisories), when present."""

from __future__ import annotations

from pathlib import Path

import pytest

from containment.advisories.importer import import_paths
from containment.advisories.store import AdvisoryStore
from containment.advisories.types import Event

from .conftest import ROOT_CORPUS

ADV = ROOT_CORPUS / "advisories"


@pytest.fixture(scope="module")
def corpus_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not ADV.is_dir():
        pytest.skip(f"advisory corpus not found at {ADV} (set CONTAINMENT_CORPUS)")
    db = tmp_path_factory.mktemp("corpus") / "advisories.db"
    st = import_paths([ADV], db)
    n_pypi = sum(1 for _ in (ADV / "osv-pypi").rglob("*.yaml"))
    n_go = sum(1 for _ in (ADV / "osv-go").glob("*.json"))
    n_deb = sum(1 for _ in (ADV / "osv-debian-changelog").glob("*.json"))
    assert st.feeds["osv"] == n_pypi + n_go + n_deb
    assert st.feeds["alpine-secdb"] > 10000
    assert st.skipped == 0, st.warnings[:5]
    return db


def test_counts(corpus_db: Path) -> None:
    with AdvisoryStore.open(str(corpus_db)) as s:
        st = s.status()
    assert {"PyPI", "Go", "Debian:12", "Alpine:v3.11", "Alpine:v3.3"} <= set(st["ecosystems"])
    assert st["ecosystems"]["Go"]["advisories"] > 4000
    assert st["ecosystems"]["PyPI"]["advisories"] > 2500
    assert st["withdrawn"] > 0


def test_known_records(corpus_db: Path) -> None:
    with AdvisoryStore.open(str(corpus_db)) as s:
        sky = s.affected("PyPI", "Apache_SkyWalking")
        rec = [a for a in sky if a.advisory_id == "PYSEC-2020-342"][0]
        assert rec.ranges[0].events == (Event("introduced", "0"),) and "1.0.1" in rec.versions
        adv = s.advisories(["PYSEC-2020-342"])["PYSEC-2020-342"]
        assert adv.aliases == ("CVE-2020-13921",) and adv.severity[0][0] == "CVSS_V3"
        std = {a.advisory_id for a in s.affected("Go", "stdlib")}
        assert len(std) > 100 and all(i.startswith("GO-") for i in std)
        coder = [a for a in s.affected("Go", "github.com/coder/coder/v2") if a.advisory_id == "GO-2024-3228"][
            0
        ]
        assert [e.kind for e in coder.ranges[0].events] == ["introduced", "fixed"] * 3
        ssl = {a.advisory_id: a for a in s.affected("Alpine:v3.11", "openssl")}
        assert {"CVE-2019-1551", "CVE-2019-1547", "CVE-2018-0734"} <= set(ssl)
        assert ssl["CVE-2019-1551"].ranges[0].events == (
            Event("introduced", "0"),
            Event("fixed", "1.1.1d-r3"),
        )
        pg = {a.advisory_id: a for a in s.affected("Debian:12", "postgresql-15")}
        assert pg["DEBIAN-CVE-2025-8714"].severity == (
            "debian-changelog",
            "medium",
        )  # an upload urgency, not a tracker rating
