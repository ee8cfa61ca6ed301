from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from containment.catalog.base import FileTree, run_cataloger
from containment.catalog.node import CATALOGERS, NodeInstalledCataloger, licenses_from
from containment.model import CatalogError

APP = "opt/app/web"


def pj(**fields: object) -> bytes:
    return json.dumps(fields).encode()


def run(files: dict[str, bytes]):
    return {p.path: p for p in run_cataloger(NodeInstalledCataloger(), files)}


def test_catalogers_exported() -> None:
    assert [type(c) for c in CATALOGERS] == [NodeInstalledCataloger]


def test_installed_tree() -> None:
    files = {
        f"{APP}/package.json": pj(name="corpus-web", version="1.0.0"),  # the application itself (root)
        f"{APP}/node_modules/express/package.json": pj(
            name="express",
            version="4.16.0",
            license="MIT",
            _resolved="https://registry.npmjs.org/express/-/express-4.16.0.tgz",
            _integrity="sha512-abc",
        ),
        f"{APP}/node_modules/express/lib/package.json": pj(name="express-lib", version="0.0.1"),
        f"{APP}/node_modules/@types/node/package.json": pj(
            name="@types/node", version="18.18.14", license="MIT"
        ),
        f"{APP}/node_modules/raw-body/node_modules/depd/package.json": pj(name="depd", version="1.1.1"),
        f"{APP}/node_modules/uuid/dist/esm-node/package.json": pj(type="module"),
        f"{APP}/node_modules/.bin/package.json": pj(name="bin", version="1"),
    }
    got = run(files)
    assert sorted(got) == [
        f"{APP}/node_modules/@types/node/package.json",
        f"{APP}/node_modules/express/package.json",
        f"{APP}/node_modules/raw-body/node_modules/depd/package.json",
        f"{APP}/package.json",
    ]
    assert got[f"{APP}/package.json"].extra == {"root": True}
    express = got[f"{APP}/node_modules/express/package.json"]
    assert (express.name, express.version, express.type) == ("express", "4.16.0", "npm")
    assert express.purl == "pkg:npm/express@4.16.0"
    assert express.cataloger == "npm-installed"
    assert express.licenses == ("MIT",)
    assert express.dev is False
    assert express.extra == {
        "resolved": "https://registry.npmjs.org/express/-/express-4.16.0.tgz",
        "integrity": "sha512-abc",
    }
    types = got[f"{APP}/node_modules/@types/node/package.json"]
    assert types.name == "@types/node"
    assert types.purl == "pkg:npm/%40types/node@18.18.14"
    depd = got[f"{APP}/node_modules/raw-body/node_modules/depd/package.json"]
    assert (depd.name, depd.version, depd.licenses) == ("depd", "1.1.1", ())


def test_hidden_lockfile_marks_dev() -> None:
    lock = {
        "name": "web",
        "lockfileVersion": 3,
        "requires": True,
        "packages": {
            "node_modules/esbuild": {"version": "0.14.54", "dev": True},
            "node_modules/express": {"version": "4.16.0"},
            "node_modules/a/node_modules/b": {"version": "2.0.0", "dev": True},
            "node_modules/fsevents": {"version": "2.3.3", "devOptional": True, "optional": True},
        },
    }
    files = {
        f"{APP}/node_modules/.package-lock.json": json.dumps(lock).encode(),
        f"{APP}/node_modules/esbuild/package.json": pj(name="esbuild", version="0.14.54"),
        f"{APP}/node_modules/express/package.json": pj(name="express", version="4.16.0"),
        f"{APP}/node_modules/a/node_modules/b/package.json": pj(name="b", version="2.0.0"),
        f"{APP}/node_modules/fsevents/package.json": pj(name="fsevents", version="2.3.3"),
        # another project: the first project's lockfile says nothing about it
        "srv/other/node_modules/esbuild/package.json": pj(name="esbuild", version="0.14.54"),
    }
    got = run(files)
    assert len(got) == 5
    dev = {path for path, p in got.items() if p.dev}
    assert dev == {
        f"{APP}/node_modules/esbuild/package.json",
        f"{APP}/node_modules/a/node_modules/b/package.json",
    }


