"""SwiftPM Package.resolved cataloger."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from containment.catalog.base import FileTree, run_cataloger
from containment.catalog.swift_resolved import CATALOGERS, split_location
from containment.model import CatalogError

CAT = CATALOGERS[0]

V1 = """{
  "object": {
    "pins": [
      {
        "package": "Alamofire",
        "repositoryURL": "https://github.com/Alamofire/Alamofire.git",
        "state": {
          "branch": null,
          "revision": "bc268c28fb170f494de9898ee2be0c4f8b49e9a0",
          "version": "5.6.4"
        }
      },
      {
        "package": "SnapKit",
        "repositoryURL": "https://github.com/SnapKit/SnapKit",
        "state": {
          "branch": "develop",
          "revision": "f222cbdf325885926566172f6f5f06af95473158",
          "version": null
        }
      }
    ]
  },
  "version": 1
}
"""

V2 = """{
  "originHash" : "6a8f3b2c1d",
  "pins" : [
    {
      "identity" : "swift-argument-parser",
      "kind" : "remoteSourceControl",
      "location" : "https://github.com/apple/swift-argument-parser.git",
      "state" : {
        "revision" : "c8ed701b513cf5177118a175d85fbbbcd707ab41",
        "version" : "1.3.0"
      }
    },
    {
      "identity" : "swift-nio",
      "kind" : "remoteSourceControl",
      "location" : "git@github.com:apple/swift-nio.git",
      "state" : {
        "revision" : "702cd7c56d5d44eeba73fdf83918339b26dc855c",
        "version" : "2.62.0"
      }
    },
    {
      "identity" : "internal-kit",
      "kind" : "remoteSourceControl",
      "location" : "ssh://git@gitlab.example.com:2222/mobile/shared/internal-kit.git",
      "state" : {
        "revision" : "1111111111111111111111111111111111111111"
      }
    },
    {
      "identity" : "localpkg",
      "kind" : "localSourceControl",
      "location" : "/Users/dev/src/localpkg",
      "state" : {
        "revision" : "2222222222222222222222222222222222222222",
        "version" : "0.1.0"
      }
    }
  ],
  "version" : 3
}
"""


def test_wants():
    assert CAT.wants("Package.resolved", 0o100644, 1)
    assert CAT.wants("app/App.xcworkspace/xcshareddata/swiftpm/Package.resolved", 0o100644, 1)
    assert not CAT.wants("app/Package.swift", 0o100644, 1)


def test_v1():
    pkgs = run_cataloger(CAT, {"app/Package.resolved": V1.encode()})
    got = [(p.name, p.version, p.purl) for p in pkgs]
    assert got == [
        ("github.com/Alamofire/Alamofire", "5.6.4", "pkg:swift/github.com/Alamofire/Alamofire@5.6.4"),
        ("github.com/SnapKit/SnapKit", "", "pkg:swift/github.com/SnapKit/SnapKit"),
    ]
    assert pkgs[0].extra["identity"] == "Alamofire"
    assert pkgs[1].extra["branch"] == "develop"
    assert pkgs[1].extra["revision"] == "f222cbdf325885926566172f6f5f06af95473158"
    assert all(p.type == "swift" and p.cataloger == "swift-package-resolved" for p in pkgs)


def test_v2_v3():
    pkgs = run_cataloger(CAT, {"Package.resolved": V2.encode()})
    got = [(p.name, p.version, p.purl) for p in pkgs]
    assert got == [
        (
            "github.com/apple/swift-argument-parser",
            "1.3.0",
            "pkg:swift/github.com/apple/swift-argument-parser@1.3.0",
        ),
        ("github.com/apple/swift-nio", "2.62.0", "pkg:swift/github.com/apple/swift-nio@2.62.0"),
        (
            "gitlab.example.com/mobile/shared/internal-kit",
            "",
            "pkg:swift/gitlab.example.com/mobile/shared/internal-kit",
        ),
        ("localpkg", "0.1.0", "pkg:swift/localpkg@0.1.0"),
    ]
    assert pkgs[2].extra["revision"] == "1111111111111111111111111111111111111111"
    assert "branch" not in pkgs[2].extra


@pytest.mark.parametrize(
    ("loc", "want"),
    [
        ("https://github.com/a/b.git", ("github.com/a", "b")),
        ("https://user@GitHub.com/a/b/", ("github.com/a", "b")),
        ("git@github.com:a/b.git", ("github.com/a", "b")),
        ("ssh://git@host:22/x/y/z.git", ("host/x/y", "z")),
        ("file:///tmp/repo", ("", "repo")),
        ("/abs/path/pkg", ("", "pkg")),
        ("", ("", "")),
    ],
)
def test_split_location(loc, want):
    assert split_location(loc) == want


def test_bad_pins_skipped():
    doc = json.loads(V2)
    doc["pins"] += [
        1,
        {"location": 3, "state": {}},
        {"location": "https://x.org/", "state": {}},
        {"location": "https://x.org/a/b"},
    ]
    assert len(run_cataloger(CAT, {"Package.resolved": json.dumps(doc).encode()})) == 4


@pytest.mark.parametrize("data", [b"", b"[]", b'{"version": 2}', b'{"object": {"pins": 1}}', b"{" * 100000])
def test_unreadable(data):
    with pytest.raises(CatalogError):
        run_cataloger(CAT, {"Package.resolved": data})


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_random(data):
    try:
        out = CAT.parse("Package.resolved", data, FileTree())
    except CatalogError:
        return
    assert isinstance(out, list)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([V1, V2]), st.integers(0, 2000), st.integers(0, 30), st.text(max_size=10))
def test_fuzz_mutated(text, pos, cut, ins):
    pos = pos % (len(text) + 1)
    data = (text[:pos] + ins + text[pos + cut :]).encode()
    try:
        out = CAT.parse("Package.resolved", data, FileTree())
    except CatalogError:
        return
    assert isinstance(out, list)
