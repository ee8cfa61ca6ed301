from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from containment.catalog.base import run_cataloger
from containment.catalog.npm_lock import CATALOGERS, NPM_HIDDEN_LOCK, NpmHiddenLockCataloger, NpmLockCataloger
from containment.model import CatalogError

# Trimmed from `npm install --package-lock-only` (npm 10) of
# {"dependencies": {"ms": "2.1.3", "debug": "2.6.9", "sc": "npm:string-width@^1.0.0"},
#  "devDependencies": {"is-number": "7.0.0"}, "optionalDependencies": {"is-odd": "3.0.1"}}
V3 = {
    "name": "demo",
    "version": "1.0.0",
    "lockfileVersion": 3,
    "requires": True,
    "packages": {
        "": {
            "name": "demo",
            "version": "1.0.0",
            "dependencies": {"debug": "2.6.9", "ms": "2.1.3", "sc": "npm:string-width@^1.0.0"},
            "devDependencies": {"is-number": "7.0.0"},
            "optionalDependencies": {"is-odd": "3.0.1"},
        },
        "node_modules/debug": {
            "version": "2.6.9",
            "resolved": "https://registry.npmjs.org/debug/-/debug-2.6.9.tgz",
            "integrity": "sha512-bC7ElrdJaJnPbAP+1EotYvqZsb3ecl5wi6Bfi6BJTUcNowp6cvspg0jXznRTKDjm/E7AdgFBVeAPVMNcKGsHMA==",
            "license": "MIT",
            "dependencies": {"ms": "2.0.0"},
        },
        "node_modules/debug/node_modules/ms": {
            "version": "2.0.0",
            "resolved": "https://registry.npmjs.org/ms/-/ms-2.0.0.tgz",
            "integrity": "sha512-Tpp60P6IUJDTuOq/5Z8cdskzJujfwqfOTkrwIwj7IRISpnkJnT6SyJ4PCPnGMoFjC9ddhal5KVIYtAt97ix05A==",
            "license": "MIT",
        },
        "node_modules/is-number": {
            "version": "7.0.0",
            "resolved": "https://registry.npmjs.org/is-number/-/is-number-7.0.0.tgz",
            "dev": True,
            "license": "MIT",
            "engines": {"node": ">=0.12.0"},
        },
        "node_modules/is-odd": {
            "version": "3.0.1",
            "resolved": "https://registry.npmjs.org/is-odd/-/is-odd-3.0.1.tgz",
            "license": "MIT",
            "optional": True,
            "dependencies": {"is-number": "^6.0.0"},
        },
        "node_modules/is-odd/node_modules/is-number": {
            "version": "6.0.0",
            "resolved": "https://registry.npmjs.org/is-number/-/is-number-6.0.0.tgz",
            "license": "MIT",
            "optional": True,
        },
        "node_modules/ms": {"version": "2.1.3", "license": "MIT"},
        "node_modules/sc": {
            "name": "string-width",
            "version": "1.0.2",
            "resolved": "https://registry.npmjs.org/string-width/-/string-width-1.0.2.tgz",
            "license": "MIT",
        },
        "node_modules/@types/node": {
            "version": "20.11.5",
            "resolved": "https://registry.npmjs.org/@types/node/-/node-20.11.5.tgz",
            "devOptional": True,
            "license": "MIT",
        },
    },
}


def _run(doc, path="srv/app/package-lock.json", cataloger=None):
    data = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    return run_cataloger(cataloger or NpmLockCataloger(), {path: data})


def _rows(pkgs):
    return sorted((p.name, p.version, p.purl, p.dev) for p in pkgs)


def test_v3_names_versions_dev_and_aliases():
    pkgs = _run(V3)
    assert _rows(pkgs) == [
        ("@types/node", "20.11.5", "pkg:npm/%40types/node@20.11.5", False),  # devOptional is not dev
        ("debug", "2.6.9", "pkg:npm/debug@2.6.9", False),
        ("is-number", "6.0.0", "pkg:npm/is-number@6.0.0", False),
        ("is-number", "7.0.0", "pkg:npm/is-number@7.0.0", True),
        ("is-odd", "3.0.1", "pkg:npm/is-odd@3.0.1", False),
        ("ms", "2.0.0", "pkg:npm/ms@2.0.0", False),
        ("ms", "2.1.3", "pkg:npm/ms@2.1.3", False),
        ("string-width", "1.0.2", "pkg:npm/string-width@1.0.2", False),  # alias key node_modules/sc
    ]
    debug = next(p for p in pkgs if p.name == "debug")
    assert debug.path == "srv/app/package-lock.json"
    assert debug.type == "npm" and debug.cataloger == "npm-package-lock"
    assert debug.licenses == ("MIT",)
    assert debug.extra == {
        "resolved": "https://registry.npmjs.org/debug/-/debug-2.6.9.tgz",
        "integrity": "sha512-bC7ElrdJaJnPbAP+1EotYvqZsb3ecl5wi6Bfi6BJTUcNowp6cvspg0jXznRTKDjm/E7AdgFBVeAPVMNcKGsHMA==",
        "locations": ["node_modules/debug"],
    }
    ms = next(p for p in pkgs if (p.name, p.version) == ("ms", "2.0.0"))
    assert ms.extra["locations"] == ["node_modules/debug/node_modules/ms"]
    assert "demo" not in {p.name for p in pkgs}  # the root "" entry is the project


