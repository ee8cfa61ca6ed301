from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from containment.catalog.base import FileTree, run_cataloger
from containment.catalog.dotnet import CATALOGERS, DotnetDepsCataloger
from containment.model import CatalogError

PATH = "app/MyApp.deps.json"
NEWTONSOFT_SHA = (
    "sha512-ppPFpBcvxdsfUonNcvITKqLl3bqxWbDCZIzDWHzjpdAHRFfZe0Dw9HmA0+za13IdyrgJwpkDTDA9fHaxOrt20A=="
)

# A self-contained publish for linux-x64 (runtime target has a RID).
SELF_CONTAINED = {
    "runtimeTarget": {"name": ".NETCoreApp,Version=v6.0/linux-x64", "signature": ""},
    "compilationOptions": {},
    "targets": {
        ".NETCoreApp,Version=v6.0": {"Ignored.Package/9.9.9": {"runtime": {"x.dll": {}}}},
        ".NETCoreApp,Version=v6.0/linux-x64": {
            "MyApp/1.0.0": {
                "dependencies": {"Newtonsoft.Json": "13.0.1", "Lib": "1.0.0"},
                "runtime": {"MyApp.dll": {}},
            },
            "runtimepack.Microsoft.NETCore.App.Runtime.linux-x64/6.0.5": {
                "runtime": {"System.Private.CoreLib.dll": {"assemblyVersion": "6.0.0.0"}},
                "native": {"libcoreclr.so": {"fileVersion": "0.0.0.0"}},
            },
            "Newtonsoft.Json/13.0.1": {
                "runtime": {"lib/netstandard2.0/Newtonsoft.Json.dll": {"assemblyVersion": "13.0.0.0"}}
            },
            "SQLitePCLRaw.lib.e_sqlite3/2.1.2": {
                "runtimeTargets": {"runtimes/linux-x64/native/libe_sqlite3.so": {}}
            },
            "Microsoft.NETCore.Platforms/1.1.0": {},
            "Microsoft.CodeAnalysis.Analyzers/3.3.3": {"compileOnly": True, "compile": {"x.dll": {}}},
            "Lib/1.0.0": {"runtime": {"Lib.dll": {}}},
        },
    },
    "libraries": {
        "MyApp/1.0.0": {"type": "project", "serviceable": False, "sha512": ""},
        "runtimepack.Microsoft.NETCore.App.Runtime.linux-x64/6.0.5": {
            "type": "runtimepack",
            "serviceable": False,
            "sha512": "",
        },
        "Newtonsoft.Json/13.0.1": {
            "type": "package",
            "serviceable": True,
            "sha512": NEWTONSOFT_SHA,
            "path": "newtonsoft.json/13.0.1",
            "hashPath": "newtonsoft.json.13.0.1.nupkg.sha512",
        },
        "SQLitePCLRaw.lib.e_sqlite3/2.1.2": {"type": "package", "serviceable": True, "sha512": ""},
        "Microsoft.NETCore.Platforms/1.1.0": {"type": "package", "serviceable": True, "sha512": ""},
        "Microsoft.CodeAnalysis.Analyzers/3.3.3": {"type": "package", "serviceable": True, "sha512": ""},
        "Lib/1.0.0": {"type": "project", "serviceable": False, "sha512": ""},
        "System.Drawing/4.0.0.0": {"type": "reference", "serviceable": False, "sha512": ""},
    },
}


def parse(doc: object):
    return {p.name: p for p in DotnetDepsCataloger().parse(PATH, json.dumps(doc).encode(), FileTree())}


def test_catalogers_exported() -> None:
    assert [type(c) for c in CATALOGERS] == [DotnetDepsCataloger]


def test_self_contained_app() -> None:
    got = parse(SELF_CONTAINED)
    assert sorted(got) == [
        "Microsoft.CodeAnalysis.Analyzers",
        "Microsoft.NETCore.App.Runtime.linux-x64",
        "Microsoft.NETCore.Platforms",
        "Newtonsoft.Json",
        "SQLitePCLRaw.lib.e_sqlite3",
    ]
    nj = got["Newtonsoft.Json"]
    assert (nj.version, nj.type, nj.purl) == ("13.0.1", "nuget", "pkg:nuget/Newtonsoft.Json@13.0.1")
    assert nj.path == PATH
    assert nj.cataloger == "dotnet-deps"
    assert nj.dev is False
    assert nj.extra == {
        "library_type": "package",
        "runtime": True,
        "sha512": NEWTONSOFT_SHA,
        "nuget_path": "newtonsoft.json/13.0.1",
    }
    rt = got["Microsoft.NETCore.App.Runtime.linux-x64"]
    assert rt.purl == "pkg:nuget/Microsoft.NETCore.App.Runtime.linux-x64@6.0.5"
    assert rt.extra == {"library_type": "runtimepack", "runtime": True}
    assert got["SQLitePCLRaw.lib.e_sqlite3"].extra["runtime"] is True
    assert got["Microsoft.NETCore.Platforms"].extra["runtime"] is False
    assert got["Microsoft.CodeAnalysis.Analyzers"].extra["runtime"] is False
    assert not any(p.dev for p in got.values())


