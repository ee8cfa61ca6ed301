"""LuaRocks: rockspecs of installed rocks (<tree>/lib/luarocks/rocks-<lua>/<name>/<version>/)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from containment.catalog.base import FileTree, run_cataloger
from containment.catalog.luarocks import CATALOGERS, LuaRocksCataloger, parse_rockspec
from containment.model import CatalogError

CAT = CATALOGERS[0]
ROCKS = "usr/local/lib/luarocks/rocks-5.1"

LPEG = """\
package = 'LPeg'
version = '1.0.2-1'
source = {
   url = 'http://www.inf.puc-rio.br/~roberto/lpeg/lpeg-1.0.2.tar.gz',
   md5 = 'd342571886f1abcb7afe6a83d024d583',
}
description = {
   summary = 'Parsing Expression Grammars For Lua',
   detailed = [[
      LPeg is a new pattern-matching library for Lua, based on Parsing
      Expression Grammars (PEGs).
   ]],
   homepage = 'http://www.inf.puc-rio.br/~roberto/lpeg.html',
   maintainer = 'Gary V. Vaughan <gary@vaughan.pe>',
   license = 'MIT/X11'
}
dependencies = {
   'lua >= 5.1'
}
build = {
   type = 'builtin',
   modules = {
      lpeg = {
         'lpcap.c', 'lpcode.c', 'lpprint.c', 'lptree.c', 'lpvm.c'
      },
      re = 're.lua'
   }
}
"""

PGMOON = """\
package = "kong-pgmoon"
version = "1.16.2-1"

source = {
  url = "git+https://github.com/kong/pgmoon.git",
  tag = "v1.16.2"
}