def test_same_version_at_two_paths_is_one_package():
    doc = {
        "lockfileVersion": 3,
        "packages": {
            "": {"name": "x"},
            "node_modules/a": {"version": "1.0.0", "dev": True},
            "node_modules/a/node_modules/ms": {"version": "2.0.0", "dev": True},
            "node_modules/b/node_modules/ms": {"version": "2.0.0"},
            "node_modules/b": {"version": "1.0.0"},
            "node_modules/c/node_modules/ms": {"version": "2.0.0", "dev": True},
            "node_modules/d/node_modules/is-odd": {"version": "3.0.1", "dev": True},
            "node_modules/e/node_modules/is-odd": {"version": "3.0.1", "dev": True},
        },
    }
    pkgs = _run(doc)
    assert _rows(pkgs) == [
        ("a", "1.0.0", "pkg:npm/a@1.0.0", True),
        ("b", "1.0.0", "pkg:npm/b@1.0.0", False),
        ("is-odd", "3.0.1", "pkg:npm/is-odd@3.0.1", True),  # dev in every place
        ("ms", "2.0.0", "pkg:npm/ms@2.0.0", False),  # dev only if every copy is
    ]
    ms = next(p for p in pkgs if p.name == "ms")
    assert ms.extra["locations"] == [
        "node_modules/a/node_modules/ms",
        "node_modules/b/node_modules/ms",
        "node_modules/c/node_modules/ms",
    ]


# npm 10 with "workspaces": ["packages/*"], packages/a/package.json {"name": "@mono/a", ...}
WORKSPACES = {
    "name": "mono",
    "version": "0.1.0",
    "lockfileVersion": 3,
    "requires": True,
    "packages": {
        "": {
            "name": "mono",
            "version": "0.1.0",
            "workspaces": ["packages/*"],
            "devDependencies": {"is-odd": "3.0.1"},
        },
        "node_modules/@mono/a": {"resolved": "packages/a", "link": True},
        "node_modules/@mono/b": {"resolved": "packages/b", "link": True},
        "node_modules/broken": {"link": True},
        "node_modules/lib": {"resolved": "../lib", "link": True},
        "node_modules/is-number": {"version": "6.0.0", "license": "MIT"},
        "node_modules/is-odd": {"version": "3.0.1", "dev": True, "dependencies": {"is-number": "^6.0.0"}},
        "packages/a": {"name": "@mono/a", "version": "2.0.0", "dependencies": {"is-number": "^6.0.0"}},
        "packages/a/node_modules/is-number": {"version": "7.0.0", "license": "MIT"},
        "packages/b": {"name": "@mono/b"},
        "../lib": {"version": "0.3.0"},
        "packages/c": {"name": "not-linked", "version": "9.9.9"},
    },
}


def test_workspaces_and_file_links_are_local_packages():
    pkgs = _run(WORKSPACES)
    assert _rows(pkgs) == [
        ("@mono/a", "2.0.0", "pkg:npm/%40mono/a@2.0.0", False),
        ("is-number", "6.0.0", "pkg:npm/is-number@6.0.0", False),
        ("is-number", "7.0.0", "pkg:npm/is-number@7.0.0", False),
        ("is-odd", "3.0.1", "pkg:npm/is-odd@3.0.1", True),
        ("lib", "0.3.0", "pkg:npm/lib@0.3.0", False),  # name from the link path
    ]
    a = next(p for p in pkgs if p.name == "@mono/a")
    assert a.extra == {"locations": ["packages/a"], "local": True}
    nested = next(p for p in pkgs if p.version == "7.0.0")
    assert nested.extra["locations"] == ["packages/a/node_modules/is-number"]
    assert "local" not in nested.extra


