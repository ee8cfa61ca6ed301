"""Elixir mix.lock cataloger."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from containment.catalog.base import FileTree, run_cataloger
from containment.catalog.mix_lock import CATALOGERS, Atom, parse_term
from containment.model import CatalogError

CAT = CATALOGERS[0]

LOCK = """%{
  "castore": {:hex, :castore, "1.0.5", "9eeebb394cc9a0f3ae56b813459f990abb0a3dedee1be6b27fdb50301930502f", [:mix], [], "hexpm", "8d7c597c3e4a64c395980882d4bca3cebb8d74197c590dc272cfd3b6a6310578"},
  "jason": {:hex, :jason, "1.4.1", "af1504e35f629ddcdd6addb3513c3853991f694921b1b9368b0bd32beb9f1b63", [:mix], [{:decimal, "~> 1.0 or ~> 2.0", [hex: :decimal, repo: "hexpm", optional: true]}], "hexpm", "fbb01ecdfd565b56261302f7e1fcc27c4fb8f32d56eab74db621fc154604a7a1"},
  "phoenix": {:hex, :phoenix, "1.7.10", "02189140a61b2ce85bb633a9b6fd02dff705a5f1596869547aeb2b2b95edd729", [:mix],
    [{:castore, ">= 0.0.0", [hex: :castore, repo: "hexpm", optional: false]},
     {:jason, "~> 1.0", [hex: :jason, repo: "hexpm", optional: true]}], "hexpm", "cf784932e010fd736d656d7fead6a584a4498efefe5b8227e9f383bf15bb79d0"},
  "my_json": {:hex, :poison, "5.0.0", "d2b54589ab4157bbb82ec2050757779bfed724463a544b6e20d79855a9e43b24", [:mix], [], "hexpm", "11dc6117c501b80c62a7594f941d043982a1bd05a1184280c0d9166eb4d8d3fc"},
  "acme_secret": {:hex, :acme_secret, "0.3.0", "3b0ad2c7c1b6b0f4b1d1e4c4d2f0f0c1f1e1d1c1b1a191817161514131211100", [:mix], [], "hexpm:acme", "0f0e0d0c0b0a09080706050403020100f0e0d0c0b0a09080706050403020100"},
  "old_style": {:hex, :cowboy, "2.9.0", "865dd8b6607e14cf03282e10e934023a1bd8be6f6bacf921a7e2a96d800cd452", [:make, :rebar3], [{:cowlib, "2.11.0", [hex: :cowlib, repo: "hexpm", optional: false]}], "hexpm"},
  "ancient": {:hex, :plug, "1.3.0"},
  "mylib": {:git, "https://github.com/acme/mylib.git", "5b3c1a2d6e7f8091a2b3c4d5e6f708192a3b4c5d", [branch: "main"]},
  "local": {:path, "../local"},
}
"""


def test_wants():
    assert CAT.wants("app/mix.lock", 0o100644, 1)
    assert CAT.wants("mix.lock", 0o100644, 1)
    assert not CAT.wants("app/remix.lock", 0o100644, 1)


def test_lock():
    pkgs = run_cataloger(CAT, {"app/mix.lock": LOCK.encode()})
    got = [(p.name, p.version, p.purl) for p in pkgs]
    assert got == [
        ("castore", "1.0.5", "pkg:hex/castore@1.0.5"),
        ("jason", "1.4.1", "pkg:hex/jason@1.4.1"),
        ("phoenix", "1.7.10", "pkg:hex/phoenix@1.7.10"),
        ("poison", "5.0.0", "pkg:hex/poison@5.0.0"),
        ("acme_secret", "0.3.0", "pkg:hex/acme/acme_secret@0.3.0"),
        ("cowboy", "2.9.0", "pkg:hex/cowboy@2.9.0"),
        ("plug", "1.3.0", "pkg:hex/plug@1.3.0"),
    ]
    by = {p.name: p for p in pkgs}
    assert by["phoenix"].extra["dependencies"] == ["castore", "jason"]
    assert by["poison"].extra["app"] == "my_json"
    assert by["acme_secret"].extra["repo"] == "hexpm:acme"
    assert all(p.type == "hex" and p.path == "app/mix.lock" and not p.dev for p in pkgs)


def test_term_parser():
    assert parse_term('%{"a" => [1, -2.5, :b, :"c d", nil, true, x: "y\\"z"], {1} => {}}') == {
        "a": [1, -2.5, Atom("b"), Atom("c d"), None, True, (Atom("x"), 'y"z')],
        (1,): (),
    }


@pytest.mark.parametrize(
    "data",
    [b"", b"%{", b'%{"a": }', b"[1, 2]", b"%{} %{}", b"{" * 10000, b"\xff", b"%{[1] => 2}", b'%{"a": {:hex,'],
)
def test_unreadable(data):
    with pytest.raises(CatalogError):
        run_cataloger(CAT, {"mix.lock": data})


def test_empty_map():
    assert run_cataloger(CAT, {"mix.lock": b"%{}\n"}) == []


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_random(data):
    try:
        out = CAT.parse("mix.lock", data, FileTree())
    except CatalogError:
        return
    assert isinstance(out, list)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, len(LOCK)), st.integers(0, 30), st.text(max_size=10))
def test_fuzz_mutated(pos, cut, ins):
    data = (LOCK[:pos] + ins + LOCK[pos + cut :]).encode()
    try:
        out = CAT.parse("mix.lock", data, FileTree())
    except CatalogError:
        return
    assert isinstance(out, list)