def test_runtime_target_as_plain_string_and_single_target() -> None:
    doc = {
        "runtimeTarget": ".NETCoreApp,Version=v1.0",
        "targets": {".NETCoreApp,Version=v1.0": {"A/1.0.0": {"runtime": {"a.dll": {}}}, "B/2.0.0": {}}},
        "libraries": {"A/1.0.0": {"type": "package"}, "B/2.0.0": {"type": "package"}},
    }
    got = parse(doc)
    assert (got["A"].extra["runtime"], got["B"].extra["runtime"]) == (True, False)
    del doc["runtimeTarget"]
    got = parse(doc)
    assert (got["A"].extra["runtime"], got["B"].extra["runtime"]) == (True, False)


def test_no_targets_leaves_runtime_unknown() -> None:
    got = parse({"libraries": {"A/1.0.0": {"type": "package"}, "P/1.0.0": {"type": "project"}}})
    assert list(got) == ["A"]
    assert "runtime" not in got["A"].extra


def test_bad_library_entries_skipped() -> None:
    doc = {
        "libraries": {
            "NoVersion": {"type": "package"},
            "Empty/": {"type": "package"},
            "/1.0": {"type": "package"},
            "Junk/1.0": "x",
            "Typeless/1.0": {},
            "\x0c/1.0": {"type": "package"},
            "Good/1.0.0-beta.1": {"type": "package", "sha512": 5, "path": ["x"]},
        }
    }
    got = parse(doc)
    assert list(got) == ["Good"]
    assert got["Good"].version == "1.0.0-beta.1"
    assert got["Good"].extra == {"library_type": "package"}


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        ("app/MyApp.deps.json", True),
        ("usr/share/dotnet/shared/Microsoft.NETCore.App/8.0.1/Microsoft.NETCore.App.deps.json", True),
        ("app/MyApp.runtimeconfig.json", False),
        ("app/deps.json.bak", False),
        ("app/MyApp.dll", False),
    ],
)
def test_wants(path: str, wanted: bool) -> None:
    assert DotnetDepsCataloger().wants(path, 0o100644, 10) is wanted


def test_run_cataloger_end_to_end() -> None:
    pkgs = run_cataloger(
        DotnetDepsCataloger(), {PATH: json.dumps(SELF_CONTAINED).encode(), "app/x.json": b"{}"}
    )
    assert len(pkgs) == 5


@pytest.mark.parametrize("data", [b"{broken", b"[]", b'{"targets": {}}', b'{"libraries": []}', b"[" * 50000])
def test_unreadable_raises_catalog_error(data: bytes) -> None:
    with pytest.raises(CatalogError, match=r"MyApp\.deps\.json"):
        DotnetDepsCataloger().parse(PATH, data, FileTree())


def _mutate(valid: bytes, noise: bytes) -> bytes:
    if not noise:
        return valid
    cut = noise[0] * len(valid) // 256
    return valid[:cut] + noise[1:] + valid[cut:]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=15),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=25,
)
docs = st.fixed_dictionaries(
    {"libraries": st.dictionaries(st.text(max_size=15), json_values, max_size=5)},
    optional={"targets": json_values, "runtimeTarget": json_values},
).map(lambda d: json.dumps(d).encode())


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.binary(max_size=500),
        docs,
        st.just(json.dumps(SELF_CONTAINED).encode()).flatmap(
            lambda v: st.binary(max_size=30).map(lambda b: _mutate(v, b))
        ),
    )
)
def test_fuzz_never_crashes(data: bytes) -> None:
    try:
        out = list(DotnetDepsCataloger().parse(PATH, data, FileTree()))
    except CatalogError:
        return
    assert all(p.name and p.version and p.purl.startswith("pkg:nuget/") for p in out)