# npm 6 (lockfileVersion 1) of the same manifest, plus git, file: and bundled entries.
V1 = {
    "name": "demo",
    "version": "1.0.0",
    "lockfileVersion": 1,
    "requires": True,
    "dependencies": {
        "debug": {
            "version": "2.6.9",
            "resolved": "https://registry.npmjs.org/debug/-/debug-2.6.9.tgz",
            "integrity": "sha512-bC7ElrdJaJnPbAP+1EotYvqZsb3ecl5wi6Bfi6BJTUcNowp6cvspg0jXznRTKDjm/E7AdgFBVeAPVMNcKGsHMA==",
            "requires": {"ms": "2.0.0"},
            "dependencies": {
                "ms": {
                    "version": "2.0.0",
                    "resolved": "https://registry.npmjs.org/ms/-/ms-2.0.0.tgz",
                    "integrity": "sha512-Tpp60P6IUJDTuOq/5Z8cdskzJujfwqfOTkrwIwj7IRISpnkJnT6SyJ4PCPnGMoFjC9ddhal5KVIYtAt97ix05A==",
                }
            },
        },
        "is-number": {
            "version": "7.0.0",
            "resolved": "https://registry.npmjs.org/is-number/-/is-number-7.0.0.tgz",
            "dev": True,
        },
        "is-odd": {
            "version": "3.0.1",
            "optional": True,
            "requires": {"is-number": "^6.0.0"},
            "dependencies": {"is-number": {"version": "6.0.0", "optional": True}},
        },
        "ms": {"version": "2.1.3"},
        "sc": {
            "version": "npm:string-width@1.0.2",
            "resolved": "https://registry.npmjs.org/string-width/-/string-width-1.0.2.tgz",
        },
        "left-pad": {
            "version": "github:stevemao/left-pad#5fd5a5fbe9e4a38a1bb0d9f3fa8e5a6e1f0bd3c5",
            "from": "github:stevemao/left-pad",
            "dependencies": {"tiny": {"version": "1.0.1", "bundled": True}},
        },
        "mylib": {"version": "file:../mylib"},
        "@babel/code-frame": {
            "version": "7.12.13",
            "resolved": "https://user:s3cret@npm.example.com/@babel/code-frame/-/code-frame-7.12.13.tgz",
            "dev": True,
        },
    },
}


def test_v1_nested_tree():
    pkgs = _run(V1)
    assert _rows(pkgs) == [
        ("@babel/code-frame", "7.12.13", "pkg:npm/%40babel/code-frame@7.12.13", True),
        ("debug", "2.6.9", "pkg:npm/debug@2.6.9", False),
        ("is-number", "6.0.0", "pkg:npm/is-number@6.0.0", False),
        ("is-number", "7.0.0", "pkg:npm/is-number@7.0.0", True),
        ("is-odd", "3.0.1", "pkg:npm/is-odd@3.0.1", False),
        ("ms", "2.0.0", "pkg:npm/ms@2.0.0", False),
        ("ms", "2.1.3", "pkg:npm/ms@2.1.3", False),
        ("string-width", "1.0.2", "pkg:npm/string-width@1.0.2", False),
        ("tiny", "1.0.1", "pkg:npm/tiny@1.0.1", False),  # bundled inside a git dependency
    ]
    by = {(p.name, p.version): p for p in pkgs}
    assert by[("ms", "2.0.0")].extra["locations"] == ["node_modules/debug/node_modules/ms"]
    assert by[("string-width", "1.0.2")].extra["locations"] == ["node_modules/sc"]
    # credentials never leave the lockfile
    assert by[("@babel/code-frame", "7.12.13")].extra["resolved"] == (
        "https://npm.example.com/@babel/code-frame/-/code-frame-7.12.13.tgz"
    )


def test_v2_prefers_packages_over_legacy_tree():
    doc = {
        "lockfileVersion": 2,
        "packages": {"": {}, "node_modules/ms": {"version": "2.1.3"}},
        "dependencies": {"ms": {"version": "2.1.3"}, "stale": {"version": "1.0.0"}},
    }
    assert _rows(_run(doc)) == [("ms", "2.1.3", "pkg:npm/ms@2.1.3", False)]
    # a v2 file whose packages map is missing still yields its v1 tree
    doc2 = {"lockfileVersion": 2, "dependencies": {"ms": {"version": "2.1.3"}}}
    assert _rows(_run(doc2)) == [("ms", "2.1.3", "pkg:npm/ms@2.1.3", False)]