description = {
  summary = "Postgres driver for OpenResty and Lua",
  detailed = [[PostgreSQL driver written in pure Lua for use with OpenResty's cosocket API.]],
  homepage = "https://github.com/Kong/pgmoon",
  maintainer = "Kong Inc",
  license = "MIT"
}

dependencies = {
  "lua >= 5.1",
  "lpeg",
  -- "luasocket",
  --[[ "cqueues",
  "luaossl" ]]
}

build = {
  type = "builtin",
  modules = {
    ["pgmoon"] = "pgmoon/init.lua",
    ["pgmoon.arrays"] = "pgmoon/arrays.lua",
  },
}
"""

# LuaRocks 2 tree, rockspec computing its version (only the directory names say it then)
LUASOCKET = """\
local rev = "2"
package = "LuaSocket"
version = "3.0rc1-" .. rev
description = {
   summary = "Network support for the Lua language",
   license = "MIT",
   homepage = "http://w3.impa.br/~diego/software/luasocket/"
}
"""


def tree() -> dict[str, bytes]:
    return {
        f"{ROCKS}/lpeg/1.0.2-1/lpeg-1.0.2-1.rockspec": LPEG.encode(),
        f"{ROCKS}/lpeg/1.0.2-1/rock_manifest": b'rock_manifest = {\n   lib = {\n      ["lpeg.so"] = "x"\n   }\n}\n',
        f"{ROCKS}/manifest": b"commands = {}\nmodules = {}\nrepository = {}\n",
        f"{ROCKS}/kong-pgmoon/1.16.2-1/kong-pgmoon-1.16.2-1.rockspec": PGMOON.encode(),
        "usr/local/openresty/luajit/lib/luarocks/rocks/luasocket/3.0rc1-2/luasocket-3.0rc1-2.rockspec": LUASOCKET.encode(),
        # a rockspec in a source tree declares a project, it is not an installed rock
        "src/kong/kong-3.7.0-0.rockspec": b'package = "kong"\nversion = "3.7.0-0"\n',
    }


def test_rocks_trees():
    pkgs = run_cataloger(CAT, tree())
    assert sorted((p.name, p.version, p.purl) for p in pkgs) == [
        ("LPeg", "1.0.2-1", "pkg:luarocks/lpeg@1.0.2-1"),
        ("LuaSocket", "3.0rc1-2", "pkg:luarocks/luasocket@3.0rc1-2"),
        ("kong-pgmoon", "1.16.2-1", "pkg:luarocks/kong-pgmoon@1.16.2-1"),
    ]
    by = {p.name: p for p in pkgs}
    lpeg = by["LPeg"]
    assert (lpeg.type, lpeg.cataloger) == ("luarocks", "lua-rocks-installed")
    assert lpeg.licenses == ("MIT/X11",)
    assert lpeg.extra == {
        "rocks_tree": "usr/local",
        "lua_version": "5.1",
        "homepage": "http://www.inf.puc-rio.br/~roberto/lpeg.html",
        "summary": "Parsing Expression Grammars For Lua",
        "source_url": "http://www.inf.puc-rio.br/~roberto/lpeg/lpeg-1.0.2.tar.gz",
    }
    sock = by["LuaSocket"]
    assert sock.extra["rocks_tree"] == "usr/local/openresty/luajit" and "lua_version" not in sock.extra
    assert sock.licenses == ("MIT",)
    assert by["kong-pgmoon"].extra["homepage"] == "https://github.com/Kong/pgmoon"


def test_parse_rockspec_literals():
    spec = parse_rockspec(PGMOON)
    assert spec["package"] == "kong-pgmoon"
    assert spec["dependencies"] == ["lua >= 5.1", "lpeg"]
    assert spec["build"]["modules"]["pgmoon.arrays"] == "pgmoon/arrays.lua"
    assert "version" not in parse_rockspec(LUASOCKET)  # computed: not read
    assert parse_rockspec('a = "x\\65\\n\\"" b = [==[ ]] ]==] c = { -1, 0x10, 2.5e1 }') == {
        "a": 'xA\n"',
        "b": " ]] ",
        "c": [-1, 16, 25.0],
    }
    for bad in ('a = "unterminated', "a = [[unterminated", "a = {", "a = {{{", "--[[", "a = f(1)"):
        assert isinstance(parse_rockspec(bad), dict)


@pytest.mark.parametrize(
    ("path", "wanted"),
    [
        (f"{ROCKS}/lpeg/1.0.2-1/lpeg-1.0.2-1.rockspec", True),
        ("home/u/.luarocks/lib/luarocks/rocks-5.4/x/1.0-1/x-1.0-1.rockspec", True),
        ("usr/local/lib/luarocks/rocks/x/1.0-1/x-1.0-1.rockspec", True),
        (f"{ROCKS}/lpeg/1.0.2-1/other-1.0.2-1.rockspec", False),
        (f"{ROCKS}/lpeg/1.0.2-1/rock_manifest", False),
        ("usr/local/lib/luarocks/cache/x/1.0-1/x-1.0-1.rockspec", False),
        ("src/kong/kong-3.7.0-0.rockspec", False),
    ],
)
def test_wants(path, wanted):
    assert CAT.wants(path, 0o100644, 100) is wanted


def test_bad_directory_version_and_binary():
    assert run_cataloger(CAT, {f"{ROCKS}/x/scm/x-scm.rockspec": b"package = 'x'"}) == []
    with pytest.raises(CatalogError):
        CAT.parse(f"{ROCKS}/x/1.0-1/x-1.0-1.rockspec", b"\x00\x01", FileTree())


def _check(data: bytes) -> None:
    try:
        out = list(LuaRocksCataloger().parse(f"{ROCKS}/lpeg/1.0.2-1/lpeg-1.0.2-1.rockspec", data, FileTree()))
    except CatalogError:
        return
    assert [(p.type, p.version) for p in out] == [("luarocks", "1.0.2-1")]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("{}[]=,;\"'-.\n abc1\\")), max_size=300))
def test_fuzz_lua_syntax(text):
    assert isinstance(parse_rockspec(text), dict)
    _check(text.encode())


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2048))
def test_fuzz_random_bytes(data):
    _check(data)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_fuzz_mutated(data):
    raw = bytearray(PGMOON.encode())
    for _ in range(data.draw(st.integers(1, 20))):
        pos = data.draw(st.integers(0, len(raw) - 1))
        op = data.draw(st.sampled_from(["set", "del", "ins"]))
        byte = data.draw(st.sampled_from([ord(c) for c in "{}[]=,\"'-\n"] + [data.draw(st.integers(0, 255))]))
        if op == "set":
            raw[pos] = byte
        elif op == "del":
            del raw[pos]
        else:
            raw.insert(pos, byte)
    _check(bytes(raw))


def test_quadratic_inputs_are_fast():
    import time

    t = time.monotonic()
    for text in ('"' * 200_000, "--[[" * 50_000, "[[" * 50_000, "{" * 100_000, "a = " + "{" * 10_000):
        assert isinstance(parse_rockspec(text), dict)
    assert time.monotonic() - t < 20