def test_nested_hidden_lockfile_used_when_outer_is_absent() -> None:
    g = "usr/local/lib/node_modules/npm"
    lock = {"lockfileVersion": 3, "packages": {"node_modules/tap": {"version": "1.0.0", "dev": True}}}
    files = {
        f"{g}/package.json": pj(name="npm", version="10.2.4"),
        f"{g}/node_modules/.package-lock.json": json.dumps(lock).encode(),
        f"{g}/node_modules/tap/package.json": pj(name="tap", version="1.0.0"),
        f"{g}/node_modules/semver/package.json": pj(name="semver", version="7.5.4"),
    }
    got = {p.name: p.dev for p in run(files).values()}
    assert got == {"npm": False, "tap": True, "semver": False}


def test_global_and_distro_locations() -> None:
    files = {
        "usr/local/lib/node_modules/npm/package.json": pj(
            name="npm", version="10.2.4", license="Artistic-2.0"
        ),
        "usr/local/lib/node_modules/npm/node_modules/semver/package.json": pj(name="semver", version="7.5.4"),
        "usr/lib/node_modules/corepack/package.json": pj(name="corepack", version="0.20.0"),
        "usr/share/nodejs/acorn/package.json": pj(name="acorn", version="8.8.1", license="MIT"),
        "usr/share/nodejs/@types/busboy/package.json": pj(name="@types/busboy", version="1.5.0"),
        "usr/share/nodejs/acorn/dist/package.json": pj(name="acorn-dist", version="1"),
        "usr/share/nodejs/jest/node_modules/chalk/package.json": pj(name="chalk", version="4.1.2"),
        "usr/lib/x86_64-linux-gnu/nodejs/bufferutil/package.json": pj(name="bufferutil", version="4.0.7"),
        "usr/share/doc/foo/package.json": pj(name="foo", version="1"),
    }
    got = run(files)
    assert sorted((p.name, p.version) for p in got.values()) == [
        ("@types/busboy", "1.5.0"),
        ("acorn", "8.8.1"),
        ("bufferutil", "4.0.7"),
        ("chalk", "4.1.2"),
        ("corepack", "0.20.0"),
        ("npm", "10.2.4"),
        ("semver", "7.5.4"),
    ]
    assert got["usr/local/lib/node_modules/npm/package.json"].extra == {"global": True}
    assert got["usr/share/nodejs/acorn/package.json"].extra == {"distro_packaged": True}
    assert got["usr/share/nodejs/jest/node_modules/chalk/package.json"].extra == {"distro_packaged": True}
    assert got["usr/lib/x86_64-linux-gnu/nodejs/bufferutil/package.json"].extra == {"distro_packaged": True}


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        ("node_modules/foo/package.json", True),
        ("a/node_modules/foo/package.json", True),
        ("a/node_modules/@s/foo/package.json", True),
        ("a/node_modules/foo/node_modules/@s/bar/package.json", True),
        ("a/node_modules/.package-lock.json", True),
        ("node_modules/.package-lock.json", True),
        ("a/package-lock.json", False),
        ("a/package.json", True),  # maybe an application: reported only beside a tree or lockfile
        ("package.json", True),
        ("a/node_modules/@s/package.json", False),
        ("a/node_modules/@/x/package.json", False),
        ("a/node_modules/foo/lib/package.json", False),
        ("a/node_modules/@s/foo/lib/package.json", False),
        ("a/node_modules/.pnpm/foo@1.0.0/package.json", False),
        ("a/node_modules/.pnpm/foo@1.0.0/node_modules/foo/package.json", True),
        ("a/my_node_modules/foo/package.json", False),
        ("a/node_modules/package.json", False),
        ("a/node_modules/foo/index.js", False),
    ],
)
def test_wants(path: str, wanted: bool) -> None:
    assert NodeInstalledCataloger().wants(path, 0o100644, 100) is wanted


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({"license": "MIT"}, ("MIT",)),
        ({"license": "(MIT OR Apache-2.0)"}, ("(MIT OR Apache-2.0)",)),
        ({"license": {"type": "BSD-3-Clause", "url": "https://x"}}, ("BSD-3-Clause",)),
        ({"licenses": [{"type": "MIT"}, {"type": "Apache-2.0"}]}, ("MIT", "Apache-2.0")),
        ({"licenses": ["ISC", "ISC"]}, ("ISC",)),
        ({"license": "MIT", "licenses": [{"type": "GPL"}]}, ("MIT",)),
        ({"license": ["MIT", {"type": "X"}]}, ("MIT", "X")),
        ({"license": 3, "licenses": {"type": 4}}, ()),
        ({"license": [[["deep"]]]}, ()),
        ({}, ()),
    ],
)
def test_licenses(doc: dict, expected: tuple[str, ...]) -> None:
    assert licenses_from(doc) == expected