def test_shrinkwrap_and_hidden_lockfile():
    assert _rows(_run(V3, path="npm-shrinkwrap.json")) == _rows(_run(V3))
    hidden = {"name": "demo", "lockfileVersion": 3, "requires": True, "packages": dict(V3["packages"])}
    del hidden["packages"][""]
    pkgs = _run(hidden, path="app/node_modules/.package-lock.json", cataloger=NPM_HIDDEN_LOCK)
    assert _rows(pkgs) == _rows(_run(V3))
    assert {p.cataloger for p in pkgs} == {"npm-hidden-lock"}


def test_wants():
    c = NpmLockCataloger()
    assert c.wants("package-lock.json", 0o100644, 10)
    assert c.wants("srv/app/package-lock.json", 0o100644, 10)
    assert c.wants("srv/app/npm-shrinkwrap.json", 0o100644, 10)
    assert not c.wants("srv/app/node_modules/foo/package-lock.json", 0o100644, 10)
    assert not c.wants("node_modules/foo/npm-shrinkwrap.json", 0o100644, 10)
    assert not c.wants("srv/app/node_modules/.package-lock.json", 0o100644, 10)
    assert not c.wants("srv/app/package.json", 0o100644, 10)
    assert not c.wants("srv/app/my-package-lock.json", 0o100644, 10)
    assert c.wants("srv/my_node_modules/package-lock.json", 0o100644, 10)
    h = NpmHiddenLockCataloger()
    assert h.wants("node_modules/.package-lock.json", 0o100644, 10)
    assert h.wants("srv/app/node_modules/.package-lock.json", 0o100644, 10)
    assert not h.wants("srv/app/node_modules/a/node_modules/.package-lock.json", 0o100644, 10)
    assert not h.wants("srv/app/xnode_modules/.package-lock.json", 0o100644, 10)
    assert not h.wants("srv/app/package-lock.json", 0o100644, 10)
    # the hidden lockfile duplicates node_modules; it is not wired by default
    assert [type(x) for x in CATALOGERS] == [NpmLockCataloger]


def test_skips_bad_entries_but_reads_the_rest():
    doc = {
        "lockfileVersion": 3,
        "packages": {
            "": {},
            "node_modules/ok": {"version": "1.0.0"},
            "node_modules/noversion": {},
            "node_modules/badver": {"version": "^1.0.0"},
            "node_modules/gitver": {"version": "git+ssh://git@github.com/a/b.git#abc"},
            "node_modules/": {"version": "1.0.0"},
            "node_modules/list": [1, 2],
            "node_modules/num": {"version": 1},
            "node_modules/bad name": {"version": "1.0.0"},
            "node_modules/x": {"version": "1.0.0", "name": {"a": 1}},
            "node_modules/y": {"version": "1.0.0", "license": ["MIT", {"type": "ISC"}, 3]},
        },
    }
    pkgs = _run(doc)
    assert _rows(pkgs) == [
        ("ok", "1.0.0", "pkg:npm/ok@1.0.0", False),
        ("x", "1.0.0", "pkg:npm/x@1.0.0", False),
        ("y", "1.0.0", "pkg:npm/y@1.0.0", False),
    ]
    assert next(p for p in pkgs if p.name == "y").licenses == ("MIT", "ISC")


@pytest.mark.parametrize(
    "data",
    [b"", b"{", b"[]", b'"x"', b"{}", b'{"name": "x"}', b"[" * 100000 + b"]" * 100000, b"\xff\xfe\x00"],
)
def test_unreadable_raises_catalog_error(data):
    with pytest.raises(CatalogError, match="package-lock.json"):
        _run(data)


def test_empty_lockfile_is_fine():
    assert _run({"name": "x", "lockfileVersion": 3, "requires": True, "packages": {"": {"name": "x"}}}) == []


def _check(data: bytes) -> None:
    try:
        out = _run(data)
    except CatalogError:
        return
    assert isinstance(out, list)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_fuzz_random_bytes(data):
    _check(data)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=30), inner, max_size=4),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from([V3, V1, WORKSPACES]),
    st.lists(st.tuples(st.text(max_size=40), _json), max_size=6),
    st.sampled_from(["packages", "dependencies"]),
)
def test_fuzz_mutated_lockfiles(base, mutations, section):
    doc = json.loads(json.dumps(base))
    target = doc.setdefault(section, {})
    for key, value in mutations:
        if key in target and isinstance(target[key], dict) and isinstance(value, dict):
            target[key].update(value)
        else:
            target[key] = value
    _check(json.dumps(doc).encode())
