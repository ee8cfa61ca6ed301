"""sbt-dependency-lock build.sbt.lock cataloger."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from containment.catalog.base import FileTree, run_cataloger
from containment.catalog.sbt_lock import CATALOGERS
from containment.model import CatalogError

CAT = CATALOGERS[0]

LOCK = """{
  "lockVersion" : 1,
  "timestamp" : "2023-10-02T09:51:24.716Z",
  "configurations" : [
    "compile",
    "optional",
    "provided",
    "runtime",
    "test"
  ],
  "dependencies" : [
    {
      "org" : "org.typelevel",
      "name" : "cats-core_2.13",
      "version" : "2.10.0",
      "artifacts" : [
        {
          "name" : "cats-core_2.13.jar",
          "hash" : "sha1:3d9c7ab8f8b4e5a1c3e0d0d7f4bd8e4d1b5c1d3a"
        }
      ],
      "configurations" : [
        "compile",
        "runtime",
        "test"
      ]
    },
    {
      "org" : "org.scalatest",
      "name" : "scalatest_2.13",
      "version" : "3.2.17",
      "artifacts" : [
        {
          "name" : "scalatest_2.13.jar",
          "hash" : "sha1:0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"
        }
      ],
      "configurations" : [
        "test"
      ]
    },
    {
      "org" : "org.scala-lang",
      "name" : "scala-library",
      "version" : "2.13.12",
      "artifacts" : [],
      "configurations" : [
        "compile",
        "optional",
        "provided",
        "runtime",
        "test"
      ]
    }
  ]
}
"""


def test_wants():
    assert CAT.wants("app/build.sbt.lock", 0o100644, 1)
    assert not CAT.wants("app/build.sbt", 0o100644, 1)


def test_lock():
    pkgs = run_cataloger(CAT, {"app/build.sbt.lock": LOCK.encode()})
    got = [(f"{p.extra['group_id']}:{p.name}", p.version, p.purl, p.dev) for p in pkgs]
    assert got == [
        ("org.typelevel:cats-core_2.13", "2.10.0", "pkg:maven/org.typelevel/cats-core_2.13@2.10.0", False),
        ("org.scalatest:scalatest_2.13", "3.2.17", "pkg:maven/org.scalatest/scalatest_2.13@3.2.17", True),
        ("org.scala-lang:scala-library", "2.13.12", "pkg:maven/org.scala-lang/scala-library@2.13.12", False),
    ]
    assert pkgs[0].extra["configurations"] == ["compile", "runtime", "test"]


def test_bad_entries_skipped():
    doc = json.loads(LOCK)
    doc["dependencies"] += [{"org": "x"}, "junk", {"org": "a", "name": "b", "version": 3}, None]
    pkgs = run_cataloger(CAT, {"build.sbt.lock": json.dumps(doc).encode()})
    assert len(pkgs) == 3


@pytest.mark.parametrize("data", [b"", b"{", b"[]", b'{"dependencies": {}}', b"[" * 100000])
def test_unreadable(data):
    with pytest.raises(CatalogError):
        run_cataloger(CAT, {"build.sbt.lock": data})


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_random(data):
    try:
        out = CAT.parse("build.sbt.lock", data, FileTree())
    except CatalogError:
        return
    assert isinstance(out, list)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, len(LOCK)), st.integers(0, 30), st.text(max_size=10))
def test_fuzz_mutated(pos, cut, ins):
    data = (LOCK[:pos] + ins + LOCK[pos + cut :]).encode()
    try:
        out = CAT.parse("build.sbt.lock", data, FileTree())
    except CatalogError:
        return
    assert isinstance(out, list)
