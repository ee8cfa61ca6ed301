"""Conan lockfile cataloger (Conan 1 graph_lock and Conan 2)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from containment.catalog.base import FileTree, run_cataloger
from containment.catalog.conan_lock import CATALOGERS, parse_ref
from containment.model import CatalogError

CAT = CATALOGERS[0]

V1 = """{
 "graph_lock": {
  "nodes": {
   "0": {
    "options": "openssl:shared=False\\nzlib:shared=False",
    "requires": ["1", "2"],
    "build_requires": ["4"],
    "path": "../conanfile.txt",
    "context": "host"
   },
   "1": {
    "ref": "openssl/1.1.1k@_/_#e6ef1d3e2a5ca2e5a11cb8c3c2ab0d43",
    "options": "shared=False",
    "package_id": "6af9cc7cb931c5ad942174fd7838eb655717c709",
    "prev": "0",
    "requires": ["3"],
    "context": "host"
   },
   "2": {
    "ref": "poco/1.11.0@acme/stable",
    "package_id": "97df8e5ffc4c5a1ba7a4e2f6a0e6f4c2d1b3a5c7",
    "prev": "0",
    "context": "host"
   },
   "3": {
    "ref": "zlib/1.2.11",
    "package_id": "6af9cc7cb931c5ad942174fd7838eb655717c709",
    "prev": "0",
    "context": "host"
   },
   "4": {
    "ref": "cmake/3.21.3#0f9e8bf5d1a6c3b8e7d2c4a1f6e5d3c2",
    "package_id": "5c2aa7d6cd4cf7a8b5c1d5e0f7a3b2c1d0e9f8a7",
    "prev": "0",
    "context": "build"
   }
  },
  "revisions_enabled": true
 },
 "version": "0.4",
 "profile_host": "[settings]\\narch=x86_64\\nbuild_type=Release\\nos=Linux\\n"
}
"""

V1_OLD = """{
 "graph_lock": {
  "nodes": {
   "0": {"path": "conanfile.py", "requires": ["1"], "build_requires": ["2"]},
   "1": {"pref": "libcurl/7.78.0#rrev1:pkgid1#prev1", "requires": ["3"]},
   "2": {"pref": "ninja/1.10.2:pkgid2", "requires": ["4"]},
   "3": {"pref": "zlib/1.2.11:pkgid3"},
   "4": {"pref": "m4/1.4.19:pkgid4"}
  }
 },
 "version": "0.2"
}
"""

V2 = """{
    "version": "0.5",
    "requires": [
        "zlib/1.2.13#97d5730b529b4224045fe7090592d4c1%1692672717.049",
        "openssl/3.1.2@mycompany/testing#8eb3a09e4b6c7a8f1a2b3c4d5e6f7081%1693498478.386",
        "boost/1.83.0"
    ],
    "build_requires": [
        "cmake/3.27.4#a5f2cfc2ae8e3b1b2d5a6b7c8d9e0f12%1693325462.123",
        "zlib/1.2.13#97d5730b529b4224045fe7090592d4c1%1692672717.049"
    ],
    "python_requires": [
        "pyreq/1.0#f0e1d2c3b4a596877869504132231405%1690000000.0"
    ],
    "config_requires": []
}
"""


def test_wants():
    assert CAT.wants("src/conan.lock", 0o100644, 1)
    assert not CAT.wants("src/myconan.lock", 0o100644, 1)


def test_v1():
    pkgs = run_cataloger(CAT, {"build/conan.lock": V1.encode()})
    got = [(p.name, p.version, p.purl, p.dev) for p in pkgs]
    assert got == [
        ("openssl", "1.1.1k", "pkg:conan/openssl@1.1.1k?rrev=e6ef1d3e2a5ca2e5a11cb8c3c2ab0d43", False),
        ("poco", "1.11.0", "pkg:conan/poco@1.11.0?channel=stable&user=acme", False),
        ("zlib", "1.2.11", "pkg:conan/zlib@1.2.11", False),
        ("cmake", "3.21.3", "pkg:conan/cmake@3.21.3?rrev=0f9e8bf5d1a6c3b8e7d2c4a1f6e5d3c2", True),
    ]
    assert all(p.type == "conan" and p.path == "build/conan.lock" for p in pkgs)


def test_v1_old_without_context():
    pkgs = run_cataloger(CAT, {"conan.lock": V1_OLD.encode()})
    got = [(p.name, p.version, p.dev) for p in pkgs]
    assert got == [
        ("libcurl", "7.78.0", False),
        ("ninja", "1.10.2", True),
        ("zlib", "1.2.11", False),
        ("m4", "1.4.19", True),
    ]
    assert pkgs[0].purl == "pkg:conan/libcurl@7.78.0?rrev=rrev1"


def test_v2():
    pkgs = run_cataloger(CAT, {"conan.lock": V2.encode()})
    got = [(p.name, p.version, p.purl, p.dev) for p in pkgs]
    assert got == [
        ("zlib", "1.2.13", "pkg:conan/zlib@1.2.13?rrev=97d5730b529b4224045fe7090592d4c1", False),
        (
            "openssl",
            "3.1.2",
            "pkg:conan/openssl@3.1.2?channel=testing&rrev=8eb3a09e4b6c7a8f1a2b3c4d5e6f7081&user=mycompany",
            False,
        ),
        ("boost", "1.83.0", "pkg:conan/boost@1.83.0", False),
        ("cmake", "3.27.4", "pkg:conan/cmake@3.27.4?rrev=a5f2cfc2ae8e3b1b2d5a6b7c8d9e0f12", True),
        ("pyreq", "1.0", "pkg:conan/pyreq@1.0?rrev=f0e1d2c3b4a596877869504132231405", True),
    ]
    assert pkgs[3].extra["kind"] == "build_requires"
    assert pkgs[4].extra["kind"] == "python_requires"


@pytest.mark.parametrize(
    ("ref", "want"),
    [
        ("zlib/1.2.13", ("zlib", "1.2.13", "", "", "")),
        ("zlib/1.2.13@_/_#abc%1.0", ("zlib", "1.2.13", "", "", "abc")),
        ("a/1@u/c#r:pid#prev", ("a", "1", "u", "c", "r")),
        ("conanfile", None),
        ("noversion", None),
        ("a/b/c", None),
        ("/1.0", None),
    ],
)
def test_parse_ref(ref, want):
    assert parse_ref(ref) == want


@pytest.mark.parametrize("data", [b"", b"[]", b"{}", b'{"graph_lock": {}}', b"[" * 100000])
def test_unreadable(data):
    with pytest.raises(CatalogError):
        run_cataloger(CAT, {"conan.lock": data})


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_random(data):
    try:
        out = CAT.parse("conan.lock", data, FileTree())
    except CatalogError:
        return
    assert isinstance(out, list)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([V1, V1_OLD, V2]), st.integers(0, 3000), st.integers(0, 30), st.text(max_size=10))
def test_fuzz_mutated(text, pos, cut, ins):
    pos = pos % (len(text) + 1)
    data = (text[:pos] + ins + text[pos + cut :]).encode()
    try:
        out = CAT.parse("conan.lock", data, FileTree())
    except CatalogError:
        return
    assert isinstance(out, list)
