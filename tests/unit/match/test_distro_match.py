"""OS packages against a real store: a release's streams resolved by pattern, binary rpm names."""

from __future__ import annotations

import json

import pytest

from containment.advisories.importer import import_paths
from containment.advisories.store import AdvisoryStore
from containment.match import match
from containment.model import Inventory, OSInfo, Package


def rec(rid: str, *affected: tuple[str, str, str], summary: str = "") -> dict:
    return {
        "schema_version": "1.7.0",
        "id": rid,
        "modified": "2024-01-01T00:00:00Z",
        "summary": summary,
        "affected": [
            {
                "package": {"ecosystem": eco, "name": name},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}],
            }
            for eco, name, fixed in affected
        ],
    }


@pytest.fixture
def store(tmp_path):
    feed = tmp_path / "feed"
    feed.mkdir()
    recs = [
        rec(
            "RHSA-2024:1",
            ("Red Hat:enterprise_linux:9::baseos", "openssl", "1:3.0.7-25.el9_3"),
            ("Red Hat:enterprise_linux:9::appstream", "openssl", "1:3.0.7-25.el9_3"),
            summary="Important: openssl security update",
        ),
        # an EUS stream and another major release: not a RHEL 9 image's
        rec("RHSA-2024:2", ("Red Hat:rhel_eus:9.2::baseos", "openssl", "1:3.0.7-99.el9_2")),
        rec("RHSA-2024:3", ("Red Hat:enterprise_linux:8::baseos", "openssl", "1:9.9.9-1.el8")),
        # perl and its subpackage perl-Carp, which carries its own version and no epoch
        rec(
            "RHSA-2024:4",
            ("Red Hat:enterprise_linux:9::appstream", "perl", "4:5.32.1-481.el9"),
            ("Red Hat:enterprise_linux:9::appstream", "perl-Carp", "0:1.50-461.el9"),
        ),
        rec("ODD-1", ("Odd:[9]?", "openssl", "1")),
    ]
    for r in recs:
        (feed / f"{r['id'].replace(':', '_')}.json").write_text(json.dumps(r))
    db = tmp_path / "a.db"
    import_paths([feed], db)
    s = AdvisoryStore.open(str(db))
    yield s
    s.close()


def rpm(name: str, version: str, srpm_name: str, srpm_version: str) -> Package:
    return Package(
        name,
        version,
        "rpm",
        f"pkg:rpm/redhat/{name}@{version}",
        "var/lib/rpm/rpmdb.sqlite",
        "rpm-db",
        source_name=srpm_name,
        source_version=srpm_version,
    )


def test_ecosystems_like_resolves_a_pattern_to_the_names_held(store):
    assert store.ecosystems_like("Red Hat:enterprise_linux:9::*") == [
        "Red Hat:enterprise_linux:9::appstream",
        "Red Hat:enterprise_linux:9::baseos",
    ]
    assert store.ecosystems_like("Red Hat:enterprise_linux:7::*") == []
    assert store.ecosystems_like("Odd:[9]?") == ["Odd:[9]?"]  # glob characters other than * are literal
    assert store.ecosystems_like("Odd:9x") == []


def test_a_rhel_image_matches_every_stream_of_its_major_release_once(store):
    inv = Inventory(
        "t",
        "image",
        OSInfo("rhel", "9.4"),
        (rpm("openssl-libs", "1:3.0.7-24.el9", "openssl", "1:3.0.7-24.el9"),),
    )
    findings, warnings = match(inv, store)
    assert warnings == []
    assert [(f.id, f.installed_version, f.fixed_versions) for f in findings] == [
        ("RHSA-2024:1", "1:3.0.7-24.el9", ("1:3.0.7-25.el9_3",))
    ]
    assert (findings[0].severity, findings[0].severity_source) == ("HIGH", "redhat")


def test_a_subpackage_with_its_own_version_is_compared_by_its_binary_evr(store):
    # perl-Carp 1.50-460.el9 from perl-5.32.1-480.el9.src.rpm: the source epoch (4) is not in the
    # binary's header, so the source record cannot be compared; the binary record can
    old = rpm("perl-Carp", "1.50-460.el9", "perl", "5.32.1-480.el9")
    new = rpm("perl-Carp", "1.50-461.el9", "perl", "5.32.1-481.el9")
    findings, _ = match(Inventory("t", "image", OSInfo("rhel", "9.4"), (old,)), store)
    assert [(f.id, f.installed_version, f.fixed_versions) for f in findings] == [
        ("RHSA-2024:4", "1.50-460.el9", ("0:1.50-461.el9",))
    ]
    assert match(Inventory("t", "image", OSInfo("rhel", "9.4"), (new,)), store)[0] == []
