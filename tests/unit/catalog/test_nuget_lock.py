"""NuGet packages.lock.json, Directory.Packages.props and packages.config catalogers."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from containment.catalog.base import FileTree, run_cataloger
from containment.catalog.nuget_lock import (
    NugetCentralPackagesCataloger,
    NugetLockCataloger,
    NugetPackagesConfigCataloger,
)
from containment.model import CatalogError

LOCK = NugetLockCataloger()
PROPS = NugetCentralPackagesCataloger()
CONFIG = NugetPackagesConfigCataloger()

LOCK_JSON = """\ufeff{
  "version": 2,
  "dependencies": {
    "net8.0": {
      "Newtonsoft.Json": {
        "type": "Direct",
        "requested": "[13.0.3, )",
        "resolved": "13.0.3",
        "contentHash": "HrC5BXdl00IP9zeV+0Z848QWPAoCr9P3bDEZguI+gkLcBKAOxix/tLEAAHC+UvDNPv4a2d18lOReHMOagPa+zQ=="
      },
      "Serilog": {
        "type": "CentralTransitive",
        "requested": "[3.1.1, )",
        "resolved": "3.1.1",
        "contentHash": "P6G4/4Kt9bT635bhuwdXlJ2SCqqn2nhh4gqFqQueCOr9bK/e7W9ll/IoX1Ter948cV2Z/5+5v8pAfJYUISY03A=="
      },
      "System.Text.Json": {
        "type": "Transitive",
        "resolved": "8.0.0",
        "contentHash": "OdrZO2WjkiEG6ajEFRABTRCi/wuXQPxeV6g8xvUJqdxMvvuCCEk86zPla8UiIQJz3durtUEbNyY/3lIhS0yZvQ==",
        "dependencies": {
          "System.Text.Encodings.Web": "8.0.0"
        }
      },
      "MyCompany.Shared": {
        "type": "Project",
        "dependencies": {
          "Newtonsoft.Json": "[13.0.3, )"
        }
      }
    },
    "net8.0/linux-x64": {
      "System.Text.Json": {
        "type": "Transitive",
        "resolved": "8.0.0",
        "contentHash": "OdrZO2WjkiEG6ajEFRABTRCi/wuXQPxeV6g8xvUJqdxMvvuCCEk86zPla8UiIQJz3durtUEbNyY/3lIhS0yZvQ=="
      },
      "runtime.linux-x64.Microsoft.DotNet.ILCompiler": {
        "type": "Direct",
        "requested": "[8.0.1, )",
        "resolved": "8.0.1",
        "contentHash": "cjkeeBa4PqcXFZlIdHdXr6+wsPHMvG2MVaj9tTTzYhxw2zdP4sGTzHsn2ySenwIO4gbU62KjtxFG5rr8Gmo0/A=="
      }
    }
  }
}
"""

PROPS_XML = """<Project>
  <PropertyGroup>
    <ManagePackageVersionsCentrally>true</ManagePackageVersionsCentrally>
    <AspNetCoreVersion>8.0.1</AspNetCoreVersion>
    <EfVersion>$(AspNetCoreVersion)</EfVersion>
  </PropertyGroup>
  <ItemGroup>
    <PackageVersion Include="Microsoft.AspNetCore.OpenApi" Version="$(AspNetCoreVersion)" />
    <PackageVersion Include="Microsoft.EntityFrameworkCore" Version="$(EfVersion)" />
    <PackageVersion Include="Serilog" Version="3.1.1" />
    <PackageVersion Include="xunit">
      <Version>2.6.6</Version>
    </PackageVersion>
    <PackageVersion Include="Unknown.Prop" Version="$(NotDefined)" />
    <PackageVersion Include="Ranged" Version="[1.0,2.0)" />
  </ItemGroup>
  <ItemGroup>
    <GlobalPackageReference Include="Nerdbank.GitVersioning" Version="3.6.133" />
  </ItemGroup>
</Project>
"""

CONFIG_XML = """<?xml version="1.0" encoding="utf-8"?>
<packages>
  <package id="EntityFramework" version="6.4.4" targetFramework="net48" />
  <package id="Newtonsoft.Json" version="12.0.3" targetFramework="net48" />
  <package id="StyleCop.Analyzers" version="1.1.118" targetFramework="net48" developmentDependency="true" />
  <package id="" version="1.0" />
