"""CocoaPods Podfile.lock cataloger."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from containment.catalog.base import FileTree, run_cataloger
from containment.catalog.podfile_lock import CATALOGERS, split_entry
from containment.model import CatalogError

CAT = CATALOGERS[0]

LOCK = """PODS:
  - Alamofire (5.6.4)
  - Firebase/Analytics (10.18.0):
    - Firebase/Core
  - Firebase/Core (10.18.0):
    - Firebase/CoreOnly
    - FirebaseAnalytics (~> 10.18.0)
  - Firebase/CoreOnly (10.18.0):
    - FirebaseCore (= 10.18.0)
  - FirebaseAnalytics (10.18.0):
    - GoogleUtilities/MethodSwizzler (~> 7.11)
  - FirebaseCore (10.18.0):
    - GoogleUtilities/Environment (~> 7.12)
  - GoogleUtilities/Environment (7.12.0):
    - PromisesObjC (< 3.0, >= 1.2)
  - GoogleUtilities/MethodSwizzler (7.12.0):
    - GoogleUtilities/Logger
  - "GoogleUtilities/NSData+zlib (7.12.0)"
  - MyLocalKit (0.1.0)
  - PromisesObjC (2.3.1)
  - SnapKit (5.7.0-beta.1)

DEPENDENCIES:
  - Alamofire (~> 5.6)
  - Firebase/Analytics
  - MyLocalKit (from `../MyLocalKit`)
  - SnapKit (from `https://github.com/SnapKit/SnapKit.git`, branch `develop`)

SPEC REPOS:
  trunk:
    - Alamofire
    - Firebase
    - FirebaseAnalytics
    - FirebaseCore
    - GoogleUtilities
    - PromisesObjC

EXTERNAL SOURCES:
  MyLocalKit:
    :path: "../MyLocalKit"
  SnapKit:
    :branch: develop
    :git: https://github.com/SnapKit/SnapKit.git

CHECKOUT OPTIONS:
  SnapKit:
    :commit: 8b8e3a3c5d0d7c7c6e4b5f1f2a9c4d3e2f1a0b9c
    :git: https://github.com/SnapKit/SnapKit.git

SPEC CHECKSUMS:
  Alamofire: 4e95d97098eacb88856099c4fc79b526a299e48c
  Firebase: 10c8cb12fb7ad2ae0c09ffc86cd9c1ab392a0031
  GoogleUtilities: d053d902a8edaa9904e1bd00c37535385b8ed152

PODFILE CHECKSUM: 9c4a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f70

COCOAPODS: 1.14.3
"""


def test_wants():
    assert CAT.wants("ios/Podfile.lock", 0o100644, 1)
    assert not CAT.wants("ios/Pods/Manifest.lock", 0o100644, 1)


def test_lock():
    pkgs = run_cataloger(CAT, {"ios/Podfile.lock": LOCK.encode()})
    got = [(p.name, p.version, p.purl) for p in pkgs]
    assert got == [
        ("Alamofire", "5.6.4", "pkg:cocoapods/Alamofire@5.6.4"),
        ("Firebase", "10.18.0", "pkg:cocoapods/Firebase@10.18.0"),
        ("FirebaseAnalytics", "10.18.0", "pkg:cocoapods/FirebaseAnalytics@10.18.0"),
        ("FirebaseCore", "10.18.0", "pkg:cocoapods/FirebaseCore@10.18.0"),
        ("GoogleUtilities", "7.12.0", "pkg:cocoapods/GoogleUtilities@7.12.0"),
        ("MyLocalKit", "0.1.0", "pkg:cocoapods/MyLocalKit@0.1.0"),
        ("PromisesObjC", "2.3.1", "pkg:cocoapods/PromisesObjC@2.3.1"),
        ("SnapKit", "5.7.0-beta.1", "pkg:cocoapods/SnapKit@5.7.0-beta.1"),
    ]
    by = {p.name: p for p in pkgs}
    assert by["Firebase"].extra == {
        "subspecs": ["Analytics", "Core", "CoreOnly"],
        "checksum": "10c8cb12fb7ad2ae0c09ffc86cd9c1ab392a0031",
        "spec_repo": "trunk",
    }
    assert by["GoogleUtilities"].extra["subspecs"] == ["Environment", "MethodSwizzler", "NSData+zlib"]
    assert by["MyLocalKit"].extra == {"external_source": {"path": "../MyLocalKit"}}
    assert by["SnapKit"].extra["external_source"] == {
        "branch": "develop",
        "git": "https://github.com/SnapKit/SnapKit.git",
    }
    assert all(p.type == "cocoapods" and not p.dev for p in pkgs)


@pytest.mark.parametrize(
    ("s", "want"),
    [
        ("AFNetworking (4.0.1)", ("AFNetworking", "4.0.1")),
        ("Firebase/Core (10.0.0)", ("Firebase/Core", "10.0.0")),
        ("Alamofire (~> 5.6)", None),
        ("MyKit (from `../MyKit`)", None),
        ("NoVersion", None),
    ],
)
def test_split_entry(s, want):
    assert split_entry(s) == want


@pytest.mark.parametrize(
    "data", [b"", b"PODS: 3\n", b"- a\n", b"COCOAPODS: 1.0\n", b"PODS: [\n", b"\xff\xfe\x00"]
)
def test_unreadable(data):
    with pytest.raises(CatalogError):
        run_cataloger(CAT, {"Podfile.lock": data})


def test_bad_entries_skipped():
    data = b"PODS:\n  - 3\n  - {a: 1, b: 2}\n  - [x]\n  - /Sub (1.0)\n  - Good (1.0)\nSPEC REPOS: [1]\n"
    assert [p.purl for p in run_cataloger(CAT, {"Podfile.lock": data})] == ["pkg:cocoapods/Good@1.0"]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_random(data):
    try:
        out = CAT.parse("Podfile.lock", data, FileTree())
    except CatalogError:
        return
    assert isinstance(out, list)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(LOCK)), st.integers(0, 30), st.text(max_size=10))
def test_fuzz_mutated(pos, cut, ins):
    data = (LOCK[:pos] + ins + LOCK[pos + cut :]).encode()
    try:
        out = CAT.parse("Podfile.lock", data, FileTree())
    except CatalogError:
        return
    assert isinstance(out, list)