@pytest.mark.parametrize(
    "data",
    [
        pj(name="x"),
        pj(version="1.0.0"),
        pj(name="", version="1"),
        pj(name="x", version=1),
        pj(name="@scope/", version="1"),
        pj(name="@scope/\x0c", version="1"),
    ],
)
def test_skips_without_name_or_version(data: bytes) -> None:
    assert list(NodeInstalledCataloger().parse("node_modules/x/package.json", data, FileTree())) == []


@pytest.mark.parametrize("data", [b"{nope", b"[1, 2]", b"\xff\xfe\x00", b"[" * 100000])
def test_unreadable_raises_catalog_error(data: bytes) -> None:
    with pytest.raises(CatalogError, match="node_modules/x/package.json"):
        NodeInstalledCataloger().parse("node_modules/x/package.json", data, FileTree())


def test_credentials_removed_from_resolved() -> None:
    data = pj(name="x", version="1", _resolved="https://u:tok@npm.corp/x/-/x-1.tgz")
    (p,) = NodeInstalledCataloger().parse("node_modules/x/package.json", data, FileTree())
    assert p.extra["resolved"] == "https://npm.corp/x/-/x-1.tgz"


def test_broken_hidden_lockfile_is_ignored() -> None:
    files = {
        "node_modules/.package-lock.json": b"{broken",
        "node_modules/x/package.json": pj(name="x", version="1"),
    }
    (p,) = run(files).values()
    assert p.dev is False


VALID = [
    pj(name="@a/b", version="1.0.0", license={"type": "MIT"}, licenses=[{"type": "X"}], private=True),
    pj(name="express", version="4.16.0", _resolved="https://r/x.tgz"),
]


def _mutate(valid: bytes, noise: bytes) -> bytes:
    if not noise:
        return valid
    cut = noise[0] * len(valid) // 256
    return valid[:cut] + noise[1:] + valid[cut:]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
package_docs = st.fixed_dictionaries(
    {},
    optional={
        "name": json_values,
        "version": json_values,
        "license": json_values,
        "licenses": json_values,
        "_resolved": json_values,
    },
).map(lambda d: json.dumps(d).encode())


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=500),
        package_docs,
        st.sampled_from(VALID).flatmap(lambda v: st.binary(max_size=30).map(lambda b, v=v: _mutate(v, b))),
    ),
    st.binary(max_size=200) | package_docs,
)
def test_fuzz_never_crashes(data: bytes, lock: bytes) -> None:
    tree = FileTree({"node_modules/.package-lock.json": lock, "node_modules/@a/b/package.json": data})
    try:
        out = list(NodeInstalledCataloger().parse("node_modules/@a/b/package.json", data, tree))
    except CatalogError:
        return
    assert all(p.name and p.version and p.purl.startswith("pkg:npm/") for p in out)


def test_application_package_json_is_reported_only_beside_an_installed_tree_or_lock() -> None:
    from containment.catalog.base import run_cataloger

    app = b'{"name": "web", "version": "1.0.0", "dependencies": {"left-pad": "1.3.0"}}'
    dep = b'{"name": "left-pad", "version": "1.3.0"}'
    pkgs = run_cataloger(
        NodeInstalledCataloger(),
        {"opt/web/package.json": app, "opt/web/node_modules/left-pad/package.json": dep},
    )
    by = {p.name: p for p in pkgs}
    assert by["web"].extra.get("root") is True and by["web"].version == "1.0.0"
    assert "left-pad" in by
    alone = run_cataloger(NodeInstalledCataloger(), {"usr/share/doc/x/package.json": app})
    assert alone == []