</packages>
"""


def test_wants():
    assert LOCK.wants("src/App/packages.lock.json", 0o100644, 1)
    assert not LOCK.wants("src/App/my-packages.lock.json", 0o100644, 1)
    assert PROPS.wants("Directory.Packages.props", 0o100644, 1)
    assert PROPS.wants("src/Packages.props", 0o100644, 1)
    assert not PROPS.wants("src/Directory.Build.props", 0o100644, 1)
    assert CONFIG.wants("app/packages.config", 0o100644, 1)
    assert not CONFIG.wants("app/xpackages.config", 0o100644, 1)


def test_lock():
    pkgs = run_cataloger(LOCK, {"app/packages.lock.json": LOCK_JSON.encode()})
    got = {p.name: (p.version, p.purl, p.extra["direct"], tuple(p.extra["frameworks"])) for p in pkgs}
    assert got == {
        "Newtonsoft.Json": ("13.0.3", "pkg:nuget/Newtonsoft.Json@13.0.3", True, ("net8.0",)),
        "Serilog": ("3.1.1", "pkg:nuget/Serilog@3.1.1", False, ("net8.0",)),
        "System.Text.Json": (
            "8.0.0",
            "pkg:nuget/System.Text.Json@8.0.0",
            False,
            ("net8.0", "net8.0/linux-x64"),
        ),
        "runtime.linux-x64.Microsoft.DotNet.ILCompiler": (
            "8.0.1",
            "pkg:nuget/runtime.linux-x64.Microsoft.DotNet.ILCompiler@8.0.1",
            True,
            ("net8.0/linux-x64",),
        ),
    }
    assert all(p.type == "nuget" and not p.dev for p in pkgs)


@pytest.mark.parametrize("data", [b"", b"{}", b'{"dependencies": []}', b"[" * 50000, b"\xff\xfe"])
def test_lock_unreadable(data):
    with pytest.raises(CatalogError):
        run_cataloger(LOCK, {"packages.lock.json": data})


def test_lock_bad_entries():
    data = b'{"version":1,"dependencies":{"net6.0":{"A":{"type":"Direct"},"B":[],"C":{"resolved":1},"D":{"resolved":"1.0"}},"x":3}}'
    assert [p.purl for p in run_cataloger(LOCK, {"packages.lock.json": data})] == ["pkg:nuget/D@1.0"]


def test_central_props():
    pkgs = run_cataloger(PROPS, {"Directory.Packages.props": PROPS_XML.encode()})
    got = [(p.name, p.version, p.purl) for p in pkgs]
    assert got == [
        ("Microsoft.AspNetCore.OpenApi", "8.0.1", "pkg:nuget/Microsoft.AspNetCore.OpenApi@8.0.1"),
        ("Microsoft.EntityFrameworkCore", "8.0.1", "pkg:nuget/Microsoft.EntityFrameworkCore@8.0.1"),
        ("Serilog", "3.1.1", "pkg:nuget/Serilog@3.1.1"),
        ("xunit", "2.6.6", "pkg:nuget/xunit@2.6.6"),
        ("Nerdbank.GitVersioning", "3.6.133", "pkg:nuget/Nerdbank.GitVersioning@3.6.133"),
    ]
    assert pkgs[-1].extra == {"central": True, "global": True}


def test_legacy_packages_props():
    xml = b"""<Project xmlns="http://schemas.microsoft.com/developer/msbuild/2003">
  <ItemGroup><PackageReference Update="Moq" Version="4.20.70" /></ItemGroup></Project>"""
    assert [p.purl for p in run_cataloger(PROPS, {"Packages.props": xml})] == ["pkg:nuget/Moq@4.20.70"]


def test_props_cycle_and_entities():
    xml = b"""<Project><PropertyGroup><A>$(B)</A><B>$(A)</B></PropertyGroup>
  <ItemGroup><PackageVersion Include="X" Version="$(A)" /></ItemGroup></Project>"""
    assert run_cataloger(PROPS, {"Directory.Packages.props": xml}) == []
    evil = b"""<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>
<Project><ItemGroup><PackageVersion Include="&b;" Version="1" /></ItemGroup></Project>"""
    with pytest.raises(CatalogError):
        run_cataloger(PROPS, {"Directory.Packages.props": evil})
    with pytest.raises(CatalogError):
        run_cataloger(PROPS, {"Directory.Packages.props": b"<packages/>"})


def test_packages_config():
    pkgs = run_cataloger(CONFIG, {"web/packages.config": CONFIG_XML.encode()})
    got = [(p.name, p.version, p.purl, p.dev) for p in pkgs]
    assert got == [
        ("EntityFramework", "6.4.4", "pkg:nuget/EntityFramework@6.4.4", False),
        ("Newtonsoft.Json", "12.0.3", "pkg:nuget/Newtonsoft.Json@12.0.3", False),
        ("StyleCop.Analyzers", "1.1.118", "pkg:nuget/StyleCop.Analyzers@1.1.118", True),
    ]
    assert pkgs[0].extra == {"target_framework": "net48"}
    with pytest.raises(CatalogError):
        run_cataloger(CONFIG, {"packages.config": b"<configuration/>"})


SAMPLES = [
    (LOCK, "packages.lock.json", LOCK_JSON),
    (PROPS, "Directory.Packages.props", PROPS_XML),
    (CONFIG, "packages.config", CONFIG_XML),
]


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(SAMPLES), st.binary(max_size=300))
def test_fuzz_random(sample, data):
    cat, path, _ = sample
    try:
        out = cat.parse(path, data, FileTree())
    except CatalogError:
        return
    assert isinstance(out, list)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(SAMPLES), st.integers(0, 2000), st.integers(0, 30), st.text(max_size=10))
def test_fuzz_mutated(sample, pos, cut, ins):
    cat, path, text = sample
    pos = pos % (len(text) + 1)
    data = (text[:pos] + ins + text[pos + cut :]).encode()
    try:
        out = cat.parse(path, data, FileTree())
    except CatalogError:
        return
    assert isinstance(out, list)
